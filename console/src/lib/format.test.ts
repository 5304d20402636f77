import { describe, expect, it } from 'vitest';
import { cellValue, formatAgo, formatBytes, formatCell, formatCount, formatDay, isSuppressed } from './format';

describe('format', () => {
  it('groups counts the language’s way', () => {
    expect(formatCount('en', 12345)).toBe('12,345');
    expect(formatCount('es', 12345)).toBe('12.345');
    expect(formatCount('uk', 12345).replace(/\s/g, ' ')).toBe('12 345');
  });

  it('shows suppressed small cells as "< 5" and charts them as 0', () => {
    expect(formatCell('en', '<5')).toBe('< 5');
    expect(formatCell('en', 1200)).toBe('1,200');
    expect(isSuppressed('<5')).toBe(true);
    expect(isSuppressed(5)).toBe(false);
    expect(cellValue('<5')).toBe(0);
    expect(cellValue(7)).toBe(7);
  });

  it('says how long ago', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    expect(formatAgo('en', '2026-11-23T12:00:00Z', now)).toBe('3 days ago');
    expect(formatAgo('en', '2026-11-26T11:58:00Z', now)).toBe('2 minutes ago');
    expect(formatAgo('en', null, now)).toBe('');
    expect(formatAgo('en', 'not a time', now)).toBe('not a time');
  });

  it('shows a day without moving it across time zones', () => {
    expect(formatDay('en', '2026-11-01')).toBe('Nov 1, 2026');
  });

  it('writes sizes', () => {
    expect(formatBytes('en', 999)).toBe('999 byte');
    expect(formatBytes('en', 1_500_000)).toBe('1.5 MB');
  });
});
