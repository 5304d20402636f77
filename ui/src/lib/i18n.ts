// Words of the app itself; the form supplies its own texts in each language. Each
// language has its table in `i18n/`.
import { ar } from './i18n/ar';
import { en, type Strings } from './i18n/en';
import { es } from './i18n/es';
import { uk } from './i18n/uk';

const tables: Record<string, Strings> = { en, ar, uk, es };

export type Key = keyof Strings;

/** The app's own wording in `lang` (base language tried, then English). */
export function tr(lang: string, key: Key): string {
  const table = tables[lang] ?? tables[lang.split('-')[0]] ?? en;
  return table[key];
}
