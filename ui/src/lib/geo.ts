// Geotrace and geoshape values: a list of points in ODK's text form,
// `lat lon altitude accuracy;lat lon altitude accuracy;…`. A geoshape is closed: its last
// point repeats the first. The widget edits points as separate numbers and writes the
// canonical text back only when every point is valid.

export type GeoPoint = { lat: string; lon: string; alt: string; acc: string };
export type PointProblem = 'geoNeedLatLon' | 'geoNotNumber' | 'geoLatRange' | 'geoLonRange' | 'geoAccRange';
export type ListProblem = 'geoTooFewTrace' | 'geoTooFewShape' | 'geoShapeDistinct';

export const emptyPoint = (): GeoPoint => ({ lat: '', lon: '', alt: '', acc: '' });

/** Points of a stored value; a geoshape's closing point is dropped (the widget adds it back). */
export function parsePoints(value: string | null | undefined, shape: boolean): GeoPoint[] {
  const points = (value ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const [lat = '', lon = '', alt = '', acc = ''] = p.split(/\s+/);
      return { lat, lon, alt, acc };
    });
  if (shape && points.length > 1 && samePlace(points[0], points[points.length - 1])) points.pop();
  return points;
}

function num(s: string): number | null {
  if (!s.trim()) return null;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : NaN;
}

/** What is wrong with one point, or null. Altitude and accuracy may be left empty. */
export function pointProblem(p: GeoPoint): PointProblem | null {
  const [lat, lon, alt, acc] = [num(p.lat), num(p.lon), num(p.alt), num(p.acc)];
  if (lat === null || lon === null) return 'geoNeedLatLon';
  if ([lat, lon, alt, acc].some((n) => Number.isNaN(n))) return 'geoNotNumber';
  if (lat < -90 || lat > 90) return 'geoLatRange';
  if (lon < -180 || lon > 180) return 'geoLonRange';
  if (acc !== null && acc < 0) return 'geoAccRange';
  return null;
}

/** A number in plain decimal notation (ODK's canonical form never uses exponents). */
export function decimal(s: string): string {
  const n = num(s);
  if (n === null || Number.isNaN(n)) return '0';
  const plain = String(n);
  if (!/e/i.test(plain)) return plain;
  return n.toFixed(12).replace(/\.?0+$/, '');
}

function samePlace(a: GeoPoint, b: GeoPoint): boolean {
  return decimal(a.lat) === decimal(b.lat) && decimal(a.lon) === decimal(b.lon);
}

/** Problems of the list as a whole: too few points, or a shape without three distinct corners. */
export function listProblem(points: GeoPoint[], shape: boolean): ListProblem | null {
  if (!shape) return points.length < 2 ? 'geoTooFewTrace' : null;
  if (points.length < 3) return 'geoTooFewShape';
  const distinct = new Set(points.map((p) => `${decimal(p.lat)} ${decimal(p.lon)}`));
  return distinct.size < 3 ? 'geoShapeDistinct' : null;
}

/** The canonical text of valid points (a shape closed on its first point); null when empty. */
export function formatPoints(points: GeoPoint[], shape: boolean): string | null {
  if (!points.length) return null;
  const text = points.map((p) => [p.lat, p.lon, p.alt, p.acc].map(decimal).join(' '));
  if (shape && points.length >= 3) text.push(text[0]);
  return text.join(';');
}
