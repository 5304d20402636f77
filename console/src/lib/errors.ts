// What to tell a coordinator when a request fails: the console's own words for the codes it
// knows, the server's detail otherwise (it says what and where).
import { ApiError } from './api';
import type { Key } from './i18n';

const KNOWN: Record<string, Key> = {
  network: 'errNetwork',
  unauthorized: 'errSignInAgain',
  unauthenticated: 'errSignInAgain',
  token_expired: 'errSignInAgain',
  token_revoked: 'errSignInAgain',
  invalid_credentials: 'errCredentials',
  bad_credentials: 'errCredentials',
  csrf: 'errCsrf',
  forbidden: 'errForbidden',
  wrong_project: 'errForbidden',
  busy: 'errBusy',
  storage_error: 'errStorage',
};

/** The message key for a failure, or null when the server's own detail says it best. */
export function errorKey(e: unknown): Key | null {
  if (e instanceof ApiError) return KNOWN[e.code] ?? null;
  return null;
}

/** The server's detail of a failure (or the exception's message). */
export function errorDetail(e: unknown): string {
  if (e instanceof ApiError) return e.detail || e.code;
  if (e instanceof Error) return e.message;
  return String(e);
}
