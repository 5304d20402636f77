//! From a call to its implementation. `if`, `once` and `indexed-repeat`
//! evaluate their own arguments (lazily); every other built-in gets its
//! arguments evaluated first and runs through `apply`, one arm per function.

use crate::expr::ast::{Call, Span};
use crate::expr::eval::{Evaluator, Focus};
use crate::expr::value::Value;
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, num, Args};
use super::{
    arity_problem, dates, geo, logic, nodesets, numbers, patterns, selects, strings, Function,
};

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
        Function::Once => logic::once(ev, call, focus),
        Function::IndexedRepeat => nodesets::indexed_repeat(&mut Args {
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
fn apply(function: Function, a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    use Function as F;
    match function {
        // Strings
        F::String => strings::string(a),
        F::Concat => strings::concat(a),
        F::Join => strings::join(a),
        F::Substr => strings::substr(a),
        F::Substring => strings::substring(a),
        F::SubstringBefore => strings::substring_before(a),
        F::SubstringAfter => strings::substring_after(a),
        F::Translate => strings::translate(a),
        F::StringLength => strings::string_length(a),
        F::NormalizeSpace => strings::normalize_space(a),
        F::Contains => strings::contains(a),
        F::StartsWith => strings::starts_with(a),
        F::EndsWith => strings::ends_with(a),
        F::Uuid => strings::uuid(a),
        F::Digest => strings::digest(a),
        F::Pulldata => nodesets::pulldata(a),
        F::Base64Decode => strings::base64_decode(a),
        F::Enumerator => strings::enumerator(a),
        // Booleans and choice of values
        // `if` and `once` are normally dispatched in `call`; kept here so `apply`
        // handles every function.
        F::If => logic::if_then_else(a),
        F::Coalesce => logic::coalesce(a),
        F::Once => logic::once(a.ev, a.call, a.focus),
        F::True => Ok(Value::Boolean(true)),
        F::False => Ok(Value::Boolean(false)),
        F::Boolean => Ok(Value::Boolean(a.boolean(0)?)),
        F::BooleanFromString => logic::boolean_from_string(a),
        F::Not => Ok(Value::Boolean(!a.boolean(0)?)),
        F::Regex => patterns::regex(a),
        F::Checklist => logic::checklist(a, false),
        F::WeightedChecklist => logic::checklist(a, true),
        // Numbers. Transcendental functions come from `libm` (pure Rust), not the platform's
        // math library: the same bits on every device, the server and in WebAssembly.
        F::Number => numbers::unary(a, |x| x),
        F::Int => numbers::unary(a, f64::trunc),
        F::Sum => numbers::sum(a),
        F::Max => numbers::extreme(a, f64::NEG_INFINITY, f64::max),
        F::Min => numbers::extreme(a, f64::INFINITY, f64::min),
        F::Round => numbers::round(a),
        F::Floor => numbers::unary(a, f64::floor),
        F::Ceiling => numbers::unary(a, f64::ceil),
        F::Pow => numbers::binary(a, libm::pow),
        F::Log => numbers::unary(a, libm::log),
        F::Log10 => numbers::unary(a, libm::log10),
        F::Abs => numbers::unary(a, f64::abs),
        F::Sin => numbers::unary(a, libm::sin),
        F::Cos => numbers::unary(a, libm::cos),
        F::Tan => numbers::unary(a, libm::tan),
        F::Asin => numbers::unary(a, libm::asin),
        F::Acos => numbers::unary(a, libm::acos),
        F::Atan => numbers::unary(a, libm::atan),
        F::Atan2 => numbers::binary(a, libm::atan2),
        F::Sqrt => numbers::unary(a, f64::sqrt),
        F::Exp => numbers::unary(a, libm::exp),
        F::Exp10 => numbers::unary(a, |x| libm::pow(10.0, x)),
        F::Pi => Ok(num(std::f64::consts::PI)),
        F::Random => Ok(num(a.ev.env.random())),
        // Node-sets and repeats
        F::Count => nodesets::count(a),
        F::CountNonEmpty => nodesets::count_non_empty(a),
        F::Position => nodesets::position(a),
        F::Last => Ok(num(a.focus.size as f64)),
        F::Instance => nodesets::instance(a),
        F::Current => Ok(Value::Nodes(a.ev.current.into_iter().collect())),
        F::IndexedRepeat => nodesets::indexed_repeat(a),
        F::Randomize => nodesets::randomize(a),
        // Dates and times
        F::Today => Ok(Value::Date(a.ev.env.now().date_naive())),
        F::Now => Ok(Value::DateTime(a.ev.env.now())),
        F::Date => dates::date(a),
        F::DateTime => dates::date_time(a),
        F::FormatDate | F::FormatDateTime => dates::format_date(a),
        F::DecimalDateTime => dates::decimal_date_time(a),
        F::DecimalTime => dates::decimal_time(a),
        // Selects
        F::Selected => selects::selected(a),
        F::SelectedAt => selects::selected_at(a),
        F::CountSelected => selects::count_selected(a),
        F::ChoiceName => selects::choice_name(a),
        // Geography
        F::Area => geo::measure(a, crate::expr::geo::area),
        F::Distance => geo::measure(a, crate::expr::geo::distance),
        F::Geofence => geo::geofence(a),
    }
}
