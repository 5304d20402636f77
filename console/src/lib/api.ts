// The server's /api/v1, as the console uses it: cookie session, the CSRF header on every
// unsafe request, and Problem Details turned into errors the pages can branch on.

export const API = '/api/v1';

/** An error answer of the server (RFC 9457 Problem Details with a machine-readable code). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: unknown = undefined,
  ) {
    super(detail || code);
  }
}

let csrf: string | null = null;
let onUnauthenticated: (() => void) | null = null;

/** The session's CSRF value, sent as `X-CSRF-Token` with every unsafe request. */
export function setCsrf(value: string | null): void {
  csrf = value;
}

/** Called when the server says the session is gone (expired, revoked, signed out elsewhere). */
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Headers of a request with `method`: JSON accepted, the CSRF token on unsafe methods. */
export function requestHeaders(method: string, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json', ...extra };
  if (!SAFE.has(method.toUpperCase()) && csrf) headers['X-CSRF-Token'] = csrf;
  return headers;
}

/** The Problem Details of a failed answer as an ApiError (or a plain one when the body is not JSON). */
export async function problemOf(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const p = (body ?? {}) as { code?: string; detail?: string; title?: string };
  return new ApiError(
    response.status,
    p.code ?? `http_${response.status}`,
    p.detail ?? p.title ?? response.statusText,
    body,
  );
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
}

/** A request to `/api/v1{path}`; throws ApiError on any non-2xx answer. */
export async function raw(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? 'GET';
  const extra: Record<string, string> = {};
  let body = options.body;
  if (options.json !== undefined) {
    extra['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.contentType) {
    extra['Content-Type'] = options.contentType;
  }
  let response: Response;
  try {
    response = await fetch(API + path, {
      method,
      body,
      headers: requestHeaders(method, extra),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
  }
  if (!response.ok) {
    const error = await problemOf(response);
    if (error.status === 401 && path !== '/session' && onUnauthenticated) onUnauthenticated();
    throw error;
  }
  return response;
}

/** A request whose answer is JSON (or nothing, for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await raw(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** `/projects/{p}…` with the project's name escaped. */
export function projectPath(project: string, rest = ''): string {
  return `/projects/${encodeURIComponent(project)}${rest}`;
}
