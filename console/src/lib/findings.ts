// The checker's findings on a form being published, placed where the designer will look:
// a workbook's sheet and cell, or a JSON form's line and column (with its JSON pointer).
import type { Finding } from './types';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The Content-Type to publish a file with, from its name (null: not a form file). */
export function uploadKind(fileName: string): string | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.json')) return 'application/json';
  if (lower.endsWith('.xlsx')) return XLSX_TYPE;
  return null;
}

/** Where a finding is: `survey!C12`, `survey row 12`, `12:5`, or the JSON pointer. */
export function findingPlace(f: Finding): string {
  if (f.cell) return f.cell.includes('!') || !f.sheet ? f.cell : `${f.sheet}!${f.cell}`;
  if (f.sheet && f.row) return `${f.sheet}:${f.row}`;
  if (f.sheet) return f.sheet;
  if (f.line) return f.column ? `${f.line}:${f.column}` : String(f.line);
  return f.pointer ?? '';
}

/** Errors before warnings, then in reading order (sheet, row/line, column). */
export function sortFindings(list: Finding[]): Finding[] {
  const rank = (f: Finding) => (f.severity === 'error' ? 0 : 1);
  return [...list].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.sheet ?? '').localeCompare(b.sheet ?? '') ||
      (a.row ?? a.line ?? 0) - (b.row ?? b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}
