import { describe, expect, it } from 'vitest';
import { rowWindow } from './virtual';

describe('rowWindow', () => {
  it('draws the rows in view and a few around', () => {
    const w = rowWindow(380, 400, 1000, 38, 5);
    // Row 10 is at the top (380 / 38); 12 rows fit, plus 5 either side.
    expect(w.first).toBe(5);
    expect(w.last).toBe(10 + 12 + 5);
    expect(w.offset).toBe(5 * 38);
    expect(w.height).toBe(38_000);
  });

  it('stops at the ends', () => {
    expect(rowWindow(0, 400, 3, 38)).toEqual({ first: 0, last: 2, offset: 0, height: 114 });
    const end = rowWindow(1e9, 400, 1000, 38, 0);
    expect(end.last).toBe(999);
    expect(rowWindow(0, 400, 0, 38)).toEqual({ first: 0, last: -1, offset: 0, height: 0 });
  });

  it('maps the scroll position proportionally past the height browsers allow', () => {
    const total = 5_000_000;
    const top = rowWindow(0, 400, total, 38, 0, 1_000_000);
    expect(top.height).toBe(1_000_000);
    expect(top.first).toBe(0);
    const middle = rowWindow((1_000_000 - 400) / 2, 400, total, 38, 0, 1_000_000);
    expect(middle.first).toBeGreaterThan(total / 2 - 20);
    expect(middle.first).toBeLessThan(total / 2 + 20);
    const bottom = rowWindow(1_000_000, 400, total, 38, 0, 1_000_000);
    expect(bottom.last).toBe(total - 1);
    // The drawn rows sit where the view is.
    expect(middle.offset).toBeCloseTo((1_000_000 - 400) / 2);
  });
});
