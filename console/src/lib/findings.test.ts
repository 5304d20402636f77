import { describe, expect, it } from 'vitest';
import { findingPlace, sortFindings, uploadKind, XLSX_TYPE } from './findings';

describe('publishing findings', () => {
  it('places a finding in a workbook cell, a row, or a JSON line', () => {
    expect(findingPlace({ severity: 'error', message: '', sheet: 'survey', cell: 'C12' })).toBe('survey!C12');
    expect(findingPlace({ severity: 'error', message: '', sheet: 'survey', cell: 'survey!C12' })).toBe('survey!C12');
    expect(findingPlace({ severity: 'error', message: '', sheet: 'choices', row: 4 })).toBe('choices:4');
    expect(findingPlace({ severity: 'error', message: '', line: 12, column: 5, pointer: '/body/3' })).toBe('12:5');
    expect(findingPlace({ severity: 'warning', message: '', pointer: '/body/3' })).toBe('/body/3');
  });

  it('lists errors first, then in reading order', () => {
    const sorted = sortFindings([
      { severity: 'warning', message: 'w', line: 1 },
      { severity: 'error', message: 'b', line: 9 },
      { severity: 'error', message: 'a', line: 2, column: 3 },
    ]);
    expect(sorted.map((f) => f.message)).toEqual(['a', 'b', 'w']);
  });

  it('knows what to send a file as', () => {
    expect(uploadKind('form.JSON')).toBe('application/json');
    expect(uploadKind('Household.xlsx')).toBe(XLSX_TYPE);
    expect(uploadKind('form.xls')).toBeNull();
  });
});
