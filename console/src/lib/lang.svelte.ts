// The console's current language: chosen by the coordinator, kept in this browser, and put on
// <html lang dir> so the whole page (and the screen reader) follows it.
import { languageFor, type ConsoleLanguage } from './languages';
import { translate, type Key } from './i18n';

const STORAGE = 'voices-console-language';

function initial(): ConsoleLanguage {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(STORAGE);
  } catch {
    saved = null;
  }
  return languageFor(saved ?? (typeof navigator !== 'undefined' ? navigator.language : 'en'));
}

export const current = $state({ language: initial() });

function apply(l: ConsoleLanguage): void {
  document.documentElement.lang = l.code;
  document.documentElement.dir = l.rtl ? 'rtl' : 'ltr';
}

export function setLanguage(code: string): void {
  current.language = languageFor(code);
  try {
    localStorage.setItem(STORAGE, current.language.code);
  } catch {
    // Private windows may refuse storage; the choice then lasts for this page only.
  }
  apply(current.language);
}

export function startLanguage(): void {
  apply(current.language);
}

/** The console's wording for `key` in the current language, with `{name}` filled in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  return translate(current.language.code, key, params);
}

/** The current language's code, for Intl formatting and picking form texts. */
export function lang(): string {
  return current.language.code;
}
