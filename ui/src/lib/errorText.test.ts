import { describe, expect, it } from 'vitest';
import type { ErrorKind } from './bindings';
import { describeError, errorLine } from './errorText';
import { tr } from './i18n';

const KINDS: ErrorKind[] = [
  'storage', 'file', 'not_found', 'invalid_input', 'invalid_form', 'conflict', 'no_code_found',
  'not_provisioned', 'offline', 'server_refused', 'bad_code', 'locked', 'wrong_pin', 'wiped',
];

describe('the banner in the app language', () => {
  it('gives every command error kind its own sentence in each language', () => {
    for (const lang of ['en', 'ar', 'uk', 'es']) {
      const seen = new Set<string>();
      for (const kind of KINDS) {
        const { summary } = describeError(lang, { kind, message: 'local database: disk I/O error' });
        expect(summary, `${lang} ${kind}`).not.toBe('');
        expect(summary, `${lang} ${kind}`).not.toContain('disk I/O');
        seen.add(summary);
      }
      expect(seen.size, lang).toBe(KINDS.length);
    }
  });

  it('translates instead of showing the English message', () => {
    const e = { kind: 'conflict' as const, message: 'response r1 is finalized; reopen it first' };
    const ar = describeError('ar', e);
    expect(ar.summary).toBe(tr('ar', 'failConflict'));
    expect(ar.summary).not.toBe(tr('en', 'failConflict'));
    // The command's own words stay for support.
    expect(ar.detail).toBe(e.message);
    expect(describeError('uk-UA', e).summary).toBe(tr('uk', 'failConflict'));
  });

  it('keeps a message the app already wrote in the language as it is', () => {
    expect(describeError('es', tr('es', 'returnVisit'))).toEqual({ summary: tr('es', 'returnVisit'), detail: '' });
  });

  it('drops the detail where the sentence says everything', () => {
    expect(describeError('en', { kind: 'no_code_found', message: 'no QR code found' })).toEqual({ summary: tr('en', 'noCodeInPicture'), detail: '' });
    expect(errorLine('ar', { kind: 'wrong_pin', message: 'wrong PIN: 3 tries left' })).toBe(tr('ar', 'wrongPin'));
  });

  it('treats a thrown exception as a failure with its text as the detail', () => {
    const shown = describeError('en', new Error('boom'));
    expect(shown).toEqual({ summary: tr('en', 'failStorage'), detail: 'boom' });
    expect(errorLine('en', new Error('boom'))).toBe(`${tr('en', 'failStorage')} (boom)`);
  });
});
