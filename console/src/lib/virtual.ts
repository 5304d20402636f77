// Which rows of a virtualised list are in view. Rows have one fixed height; browsers cap
// an element's height (Chromium near 33.5 million pixels), so beyond a height limit the
// scroll position maps onto the rows proportionally instead of one pixel per pixel.

export interface RowWindow {
  /** First and last row to draw (inclusive; last < first when there are none). */
  first: number;
  last: number;
  /** Where the first drawn row sits from the top of the scrolled content. */
  offset: number;
  /** Height of the scrolled content. */
  height: number;
}

export const MAX_SCROLL_HEIGHT = 8_000_000;

export function rowWindow(
  scrollTop: number,
  viewport: number,
  total: number,
  rowHeight: number,
  overscan = 8,
  maxHeight = MAX_SCROLL_HEIGHT,
): RowWindow {
  const full = total * rowHeight;
  const height = Math.min(full, maxHeight);
  const inView = Math.ceil(viewport / rowHeight) + 1;
  if (total === 0) return { first: 0, last: -1, offset: 0, height: 0 };
  const top = Math.max(0, Math.min(scrollTop, Math.max(height - viewport, 0)));
  let first: number;
  let offset: number;
  if (full <= maxHeight) {
    first = Math.floor(top / rowHeight);
    offset = first * rowHeight;
  } else {
    // Scaled: the fraction scrolled picks the row; the rows are drawn where the view is.
    const maxScroll = Math.max(height - viewport, 1);
    first = Math.floor((top / maxScroll) * Math.max(total - inView + 1, 0));
    offset = top;
  }
  const start = Math.max(first - overscan, 0);
  const last = Math.min(first + inView + overscan, total - 1);
  return { first: start, last, offset: offset - (first - start) * rowHeight, height };
}
