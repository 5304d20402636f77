//! The function library: the table of built-ins (names, arities, result types)
//! here, their implementations by family in the submodules, and `dispatch`
//! routing each [`Function`] to its implementation.

mod args;
mod dates;
mod dispatch;
mod geo;
mod logic;
mod nodesets;
mod numbers;
mod patterns;
mod selects;
mod strings;

use super::ast::{Call, Span};
use super::{ErrorKind, ExprError};

pub(crate) use dispatch::call;
pub(crate) use patterns::literal_regex_problem;

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
    // The device's enumerator profile (`sex`, `languages`, `area`), from the environment.
    Enumerator = "enumerator", 1, Some(1), String, false;
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

/// The arity error for `call`, if its argument count does not fit `function`.
pub(crate) fn arity_problem(function: Function, call: &Call, span: Span) -> Option<ExprError> {
    let sig = function.signature();
    let n = call.args.len();
    if !sig.accepts(n) {
        return Some(ExprError::new(
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
        ExprError::new(
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
