import { describe, expect, it } from 'vitest';
import { groupForms, repeatLabels } from './catalog';

describe('repeatLabels', () => {
  it('names repeats by their answer path, through groups and nested repeats', () => {
    const body = [
      { type: 'text', name: 'village' },
      {
        type: 'group',
        name: 'household',
        body: [
          {
            type: 'repeat',
            name: 'member',
            label: { en: 'Household members' },
            body: [{ type: 'group', name: 'g', body: [{ type: 'repeat', name: 'child', label: 'Children' }] }],
          },
        ],
      },
    ];
    expect([...repeatLabels(body)]).toEqual([
      ['/member', { en: 'Household members' }],
      ['/member/child', 'Children'],
    ]);
  });
});

describe('groupForms', () => {
  it('puts each form’s newest version first and forms by title', () => {
    const v = (form: string, version: string, title: string, at: string) => ({ form, version, title, published_at: at, sha256: '' });
    const grouped = groupForms([
      v('b', '1', 'Water', '2026-11-01T00:00:00.000Z'),
      v('a', '1', 'Health', '2026-11-01T00:00:00.000Z'),
      v('b', '2', 'Water and sanitation', '2026-11-20T00:00:00.000Z'),
    ]);
    expect(grouped.map((f) => [f.form, f.title, f.versions.map((x) => x.version)])).toEqual([
      ['a', 'Health', ['1']],
      ['b', 'Water and sanitation', ['2', '1']],
    ]);
  });
});
