import { describe, expect, it } from 'vitest';
import { isQuickHideKey } from './quickHide';

describe('the quick hide key', () => {
  it('is Escape, with or without modifiers (a hurried press must not miss)', () => {
    expect(isQuickHideKey({ key: 'Escape' })).toBe(true);
    expect(isQuickHideKey({ key: 'Escape', shiftKey: true } as KeyboardEvent)).toBe(true);
    expect(isQuickHideKey({ key: 'Esc' })).toBe(false);
    expect(isQuickHideKey({ key: 'Enter' })).toBe(false);
  });
});
