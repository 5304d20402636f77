// What the app's banner says about a failure, in the app's language. Commands fail with
// `{kind, message}`: the kind picks a translated sentence an enumerator can act on, and the
// message (the core's or the store's own words, in English) stays available as the detail a
// coordinator or support asks for.
import type { CommandError, ErrorKind, SyncStatus } from './bindings';
import { tr, type Key } from './i18n';

export interface ShownError {
  /** One sentence in the app's language. */
  summary: string;
  /** The command's own message, when it adds something to the summary. */
  detail: string;
}

const SUMMARY: Record<ErrorKind, Key> = {
  storage: 'failStorage',
  file: 'failFile',
  not_found: 'failNotFound',
  invalid_input: 'failInvalidInput',
  invalid_form: 'failInvalidForm',
  conflict: 'failConflict',
  no_code_found: 'noCodeInPicture',
  not_provisioned: 'failNotProvisioned',
  offline: 'failOffline',
  server_refused: 'failServerRefused',
  bad_code: 'failBadCode',
  locked: 'failLocked',
  wrong_pin: 'wrongPin',
  wiped: 'failWiped',
  withdrawn: 'withdrawnClosed',
};

function isCommandError(e: unknown): e is CommandError {
  return !!e && typeof e === 'object' && typeof (e as CommandError).kind === 'string' && typeof (e as CommandError).message === 'string';
}

/** A failure as the banner shows it. A plain string is a message the app already wrote in
 *  the user's language; a command's error gets its kind's sentence; anything else (a
 *  JavaScript exception) is a storage-like failure with its text as the detail. */
export function describeError(lang: string, e: unknown): ShownError {
  if (typeof e === 'string') return { summary: e, detail: '' };
  if (isCommandError(e)) {
    const key = SUMMARY[e.kind as ErrorKind];
    if (!key) return { summary: e.message, detail: '' };
    const summary = tr(lang, key);
    // These sentences say all there is; the others keep the command's words for support.
    const complete = e.kind === 'no_code_found' || e.kind === 'wrong_pin' || e.kind === 'withdrawn';
    return { summary, detail: complete || e.message.trim() === summary ? '' : e.message.trim() };
  }
  const text = e instanceof Error ? e.message : String(e);
  return { summary: tr(lang, 'failStorage'), detail: text };
}

/** The same on one line, for a screen that has room for a single message. */
export function errorLine(lang: string, e: unknown): string {
  const { summary, detail } = describeError(lang, e);
  return detail ? `${summary} (${detail})` : summary;
}

/** Why the last sync stopped, as the sync screen shows it: the failure's kind, or how
 *  many revisions the server has not taken yet, in the app's language; the English
 *  message the app recorded is the detail. */
export function syncProblem(lang: string, status: Pick<SyncStatus, 'last_error' | 'last_error_kind' | 'still_waiting'>): ShownError {
  const message = status.last_error ?? '';
  if (status.last_error_kind) return describeError(lang, { kind: status.last_error_kind, message });
  if (status.still_waiting != null) {
    return { summary: tr(lang, 'stillWaiting').replace('{n}', String(status.still_waiting)), detail: '' };
  }
  return { summary: message, detail: '' };
}
