// Quick hide (safe exit): one key hides the interview behind a neutral screen. The app
// listens for it on its whole window; the console's workbench preview within the preview,
// so that the key keeps its other uses in the form editor beside it.

/** The key that hides, as `aria-keyshortcuts` names it. */
export const QUICK_HIDE_KEY = 'Escape';

/** Whether a key press asks for a quick hide. */
export function isQuickHideKey(e: Pick<KeyboardEvent, 'key'>): boolean {
  return e.key === QUICK_HIDE_KEY;
}
