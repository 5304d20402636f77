// The app's own languages (forms bring theirs) and which one to show.

export interface AppLanguage {
  code: string;
  name: string;
  rtl: boolean;
}

export const APP_LANGUAGES: readonly AppLanguage[] = [
  { code: 'en', name: 'English', rtl: false },
  { code: 'ar', name: 'العربية', rtl: true },
  { code: 'uk', name: 'Українська', rtl: false },
  { code: 'es', name: 'Español', rtl: false },
];

/** The app language to use for a saved choice: the same code, else its base language
 * (`ar-SY` → `ar`), else English (nothing saved yet, or a language this build lacks). */
export function appLanguageFor(saved: string | null | undefined): AppLanguage {
  const code = (saved ?? '').trim().toLowerCase();
  return (
    APP_LANGUAGES.find((l) => l.code === code) ??
    APP_LANGUAGES.find((l) => l.code === code.split('-')[0]) ??
    APP_LANGUAGES[0]
  );
}

/** The language a new interview of a form starts in unless the enumerator picks another:
 * the app's own language when the form has it (`ar` also takes a form's `ar-SY`), else
 * the form's default. */
export function startLanguage(
  formLanguages: readonly { code: string }[],
  formDefault: string,
  appLanguage: string,
): string {
  const app = appLanguage.toLowerCase();
  const same = formLanguages.find((l) => l.code.toLowerCase() === app);
  const regional = formLanguages.find((l) => l.code.toLowerCase().split('-')[0] === app);
  return (same ?? regional)?.code ?? formDefault;
}
