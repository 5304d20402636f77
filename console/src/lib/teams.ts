// What the Teams page and the People page show of teams: pure, so it is unit-tested.
import type { Device, Team, TeamRef } from './types';

/** The project's devices not in `team`, to offer for adding (revoked ones left out). */
export function devicesOutside(team: Team, devices: Device[]): Device[] {
  const inside = new Set(team.devices);
  return devices.filter((d) => !inside.has(d.id) && !d.revoked_at);
}

/** A device as a person recognises it: its label (or id) and its enumerator. */
export function deviceName(id: string, devices: Device[]): string {
  const d = devices.find((x) => x.id === id);
  if (!d) return id;
  return `${d.label || d.id} (${d.enumerator})`;
}

/** A membership's limit as words: `null` when not limited, else the teams' names in
 * order ("" when every team it had was deleted). */
export function limitText(teams: TeamRef[] | null | undefined): string | null {
  if (teams == null) return null;
  return teams
    .map((t) => t.name)
    .sort((a, b) => a.localeCompare(b))
    .join(', ');
}

/** The team ids chosen in a form, as the API takes them: `null` lifts the limit. */
export function limitBody(limited: boolean, chosen: Iterable<number>): { teams: number[] | null } {
  if (!limited) return { teams: null };
  return { teams: [...new Set(chosen)].sort((a, b) => a - b) };
}
