//! The functions over a select's answer (a space-separated list of choice
//! names) and its choices: `selected`, `selected-at`, `count-selected`, `choice-name`.

use crate::expr::value::{trim_xml, Value};
use crate::expr::ExprError;

use super::args::{num, text, Args};

pub(super) fn selected(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let (list, wanted) = (a.str(0), a.str(1));
    let wanted = trim_xml(&wanted);
    Ok(Value::Boolean(
        list.split_whitespace().any(|item| item == wanted),
    ))
}

pub(super) fn selected_at(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let list = a.string(0)?;
    let i = a.number(1)?;
    let item = if i >= 0.0 && i.is_finite() {
        list.split_whitespace().nth(i as usize)
    } else {
        None
    };
    Ok(text(item.unwrap_or("")))
}

pub(super) fn count_selected(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(num(a.str(0).split_whitespace().count() as f64))
}

/// `choice-name(value, field)`: the label of choice `value` in `field`'s list
/// (`field` given as a name or `${name}`), in the active language.
pub(super) fn choice_name(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let value = a.string(0)?;
    let field = a.string(1)?;
    let field = trim_xml(&field);
    let field = field
        .strip_prefix("${")
        .and_then(|f| f.strip_suffix('}'))
        .map(str::trim)
        .unwrap_or(field);
    Ok(text(
        a.ev.ctx
            .choice_label(field, trim_xml(&value))
            .unwrap_or_default(),
    ))
}
