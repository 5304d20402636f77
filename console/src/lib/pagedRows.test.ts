import { describe, expect, it } from 'vitest';
import { PagedRows, type Page } from './pagedRows';

/** A keyset-paged server over rows 0…n-1: the cursor is the last row's number. */
function server(n: number, size: number) {
  const calls: (string | null)[] = [];
  let failNext = false;
  const fetchPage = async (after: string | null): Promise<Page<number>> => {
    calls.push(after);
    if (failNext) {
      failNext = false;
      throw new Error('busy');
    }
    const start = after === null ? 0 : Number(after) + 1;
    const rows = Array.from({ length: Math.max(Math.min(size, n - start), 0) }, (_, i) => start + i);
    const last = rows[rows.length - 1];
    return { rows, next: start + size < n ? String(last) : null, total: after === null ? n : null };
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

  it('reaches a far page by walking the cursors, keeping only a bounded number of pages', async () => {
    const s = server(1050, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100, keepPages: 3 });
    rows.show(0, 10);
    await settle();
    rows.show(1020, 1049);
    for (let i = 0; i < 20; i++) await settle();
    expect(rows.rowAt(1049)).toBe(1049);
    expect(rows.rowAt(1000)).toBe(1000);
    expect(s.calls).toEqual([null, ...Array.from({ length: 10 }, (_, k) => String(k * 100 + 99))]);
    expect(rows.heldPages().length).toBeLessThanOrEqual(3);
    expect(rows.heldPages()).toContain(10);
    expect(rows.rowAt(0)).toBeUndefined();
  });

  it('fetches a dropped page again from its remembered cursor when scrolled back', async () => {
    const s = server(1050, 100);
    const rows = new PagedRows(s.fetchPage, { pageSize: 100, keepPages: 2 });
    rows.show(0, 10);
    await settle();
    rows.show(500, 510);
    for (let i = 0; i < 10; i++) await settle();
    s.calls.length = 0;
    rows.show(250, 260);
    await settle();
    expect(s.calls).toEqual(['199']);
    expect(rows.rowAt(250)).toBe(250);
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
