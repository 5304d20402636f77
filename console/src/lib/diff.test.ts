import { describe, expect, it } from 'vitest';
import { changeKind, choiceDiff, textDiff } from './diff';

describe('textDiff', () => {
  it('marks a changed word inside what stayed', () => {
    expect(textDiff('Kijiji 4', 'Kijiji 14')).toEqual([
      { text: 'Kijiji ', kind: 'same' },
      { text: '4', kind: 'removed' },
      { text: '14', kind: 'added' },
    ]);
  });

  it('changes whole numbers, not single digits', () => {
    expect(textDiff('34', '43')).toEqual([
      { text: '34', kind: 'removed' },
      { text: '43', kind: 'added' },
    ]);
    expect(textDiff('age 120 years', 'age 20 years')).toEqual([
      { text: 'age ', kind: 'same' },
      { text: '120', kind: 'removed' },
      { text: '20', kind: 'added' },
      { text: ' years', kind: 'same' },
    ]);
  });

  it('shows additions at the end and removals in the middle', () => {
    expect(textDiff('water', 'water, piped')).toEqual([
      { text: 'water', kind: 'same' },
      { text: ', piped', kind: 'added' },
    ]);
    expect(textDiff('a b c', 'a c')).toEqual([
      { text: 'a ', kind: 'same' },
      { text: 'b ', kind: 'removed' },
      { text: 'c', kind: 'same' },
    ]);
  });

  it('handles text outside the basic plane and equal texts', () => {
    expect(textDiff('مرحبا', 'مرحبا بك')).toEqual([
      { text: 'مرحبا', kind: 'same' },
      { text: ' بك', kind: 'added' },
    ]);
    expect(textDiff('same', 'same')).toEqual([{ text: 'same', kind: 'same' }]);
  });
});

describe('choiceDiff', () => {
  it('lists choices added, removed and kept', () => {
    expect(choiceDiff('piped well', 'well river')).toEqual({ added: ['river'], removed: ['piped'], kept: ['well'] });
    expect(choiceDiff('', 'a')).toEqual({ added: ['a'], removed: [], kept: [] });
  });
});

describe('changeKind', () => {
  it('tells set, cleared, changed and hidden apart', () => {
    expect(changeKind(null, '3')).toBe('set');
    expect(changeKind('3', null)).toBe('cleared');
    expect(changeKind('3', '')).toBe('cleared');
    expect(changeKind('3', '4')).toBe('changed');
    expect(changeKind({ masked: true }, { masked: true })).toBe('masked');
  });
});
