import { describe, expect, it } from 'vitest';
import { findingPlace, findingsFromDetail, sortFindings, uploadKind, XLSX_TYPE } from './findings';

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

describe('findings sent as text', () => {
  it('reads one checker diagnostic a line, with or without a position', () => {
    const detail = [
      'the form is not valid:',
      '9:21: /body/0/relevant: error[unknown_reference]: `${nowhere}` names no field',
      '/choices: warning[unused_list]: list `x` is not used',
      'something else',
    ].join('\n');
    expect(findingsFromDetail(detail)).toEqual([
      { severity: 'error', message: '`${nowhere}` names no field [unknown_reference]', pointer: '/body/0/relevant', line: 9, column: 21 },
      { severity: 'warning', message: 'list `x` is not used [unused_list]', pointer: '/choices' },
      { severity: 'error', message: 'something else' },
    ]);
  });

  it('reads a workbook finding with its sheet and cell', () => {
    const detail = 'the workbook does not convert:\nform.xlsx:survey!D4: error: ${missing} refers to no question [unknown-reference]\nchoices!B2: warning: duplicate choice';
    expect(findingsFromDetail(detail)).toEqual([
      { severity: 'error', message: '${missing} refers to no question [unknown-reference]', sheet: 'survey', cell: 'D4' },
      { severity: 'warning', message: 'duplicate choice', sheet: 'choices', cell: 'B2' },
    ]);
    expect(findingPlace(findingsFromDetail(detail)[0])).toBe('survey!D4');
  });

  it('finds none in a one-line refusal', () => {
    expect(findingsFromDetail('version 1 of hh is already published with other content')).toEqual([]);
  });
});
