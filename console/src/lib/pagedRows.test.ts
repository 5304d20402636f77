import { describe, expect, it } from 'vitest';
import { PagedRows, type Page, type PageStart } from './pagedRows';

/**
 * A server over rows 0…n-1 paged by keyset (the cursor is the last row's number) or by row
 * number; calls are recorded as the cursor, or `@N` for a row number.
 */
function server(n: number, size: number, cap = Infinity) {
  const calls: (string | null)[] = [];
  let failNext = false;
  const fetchPage = async (start: PageStart): Promise<Page<number>> => {
    calls.push('offset' in start ? `@${start.offset}` : start.after);
    if (failNext) {
      failNext = false;
      throw new Error('busy');
    }
    const first = 'offset' in start ? start.offset : start.after === null ? 0 : Number(start.after) + 1;
    const rows = Array.from({ length: Math.max(Math.min(size, n - first), 0) }, (_, i) => first + i);
    const last = rows[rows.length - 1];
    const counted = 'after' in start && start.after === null;
    const total = counted ? Math.min(n, cap) : null;
    return { rows, next: first + size < n ? String(last) : null, total, total_capped: counted && n > cap };
  };
  return { fetchPage, calls, fail: () => (failNext = true) };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('PagedRows', () => {
  it('fetches the first page with its total and serves rows from it', async () => {
    const s = server(1050, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 });
    rows.show(0, 30);
    await settle();
    expect(rows.total).toBe(1050);
    expect(rows.rowAt(0)).toBe(0);
    expect(rows.rowAt(99)).toBe(99);
    expect(rows.rowAt(100)).toBeUndefined();
    expect(s.calls).toEqual([null]);
  });

  it('jumps to a far page by its row number, without the pages before it, keeping few pages', async () => {
    const s = server(1_000_000, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100, keepPages: 3 });
    rows.show(0, 10);
    await settle();
    rows.show(600_020, 600_049);
    for (let i = 0; i < 5; i++) await settle();
    expect(rows.rowAt(600_049)).toBe(600_049);
    expect(rows.rowAt(600_000)).toBe(600_000);
    expect(s.calls).toEqual([null, '@600000']);
    // Scrolling on from there follows the cursor the jump gave.
    rows.show(600_120, 600_140);
    for (let i = 0; i < 5; i++) await settle();
    expect(rows.rowAt(600_130)).toBe(600_130);
    expect(s.calls).toEqual([null, '@600000', '600099']);
    // The last rows, then back up: only the pages in view are fetched.
    rows.show(999_950, 999_999);
    for (let i = 0; i < 5; i++) await settle();
    expect(rows.rowAt(999_999)).toBe(999_999);
    expect(s.calls.at(-1)).toBe('@999900');
    expect(rows.heldPages().length).toBeLessThanOrEqual(3);
    expect(rows.rowAt(0)).toBeUndefined();
  });

  it('fetches a dropped page again from its remembered cursor when scrolled back', async () => {
    const s = server(1050, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100, keepPages: 2 });
    for (const first of [0, 100, 200, 500]) {
      rows.show(first, first + 10);
      for (let i = 0; i < 5; i++) await settle();
    }
    expect(s.calls).toEqual([null, '99', '199', '@500']);
    expect(rows.rowAt(100)).toBeUndefined();
    s.calls.length = 0;
    rows.show(150, 160);
    await settle();
    expect(s.calls).toEqual(['99']);
    expect(rows.rowAt(150)).toBe(150);
  });

  it('stops at the last page and never asks past it', async () => {
    const s = server(150, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 });
    rows.show(0, 500);
    for (let i = 0; i < 5; i++) await settle();
    expect(rows.total).toBe(150);
    expect(rows.rowAt(149)).toBe(149);
    expect(s.calls).toEqual([null, '99']);
  });

  it('scrolls on past a capped count a page at a time, and says "more than" until the end', async () => {
    const s = server(1_050, 100, 500);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 });
    rows.show(0, 10);
    await settle();
    expect(rows.matching).toEqual({ n: 500, more: true });
    expect(rows.total).toBe(500);
    // The bottom of what the count covers: the page there, by row number, and its next.
    rows.show(450, 499);
    for (let i = 0; i < 5; i++) await settle();
    expect(s.calls).toEqual([null, '@400']);
    expect(rows.total).toBe(600);
    rows.show(550, 599);
    for (let i = 0; i < 5; i++) await settle();
    expect(s.calls.at(-1)).toBe('499');
    expect(rows.rowAt(599)).toBe(599);
    expect(rows.total).toBe(700);
    expect(rows.matching).toEqual({ n: 500, more: true });
    for (const first of [650, 750, 850, 950, 1_040]) {
      rows.show(first, first + 49);
      for (let i = 0; i < 5; i++) await settle();
    }
    // The last page came: the count is exact.
    expect(rows.total).toBe(1_050);
    expect(rows.rowAt(1_049)).toBe(1_049);
    expect(rows.matching).toEqual({ n: 1_050, more: false });
  });

  it('shows an exact count as it came', async () => {
    const s = server(150, 100, 500);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 });
    rows.show(0, 10);
    await settle();
    expect(rows.matching).toEqual({ n: 150, more: false });
  });

  it('keeps a failure until retried, then carries on', async () => {
    const s = server(300, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 });
    s.fail();
    rows.show(0, 10);
    await settle();
    expect(rows.failure).toBeInstanceOf(Error);
    expect(rows.rowAt(0)).toBeUndefined();
    rows.show(0, 10);
    await settle();
    expect(s.calls.length).toBe(1);
    rows.retry();
    await settle();
    expect(rows.failure).toBeNull();
    expect(rows.rowAt(5)).toBe(5);
  });

  it('fetches nothing more once closed', async () => {
    const s = server(300, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 });
    rows.close();
    rows.show(0, 10);
    await settle();
    expect(s.calls).toEqual([]);
  });

  it('tells the view when rows arrive', async () => {
    const s = server(300, 100);
    let changes = 0;
    const rows = new PagedRows(s.fetchPage, { pageSize: 100 }, () => changes++);
    rows.show(0, 150);
    for (let i = 0; i < 5; i++) await settle();
    expect(changes).toBe(2);
  });
});
