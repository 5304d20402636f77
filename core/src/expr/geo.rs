//! Geographic helpers for `area`, `distance` and `geofence` (ODK's formulas).

/// Earth radius in metres, as JavaRosa and Enketo use.
const EARTH_RADIUS: f64 = 6_378_100.0;

/// A point in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// `lat lon [alt [accuracy]]`; latitude and longitude must be in range.
pub fn parse_point(s: &str) -> Option<Point> {
    let mut parts = s.split_whitespace();
    let lat: f64 = parts.next()?.parse().ok()?;
    let lon: f64 = parts.next()?.parse().ok()?;
    for extra in parts.by_ref().take(2) {
        extra.parse::<f64>().ok()?;
    }
    if parts.next().is_some() || !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon)
    {
        return None;
    }
    Some(Point { lat, lon })
}

/// Length in metres of the line through `points` (great-circle, haversine).
pub fn distance(points: &[Point]) -> f64 {
    points
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
            let dlat = lat2 - lat1;
            let dlon = (b.lon - a.lon).to_radians();
            // `libm`, not the platform's math: the same metres on every target.
            let h = libm::sin(dlat / 2.0).powi(2)
                + libm::cos(lat1) * libm::cos(lat2) * libm::sin(dlon / 2.0).powi(2);
            2.0 * EARTH_RADIUS * libm::atan2(h.sqrt(), (1.0 - h).sqrt())
        })
        .sum()
}

/// Area in square metres of the polygon through `points` on a spherical Earth
/// (Chamberlain & Duquette, the method ODK uses).
pub fn area(points: &[Point]) -> f64 {
    if points.len() < 3 {
        return 0.0;
    }
    let n = points.len();
    let mut total = 0.0;
    for i in 0..n {
        let p1 = points[i];
        let p2 = points[(i + 1) % n];
        total += (p2.lon - p1.lon).to_radians()
            * (2.0 + libm::sin(p1.lat.to_radians()) + libm::sin(p2.lat.to_radians()));
    }
    (total * EARTH_RADIUS * EARTH_RADIUS / 2.0).abs()
}

/// Whether `p` lies inside the polygon (ray casting on latitude/longitude).
pub fn inside(p: Point, polygon: &[Point]) -> bool {
    let mut inside = false;
    let n = polygon.len();
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[j]);
        if (a.lon > p.lon) != (b.lon > p.lon)
            && p.lat < (b.lat - a.lat) * (p.lon - a.lon) / (b.lon - a.lon) + a.lat
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}
