// The rows behind the virtualised responses table. The server pages by keyset (each page
// gives the cursor of the next), which stays fast and stable at any depth; a page whose
// cursor is not known (a far jump with the scroll bar) is asked for by its first row's
// number instead, and the server finds that row on its index. This keeps the cursors of the
// pages reached (a few bytes each) and the rows of only the pages near the view (a bounded
// cache), so memory stays flat however far the view goes.

export interface Page<T> {
  rows: T[];
  next: string | null;
  total: number | null;
  /** The server stopped counting at `total` (a search past its cap): more rows match. */
  total_capped?: boolean;
}

/** What to say of the matches: `n`, or more than `n` when the count was capped. */
export interface Matching {
  n: number;
  more: boolean;
}

/** Where a page starts: after a cursor the server gave (null: the first page), or at a row number. */
export type PageStart = { after: string | null } | { offset: number };

export type FetchPage<T> = (start: PageStart, signal: AbortSignal) => Promise<Page<T>>;

export interface PagedRowsOptions {
  pageSize: number;
  /** Pages of rows kept in memory at most (those in view are never dropped). */
  keepPages?: number;
}

export class PagedRows<T> {
  readonly pageSize: number;
  private readonly keepPages: number;
  /** The `after` that fetches page k (null for the first page), for the pages whose cursor is known. */
  private readonly cursors = new Map<number, string | null>([[0, null]]);
  private readonly pages = new Map<number, T[]>();
  /** Index of the last page, once a page came back without a next cursor. */
  private lastPage: number | null = null;
  private knownTotal: number | null = null;
  /** The first page's total is a lower bound (the server's count was capped). */
  private capped = false;
  private inFlight: number | null = null;
  private wanted: [number, number] = [0, 0];
  private readonly abort = new AbortController();
  private error: unknown = null;

  constructor(
    private readonly fetchPage: FetchPage<T>,
    options: PagedRowsOptions,
    /** Called whenever rows arrive (or fail), so the view redraws. */
    private readonly changed: () => void = () => {},
  ) {
    this.pageSize = options.pageSize;
    this.keepPages = Math.max(options.keepPages ?? 12, 2);
  }

  /**
   * Rows the view can scroll through: as the server counted them with the first page (null
   * before it came). When that count was capped, at least the cap and every page reached so
   * far and the next (its cursor known), so scrolling goes on past the cap a page at a time;
   * exact once the last page came.
   */
  get total(): number | null {
    if (this.knownTotal !== null && !this.capped) return this.knownTotal;
    if (this.lastPage !== null) {
      return this.lastPage * this.pageSize + (this.pages.get(this.lastPage)?.length ?? 0);
    }
    if (this.knownTotal === null) return null;
    const reached = Math.max(...this.cursors.keys());
    return Math.max(this.knownTotal, (reached + 1) * this.pageSize);
  }

  /** The count to show (null before the first page): the server's, "more than" when capped. */
  get matching(): Matching | null {
    if (this.knownTotal === null) return null;
    if (this.capped && this.lastPage !== null) return { n: this.total ?? 0, more: false };
    return { n: this.knownTotal, more: this.capped };
  }

  /** The failure of the last fetch, if it failed. */
  get failure(): unknown {
    return this.error;
  }

  get loading(): boolean {
    return this.inFlight !== null;
  }

  /** Row `i` when its page is in memory. */
  rowAt(i: number): T | undefined {
    return this.pages.get(Math.floor(i / this.pageSize))?.[i % this.pageSize];
  }

  /** Pages currently held (for tests and the memory bound). */
  heldPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  /** Stop fetching (the filters changed or the page closed). */
  close(): void {
    this.abort.abort();
  }

  /** The view shows rows `first`…`last` (inclusive): fetch what is missing, nearest first. */
  show(first: number, last: number): void {
    const total = this.total;
    if (total !== null) last = Math.min(last, Math.max(total - 1, 0));
    this.wanted = [Math.floor(Math.max(first, 0) / this.pageSize), Math.floor(Math.max(last, 0) / this.pageSize)];
    this.evict();
    void this.pump();
  }

  /** Try again after a failure. */
  retry(): void {
    this.error = null;
    void this.pump();
  }

  /** The next page to fetch for the wanted range, or null when nothing is missing. */
  private nextToFetch(): number | null {
    const [from, to] = this.wanted;
    for (let k = from; k <= to; k++) {
      if (this.lastPage !== null && k > this.lastPage) return null;
      if (!this.pages.has(k)) return k;
    }
    return null;
  }

  /** Page k by its cursor when known, otherwise by the number of its first row. */
  private startOf(k: number): PageStart {
    const after = this.cursors.get(k);
    return after !== undefined ? { after } : { offset: k * this.pageSize };
  }

  private async pump(): Promise<void> {
    while (this.inFlight === null && this.error === null && !this.abort.signal.aborted) {
      const k = this.nextToFetch();
      if (k === null) return;
      this.inFlight = k;
      let page: Page<T>;
      try {
        page = await this.fetchPage(this.startOf(k), this.abort.signal);
      } catch (e) {
        this.inFlight = null;
        if (this.abort.signal.aborted) return;
        this.error = e;
        this.changed();
        return;
      }
      this.inFlight = null;
      if (this.abort.signal.aborted) return;
      if (k === 0 && page.total !== null) {
        this.knownTotal = page.total;
        this.capped = page.total_capped === true;
      }
      this.pages.set(k, page.rows);
      if (page.next === null || page.rows.length === 0) {
        this.lastPage = this.lastPage === null ? k : Math.min(this.lastPage, k);
      } else {
        this.cursors.set(k + 1, page.next);
      }
      this.evict();
      this.changed();
    }
  }

  /** Drop the pages furthest from the view beyond the memory bound. */
  private evict(): void {
    if (this.pages.size <= this.keepPages) return;
    const [from, to] = this.wanted;
    const distance = (k: number) => (k < from ? from - k : k > to ? k - to : 0);
    const byDistance = [...this.pages.keys()].sort((a, b) => distance(b) - distance(a));
    for (const k of byDistance) {
      if (this.pages.size <= this.keepPages || distance(k) === 0) break;
      this.pages.delete(k);
    }
  }
}
