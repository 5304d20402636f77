// The console's own languages, and which form text to show in one of them.

export interface ConsoleLanguage {
  code: string;
  name: string;
  rtl: boolean;
}

export const LANGUAGES: readonly ConsoleLanguage[] = [
  { code: 'en', name: 'English', rtl: false },
  { code: 'ar', name: 'العربية', rtl: true },
  { code: 'uk', name: 'Українська', rtl: false },
  { code: 'es', name: 'Español', rtl: false },
];

/** The console language for a saved or browser choice: the same code, else its base
 * language (`ar-SY` → `ar`), else English. */
export function languageFor(wanted: string | null | undefined): ConsoleLanguage {
  const code = (wanted ?? '').trim().toLowerCase();
  return (
    LANGUAGES.find((l) => l.code === code) ??
    LANGUAGES.find((l) => l.code === code.split('-')[0]) ??
    LANGUAGES[0]
  );
}

/** A form's text in several languages (`{en: …, ar: …}`), or one plain text. */
export type LocalText = string | Record<string, string> | null | undefined;

/** The text of `text` to show in `lang`: that language, its regional or base form, then the
 * form's default language, then English, then any. */
export function pickText(text: LocalText, lang: string, fallback?: string): string {
  if (text == null) return '';
  if (typeof text === 'string') return text;
  const want = lang.toLowerCase();
  const keys = Object.keys(text);
  const exact = keys.find((k) => k.toLowerCase() === want);
  const regional = keys.find((k) => k.toLowerCase().split('-')[0] === want.split('-')[0]);
  const chosen =
    exact ?? regional ?? (fallback && fallback in text ? fallback : undefined) ?? ('en' in text ? 'en' : keys[0]);
  return chosen === undefined ? '' : text[chosen];
}
