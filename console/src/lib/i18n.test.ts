import { describe, expect, it } from 'vitest';
import { isKey, TABLES, translate } from './i18n';
import { LANGUAGES } from './languages';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the console speaks every language completely', () => {
  const en = TABLES.en;
  const keys = Object.keys(en);

  for (const lang of LANGUAGES) {
    it(`${lang.code} has every key, none empty, none extra`, () => {
      const table = TABLES[lang.code];
      expect(table, `no table for ${lang.code}`).toBeDefined();
      const missing = keys.filter((k) => !(k in table));
      const extra = Object.keys(table).filter((k) => !(k in en));
      expect(missing, `missing in ${lang.code}`).toEqual([]);
      expect(extra, `not in English (${lang.code})`).toEqual([]);
      const empty = keys.filter((k) => (table as Record<string, string>)[k].trim() === '');
      expect(empty, `empty in ${lang.code}`).toEqual([]);
    });

    it(`${lang.code} fills in the same values as English`, () => {
      const table = TABLES[lang.code] as Record<string, string>;
      const wrong = keys.filter((k) => placeholders(table[k]).join() !== placeholders((en as Record<string, string>)[k]).join());
      expect(wrong, `placeholders differ in ${lang.code}`).toEqual([]);
    });
  }

  it('translations are translations, not English copied', () => {
    for (const code of ['ar', 'uk', 'es']) {
      const table = TABLES[code] as Record<string, string>;
      const same = keys.filter((k) => table[k] === (en as Record<string, string>)[k]);
      // Format names (JSON, Total in Spanish…) may coincide; most words may not.
      expect(same.length, `${code}: ${same.join(', ')}`).toBeLessThan(keys.length / 20);
    }
  });
});

describe('translate', () => {
  it('fills in values and falls back to English for unknown languages', () => {
    expect(translate('en', 'matchingN', { n: '1,234' })).toBe('1,234 matching');
    expect(translate('en', 'matchingMoreThanN', { n: '10,000' })).toBe('more than 10,000 matching');
    expect(translate('ar', 'matchingMoreThanN', { n: '10,000' })).toBe('أكثر من 10,000 مطابقة');
    expect(translate('es', 'daysN', { n: 7 })).toBe('7 días');
    expect(translate('sw', 'signIn')).toBe('Sign in');
    expect(translate('uk-UA', 'signIn')).toBe('Увійти');
  });

  it('leaves a placeholder without a value visible', () => {
    expect(translate('en', 'matchingN')).toBe('{n} matching');
  });

  it('knows which keys are its own', () => {
    expect(isKey('role_admin')).toBe(true);
    expect(isKey('role_enumerator')).toBe(false);
  });
});
