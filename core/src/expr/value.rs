//! Expression values and the XPath conversions between them.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::context::{EvalContext, NodeId};
use super::datetime;

/// The value of an expression.
///
/// Dates are native values as in JavaRosa: `date('2020-01-02')` is a date,
/// `now()` a date-time; they convert to strings in ODK's canonical form and to
/// numbers as days since 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Boolean(bool),
    Number(f64),
    String(Arc<str>),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    /// Nodes in document order, without duplicates.
    Nodes(Vec<NodeId>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// XPath `boolean()`.
    pub fn to_boolean(&self) -> bool {
        match self {
            Value::Boolean(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Date(_) | Value::DateTime(_) => true,
            Value::Nodes(nodes) => !nodes.is_empty(),
        }
    }

    /// XPath `number()`, extended as in ODK: date and date-time strings become days since the epoch.
    pub fn to_number(&self, ctx: &dyn EvalContext) -> f64 {
        match self {
            Value::Boolean(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => string_to_number(s),
            Value::Date(d) => datetime::date_to_days(*d),
            Value::DateTime(dt) => datetime::datetime_to_days(dt),
            Value::Nodes(nodes) => match nodes.first() {
                Some(node) => string_to_number(&ctx.value(*node)),
                None => f64::NAN,
            },
        }
    }

    /// XPath `string()`: the first node's value for a node-set.
    pub fn to_string_value<'s>(&'s self, ctx: &'s dyn EvalContext) -> Cow<'s, str> {
        match self {
            Value::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Number(n) => Cow::Owned(format_number(*n)),
            Value::String(s) => Cow::Borrowed(s),
            Value::Date(d) => Cow::Owned(datetime::format_date(*d)),
            Value::DateTime(dt) => Cow::Owned(datetime::format_datetime(dt)),
            Value::Nodes(nodes) => match nodes.first() {
                Some(node) => ctx.value(*node),
                None => Cow::Borrowed(""),
            },
        }
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Boolean(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Date(_) => "date",
            Value::DateTime(_) => "date-time",
            Value::Nodes(_) => "node-set",
        }
    }
}

/// XPath number parsing: optional whitespace, optional `-`, digits with an
/// optional decimal point; anything else (exponents, `Infinity`, `+`) is NaN.
/// Date and date-time strings convert to days since 1970-01-01 (ODK extension).
pub fn string_to_number(s: &str) -> f64 {
    let t = trim_xml(s);
    if let Some(n) = parse_xpath_number(t) {
        return n;
    }
    datetime::string_to_days(t).unwrap_or(f64::NAN)
}

/// Parse an XPath `Number` with an optional leading minus; `None` if it is not one.
pub fn parse_xpath_number(t: &str) -> Option<f64> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() {
        return None;
    }
    let mut seen_dot = false;
    let mut seen_digit = false;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Strip XML whitespace (space, tab, CR, LF) from both ends.
pub fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// XPath `string()` of a number: integers without a decimal point, no exponent,
/// `NaN`, `Infinity`, `-Infinity`, and `0` for negative zero.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if n == 0.0 {
        "0".to_owned()
    } else {
        // Rust prints the shortest representation that round-trips, never in exponent form.
        format!("{n}")
    }
}
