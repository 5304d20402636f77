// Who is signed in. The session itself is an HttpOnly cookie the page cannot read; the
// server returns the CSRF value the page must echo on unsafe requests.
import { api, setCsrf } from './api';

export interface User {
  name: string;
  display_name?: string | null;
  admin: boolean;
}

export interface Membership {
  project: string;
  role: string;
  /** The teams the person is limited to in the project; `null`: not limited. */
  teams?: { id: number; name: string }[] | null;
}

export interface SessionInfo {
  user: User;
  memberships: Membership[];
  csrf: string;
}

export const session = $state<{ info: SessionInfo | null; checked: boolean }>({
  info: null,
  checked: false,
});

function accept(info: SessionInfo | null): void {
  session.info = info;
  setCsrf(info?.csrf ?? null);
  session.checked = true;
}

/** Ask the server whether this browser already has a session (a reload, a new tab). */
export async function restore(): Promise<void> {
  try {
    accept(await api<SessionInfo>('/session'));
  } catch {
    accept(null);
  }
}

export async function signIn(user: string, password: string): Promise<void> {
  accept(await api<SessionInfo>('/session', { method: 'POST', json: { user, password } }));
}

export async function signOut(): Promise<void> {
  try {
    await api<void>('/session', { method: 'DELETE' });
  } finally {
    accept(null);
  }
}

/** The session ended on the server (expired or revoked): back to the sign-in page. */
export function forget(): void {
  accept(null);
}

/** The teams the signed-in person is limited to in `project`, `null` when they are not
 * (admins never are). */
export function teamsIn(project: string): { id: number; name: string }[] | null {
  const info = session.info;
  if (!info || info.user.admin) return null;
  return info.memberships.find((m) => m.project === project)?.teams ?? null;
}

/** The signed-in person's role in `project` (admins are admins everywhere). */
export function roleIn(project: string): string | null {
  const info = session.info;
  if (!info) return null;
  if (info.user.admin) return 'admin';
  return info.memberships.find((m) => m.project === project)?.role ?? null;
}
