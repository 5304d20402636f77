// Numbers, dates and answer values as a coordinator reads them, in the console's language.

/** A whole number with the language's grouping (12,345 / 12 345 / ١٢٬٣٤٥). */
export function formatCount(lang: string, n: number): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }).format(n);
}

/** A count the server reports; suppressed small cells arrive as the text "<5". */
export function formatCell(lang: string, value: number | string): string {
  if (typeof value === 'number') return formatCount(lang, value);
  const small = /^<\s*(\d+)$/.exec(value.trim());
  if (small) return `< ${formatCount(lang, Number(small[1]))}`;
  return value;
}

/** A cell's number for a chart; a suppressed cell charts as 0 and is marked apart. */
export function cellValue(value: number | string): number {
  return typeof value === 'number' ? value : 0;
}

/** Whether a cell is suppressed (fewer than the threshold, not shown so nobody is singled out). */
export function isSuppressed(value: number | string): boolean {
  return typeof value === 'string' && /^<\s*\d+$/.test(value.trim());
}

function parseInstant(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Date and time of an instant in the browser's time zone (the text as it came when unreadable). */
export function formatDateTime(lang: string, iso: string | null | undefined): string {
  if (!iso) return '';
  const d = parseInstant(iso);
  if (!d) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A calendar day `YYYY-MM-DD` (no time zone shift: it is a day, not an instant). */
export function formatDay(lang: string, day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "3 days ago", "in 2 hours": how long ago `iso` was, seen from `now`. */
export function formatAgo(lang: string, iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const d = parseInstant(iso);
  if (!d) return iso;
  const seconds = Math.round((d.getTime() - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return rtf.format(Math.trunc(seconds / size), unit);
    }
  }
  return rtf.format(0, 'second');
}

/** A byte size for people (1.2 MB). */
export function formatBytes(lang: string, bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return new Intl.NumberFormat(lang, {
    style: 'unit',
    unit: units[i],
    unitDisplay: 'short',
    maximumFractionDigits: i === 0 ? 0 : 1,
  }).format(v);
}

/** A fraction 0…1 as a whole percentage. */
export function formatPercent(lang: string, fraction: number): string {
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}
