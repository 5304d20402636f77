//! The date and time functions: conversions to dates and date-times (in the
//! device's offset), `format-date`, and the decimal day and time of a value.

use chrono::{NaiveDateTime, NaiveTime};

use crate::expr::datetime;
use crate::expr::value::{format_number, trim_xml, Value};
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, num, text, Args};

pub(super) fn date(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let v = a.value(0)?;
    to_date(a, &v, 0)
}

pub(super) fn date_time(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let v = a.value(0)?;
    to_datetime(a, &v, 0)
}

/// `format-date` and `format-date-time` alike: the format string decides what shows.
pub(super) fn format_date(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let v = a.value(0)?;
    let format = a.string(1)?;
    Ok(match naive_for_format(a, &v) {
        Some(dt) => text(datetime::format_with(&dt, &format)),
        None => text(""),
    })
}

pub(super) fn decimal_date_time(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let v = a.value(0)?;
    Ok(match to_datetime(a, &v, 0)? {
        Value::DateTime(dt) => num(datetime::datetime_to_utc_days(&dt)),
        _ => num(f64::NAN),
    })
}

pub(super) fn decimal_time(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let v = a.value(0)?;
    Ok(num(day_fraction(a, &v)))
}

fn to_date(a: &Args<'_, '_, '_>, v: &Value, arg: usize) -> Result<Value, ExprError> {
    let bad = |what: String| {
        err(
            ErrorKind::Value,
            a.expr(arg).span,
            format!("{what} cannot be converted to a date"),
        )
    };
    Ok(match v {
        Value::Date(d) => Value::Date(*d),
        Value::DateTime(dt) => Value::Date(dt.date_naive()),
        Value::Number(n) => match datetime::days_to_date(*n) {
            Some(d) => Value::Date(d),
            None => return Err(bad(format!("the number {}", format_number(*n)))),
        },
        Value::Boolean(_) => return Err(bad("a boolean".to_owned())),
        Value::String(_) | Value::Nodes(_) => {
            let s = v.to_string_value(a.ev.ctx);
            let s = trim_xml(&s);
            if s.is_empty() {
                return Ok(text(""));
            }
            if let Some(d) = datetime::parse_date(s) {
                Value::Date(d)
            } else if let Some(dt) = datetime::parse_datetime(s, a.local_offset()) {
                Value::Date(dt.date_naive())
            } else {
                return Err(bad(format!("`{s}`")));
            }
        }
    })
}

fn to_datetime(a: &Args<'_, '_, '_>, v: &Value, arg: usize) -> Result<Value, ExprError> {
    let offset = a.local_offset();
    let bad = |what: String| {
        err(
            ErrorKind::Value,
            a.expr(arg).span,
            format!("{what} cannot be converted to a date-time"),
        )
    };
    let midnight = |d: chrono::NaiveDate| {
        use chrono::TimeZone;
        offset
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .single()
    };
    Ok(match v {
        Value::DateTime(dt) => Value::DateTime(*dt),
        Value::Date(d) => match midnight(*d) {
            Some(dt) => Value::DateTime(dt),
            None => return Err(bad(format!("the date {d}"))),
        },
        Value::Number(n) => match datetime::utc_days_to_datetime(*n, offset) {
            Some(dt) => Value::DateTime(dt),
            None => return Err(bad(format!("the number {}", format_number(*n)))),
        },
        Value::Boolean(_) => return Err(bad("a boolean".to_owned())),
        Value::String(_) | Value::Nodes(_) => {
            let s = v.to_string_value(a.ev.ctx);
            let s = trim_xml(&s);
            if s.is_empty() {
                return Ok(text(""));
            }
            if let Some(d) = datetime::parse_date(s) {
                match midnight(d) {
                    Some(dt) => Value::DateTime(dt),
                    None => return Err(bad(format!("`{s}`"))),
                }
            } else if let Some(dt) = datetime::parse_datetime(s, offset) {
                // The same instant, shown in the device's offset.
                Value::DateTime(dt.with_timezone(&offset))
            } else {
                return Err(bad(format!("`{s}`")));
            }
        }
    })
}

/// The local wall-clock time `format-date` shows for a value; `None` when it is not a date.
fn naive_for_format(a: &Args<'_, '_, '_>, v: &Value) -> Option<NaiveDateTime> {
    let offset = a.local_offset();
    match v {
        Value::Date(d) => Some(d.and_time(NaiveTime::MIN)),
        Value::DateTime(dt) => Some(dt.with_timezone(&offset).naive_local()),
        Value::Number(n) => datetime::days_to_date(*n).map(|d| d.and_time(NaiveTime::MIN)),
        Value::Boolean(_) => None,
        Value::String(_) | Value::Nodes(_) => {
            let s = v.to_string_value(a.ev.ctx);
            let s = trim_xml(&s);
            if let Some(d) = datetime::parse_date(s) {
                Some(d.and_time(NaiveTime::MIN))
            } else if let Some(dt) = datetime::parse_datetime(s, offset) {
                Some(dt.with_timezone(&offset).naive_local())
            } else {
                datetime::parse_time(s)
                    .map(|(t, _)| datetime::days_to_date(0.0).unwrap_or_default().and_time(t))
            }
        }
    }
}

/// Fraction of the local day for a time (or date-time) value; NaN when it is not one.
fn day_fraction(a: &Args<'_, '_, '_>, v: &Value) -> f64 {
    use chrono::Timelike;
    let offset = a.local_offset();
    let local_time = match v {
        Value::DateTime(dt) => Some(dt.with_timezone(&offset).time()),
        Value::Date(_) => Some(NaiveTime::MIN),
        Value::Number(n) => return n.rem_euclid(1.0),
        Value::Boolean(_) => None,
        Value::String(_) | Value::Nodes(_) => {
            let s = v.to_string_value(a.ev.ctx);
            let s = trim_xml(&s);
            if let Some(dt) = datetime::parse_datetime(s, offset) {
                Some(dt.with_timezone(&offset).time())
            } else {
                datetime::parse_time(s).map(|(t, zone)| match zone {
                    Some(z) => {
                        let shift = i64::from(offset.local_minus_utc() - z.local_minus_utc());
                        let secs =
                            (i64::from(t.num_seconds_from_midnight()) + shift).rem_euclid(86_400);
                        NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, t.nanosecond())
                            .unwrap_or(t)
                    }
                    None => t,
                })
            }
        }
    };
    match local_time {
        Some(t) => {
            let ms = f64::from(t.num_seconds_from_midnight()) * 1000.0
                + f64::from(t.nanosecond() / 1_000_000);
            ms / 86_400_000.0
        }
        None => f64::NAN,
    }
}
