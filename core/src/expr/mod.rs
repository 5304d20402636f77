//! The expression engine: XLSForm/ODK expressions (XPath 1.0 plus `${name}`).
//!
//! ```
//! use voices_core::expr::{parse, evaluate, MapContext};
//! use voices_core::env::FixedEnvironment;
//!
//! let expr = parse("if(${age} >= 18, 'adult', 'minor')").unwrap();
//! let mut ctx = MapContext::new();
//! ctx.push("/data/age", "21");
//! let mut env = FixedEnvironment::new(chrono::DateTime::UNIX_EPOCH.fixed_offset(), 7);
//! let value = evaluate(&expr, &ctx, &mut env).unwrap();
//! assert_eq!(value.to_string_value(&ctx), "adult");
//! ```
//!
//! - [`parse`] turns source into an [`Expr`] tree once; evaluation never re-parses.
//!   Errors carry a byte [`Span`] and a message written for form designers.
//!   Nesting deeper than [`MAX_NESTING`] is an error, never a stack overflow;
//!   long operator chains are flat and cost no stack.
//! - [`evaluate`] runs a tree against an [`EvalContext`] (the form engine's view
//!   of a response, or [`MapContext`]) and an [`Environment`] (clock, randomness).
//!   [`evaluate_at`] moves `.` to another node (a choice in a choice filter)
//!   while `current()` and `${…}` stay with the field.
//! - [`signature`], [`static_problems`] and
//!   [`Expr::references`]/[`Expr::calls`]/[`Expr::paths`] give the form checker
//!   what it needs without evaluating.
//! - `Display` on [`Expr`] prints normalised XPath that parses back to the same tree.
//!
//! Semantics follow JavaRosa (ODK Collect's engine) where the two reference
//! suites disagree; `core/tests/conformance-failures.md` lists each divergence.

pub mod ast;
mod context;
mod datetime;
mod eval;
mod functions;
mod geo;
mod lexer;
mod parser;
mod value;

use std::fmt;

use crate::env::Environment;

pub use ast::{Expr, ExprKind, Span};
pub use context::{EvalContext, MapContext, NodeId};
pub use functions::{signature, Function, Signature, ValueType};
pub use parser::MAX_NESTING;
pub use value::{format_number, string_to_number, Value};

/// What kind of problem an [`ExprError`] is, for tools that group or filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not a valid expression.
    Syntax,
    /// Nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// Valid XPath that Voices does not support (`//`, other axes, attributes, variables).
    Unsupported,
    /// A call to a function that does not exist.
    UnknownFunction,
    /// A function called with the wrong number of arguments.
    Arity,
    /// `${name}` names no field.
    UnknownReference,
    /// `instance('x')` names no instance.
    UnknownInstance,
    /// A value of the wrong type where a node-set was needed.
    Type,
    /// A value that cannot be converted as asked (an invalid date, an unknown digest algorithm).
    Value,
    /// An invalid regular expression.
    Regex,
}

/// A parse or evaluation error, with where it is in the expression source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub kind: ErrorKind,
    pub span: Span,
    pub message: String,
}

impl ExprError {
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> ExprError {
        ExprError {
            kind,
            span,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {})", self.message, self.span)
    }
}

impl std::error::Error for ExprError {}

pub type Result<T, E = ExprError> = std::result::Result<T, E>;

/// Parse an expression.
pub fn parse(source: &str) -> Result<Expr> {
    parser::parse(source)
}

/// Evaluate `expr` with the context's node as `.` and `current()`.
pub fn evaluate(expr: &Expr, ctx: &dyn EvalContext, env: &mut dyn Environment) -> Result<Value> {
    let mut ev = eval::Evaluator::new(ctx, env);
    let focus = ev.top_focus();
    ev.eval(expr, focus)
}

/// Evaluate with `.` set to `node` while `current()` and `${…}` keep the
/// context's node: how a choice filter sees each choice
/// (`instance` item children such as `province` by bare name, `${province}` from the field).
pub fn evaluate_at(
    expr: &Expr,
    ctx: &dyn EvalContext,
    env: &mut dyn Environment,
    node: NodeId,
) -> Result<Value> {
    let mut ev = eval::Evaluator::new(ctx, env);
    let focus = eval::Focus {
        node: Some(node),
        position: 0,
        size: 1,
    };
    ev.eval(expr, focus)
}

/// Every problem visible without evaluating: unknown functions, wrong argument
/// counts, invalid literal regular expressions (compiled once and kept for
/// evaluation), variables. References, paths and instance names depend on the
/// form; the checker resolves those with [`Expr::references`] and [`Expr::paths`].
pub fn static_problems(expr: &Expr) -> Vec<ExprError> {
    let mut problems = Vec::new();
    expr.walk(|e| match &e.kind {
        ExprKind::Call(call) => match call.function {
            None => problems.push(ExprError::new(
                ErrorKind::UnknownFunction,
                call.name_span,
                format!("unknown function `{}`", call.name),
            )),
            Some(function) => {
                if let Some(p) = functions::arity_problem(function, call, e.span) {
                    problems.push(p);
                } else if function == Function::Regex {
                    problems.extend(functions::literal_regex_problem(call));
                }
            }
        },
        ExprKind::Variable(name) => problems.push(ExprError::new(
            ErrorKind::Unsupported,
            e.span,
            format!("variables such as `${name}` are not supported; write `${{{name}}}` to refer to a field"),
        )),
        _ => {}
    });
    problems
}

/// Evaluate and convert with XPath `boolean()` (relevance, constraints, required).
pub fn evaluate_boolean(
    expr: &Expr,
    ctx: &dyn EvalContext,
    env: &mut dyn Environment,
) -> Result<bool> {
    Ok(evaluate(expr, ctx, env)?.to_boolean())
}

/// Evaluate and convert with XPath `string()` (calculations, defaults, labels).
pub fn evaluate_string(
    expr: &Expr,
    ctx: &dyn EvalContext,
    env: &mut dyn Environment,
) -> Result<String> {
    let v = evaluate(expr, ctx, env)?;
    Ok(v.to_string_value(ctx).into_owned())
}

/// Evaluate and convert with XPath `number()` (repeat counts, ranges).
pub fn evaluate_number(
    expr: &Expr,
    ctx: &dyn EvalContext,
    env: &mut dyn Environment,
) -> Result<f64> {
    let v = evaluate(expr, ctx, env)?;
    Ok(v.to_number(ctx))
}

#[cfg(test)]
mod tests;
