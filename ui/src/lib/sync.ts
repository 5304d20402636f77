// Small helpers for the sync screens: byte sizes and times as people read them.
import type { SyncPhase } from './bindings';
import { tr, type Key } from './i18n';

export function bytes(n: number | bigint): string {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KB`;
  return `${(v / (1024 * 1024)).toFixed(1)} MB`;
}

/** Local date and time of an RFC 3339 stamp, minutes precision. */
export function localTime(iso: string, lang: string, seconds = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === 'ar' ? 'ar-u-nu-latn' : lang, {
    dateStyle: 'medium',
    timeStyle: seconds ? 'medium' : 'short',
  });
}

/** Whole seconds from `now` until `iso` (0 when past). */
export function secondsUntil(iso: string, now: number): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, Math.ceil((t - now) / 1000));
}

export function phaseLabel(lang: string, phase: SyncPhase): string {
  return tr(lang, `phase_${phase}` as Key);
}
