// Return visits: the time the enumerator picks (a `datetime-local` value, the device's
// local time) sent with its offset, as the app records it (RFC 3339).

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2026-12-09T15:00` on this device as `2026-12-09T15:00:00+02:00`; null when not a time. */
export function localToRfc3339(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const date = new Date(y, mo - 1, d, h, mi);
  // A time the calendar does not have (the 31st of a short month) rolls over: refuse it.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d || date.getHours() !== h) return null;
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** An RFC 3339 time as the device's local `YYYY-MM-DD HH:MM`, for lists and reminders. */
export function localTime(rfc3339: string): string {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}
