// The console's addresses. Every page has its own path, so a link can be shared, opened in a
// new tab and reloaded (the server answers unknown non-API paths with index.html).

export type Route =
  | { page: 'projects' }
  | { page: 'people' }
  | { page: 'audit'; query: string }
  | { page: 'overview'; project: string }
  | { page: 'forms'; project: string }
  | { page: 'workbench'; project: string }
  | { page: 'responses'; project: string; query: string }
  | { page: 'response'; project: string; id: string }
  | { page: 'dashboard'; project: string; form: string }
  | { page: 'map'; project: string; form: string }
  | { page: 'exports'; project: string; query: string }
  | { page: 'devices'; project: string }
  | { page: 'teams'; project: string }
  | { page: 'notFound'; path: string };

const PROJECT_PAGES = ['forms', 'workbench', 'devices', 'teams'] as const;

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The route of an address (`location.pathname`, `location.search`). */
export function parseRoute(pathname: string, search = ''): Route {
  const parts = pathname.split('/').filter((s) => s !== '');
  const segs = parts.map(decode);
  if (segs.some((s) => s === null)) return { page: 'notFound', path: pathname };
  const s = segs as string[];
  if (s.length === 0) return { page: 'projects' };
  if (s.length === 1 && s[0] === 'people') return { page: 'people' };
  // The access audit keeps its filters in the query, so a filtered page can be shared.
  if (s.length === 1 && s[0] === 'audit') return { page: 'audit', query: search.startsWith('?') ? search.slice(1) : search };
  if (s[0] !== 'p' || s.length < 2) return { page: 'notFound', path: pathname };
  const project = s[1];
  if (s.length === 2) return { page: 'overview', project };
  const page = s[2];
  // The responses table and the exports keep the table's filters in the query.
  if (s.length === 3 && (page === 'responses' || page === 'exports')) {
    return { page, project, query: search.startsWith('?') ? search.slice(1) : search };
  }
  if (s.length === 3 && (PROJECT_PAGES as readonly string[]).includes(page)) {
    return { page: page as (typeof PROJECT_PAGES)[number], project };
  }
  if (s.length === 4 && page === 'responses') return { page: 'response', project, id: s[3] };
  if (s.length === 5 && page === 'forms' && (s[4] === 'dashboard' || s[4] === 'map')) {
    return { page: s[4], project, form: s[3] };
  }
  return { page: 'notFound', path: pathname };
}

const enc = encodeURIComponent;

/** The address of a route. */
export function routeHref(route: Route): string {
  switch (route.page) {
    case 'projects':
      return '/';
    case 'people':
      return '/people';
    case 'audit':
      return `/audit${route.query ? `?${route.query}` : ''}`;
    case 'overview':
      return `/p/${enc(route.project)}`;
    case 'forms':
    case 'workbench':
    case 'devices':
    case 'teams':
      return `/p/${enc(route.project)}/${route.page}`;
    case 'responses':
    case 'exports':
      return `/p/${enc(route.project)}/${route.page}${route.query ? `?${route.query}` : ''}`;
    case 'response':
      return `/p/${enc(route.project)}/responses/${enc(route.id)}`;
    case 'dashboard':
    case 'map':
      return `/p/${enc(route.project)}/forms/${enc(route.form)}/${route.page}`;
    case 'notFound':
      return route.path;
  }
}

/** The project a route belongs to, if any. */
export function routeProject(route: Route): string | null {
  return 'project' in route ? route.project : null;
}
