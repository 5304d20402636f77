import { describe, expect, it } from 'vitest';
import type { ErrorKind } from './bindings';
import { describeError, errorLine, syncProblem } from './errorText';
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

describe('the sync screen in the app language', () => {
  it('says why the last sync stopped by its kind, the English message as the detail', () => {
    const shown = syncProblem('uk', { last_error: 'http://10.0.0.2: the connection broke off', last_error_kind: 'offline', still_waiting: null });
    expect(shown).toEqual({ summary: tr('uk', 'failOffline'), detail: 'http://10.0.0.2: the connection broke off' });
  });

  it('counts what the server has not taken yet in the language', () => {
    const shown = syncProblem('ar', { last_error: '3 revisions are still waiting for the server', last_error_kind: null, still_waiting: 3 });
    expect(shown.summary).toBe(tr('ar', 'stillWaiting').replace('{n}', '3'));
    expect(shown.summary).not.toContain('revisions');
  });

  it('shows a message of no known kind as it is', () => {
    expect(syncProblem('es', { last_error: 'x', last_error_kind: null, still_waiting: null })).toEqual({ summary: 'x', detail: '' });
  });
});
