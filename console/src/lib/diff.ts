// What an edit changed in one answer, for the revision history: the changed part of a text
// marked inside what stayed, and for multiple choice the choices added and removed.

export interface Segment {
  text: string;
  kind: 'same' | 'removed' | 'added';
}

/** `before` → `after` as the common start, what was removed, what was added, the common end. */
export function textDiff(before: string, after: string): Segment[] {
  const a = [...before];
  const b = [...after];
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  // Cut at word edges, so "34" → "43" reads as a changed number, not a changed digit.
  while (start > 0 && /\w/.test(a[start - 1]) && (/\w/.test(a[start] ?? '') || /\w/.test(b[start] ?? ''))) start--;
  while (end > 0 && /\w/.test(a[a.length - end]) && (/\w/.test(a[a.length - 1 - end] ?? '') || /\w/.test(b[b.length - 1 - end] ?? ''))) end--;
  const segments: Segment[] = [
    { text: a.slice(0, start).join(''), kind: 'same' },
    { text: a.slice(start, a.length - end).join(''), kind: 'removed' },
    { text: b.slice(start, b.length - end).join(''), kind: 'added' },
    { text: a.slice(a.length - end).join(''), kind: 'same' },
  ];
  return segments.filter((s) => s.text !== '');
}

/** Choices of a multiple-choice answer (space-separated names) added and removed. */
export function choiceDiff(before: string, after: string): { added: string[]; removed: string[]; kept: string[] } {
  const a = before.split(' ').filter(Boolean);
  const b = after.split(' ').filter(Boolean);
  return {
    added: b.filter((c) => !a.includes(c)),
    removed: a.filter((c) => !b.includes(c)),
    kept: a.filter((c) => b.includes(c)),
  };
}

export type ChangeKind = 'set' | 'cleared' | 'changed' | 'masked' | 'sealed';

/** How an answer changed: newly set, cleared, changed, or hidden (pii not shown). */
export function changeKind(before: unknown, after: unknown): ChangeKind {
  const masked = (v: unknown) => typeof v === 'object' && v !== null && (v as { masked?: unknown }).masked === true;
  if (masked(before) || masked(after)) return 'masked';
  const sealed = (v: unknown) => typeof v === 'object' && v !== null && 'sealed' in v;
  if (sealed(before) || sealed(after)) return 'sealed';
  const empty = (v: unknown) => v === null || v === undefined || v === '';
  if (empty(before)) return 'set';
  if (empty(after)) return 'cleared';
  return 'changed';
}
