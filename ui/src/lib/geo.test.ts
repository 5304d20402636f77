import { describe, expect, it } from 'vitest';
import { decimal, formatPoints, listProblem, parsePoints, pointProblem } from './geo';

const pt = (lat: string, lon: string, alt = '', acc = '') => ({ lat, lon, alt, acc });

describe('geotrace and geoshape values', () => {
  it('reads ODK text, dropping a shape’s closing point', () => {
    expect(parsePoints('1 2 3 4;5 6 7 8', false)).toEqual([pt('1', '2', '3', '4'), pt('5', '6', '7', '8')]);
    expect(parsePoints('1 2 0 0; 3 4 0 0; 5 6 0 0; 1 2 0 0', true)).toHaveLength(3);
    // A trace may come back to where it started: that point stays.
    expect(parsePoints('1 2 0 0;3 4 0 0;1 2 0 0', false)).toHaveLength(3);
    expect(parsePoints(null, true)).toEqual([]);
  });

  it('writes canonical text, closing a shape on its first point', () => {
    const points = [pt('1.5', '2'), pt('3', '4', '10', '5'), pt('5', '6')];
    expect(formatPoints(points, false)).toBe('1.5 2 0 0;3 4 10 5;5 6 0 0');
    expect(formatPoints(points, true)).toBe('1.5 2 0 0;3 4 10 5;5 6 0 0;1.5 2 0 0');
    expect(formatPoints([], true)).toBeNull();
    // Round trip: what is written reads back as the same points.
    expect(parsePoints(formatPoints(points, true), true)).toEqual(
      points.map((p) => ({ ...p, alt: p.alt || '0', acc: p.acc || '0' })),
    );
  });

  it('keeps numbers in plain decimal notation', () => {
    expect(decimal('1e3')).toBe('1000');
    expect(decimal('0.0000001')).toBe('0.0000001');
    expect(decimal(' -12.50 ')).toBe('-12.5');
    expect(decimal('')).toBe('0');
  });

  it('checks each point', () => {
    expect(pointProblem(pt('12.3', '-45.6'))).toBeNull();
    expect(pointProblem(pt('', '4'))).toBe('geoNeedLatLon');
    expect(pointProblem(pt('1', 'x'))).toBe('geoNotNumber');
    expect(pointProblem(pt('1', '2', 'high'))).toBe('geoNotNumber');
    expect(pointProblem(pt('91', '2'))).toBe('geoLatRange');
    expect(pointProblem(pt('-90', '180.5'))).toBe('geoLonRange');
    expect(pointProblem(pt('1', '2', '0', '-1'))).toBe('geoAccRange');
  });

  it('checks the list: a line of two points, a shape of three distinct corners', () => {
    expect(listProblem([pt('1', '2')], false)).toBe('geoTooFewTrace');
    expect(listProblem([pt('1', '2'), pt('1', '2')], false)).toBeNull();
    expect(listProblem([pt('1', '2'), pt('3', '4')], true)).toBe('geoTooFewShape');
    expect(listProblem([pt('1', '2'), pt('3', '4'), pt('1.0', '2')], true)).toBe('geoShapeDistinct');
    expect(listProblem([pt('1', '2'), pt('3', '4'), pt('5', '6')], true)).toBeNull();
  });
});
