import { describe, expect, it } from 'vitest';
import { activeFilterCount, apiQuery, exportFilterQuery, filtersQuery, NO_FILTERS, parseFilters, toggleSort } from './filters';

describe('filters in the address', () => {
  it('round-trips every filter', () => {
    const f = {
      ...NO_FILTERS,
      form: 'household_survey',
      version: '2026112601',
      status: 'finalized',
      review: 'has_issues',
      flag: 'conflict',
      enumerator: 'Achieng',
      device: 'dev_1',
      from: '2026-11-01',
      to: '2026-11-30',
      q: 'Kijiji 4',
      sort: 'enumerator',
      order: 'asc' as const,
      pii: true,
    };
    expect(parseFilters(filtersQuery(f))).toEqual(f);
  });

  it('writes nothing for no filters and only what differs otherwise', () => {
    expect(filtersQuery(NO_FILTERS)).toBe('');
    expect(filtersQuery({ ...NO_FILTERS, q: '  water  ' })).toBe('q=water');
    expect(filtersQuery({ ...NO_FILTERS, order: 'asc' })).toBe('order=asc');
  });

  it('ignores malformed dates, orders and unknown parameters', () => {
    const f = parseFilters('from=yesterday&to=2026-13&order=sideways&colour=red&sort=');
    expect(f).toEqual(NO_FILTERS);
  });

  it('counts the filters that narrow the table, not the sort', () => {
    expect(activeFilterCount(NO_FILTERS)).toBe(0);
    expect(activeFilterCount({ ...NO_FILTERS, q: 'x', review: 'approved', sort: 'device' })).toBe(2);
  });
});

describe('the API query', () => {
  it('sends filters, sort and page size, and asks for the total only on the first page', () => {
    const f = { ...NO_FILTERS, form: 'hh', q: ' achi ', from: '2026-11-01', to: '2026-11-30', pii: true };
    const first = new URLSearchParams(apiQuery(f, { limit: 200 }));
    expect(Object.fromEntries(first)).toEqual({
      form: 'hh',
      from: '2026-11-01',
      to: '2026-11-30',
      q: 'achi',
      sort: 'received_at',
      order: 'desc',
      pii: 'true',
      limit: '200',
    });
    const next = new URLSearchParams(apiQuery(f, { after: 'c2', limit: 200 }));
    expect(next.get('after')).toBe('c2');
    expect(next.get('total')).toBe('false');
  });

  it('leaves empty filters out', () => {
    expect(apiQuery(NO_FILTERS, { limit: 50 })).toBe('sort=received_at&order=desc&limit=50');
  });
});

describe('sorting by a column', () => {
  it('sorts ascending by a new column and flips the order of the current one', () => {
    const byDevice = toggleSort(NO_FILTERS, 'device');
    expect([byDevice.sort, byDevice.order]).toEqual(['device', 'asc']);
    expect(toggleSort(byDevice, 'device').order).toBe('desc');
    expect(toggleSort(NO_FILTERS, 'received_at').order).toBe('asc');
  });
});

describe('exporting what the table shows', () => {
  it('is the whole form without filters or a changed order', () => {
    expect(exportFilterQuery(NO_FILTERS)).toBe('');
    expect(exportFilterQuery({ ...NO_FILTERS, form: 'hh', pii: true })).toBe('');
  });

  it('sends the filters and the table order, never the form or pii', () => {
    const f = { ...NO_FILTERS, form: 'hh', review: 'approved', q: ' achi ', from: '2026-11-01', pii: true };
    expect(Object.fromEntries(new URLSearchParams(exportFilterQuery(f)))).toEqual({
      review: 'approved',
      from: '2026-11-01',
      q: 'achi',
      sort: 'received_at',
      order: 'desc',
    });
    expect(exportFilterQuery({ ...NO_FILTERS, sort: 'enumerator', order: 'asc' })).toBe('sort=enumerator&order=asc');
  });
});
