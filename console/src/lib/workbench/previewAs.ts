// What the workbench's preview runs as beside the form: the enumerator profile the
// designer previews as (read by `enumerator()` and the sections' `match` rules, in the
// core, as on a device given that profile) and the project's published referral
// directory (listed by referral steps through the core's own matching, as in the app).
import type { ProfileForm } from '../profile';

/** The profile as the designer sets it in the "Preview as" panel: the same inputs as a
 *  device's profile on the Devices page (`ProfileFields`). */
export type PreviewProfile = ProfileForm;

export const NO_PROFILE: PreviewProfile = { sex: '', languages: '', area: '' };

/** The profile's JSON for the core (`Preview.set_enumerator`), or null when nothing is
 *  set: the preview then has no profile, as a device not yet given one. */
export function profileJson(p: PreviewProfile): string | null {
  const languages = p.languages.split(/[\s,]+/).filter(Boolean);
  const area = p.area.trim();
  if (!p.sex && languages.length === 0 && !area) return null;
  return JSON.stringify({
    ...(p.sex ? { sex: p.sex } : {}),
    ...(languages.length ? { languages } : {}),
    ...(area ? { area } : {}),
  });
}

/** The project's directory as `GET …/referrals` answers it: kept as text for the core
 *  (`Preview.set_directory`, which reads past the version), with what the panel says. */
export interface LoadedDirectory {
  text: string;
  version: number;
  services: number;
}

export function loadedDirectory(body: unknown): LoadedDirectory | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { services?: unknown; version?: unknown };
  if (!Array.isArray(b.services)) return null;
  return { text: JSON.stringify(body), version: typeof b.version === 'number' ? b.version : 0, services: b.services.length };
}
