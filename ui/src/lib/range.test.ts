import { describe, expect, it } from 'vitest';
import { rangeSpec } from './range';

describe('rangeSpec', () => {
  it('keeps an upward range as written', () => {
    expect(rangeSpec({ start: 1, end: 5, step: 0.5 })).toEqual({
      min: 1, max: 5, step: 0.5, reversed: false, startLabel: '1', endLabel: '5',
    });
  });

  it('runs a downward range from its start side', () => {
    const r = rangeSpec({ start: 10, end: 0, step: 2 });
    expect([r.min, r.max, r.step, r.reversed]).toEqual([0, 10, 2, true]);
    expect([r.startLabel, r.endLabel]).toEqual(['10', '0']);
  });

  it('defaults to 0–10 by 1 without bounds', () => {
    expect(rangeSpec(null)).toMatchObject({ min: 0, max: 10, step: 1, reversed: false });
  });

  it('replaces a step the slider cannot use', () => {
    expect(rangeSpec({ start: 0, end: 10, step: 0 }).step).toBe(1);
    expect(rangeSpec({ start: 0, end: 10, step: -2 }).step).toBe(1);
    expect(rangeSpec({ start: 0, end: 0.5, step: 3 }).step).toBe(0.5);
    expect(rangeSpec({ start: 4, end: 4, step: 1 }).step).toBe(1);
  });
});
