//! The function library: the table of built-ins (names, arities, result types)
//! and their implementations.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use chrono::{FixedOffset, NaiveDateTime, NaiveTime, Offset};

use super::ast::{Axis, Call, Expr, ExprKind, NodeTest, PathStart, Span};
use super::context::NodeId;
use super::datetime;
use super::eval::{Evaluator, Focus};
use super::geo;
use super::value::{format_number, string_to_number, trim_xml, Value};
use super::{ErrorKind, ExprError};

/// The type of value a function returns, for the checker's type hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Boolean,
    Number,
    String,
    Date,
    DateTime,
    Nodes,
    /// Depends on the arguments (`if`, `coalesce`, `once`).
    Any,
}

/// What the checker needs to know about a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// The name without a `jr:` prefix.
    pub name: &'static str,
    pub min_args: usize,
    /// `None`: any number of arguments.
    pub max_args: Option<usize>,
    pub returns: ValueType,
    /// Whether the result can differ between two evaluations with the same inputs
    /// (`now`, `random`, `uuid`…); the engine evaluates these once, when a value is first needed.
    pub nondeterministic: bool,
}

impl Signature {
    /// Whether `n` arguments are accepted.
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min_args && self.max_args.is_none_or(|max| n <= max)
    }

    /// The accepted argument counts in words ("2", "1 or 2", "at least 1").
    pub fn arity_text(&self) -> String {
        match self.max_args {
            Some(max) if max == self.min_args => max.to_string(),
            Some(max) if max == self.min_args + 1 => format!("{} or {max}", self.min_args),
            Some(max) => format!("{} to {max}", self.min_args),
            None => format!("at least {}", self.min_args),
        }
    }
}

macro_rules! functions {
    ($( $variant:ident = $name:literal, $min:expr, $max:expr, $ret:ident, $nondet:literal; )*) => {
        /// A built-in function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function { $($variant),* }

        impl Function {
            /// Every built-in, in table order.
            pub const ALL: &'static [Function] = &[$(Function::$variant),*];

            /// The built-in called `name` (with or without a `jr:` prefix).
            pub fn lookup(name: &str) -> Option<Function> {
                let bare = name.strip_prefix("jr:").unwrap_or(name);
                match bare {
                    $($name => Some(Function::$variant),)*
                    "is-selected" => Some(Function::Selected),
                    "enclosed-area" => Some(Function::Area),
                    _ => None,
                }
            }

            /// Name, arity and result type.
            pub fn signature(self) -> &'static Signature {
                match self {
                    $(Function::$variant => &Signature {
                        name: $name,
                        min_args: $min,
                        max_args: $max,
                        returns: ValueType::$ret,
                        nondeterministic: $nondet,
                    },)*
                }
            }
        }
    };
}

const ANY: Option<usize> = None;

functions! {
    // Strings
    String = "string", 0, Some(1), String, false;
    Concat = "concat", 0, ANY, String, false;
    Join = "join", 1, ANY, String, false;
    Substr = "substr", 2, Some(3), String, false;
    Substring = "substring", 2, Some(3), String, false;
    SubstringBefore = "substring-before", 2, Some(2), String, false;
    SubstringAfter = "substring-after", 2, Some(2), String, false;
    Translate = "translate", 3, Some(3), String, false;
    StringLength = "string-length", 1, Some(1), Number, false;
    NormalizeSpace = "normalize-space", 1, Some(1), String, false;
    Contains = "contains", 2, Some(2), Boolean, false;
    StartsWith = "starts-with", 2, Some(2), Boolean, false;
    EndsWith = "ends-with", 2, Some(2), Boolean, false;
    Uuid = "uuid", 0, Some(1), String, true;
    Digest = "digest", 2, Some(3), String, false;
    Pulldata = "pulldata", 4, Some(4), String, false;
    Base64Decode = "base64-decode", 1, Some(1), String, false;
    // Booleans and choice of values
    If = "if", 3, Some(3), Any, false;
    Coalesce = "coalesce", 2, ANY, Any, false;
    Once = "once", 1, Some(1), Any, false;
    True = "true", 0, Some(0), Boolean, false;
    False = "false", 0, Some(0), Boolean, false;
    Boolean = "boolean", 1, Some(1), Boolean, false;
    BooleanFromString = "boolean-from-string", 1, Some(1), Boolean, false;
    Not = "not", 1, Some(1), Boolean, false;
    Regex = "regex", 2, Some(2), Boolean, false;
    Checklist = "checklist", 2, ANY, Boolean, false;
    WeightedChecklist = "weighted-checklist", 2, ANY, Boolean, false;
    // Numbers
    Number = "number", 1, Some(1), Number, false;
    Int = "int", 1, Some(1), Number, false;
    Sum = "sum", 1, Some(1), Number, false;
    Max = "max", 1, ANY, Number, false;
    Min = "min", 1, ANY, Number, false;
    Round = "round", 1, Some(2), Number, false;
    Floor = "floor", 1, Some(1), Number, false;
    Ceiling = "ceiling", 1, Some(1), Number, false;
    Pow = "pow", 2, Some(2), Number, false;
    Log = "log", 1, Some(1), Number, false;
    Log10 = "log10", 1, Some(1), Number, false;
    Abs = "abs", 1, Some(1), Number, false;
    Sin = "sin", 1, Some(1), Number, false;
    Cos = "cos", 1, Some(1), Number, false;
    Tan = "tan", 1, Some(1), Number, false;
    Asin = "asin", 1, Some(1), Number, false;
    Acos = "acos", 1, Some(1), Number, false;
    Atan = "atan", 1, Some(1), Number, false;
    Atan2 = "atan2", 2, Some(2), Number, false;
    Sqrt = "sqrt", 1, Some(1), Number, false;
    Exp = "exp", 1, Some(1), Number, false;
    Exp10 = "exp10", 1, Some(1), Number, false;
    Pi = "pi", 0, Some(0), Number, false;
    Random = "random", 0, Some(0), Number, true;
    // Node-sets and repeats
    Count = "count", 1, Some(1), Number, false;
    CountNonEmpty = "count-non-empty", 1, Some(1), Number, false;
    Position = "position", 0, Some(1), Number, false;
    Last = "last", 0, Some(0), Number, false;
    Instance = "instance", 1, Some(1), Nodes, false;
    Current = "current", 0, Some(0), Nodes, false;
    IndexedRepeat = "indexed-repeat", 3, Some(7), Nodes, false;
    Randomize = "randomize", 1, Some(2), Nodes, true;
    // Dates and times
    Today = "today", 0, Some(0), Date, true;
    Now = "now", 0, Some(0), DateTime, true;
    Date = "date", 1, Some(1), Date, false;
    DateTime = "date-time", 1, Some(1), DateTime, false;
    FormatDate = "format-date", 2, Some(2), String, false;
    FormatDateTime = "format-date-time", 2, Some(2), String, false;
    DecimalDateTime = "decimal-date-time", 1, Some(1), Number, false;
    DecimalTime = "decimal-time", 1, Some(1), Number, false;
    // Selects
    Selected = "selected", 2, Some(2), Boolean, false;
    SelectedAt = "selected-at", 2, Some(2), String, false;
    CountSelected = "count-selected", 1, Some(1), Number, false;
    ChoiceName = "choice-name", 2, Some(2), String, false;
    // Geography
    Area = "area", 1, Some(1), Number, false;
    Distance = "distance", 1, ANY, Number, false;
    Geofence = "geofence", 2, Some(2), Boolean, false;
}

/// The signature of the function called `name` (`jr:choice-name` and `choice-name` alike).
pub fn signature(name: &str) -> Option<&'static Signature> {
    Function::lookup(name).map(Function::signature)
}

fn err(kind: ErrorKind, span: Span, message: impl Into<String>) -> ExprError {
    ExprError::new(kind, span, message)
}

struct Args<'e, 'a, 'b> {
    ev: &'e mut Evaluator<'a>,
    call: &'b Call,
    focus: Focus,
    /// Arguments evaluated before dispatch; `None` ones are evaluated on demand.
    values: Vec<Option<Value>>,
}

impl Args<'_, '_, '_> {
    fn len(&self) -> usize {
        self.call.args.len()
    }

    fn expr(&self, i: usize) -> &Expr {
        &self.call.args[i]
    }

    /// Argument `i`; each argument is read once.
    fn value(&mut self, i: usize) -> Result<Value, ExprError> {
        if let Some(v) = self.values.get_mut(i).and_then(Option::take) {
            return Ok(v);
        }
        let focus = self.focus;
        self.ev.eval(&self.call.args[i], focus)
    }

    /// Argument `i` as a string, borrowed from its value (no copy for literals
    /// and node values). Arguments are evaluated before `apply` runs, so this
    /// only reads; an argument already taken by [`Args::value`] reads as "".
    fn str(&self, i: usize) -> Cow<'_, str> {
        match self.values.get(i).and_then(Option::as_ref) {
            Some(v) => v.to_string_value(self.ev.ctx),
            None => Cow::Borrowed(""),
        }
    }

    fn string(&mut self, i: usize) -> Result<String, ExprError> {
        let v = self.value(i)?;
        Ok(v.to_string_value(self.ev.ctx).into_owned())
    }

    fn number(&mut self, i: usize) -> Result<f64, ExprError> {
        let v = self.value(i)?;
        Ok(v.to_number(self.ev.ctx))
    }

    fn boolean(&mut self, i: usize) -> Result<bool, ExprError> {
        Ok(self.value(i)?.to_boolean())
    }

    fn nodes(&mut self, i: usize, what: &str) -> Result<Vec<NodeId>, ExprError> {
        match self.value(i)? {
            Value::Nodes(n) => Ok(n),
            other => Err(err(
                ErrorKind::Type,
                self.call.args[i].span,
                format!(
                    "`{}` needs {what} (a field or path), but this argument is a {}",
                    self.call.name,
                    other.type_name()
                ),
            )),
        }
    }

    /// Every string an argument stands for: each node's value for a node-set, else its string value.
    fn strings_of(&mut self, i: usize, out: &mut Vec<String>) -> Result<(), ExprError> {
        match self.value(i)? {
            Value::Nodes(nodes) => {
                out.extend(nodes.iter().map(|&n| self.ev.ctx.value(n).into_owned()));
            }
            other => out.push(other.to_string_value(self.ev.ctx).into_owned()),
        }
        Ok(())
    }

    fn local_offset(&self) -> FixedOffset {
        self.ev.env.now().offset().fix()
    }

    fn span(&self) -> Span {
        self.call.name_span
    }
}

fn num(n: f64) -> Value {
    Value::Number(n)
}

fn text(s: impl Into<Arc<str>>) -> Value {
    Value::String(s.into())
}

pub(crate) fn call(
    ev: &mut Evaluator<'_>,
    call: &Call,
    span: Span,
    focus: Focus,
) -> Result<Value, ExprError> {
    let Some(function) = call.function else {
        return Err(err(
            ErrorKind::UnknownFunction,
            call.name_span,
            format!("unknown function `{}`", call.name),
        ));
    };
    if let Some(problem) = arity_problem(function, call, span) {
        return Err(problem);
    }
    // Evaluation recurses through here once per nested call, so this frame stays
    // small: lazy functions are handled inline, the rest run in `apply` after
    // their arguments are evaluated.
    match function {
        Function::If => {
            let condition = ev.eval(&call.args[0], focus)?.to_boolean();
            ev.eval(&call.args[if condition { 1 } else { 2 }], focus)
        }
        Function::Once => once(ev, call, focus),
        Function::IndexedRepeat => indexed_repeat(&mut Args {
            ev,
            call,
            focus,
            values: Vec::new(),
        }),
        _ => {
            let mut values = Vec::with_capacity(call.args.len());
            for arg in &call.args {
                values.push(Some(ev.eval(arg, focus)?));
            }
            apply(
                function,
                &mut Args {
                    ev,
                    call,
                    focus,
                    values,
                },
            )
        }
    }
}

#[inline(never)]
fn once(ev: &mut Evaluator<'_>, call: &Call, focus: Focus) -> Result<Value, ExprError> {
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

#[inline(never)]
fn apply(function: Function, a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let focus = a.focus;
    use Function as F;
    Ok(match function {
        F::String => match a.len() {
            0 => text(focus_string(a)),
            _ => text(a.string(0)?),
        },
        F::Concat => {
            let mut out = String::new();
            for v in a.values.iter().flatten() {
                match v {
                    Value::Nodes(nodes) => {
                        for &n in nodes {
                            out.push_str(&a.ev.ctx.value(n));
                        }
                    }
                    other => out.push_str(&other.to_string_value(a.ev.ctx)),
                }
            }
            text(out)
        }
        F::Join => {
            let sep = a.string(0)?;
            let mut parts = Vec::new();
            for i in 1..a.len() {
                a.strings_of(i, &mut parts)?;
            }
            text(parts.join(&sep))
        }
        F::Substr => {
            let s = a.string(0)?;
            let chars: Vec<char> = s.chars().collect();
            let len = chars.len() as f64;
            let clamp = |v: f64| -> usize {
                let v = if v < 0.0 {
                    (len + v).max(0.0)
                } else {
                    v.min(len)
                };
                if v.is_nan() {
                    0
                } else {
                    v as usize
                }
            };
            let start = clamp(a.number(1)?.trunc());
            let end = if a.len() > 2 {
                clamp(a.number(2)?.trunc())
            } else {
                chars.len()
            };
            text(if start < end {
                chars[start..end].iter().collect::<String>()
            } else {
                String::new()
            })
        }
        F::Substring => {
            let s = a.string(0)?;
            let start = xpath_round(a.number(1)?);
            let end = if a.len() > 2 {
                start + xpath_round(a.number(2)?)
            } else {
                f64::INFINITY
            };
            text(
                s.chars()
                    .enumerate()
                    .filter(|&(i, _)| {
                        let p = (i + 1) as f64;
                        p >= start && p < end
                    })
                    .map(|(_, c)| c)
                    .collect::<String>(),
            )
        }
        F::SubstringBefore => {
            let (s, t) = (a.str(0), a.str(1));
            text(match s.find(&*t) {
                Some(i) if !t.is_empty() => &s[..i],
                _ => "",
            })
        }
        F::SubstringAfter => {
            let (s, t) = (a.str(0), a.str(1));
            text(match s.find(&*t) {
                Some(i) => &s[i + t.len()..],
                None => "",
            })
        }
        F::Translate => {
            let s = a.string(0)?;
            let from: Vec<char> = a.string(1)?.chars().collect();
            let to: Vec<char> = a.string(2)?.chars().collect();
            text(
                s.chars()
                    .filter_map(|c| match from.iter().position(|&f| f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect::<String>(),
            )
        }
        F::StringLength => num(a.str(0).chars().count() as f64),
        F::NormalizeSpace => {
            let s = a.string(0)?;
            // XML whitespace only: form feeds and other Unicode spaces are content.
            let words: Vec<&str> = s
                .split([' ', '\t', '\r', '\n'])
                .filter(|w| !w.is_empty())
                .collect();
            text(words.join(" "))
        }
        F::Contains => Value::Boolean(a.str(0).contains(&*a.str(1))),
        F::StartsWith => Value::Boolean(a.str(0).starts_with(&*a.str(1))),
        F::EndsWith => Value::Boolean(a.str(0).ends_with(&*a.str(1))),
        F::Uuid => {
            if a.len() == 0 {
                let bytes = a.ev.env.random_bytes();
                text(
                    uuid::Builder::from_random_bytes(bytes)
                        .into_uuid()
                        .to_string(),
                )
            } else {
                let n = a.number(0)?;
                if !(0.0..=10_000.0).contains(&n) {
                    return Err(err(
                        ErrorKind::Value,
                        a.expr(0).span,
                        format!(
                            "`uuid` length must be between 0 and 10000, not {}",
                            format_number(n)
                        ),
                    ));
                }
                const ALPHABET: &[u8] =
                    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                let mut out = String::with_capacity(n as usize);
                for _ in 0..n as usize {
                    let r = a.ev.env.random();
                    let i = ((r * ALPHABET.len() as f64) as usize).min(ALPHABET.len() - 1);
                    out.push(ALPHABET[i] as char);
                }
                text(out)
            }
        }
        F::Digest => digest(a)?,
        F::Pulldata => {
            let id = a.string(0)?;
            let wanted = a.string(1)?;
            let key = a.string(2)?;
            let query = a.string(3)?;
            text(pulldata(a, &id, &wanted, &key, &query))
        }
        F::Base64Decode => {
            let s = a.string(0)?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(trim_xml(&s))
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            text(decoded.unwrap_or_default())
        }
        F::Coalesce => {
            // The first argument with a non-empty string value, as that value.
            for i in 0..a.len() {
                let v = a.value(i)?;
                if !v.to_string_value(a.ev.ctx).is_empty() {
                    return Ok(match v {
                        Value::Nodes(_) => text(v.to_string_value(a.ev.ctx).into_owned()),
                        other => other,
                    });
                }
            }
            text("")
        }
        F::True => Value::Boolean(true),
        F::False => Value::Boolean(false),
        F::Boolean => Value::Boolean(a.boolean(0)?),
        F::BooleanFromString => {
            let s = a.str(0);
            let s = trim_xml(&s);
            Value::Boolean(s == "true" || s == "1")
        }
        F::Not => Value::Boolean(!a.boolean(0)?),
        F::Regex => regex_match(a)?,
        F::Checklist | F::WeightedChecklist => checklist(a, function == F::WeightedChecklist)?,
        F::Number => num(a.number(0)?),
        F::Int => num(a.number(0)?.trunc()),
        F::Sum => {
            let nodes = a.nodes(0, "a node-set")?;
            num(nodes
                .iter()
                .map(|&n| string_to_number(&a.ev.ctx.value(n)))
                .sum())
        }
        F::Max | F::Min => {
            let mut values = Vec::new();
            for i in 0..a.len() {
                a.strings_of(i, &mut values)?;
            }
            if values.is_empty() {
                num(f64::NAN)
            } else {
                let mut acc = if function == F::Max {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                };
                for v in &values {
                    let n = string_to_number(v);
                    if n.is_nan() {
                        return Ok(num(f64::NAN));
                    }
                    acc = if function == F::Max {
                        acc.max(n)
                    } else {
                        acc.min(n)
                    };
                }
                num(acc)
            }
        }
        F::Round => {
            let x = a.number(0)?;
            let digits = if a.len() > 1 {
                a.number(1)?.trunc()
            } else {
                0.0
            };
            num(round_to(x, digits))
        }
        F::Floor => num(a.number(0)?.floor()),
        F::Ceiling => num(a.number(0)?.ceil()),
        F::Pow => {
            let base = a.number(0)?;
            num(base.powf(a.number(1)?))
        }
        F::Log => num(a.number(0)?.ln()),
        F::Log10 => num(a.number(0)?.log10()),
        F::Abs => num(a.number(0)?.abs()),
        F::Sin => num(a.number(0)?.sin()),
        F::Cos => num(a.number(0)?.cos()),
        F::Tan => num(a.number(0)?.tan()),
        F::Asin => num(a.number(0)?.asin()),
        F::Acos => num(a.number(0)?.acos()),
        F::Atan => num(a.number(0)?.atan()),
        F::Atan2 => {
            let y = a.number(0)?;
            num(y.atan2(a.number(1)?))
        }
        F::Sqrt => num(a.number(0)?.sqrt()),
        F::Exp => num(a.number(0)?.exp()),
        F::Exp10 => num(10f64.powf(a.number(0)?)),
        F::Pi => num(std::f64::consts::PI),
        F::Random => num(a.ev.env.random()),
        F::Count => num(a.nodes(0, "a node-set")?.len() as f64),
        F::CountNonEmpty => {
            let nodes = a.nodes(0, "a node-set")?;
            num(nodes
                .iter()
                .filter(|&&n| !a.ev.ctx.value(n).is_empty())
                .count() as f64)
        }
        F::Position => {
            if a.len() == 0 {
                let position = match focus.position {
                    0 => focus.node.and_then(|n| a.ev.ctx.position(n)).unwrap_or(1),
                    p => p,
                };
                num(position as f64)
            } else {
                let nodes = a.nodes(0, "a node")?;
                match nodes.first().and_then(|&n| a.ev.ctx.position(n)) {
                    Some(p) => num(p as f64),
                    None => num(f64::NAN),
                }
            }
        }
        F::Last => num(focus.size as f64),
        F::Instance => {
            let id = a.string(0)?;
            match a.ev.ctx.instance(&id) {
                Some(node) => Value::Nodes(vec![node]),
                None => {
                    return Err(err(
                        ErrorKind::UnknownInstance,
                        a.expr(0).span,
                        format!("there is no instance (choice list) named `{id}`"),
                    ))
                }
            }
        }
        F::Current => Value::Nodes(a.ev.current.into_iter().collect()),
        // Normally dispatched in `call`; kept complete here so `apply` handles every function.
        F::If => {
            if a.boolean(0)? {
                a.value(1)?
            } else {
                a.value(2)?
            }
        }
        F::Once => once(a.ev, a.call, focus)?,
        F::IndexedRepeat => indexed_repeat(a)?,
        F::Randomize => {
            let mut nodes = a.nodes(0, "a node-set")?;
            let seed = if a.len() > 1 {
                Some(a.number(1)?)
            } else {
                None
            };
            shuffle(&mut nodes, seed, a.ev.env);
            Value::Nodes(nodes)
        }
        F::Today => Value::Date(a.ev.env.now().date_naive()),
        F::Now => Value::DateTime(a.ev.env.now()),
        F::Date => {
            let v = a.value(0)?;
            to_date(a, &v, 0)?
        }
        F::DateTime => {
            let v = a.value(0)?;
            to_datetime(a, &v, 0)?
        }
        F::FormatDate | F::FormatDateTime => {
            let v = a.value(0)?;
            let format = a.string(1)?;
            match naive_for_format(a, &v) {
                Some(dt) => text(datetime::format_with(&dt, &format)),
                None => text(""),
            }
        }
        F::DecimalDateTime => {
            let v = a.value(0)?;
            match to_datetime(a, &v, 0)? {
                Value::DateTime(dt) => num(datetime::datetime_to_utc_days(&dt)),
                _ => num(f64::NAN),
            }
        }
        F::DecimalTime => {
            let v = a.value(0)?;
            num(decimal_time(a, &v))
        }
        F::Selected => {
            let (list, wanted) = (a.str(0), a.str(1));
            let wanted = trim_xml(&wanted);
            Value::Boolean(list.split_whitespace().any(|item| item == wanted))
        }
        F::SelectedAt => {
            let list = a.string(0)?;
            let i = a.number(1)?;
            let item = if i >= 0.0 && i.is_finite() {
                list.split_whitespace().nth(i as usize)
            } else {
                None
            };
            text(item.unwrap_or(""))
        }
        F::CountSelected => num(a.str(0).split_whitespace().count() as f64),
        F::ChoiceName => {
            let value = a.string(0)?;
            let field = a.string(1)?;
            let field = trim_xml(&field);
            let field = field
                .strip_prefix("${")
                .and_then(|f| f.strip_suffix('}'))
                .map(str::trim)
                .unwrap_or(field);
            text(
                a.ev.ctx
                    .choice_label(field, trim_xml(&value))
                    .unwrap_or_default(),
            )
        }
        F::Area | F::Distance => {
            // Unanswered or malformed shapes give NaN (a blank result), as in Enketo.
            let mut points = Vec::new();
            let mut valid = true;
            for i in 0..a.len() {
                let mut values = Vec::new();
                a.strings_of(i, &mut values)?;
                for v in values {
                    for p in v.split(';').filter(|p| !p.trim().is_empty()) {
                        match geo::parse_point(p) {
                            Some(pt) => points.push(pt),
                            None => valid = false,
                        }
                    }
                }
            }
            if !valid || points.is_empty() {
                num(f64::NAN)
            } else {
                let metres = if function == F::Area {
                    geo::area(&points)
                } else {
                    geo::distance(&points)
                };
                // Centimetres are the precision both reference engines report.
                num((metres * 100.0).round() / 100.0)
            }
        }
        F::Geofence => {
            let point = a.string(0)?;
            let shape = a.string(1)?;
            let p = geo::parse_point(&point).ok_or_else(|| {
                err(
                    ErrorKind::Value,
                    a.expr(0).span,
                    format!("`{point}` is not a geopoint"),
                )
            })?;
            let polygon: Option<Vec<_>> = shape
                .split(';')
                .filter(|s| !s.trim().is_empty())
                .map(geo::parse_point)
                .collect();
            match polygon {
                Some(poly) if poly.len() >= 3 => Value::Boolean(geo::inside(p, &poly)),
                _ => {
                    return Err(err(
                        ErrorKind::Value,
                        a.expr(1).span,
                        "`geofence` needs a geoshape of at least 3 points as its second argument",
                    ))
                }
            }
        }
    })
}

/// The arity error for `call`, if its argument count does not fit `function`.
pub(crate) fn arity_problem(function: Function, call: &Call, span: Span) -> Option<ExprError> {
    let sig = function.signature();
    let n = call.args.len();
    if !sig.accepts(n) {
        return Some(err(
            ErrorKind::Arity,
            span,
            format!(
                "`{}` takes {} argument{}, but {n} {} given",
                call.name,
                sig.arity_text(),
                if sig.max_args == Some(1) && sig.min_args == 1 {
                    ""
                } else {
                    "s"
                },
                if n == 1 { "was" } else { "were" }
            ),
        ));
    }
    let odd_shape = match function {
        Function::WeightedChecklist => n % 2 != 0,
        Function::IndexedRepeat => n % 2 == 0,
        _ => false,
    };
    odd_shape.then(|| {
        err(
            ErrorKind::Arity,
            span,
            match function {
                Function::WeightedChecklist => {
                    "`weighted-checklist` takes min, max, then pairs of value and weight"
                }
                _ => "`indexed-repeat` takes a field, then pairs of repeat and index",
            },
        )
    })
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

/// The string value of the focus node (for `string()` without arguments).
fn focus_string(a: &Args<'_, '_, '_>) -> String {
    a.focus
        .node
        .map(|n| a.ev.ctx.value(n).into_owned())
        .unwrap_or_default()
}

/// XPath `round()`: halves go up, NaN and infinities stay.
fn xpath_round(x: f64) -> f64 {
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

fn digest(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    use sha2::Digest as _;
    let src = a.string(0)?;
    let algorithm = a.string(1)?;
    let encoding = if a.len() > 2 {
        a.string(2)?
    } else {
        "base64".to_owned()
    };
    let bytes = src.as_bytes();
    let hash: Vec<u8> = match algorithm.to_ascii_uppercase().as_str() {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => {
            return Err(err(
                ErrorKind::Value,
                a.expr(1).span,
                format!("`digest` algorithm must be MD5, SHA-1, SHA-256, SHA-384 or SHA-512, not `{algorithm}`"),
            ))
        }
    };
    Ok(text(match encoding.to_ascii_lowercase().as_str() {
        "base64" => base64::engine::general_purpose::STANDARD.encode(hash),
        "hex" => hash.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        _ => {
            return Err(err(
                ErrorKind::Value,
                a.expr(2).span,
                format!("`digest` encoding must be base64 or hex, not `{encoding}`"),
            ))
        }
    }))
}

fn regex_match(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
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

fn checklist(a: &mut Args<'_, '_, '_>, weighted: bool) -> Result<Value, ExprError> {
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

/// An argument as a list of values: each node's value of a node-set, else the value itself.
fn flatten(a: &mut Args<'_, '_, '_>, i: usize) -> Result<Vec<Value>, ExprError> {
    Ok(match a.value(i)? {
        Value::Nodes(nodes) => nodes.iter().map(|&n| text(&*a.ev.ctx.value(n))).collect(),
        other => vec![other],
    })
}

fn pulldata(a: &Args<'_, '_, '_>, id: &str, wanted: &str, key: &str, query: &str) -> String {
    let ctx = a.ev.ctx;
    let Some(doc) = ctx.instance(id) else {
        return String::new();
    };
    let mut roots = Vec::new();
    ctx.children(doc, Some("root"), &mut roots);
    let mut items = Vec::new();
    for r in roots {
        ctx.children(r, Some("item"), &mut items);
    }
    let mut scratch = Vec::new();
    for item in items {
        scratch.clear();
        ctx.children(item, Some(key), &mut scratch);
        if scratch.iter().any(|&k| ctx.value(k) == query) {
            scratch.clear();
            ctx.children(item, Some(wanted), &mut scratch);
            return scratch
                .first()
                .map(|&n| ctx.value(n).into_owned())
                .unwrap_or_default();
        }
    }
    String::new()
}

#[inline(never)]
fn indexed_repeat(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    if a.len() % 2 == 0 {
        return Err(err(
            ErrorKind::Arity,
            a.span(),
            "`indexed-repeat` takes a field, then pairs of repeat and index",
        ));
    }
    let mut anchor: Option<NodeId> = None;
    let mut anchor_path_len = 0usize;
    let mut i = 1;
    while i < a.len() {
        let repeat_expr = a.expr(i).clone();
        let index = a.number(i + 1)?;
        let candidates = match anchor {
            None => a.nodes(i, "a repeat")?,
            Some(node) => relative_nodes(a, &repeat_expr, node, anchor_path_len)?,
        };
        let chosen = if index >= 1.0 && index.is_finite() {
            candidates.get(index as usize - 1).copied()
        } else {
            None
        };
        let Some(chosen) = chosen else {
            return Ok(Value::Nodes(Vec::new()));
        };
        anchor = Some(chosen);
        anchor_path_len = absolute_steps(&repeat_expr).map_or(0, |s| s.len());
        i += 2;
    }
    let target = a.expr(0).clone();
    match anchor {
        Some(node) => Ok(Value::Nodes(relative_nodes(
            a,
            &target,
            node,
            anchor_path_len,
        )?)),
        None => Ok(Value::Nodes(Vec::new())),
    }
}

/// The child steps of a plain absolute path (`/data/r/x`), if it is one.
fn absolute_steps(e: &Expr) -> Option<Vec<&str>> {
    let ExprKind::Path(path) = &e.kind else {
        return None;
    };
    if !matches!(path.start, PathStart::Root) {
        return None;
    }
    path.steps
        .iter()
        .map(|s| match (&s.axis, &s.test, s.predicates.is_empty()) {
            (Axis::Child, NodeTest::Name(n), true) => Some(&**n),
            _ => None,
        })
        .collect()
}

/// Evaluate `e` as seen from inside repeat instance `anchor`: `${name}` resolves
/// in that instance; an absolute path continues below it.
fn relative_nodes(
    a: &mut Args<'_, '_, '_>,
    e: &Expr,
    anchor: NodeId,
    anchor_path_len: usize,
) -> Result<Vec<NodeId>, ExprError> {
    if let ExprKind::Reference(name) = &e.kind {
        let mut out = Vec::new();
        if a.ev.ctx.resolve_reference(name, Some(anchor), &mut out) {
            return Ok(out);
        }
        return Err(err(
            ErrorKind::UnknownReference,
            e.span,
            format!("`${{{name}}}` does not name a field of this form"),
        ));
    }
    if let Some(steps) = absolute_steps(e) {
        if steps.len() > anchor_path_len && anchor_path_len > 0 {
            let mut nodes = vec![anchor];
            let mut next = Vec::new();
            for name in &steps[anchor_path_len..] {
                next.clear();
                for &n in &nodes {
                    a.ev.ctx.children(n, Some(name), &mut next);
                }
                std::mem::swap(&mut nodes, &mut next);
            }
            return Ok(nodes);
        }
    }
    let focus = Focus {
        node: Some(anchor),
        position: 0,
        size: 1,
    };
    match a.ev.eval(e, focus)? {
        Value::Nodes(n) => Ok(n),
        other => Err(err(
            ErrorKind::Type,
            e.span,
            format!(
                "`indexed-repeat` needs fields and repeats here, not a {}",
                other.type_name()
            ),
        )),
    }
}

fn shuffle(nodes: &mut [NodeId], seed: Option<f64>, env: &mut dyn crate::env::Environment) {
    // With a seed, a deterministic generator (so a seeded order is reproducible); else the environment's.
    let mut state = seed.map(|s| s.to_bits() ^ 0x2545_F491_4F6C_DD1D);
    let mut next = |env: &mut dyn crate::env::Environment| -> f64 {
        match state.as_mut() {
            Some(s) => {
                *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = *s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            }
            None => env.random(),
        }
    };
    for i in (1..nodes.len()).rev() {
        let j = ((next(env) * (i + 1) as f64) as usize).min(i);
        nodes.swap(i, j);
    }
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
fn decimal_time(a: &Args<'_, '_, '_>, v: &Value) -> f64 {
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
