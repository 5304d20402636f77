//! Booleans and the choice of a value: `if`, `coalesce`, `once`,
//! `boolean-from-string`, `checklist` and `weighted-checklist`.

use crate::expr::ast::Call;
use crate::expr::eval::{Evaluator, Focus};
use crate::expr::value::{trim_xml, Value};
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, flatten, text, Args};

/// `if` with its arguments already evaluated (`call` normally evaluates only the branch taken).
pub(super) fn if_then_else(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    if a.boolean(0)? {
        a.value(1)
    } else {
        a.value(2)
    }
}

/// `once(e)`: the field's current value if it has one, else `e`, evaluated only then.
#[inline(never)]
pub(super) fn once(ev: &mut Evaluator<'_>, call: &Call, focus: Focus) -> Result<Value, ExprError> {
    let current = ev
        .current
        .map(|n| ev.ctx.value(n).into_owned())
        .unwrap_or_default();
    if current.is_empty() {
        ev.eval(&call.args[0], focus)
    } else {
        Ok(text(current))
    }
}

/// The first argument with a non-empty string value, as that value.
pub(super) fn coalesce(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    for i in 0..a.len() {
        let v = a.value(i)?;
        if !v.to_string_value(a.ev.ctx).is_empty() {
            return Ok(match v {
                Value::Nodes(_) => text(v.to_string_value(a.ev.ctx).into_owned()),
                other => other,
            });
        }
    }
    Ok(text(""))
}

pub(super) fn boolean_from_string(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let s = a.str(0);
    let s = trim_xml(&s);
    Ok(Value::Boolean(s == "true" || s == "1"))
}

pub(super) fn checklist(a: &mut Args<'_, '_, '_>, weighted: bool) -> Result<Value, ExprError> {
    let min = a.number(0)?;
    let max = a.number(1)?;
    let mut total = 0.0;
    if weighted {
        if a.len() % 2 != 0 {
            return Err(err(
                ErrorKind::Arity,
                a.span(),
                "`weighted-checklist` takes min, max, then pairs of value and weight",
            ));
        }
        let mut i = 2;
        while i < a.len() {
            let values = flatten(a, i)?;
            let weights = flatten(a, i + 1)?;
            for (v, w) in values.iter().zip(weights.iter()) {
                if v.to_boolean() {
                    total += w.to_number(a.ev.ctx);
                }
            }
            i += 2;
        }
    } else {
        for i in 2..a.len() {
            for v in flatten(a, i)? {
                if v.to_boolean() {
                    total += 1.0;
                }
            }
        }
    }
    Ok(Value::Boolean(
        (min < 0.0 || total >= min) && (max < 0.0 || total <= max),
    ))
}
