import { describe, expect, it } from 'vitest';
import { parseRoute, routeHref, type Route } from './route';

describe('routes', () => {
  const routes: Route[] = [
    { page: 'projects' },
    { page: 'people' },
    { page: 'audit', query: '' },
    { page: 'audit', query: 'actor=cora&action=export&since=2026-12-01' },
    { page: 'overview', project: 'kisumu' },
    { page: 'forms', project: 'kisumu' },
    { page: 'responses', project: 'kisumu', query: 'form=hh&q=water' },
    { page: 'responses', project: 'kisumu', query: '' },
    { page: 'response', project: 'kisumu', id: '3f0c-11' },
    { page: 'dashboard', project: 'kisumu', form: 'household_survey' },
    { page: 'map', project: 'kisumu', form: 'household_survey' },
    { page: 'exports', project: 'kisumu', query: '' },
    { page: 'exports', project: 'kisumu', query: 'form=hh&review=approved' },
    { page: 'devices', project: 'kisumu' },
    { page: 'teams', project: 'kisumu' },
    { page: 'overview', project: 'a project/with ünïcode' },
  ];
  for (const r of routes) {
    it(`round-trips ${JSON.stringify(r)}`, () => {
      const href = routeHref(r);
      const url = new URL(href, 'http://console.test');
      expect(parseRoute(url.pathname, url.search)).toEqual(r);
    });
  }

  it('tolerates a trailing slash and reports unknown paths', () => {
    expect(parseRoute('/p/kisumu/')).toEqual({ page: 'overview', project: 'kisumu' });
    expect(parseRoute('/nothing/here')).toEqual({ page: 'notFound', path: '/nothing/here' });
    expect(parseRoute('/p/kisumu/forms/hh/pie')).toEqual({ page: 'notFound', path: '/p/kisumu/forms/hh/pie' });
    expect(parseRoute('/p/%E0%A4%A')).toEqual({ page: 'notFound', path: '/p/%E0%A4%A' });
  });
});
