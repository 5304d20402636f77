import { describe, expect, it } from 'vitest';
import { openedTexts, quotesSealed } from './sealedText';

const open = (v: unknown) => (typeof v === 'object' && v && (v as { sealed: string }).sealed === 'c1' ? 'Amina Yusuf' : v) as never;

describe('sealed text in comments', () => {
  it('lists only the sealed answers the page opened, long enough to be quoted', () => {
    expect(openedTexts([{ sealed: 'c1' }, { sealed: 'c2' }, 'Kolo', null, { masked: true }], open)).toEqual(['Amina Yusuf']);
    expect(openedTexts([{ sealed: 'c1' }], () => 'no')).toEqual([]);
  });

  it('finds a quoted opened answer whatever its case and spacing', () => {
    expect(quotesSealed('Is the name  amina yusuf right?', ['Amina Yusuf'])).toBe(true);
    expect(quotesSealed('Please check the name', ['Amina Yusuf'])).toBe(false);
    expect(quotesSealed('anything', [])).toBe(false);
  });
});
