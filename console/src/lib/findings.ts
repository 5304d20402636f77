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

const DIAGNOSTIC = /^(?:(\d+):(\d+): )?(\S+): (error|warning)\[([\w.-]+)\]: (.*)$/;
/** An XLSForm finding as the importer writes it: `survey!D4: error: … [unknown-reference]`. */
const CELL = /^(?:\S*:)?([^\s:!]+)!([A-Z]+\d+): (error|warning): (.*?)(?: \[([\w.-]+)\])?$/;

/** Findings from a refusal that carries them only as text, one checker diagnostic a line
 * (`12:5: /body/3/relevant: error[unknown_reference]: …`, or a workbook's
 * `survey!D4: error: …`); lines of another shape are kept as findings without a place. */
export function findingsFromDetail(detail: string): Finding[] {
  const lines = detail.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length < 2) return [];
  return lines.slice(1).map((line) => {
    const c = CELL.exec(line);
    if (c) {
      return { severity: c[3] as 'error' | 'warning', message: c[5] ? `${c[4]} [${c[5]}]` : c[4], sheet: c[1], cell: c[2] };
    }
    const m = DIAGNOSTIC.exec(line);
    if (!m) return { severity: 'error', message: line };
    const f: Finding = { severity: m[4] as 'error' | 'warning', message: `${m[6]} [${m[5]}]`, pointer: m[3] };
    if (m[1]) {
      f.line = Number(m[1]);
      f.column = Number(m[2]);
    }
    return f;
  });
}
