// Sealed answers opened in this page stay in this page: a comment goes to the server and
// back to the device in clear, so one that quotes an opened sealed answer is refused here
// (the server cannot tell: it never sees the clear text).
import { isSealed } from './answers';
import type { AnswerValue } from './types';

/** Shorter opened texts (a "yes", a digit) are not taken as quoted: too many false alarms. */
export const MIN_QUOTED = 3;

/** The opened sealed answers among `values`: their clear texts, as `open` gives them. */
export function openedTexts(values: Iterable<AnswerValue | undefined>, open: (v: AnswerValue | undefined) => AnswerValue | undefined): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!isSealed(v)) continue;
    const shown = open(v);
    if (typeof shown === 'string' && shown.trim().length >= MIN_QUOTED) out.add(shown.trim());
  }
  return [...out];
}

/** Whether `text` quotes one of `opened` (letter case and spacing aside). */
export function quotesSealed(text: string, opened: readonly string[]): boolean {
  const norm = (s: string) => s.toLocaleLowerCase().replace(/\s+/g, ' ');
  const haystack = norm(text);
  return opened.some((clear) => haystack.includes(norm(clear)));
}
