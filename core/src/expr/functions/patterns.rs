//! `regex()` and the compilation of a form's regular expressions (with Java's
//! meaning of `\d`, `\w`, `\s`), cached per call when the pattern is a literal.

use std::borrow::Cow;

use crate::expr::ast::{Call, ExprKind};
use crate::expr::value::Value;
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, Args};

pub(super) fn regex(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let value = a.str(0).into_owned();
    let pattern_expr = a.expr(1);
    if let ExprKind::String(pattern) = &pattern_expr.kind {
        let span = pattern_expr.span;
        let compiled = a.call.regex.0.get_or_init(|| compile_regex(pattern));
        return match compiled {
            Ok(re) => Ok(Value::Boolean(re.is_match(&value))),
            Err(e) => Err(err(
                ErrorKind::Regex,
                span,
                format!("invalid regular expression: {e}"),
            )),
        };
    }
    let pattern = a.string(1)?;
    match compile_regex(&pattern) {
        Ok(re) => Ok(Value::Boolean(re.is_match(&value))),
        Err(e) => Err(err(
            ErrorKind::Regex,
            a.expr(1).span,
            format!("invalid regular expression: {e}"),
        )),
    }
}

/// Compile a form's regular expression with JavaRosa's (Java's) meaning of the
/// shorthand classes: `\d`, `\w` and `\s` are ASCII, so a phone-number
/// constraint `^\d{10}$` rejects other scripts' digits exactly as ODK Collect does.
pub(crate) fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&ascii_shorthands(pattern)).map_err(|e| e.to_string())
}

fn ascii_shorthands(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains('\\') {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let replacement = match (in_class, next) {
                    (false, 'd') => Some("[0-9]"),
                    (false, 'D') => Some("[^0-9]"),
                    (false, 'w') => Some("[0-9A-Za-z_]"),
                    (false, 'W') => Some("[^0-9A-Za-z_]"),
                    (false, 's') => Some("[\\t\\n\\x0B\\x0C\\r ]"),
                    (false, 'S') => Some("[^\\t\\n\\x0B\\x0C\\r ]"),
                    (true, 'd') => Some("0-9"),
                    (true, 'w') => Some("0-9A-Za-z_"),
                    (true, 's') => Some("\\t\\n\\x0B\\x0C\\r "),
                    _ => None,
                };
                match replacement {
                    Some(r) => out.push_str(r),
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal member, not the end.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

/// Compile (and cache) the literal pattern of a `regex()` call; the error if it is invalid.
pub(crate) fn literal_regex_problem(call: &Call) -> Option<ExprError> {
    let pattern_expr = call.args.get(1)?;
    let ExprKind::String(pattern) = &pattern_expr.kind else {
        return None;
    };
    let compiled = call.regex.0.get_or_init(|| compile_regex(pattern));
    compiled.as_ref().err().map(|e| {
        err(
            ErrorKind::Regex,
            pattern_expr.span,
            format!("invalid regular expression: {e}"),
        )
    })
}
