// Answers as a coordinator reads them: choice labels instead of choice names, masked pii
// said so, geopoints and dates made readable.
import { pickText } from './languages';
import type { AnswerValue, ChoiceDef, FieldDef } from './types';

export function isMasked(v: unknown): v is { masked: true } {
  return typeof v === 'object' && v !== null && (v as { masked?: unknown }).masked === true;
}

/** A sealed answer (encrypted on the device; the server cannot read it). */
export function isSealed(v: unknown): v is { sealed: string | true } {
  return typeof v === 'object' && v !== null && 'sealed' in v;
}

function choiceLabel(choices: ChoiceDef[] | null, name: string, lang: string): string {
  const c = choices?.find((c) => c.name === name);
  return c ? pickText(c.label, lang) || name : name;
}

/** The text to show for `value` of `field` (null: masked; '' : not answered). */
export function displayAnswer(field: Pick<FieldDef, 'type' | 'choices'> | undefined, value: AnswerValue | undefined, lang: string): string | null {
  if (isMasked(value) || isSealed(value)) return null;
  if (value === null || value === undefined || value === '') return '';
  if (!field) return value;
  switch (field.type) {
    case 'select_one':
      return choiceLabel(field.choices, value, lang);
    case 'select_multiple':
      return value
        .split(' ')
        .filter((s) => s !== '')
        .map((name) => choiceLabel(field.choices, name, lang))
        .join(', ');
    case 'geopoint': {
      const [lat, lon] = value.split(/\s+/).map(Number);
      if (Number.isFinite(lat) && Number.isFinite(lon)) return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
      return value;
    }
    default:
      return value;
  }
}

/** The path in a response's answers of field `path` in repeat instance `n` (1-based),
 * e.g. `/member/member_age` in instance 2 of `/member` → `/member[2]/member_age`. */
export function instancePath(fieldPath: string, repeat: string, n: number): string {
  return `${repeat}[${n}]${fieldPath.slice(repeat.length)}`;
}

/** The field path an answer path belongs to: `/member[2]/member_age` → `/member/member_age`. */
export function fieldPathOf(answerPath: string): string {
  return answerPath.replace(/\[\d*\]/g, '');
}

/** Media fields whose answer names an attachment file. */
export const MEDIA_TYPES = new Set(['image', 'audio', 'video', 'file', 'signature', 'photo']);

/**
 * The address of the file a file question's answer names, read by the response (its API
 * path, `base`) and the file's name: the server serves it under the answer's rules.
 */
export function responseFileHref(base: string, name: string, pii: boolean, download: boolean): string {
  const query = new URLSearchParams();
  if (pii) query.set('pii', 'true');
  if (download) query.set('download', 'true');
  const rest = query.toString();
  return `/api/v1${base}/files/${encodeURIComponent(name)}${rest ? `?${rest}` : ''}`;
}

/** Whether an answer of a media field is a picture the browser can preview. */
export function isPicture(field: Pick<FieldDef, 'type'>, fileName: string): boolean {
  if (field.type === 'image' || field.type === 'signature' || field.type === 'photo') return true;
  return /\.(png|jpe?g|gif|webp)$/i.test(fileName);
}

/** What a referral step's answer records: the services accepted, or why none was. */
export type ReferralOutcome = { outcome: 'accepted'; services: string[] } | { outcome: 'declined' | 'no_service' };

/** A referral step's answer (`accepted hotline north_clinic`, `declined`, `no_service`), or
 * null for any other text (shown as it is). */
export function parseReferral(value: string): ReferralOutcome | null {
  const [first, ...rest] = value.trim().split(/\s+/);
  if (first === 'accepted' && rest.length > 0) return { outcome: 'accepted', services: rest };
  if ((first === 'declined' || first === 'no_service') && rest.length === 0) return { outcome: first };
  return null;
}

/** What the device recorded at a section with a matching rule (`voices_core::matching`). */
export interface MatchingRecord {
  /** `hand_over_refused`: the last colleague offered the section did not meet the rule. */
  outcome: 'matched' | 'handed_over' | 'hand_over_refused' | 'skipped';
  at: string;
  /** For a hand-over: who took the section over, their sex, and (when the rule reads
   *  them) the languages and area they stated. */
  by?: string;
  sex?: string;
  languages?: string[];
  area?: string;
  /** The hand-overs refused before, oldest first. */
  refused?: { by: string; sex?: string; languages?: string[]; area?: string; at: string }[];
}

/** The group a matching record names, without its repeat instances (`/member[2]/violence` →
 * `/member/violence`), and the instance numbers (`[2]`). */
export function sectionOf(path: string): { group: string; instances: number[] } {
  const instances = [...path.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  return { group: path.replace(/\[\d*\]/g, ''), instances };
}
