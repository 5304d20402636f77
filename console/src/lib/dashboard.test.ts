import { describe, expect, it } from 'vitest';
import { dimensionGroups, questionTable } from './dashboard';
import type { Dashboard, FieldDef } from './types';

const sexField: FieldDef = {
  path: '/resp_gender', name: 'resp_gender', type: 'select_one', label: { en: 'Gender' }, group: null, repeat: null,
  pii: false, sensitive: false, disaggregation: 'sex',
  choices: [{ name: 'female', label: { en: 'Female', ar: 'أنثى' } }, { name: 'male', label: { en: 'Male' } }],
};

const dashboard: Dashboard = {
  total: 40,
  over_time: [],
  by_enumerator: [],
  disaggregation: { sex: '/resp_gender', age: '/resp_age', disability: null },
  age_bands: ['0-14', '15-17', '18-24', '25-49', '50+'],
  questions: [
    {
      path: '/water',
      label: { en: 'Water source', ar: 'مصدر المياه' },
      choices: [{ name: 'piped', label: { en: 'Piped' } }, { name: 'well', label: { en: 'Well' } }],
      total: [{ choice: 'piped', count: 30 }, { choice: 'well', count: '<5' }, { choice: 'old', count: 6 }],
      by: {
        sex: [
          { group: 'female', choice: 'piped', count: 18 },
          { group: 'male', choice: 'piped', count: 12 },
          { group: 'unknown', choice: 'old', count: 6 },
        ],
        age_band: [{ group: '25-49', choice: 'piped', count: '<5' }],
        disability: [],
      },
    },
  ],
};

describe('dimensionGroups', () => {
  it('lists each marked dimension’s groups: choices or age bands, then unknown', () => {
    const groups = dimensionGroups(dashboard, [sexField], 'ar', '?');
    expect(groups.map((g) => `${g.dimension}:${g.group}:${g.label}`)).toEqual([
      'sex:female:أنثى',
      'sex:male:Male',
      'sex:unknown:?',
      'age_band:0-14:0-14',
      'age_band:15-17:15-17',
      'age_band:18-24:18-24',
      'age_band:25-49:25-49',
      'age_band:50+:50+',
    ]);
  });
});

describe('questionTable', () => {
  it('puts every count in its cell, zero where the server left a cell out, small cells as sent', () => {
    const groups = dimensionGroups(dashboard, [sexField], 'en', 'Not answered');
    const table = questionTable(dashboard.questions[0], groups, 'en');
    expect(table.label).toBe('Water source');
    expect(table.rows.map((r) => [r.choice, r.label, r.total, ...r.cells])).toEqual([
      ['piped', 'Piped', 30, 18, 12, 0, 0, 0, 0, '<5', 0],
      ['well', 'Well', '<5', 0, 0, 0, 0, 0, 0, 0, 0],
      ['old', 'old', 6, 0, 0, 6, 0, 0, 0, 0, 0],
    ]);
  });
});
