// The console's own words in its four languages; forms bring their own texts. Every
// language has every key (a unit test fails otherwise); `{name}` marks a value filled in.
// Each language has its table in `i18n/`; areas with many words of their own keep them in
// a file of their own (`i18nTeams.ts`, `i18nProfile.ts`), merged into each table.
import { ar } from './i18n/ar';
import { en, type Key, type Strings } from './i18n/en';
import { es } from './i18n/es';
import { uk } from './i18n/uk';

export type { Key };

export const TABLES: Record<string, Strings> = { en, ar, uk, es };

/** `key` in `lang` (English when the language is unknown), with `{name}` filled from `params`. */
export function translate(lang: string, key: Key, params?: Record<string, string | number>): string {
  const table = TABLES[lang] ?? TABLES[lang.split('-')[0]] ?? en;
  const text = table[key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Whether `key` is one of the console's words (for keys built from server values). */
export function isKey(key: string): key is Key {
  return key in en;
}
