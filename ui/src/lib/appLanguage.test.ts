import { describe, expect, it } from 'vitest';
import { APP_LANGUAGES, appLanguageFor, startLanguage } from './appLanguage';
import { tr } from './i18n';

describe('appLanguageFor', () => {
  it('restores a saved language the app speaks', () => {
    expect(appLanguageFor('ar')).toEqual({ code: 'ar', name: 'العربية', rtl: true });
    expect(appLanguageFor('uk').code).toBe('uk');
    expect(appLanguageFor(' ES ').code).toBe('es');
  });

  it('uses the base language of a regional tag', () => {
    expect(appLanguageFor('ar-SY').code).toBe('ar');
    expect(appLanguageFor('es-419').rtl).toBe(false);
  });

  it('falls back to English when nothing or an unknown language is saved', () => {
    expect(appLanguageFor(null).code).toBe('en');
    expect(appLanguageFor(undefined).code).toBe('en');
    expect(appLanguageFor('').code).toBe('en');
    expect(appLanguageFor('sw').code).toBe('en');
  });

  it('offers only languages the app has words for', () => {
    for (const l of APP_LANGUAGES) {
      // A missing table falls back to English; every offered language has its own.
      if (l.code !== 'en') expect(tr(l.code, 'forms')).not.toBe(tr('en', 'forms'));
    }
  });
});

describe('startLanguage', () => {
  const form = [{ code: 'en' }, { code: 'ar-SY' }, { code: 'uk' }];
  it("starts in the app's language when the form has it", () => {
    expect(startLanguage(form, 'en', 'uk')).toBe('uk');
    expect(startLanguage(form, 'en', 'ar')).toBe('ar-SY');
  });
  it("keeps the form's default otherwise", () => {
    expect(startLanguage(form, 'en', 'es')).toBe('en');
    expect(startLanguage([{ code: 'fr' }], 'fr', 'en')).toBe('fr');
  });
});
