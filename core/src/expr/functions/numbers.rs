//! The number functions: conversions, `sum`/`max`/`min`, rounding as JavaRosa
//! rounds, and the math library.

use crate::expr::value::{string_to_number, Value};
use crate::expr::ExprError;

use super::args::{num, Args};

/// A function of one number (`floor`, `sqrt`, `sin`…).
pub(super) fn unary(
    a: &mut Args<'_, '_, '_>,
    f: impl FnOnce(f64) -> f64,
) -> Result<Value, ExprError> {
    Ok(num(f(a.number(0)?)))
}

/// A function of two numbers (`pow`, `atan2`).
pub(super) fn binary(
    a: &mut Args<'_, '_, '_>,
    f: impl FnOnce(f64, f64) -> f64,
) -> Result<Value, ExprError> {
    let x = a.number(0)?;
    Ok(num(f(x, a.number(1)?)))
}

pub(super) fn sum(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let nodes = a.nodes(0, "a node-set")?;
    Ok(num(nodes
        .iter()
        .map(|&n| string_to_number(&a.ev.ctx.value(n)))
        .sum()))
}

/// `max` (from -∞ with `f64::max`) or `min` (from +∞ with `f64::min`) over
/// every value of every argument; NaN if any value is not a number or there is none.
pub(super) fn extreme(
    a: &mut Args<'_, '_, '_>,
    start: f64,
    pick: impl Fn(f64, f64) -> f64,
) -> Result<Value, ExprError> {
    let mut values = Vec::new();
    for i in 0..a.len() {
        a.strings_of(i, &mut values)?;
    }
    if values.is_empty() {
        return Ok(num(f64::NAN));
    }
    let mut acc = start;
    for v in &values {
        let n = string_to_number(v);
        if n.is_nan() {
            return Ok(num(f64::NAN));
        }
        acc = pick(acc, n);
    }
    Ok(num(acc))
}

pub(super) fn round(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let x = a.number(0)?;
    let digits = if a.len() > 1 {
        a.number(1)?.trunc()
    } else {
        0.0
    };
    Ok(num(round_to(x, digits)))
}

/// XPath `round()`: halves go up, NaN and infinities stay.
pub(super) fn xpath_round(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let r = (x + 0.5).floor();
    if r == 0.0 && x < 0.0 {
        -0.0
    } else {
        r
    }
}

/// `round(x, digits)` as JavaRosa computes it: scale, round half up, unscale.
fn round_to(x: f64, digits: f64) -> f64 {
    if !x.is_finite() || digits.is_nan() {
        return if digits.is_nan() { f64::NAN } else { x };
    }
    if digits == 0.0 {
        return xpath_round(x);
    }
    let digits = digits.clamp(-308.0, 308.0) as i32;
    let factor = 10f64.powi(digits.abs());
    let scaled = if digits > 0 { x * factor } else { x / factor };
    // Decimal representations like 12345.15 are stored just below the half; use
    // the shortest decimal form to decide, as the person writing the form would.
    let rounded = match format!("{scaled}").parse::<f64>() {
        Ok(s) => xpath_round(s),
        Err(_) => xpath_round(scaled),
    };
    let back = if digits > 0 {
        rounded / factor
    } else {
        rounded * factor
    };
    if back == 0.0 && x < 0.0 {
        -0.0
    } else {
        back
    }
}
