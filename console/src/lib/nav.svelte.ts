// Moving between pages without reloading: history entries, and plain links that work as
// links (open in a new tab, copy the address) but stay in the page when clicked.
import { parseRoute, routeHref, type Route } from './route';

export const nav = $state<{ route: Route }>({
  route: parseRoute(location.pathname, location.search),
});

export function go(target: Route | string, replace = false): void {
  const href = typeof target === 'string' ? target : routeHref(target);
  if (href === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  nav.route = parseRoute(location.pathname, location.search);
}

/** Follow history (back/forward) and in-page link clicks. */
export function listen(): () => void {
  const onPop = () => {
    nav.route = parseRoute(location.pathname, location.search);
  };
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    e.preventDefault();
    go(url.pathname + url.search);
  };
  addEventListener('popstate', onPop);
  document.addEventListener('click', onClick);
  return () => {
    removeEventListener('popstate', onPop);
    document.removeEventListener('click', onClick);
  };
}
