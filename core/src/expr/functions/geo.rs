//! The geography functions (`area`, `distance`, `geofence`) over geopoint,
//! geotrace and geoshape answers; the geometry itself is in `expr/geo.rs`.

use crate::expr::geo::{self as geometry, Point};
use crate::expr::value::Value;
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, num, Args};

/// `area` or `distance` of the points given, in metres to the centimetre.
pub(super) fn measure(
    a: &mut Args<'_, '_, '_>,
    metres_of: impl FnOnce(&[Point]) -> f64,
) -> Result<Value, ExprError> {
    // Unanswered or malformed shapes give NaN (a blank result), as in Enketo.
    let mut points = Vec::new();
    let mut valid = true;
    for i in 0..a.len() {
        let mut values = Vec::new();
        a.strings_of(i, &mut values)?;
        for v in values {
            for p in v.split(';').filter(|p| !p.trim().is_empty()) {
                match geometry::parse_point(p) {
                    Some(pt) => points.push(pt),
                    None => valid = false,
                }
            }
        }
    }
    if !valid || points.is_empty() {
        return Ok(num(f64::NAN));
    }
    // Centimetres are the precision both reference engines report.
    Ok(num((metres_of(&points) * 100.0).round() / 100.0))
}

/// `geofence(point, shape)`: whether the point lies inside the polygon.
pub(super) fn geofence(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let point = a.string(0)?;
    let shape = a.string(1)?;
    let p = geometry::parse_point(&point).ok_or_else(|| {
        err(
            ErrorKind::Value,
            a.expr(0).span,
            format!("`{point}` is not a geopoint"),
        )
    })?;
    let polygon: Option<Vec<_>> = shape
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(geometry::parse_point)
        .collect();
    match polygon {
        Some(poly) if poly.len() >= 3 => Ok(Value::Boolean(geometry::inside(p, &poly))),
        _ => Err(err(
            ErrorKind::Value,
            a.expr(1).span,
            "`geofence` needs a geoshape of at least 3 points as its second argument",
        )),
    }
}
