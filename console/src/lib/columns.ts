// The responses table's columns: the response's own facts first, then the form's fields
// (labels in the console's language), with repeats shown as their number of entries.
import { displayAnswer, isSealed } from './answers';
import { reveal } from './keyring.svelte';
import { pickText } from './languages';
import type { FieldDef, TableRow } from './types';

/** A cell holding a sealed answer the page cannot open. */
export const SEALED = Symbol('sealed');

export interface Column {
  key: string;
  /** Header text (already translated). */
  label: string;
  /** The API's sort key, when the server can sort by this column. */
  sort?: string;
  /** Width in pixels (fixed, so columns do not jump while rows stream in). */
  width: number;
  /** The cell's text; null when the value is masked pii, SEALED when it is sealed and no
   * open identity opens it. */
  text: (row: TableRow) => string | null | typeof SEALED;
  /** A field marked pii (shown masked unless pii is asked for). */
  pii?: boolean;
}

/** The form-field columns of the table: every field outside repeats, and one column per
 * top-level repeat with its number of entries. */
export function fieldColumns(fields: FieldDef[], lang: string, entriesLabel: (label: string) => string): Column[] {
  const columns: Column[] = [];
  const repeats = new Set<string>();
  for (const f of fields) {
    if (f.repeat) {
      const top = '/' + f.repeat.split('/')[1];
      if (!repeats.has(top)) {
        repeats.add(top);
        const name = top.slice(1);
        columns.push({
          key: `${top}[]`,
          label: entriesLabel(name),
          width: 110,
          text: (row) => {
            const v = row.answers[`${top}[]`];
            return typeof v === 'string' ? v : v ? null : '0';
          },
        });
      }
      continue;
    }
    const label = pickText(f.label, lang) || f.name;
    columns.push({
      key: f.path,
      label,
      width: widthFor(f.type, label),
      pii: f.pii,
      text: (row) => {
        // Opened in the page when the coordinator's identity is open (lib/keyring.svelte.ts).
        const value = reveal(row.answers[f.path]);
        return isSealed(value) ? SEALED : displayAnswer(f, value, lang);
      },
    });
  }
  return columns;
}

function widthFor(type: string, label: string): number {
  const base = type === 'text' || type === 'select_multiple' || type === 'geopoint' ? 200 : type.startsWith('date') || type === 'start' || type === 'end' ? 170 : 130;
  return Math.max(base, Math.min(260, label.length * 8 + 24));
}
