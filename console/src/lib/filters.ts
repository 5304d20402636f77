// The responses table's filters and sort: kept in the page's address (so a filtered view can
// be shared and survives a reload) and turned into the API's query string.

export type Order = 'asc' | 'desc';

export interface Filters {
  form: string;
  version: string;
  status: string;
  review: string;
  /** `conflict` or `quarantined`. */
  flag: string;
  enumerator: string;
  device: string;
  /** Days `YYYY-MM-DD` (UTC, both inclusive) or instants, received between. */
  from: string;
  to: string;
  /** Free text searched in the answers. */
  q: string;
  sort: string;
  order: Order;
  /** Show (and search) answers marked pii. */
  pii: boolean;
}

export const NO_FILTERS: Filters = {
  form: '',
  version: '',
  status: '',
  review: '',
  flag: '',
  enumerator: '',
  device: '',
  from: '',
  to: '',
  q: '',
  sort: 'received_at',
  order: 'desc',
  pii: false,
};

const TEXT_KEYS = ['form', 'version', 'status', 'review', 'flag', 'enumerator', 'device', 'from', 'to', 'q', 'sort'] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filters in an address's query (`form=…&q=…`); anything unknown or malformed is ignored. */
export function parseFilters(query: string): Filters {
  const p = new URLSearchParams(query);
  const f: Filters = { ...NO_FILTERS };
  for (const key of TEXT_KEYS) {
    const v = p.get(key);
    if (v !== null) f[key] = key === 'q' ? v : v.trim();
  }
  if (f.from && !DATE.test(f.from)) f.from = '';
  if (f.to && !DATE.test(f.to)) f.to = '';
  if (!f.sort) f.sort = NO_FILTERS.sort;
  const order = p.get('order');
  if (order === 'asc' || order === 'desc') f.order = order;
  f.pii = p.get('pii') === 'true';
  return f;
}

/** The address query of the filters: only what differs from no filters, in a fixed order. */
export function filtersQuery(f: Filters): string {
  const p = new URLSearchParams();
  for (const key of TEXT_KEYS) {
    const v = key === 'q' ? f.q.trim() : f[key];
    if (v && v !== NO_FILTERS[key]) p.set(key, v);
  }
  if (f.order !== NO_FILTERS.order) p.set('order', f.order);
  if (f.pii) p.set('pii', 'true');
  return p.toString();
}

/** The API query (`/table?…`) for the filters, one page of `limit` after `after`. The
 * total is counted only for the first page (it does not change while scrolling). */
export function apiQuery(f: Filters, page: { after?: string | null; limit: number }): string {
  const p = new URLSearchParams();
  for (const key of ['form', 'version', 'status', 'review', 'flag', 'enumerator', 'device', 'from', 'to'] as const) {
    if (f[key]) p.set(key, f[key]);
  }
  const q = f.q.trim();
  if (q) p.set('q', q);
  p.set('sort', f.sort);
  p.set('order', f.order);
  if (f.pii) p.set('pii', 'true');
  if (page.after) {
    p.set('after', page.after);
    p.set('total', 'false');
  }
  p.set('limit', String(page.limit));
  return p.toString();
}

/** Clicking a column's header: sort by it, or flip the order when it is already the sort. */
export function toggleSort(f: Filters, column: string): Filters {
  if (f.sort === column) return { ...f, order: f.order === 'asc' ? 'desc' : 'asc' };
  return { ...f, sort: column, order: 'asc' };
}

/** How many filters narrow the table (the sort is not a filter). */
export function activeFilterCount(f: Filters): number {
  return TEXT_KEYS.filter((k) => k !== 'sort' && f[k].trim() !== '').length;
}

/** The table's selection as export parameters: its filters and, when they narrow it or
 * the order is not the default, its sort (the export's path names the form; whether pii is
 * included is the export's own choice). Empty: the whole form. */
export function exportFilterQuery(f: Filters): string {
  const p = new URLSearchParams();
  for (const key of ['version', 'status', 'review', 'flag', 'enumerator', 'device', 'from', 'to'] as const) {
    if (f[key]) p.set(key, f[key]);
  }
  const q = f.q.trim();
  if (q) p.set('q', q);
  if (p.size > 0 || f.sort !== NO_FILTERS.sort || f.order !== NO_FILTERS.order) {
    p.set('sort', f.sort);
    p.set('order', f.order);
  }
  return p.toString();
}
