//! A call's arguments as the implementations read them (each evaluated once,
//! converted on demand), and the small constructors every family shares.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{FixedOffset, Offset};

use crate::expr::ast::{Call, Expr, Span};
use crate::expr::context::NodeId;
use crate::expr::eval::{Evaluator, Focus};
use crate::expr::value::Value;
use crate::expr::{ErrorKind, ExprError};

pub(super) fn err(kind: ErrorKind, span: Span, message: impl Into<String>) -> ExprError {
    ExprError::new(kind, span, message)
}

pub(super) struct Args<'e, 'a, 'b> {
    pub(super) ev: &'e mut Evaluator<'a>,
    pub(super) call: &'b Call,
    pub(super) focus: Focus,
    /// Arguments evaluated before dispatch; `None` ones are evaluated on demand.
    pub(super) values: Vec<Option<Value>>,
}

impl Args<'_, '_, '_> {
    pub(super) fn len(&self) -> usize {
        self.call.args.len()
    }

    pub(super) fn expr(&self, i: usize) -> &Expr {
        &self.call.args[i]
    }

    /// Argument `i`; each argument is read once.
    pub(super) fn value(&mut self, i: usize) -> Result<Value, ExprError> {
        if let Some(v) = self.values.get_mut(i).and_then(Option::take) {
            return Ok(v);
        }
        let focus = self.focus;
        self.ev.eval(&self.call.args[i], focus)
    }

    /// Argument `i` as a string, borrowed from its value (no copy for literals
    /// and node values). Arguments are evaluated before `apply` runs, so this
    /// only reads; an argument already taken by [`Args::value`] reads as "".
    pub(super) fn str(&self, i: usize) -> Cow<'_, str> {
        match self.values.get(i).and_then(Option::as_ref) {
            Some(v) => v.to_string_value(self.ev.ctx),
            None => Cow::Borrowed(""),
        }
    }

    pub(super) fn string(&mut self, i: usize) -> Result<String, ExprError> {
        let v = self.value(i)?;
        Ok(v.to_string_value(self.ev.ctx).into_owned())
    }

    pub(super) fn number(&mut self, i: usize) -> Result<f64, ExprError> {
        let v = self.value(i)?;
        Ok(v.to_number(self.ev.ctx))
    }

    pub(super) fn boolean(&mut self, i: usize) -> Result<bool, ExprError> {
        Ok(self.value(i)?.to_boolean())
    }

    pub(super) fn nodes(&mut self, i: usize, what: &str) -> Result<Vec<NodeId>, ExprError> {
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
    pub(super) fn strings_of(&mut self, i: usize, out: &mut Vec<String>) -> Result<(), ExprError> {
        match self.value(i)? {
            Value::Nodes(nodes) => {
                out.extend(nodes.iter().map(|&n| self.ev.ctx.value(n).into_owned()));
            }
            other => out.push(other.to_string_value(self.ev.ctx).into_owned()),
        }
        Ok(())
    }

    pub(super) fn local_offset(&self) -> FixedOffset {
        self.ev.env.now().offset().fix()
    }

    pub(super) fn span(&self) -> Span {
        self.call.name_span
    }
}

pub(super) fn num(n: f64) -> Value {
    Value::Number(n)
}

pub(super) fn text(s: impl Into<Arc<str>>) -> Value {
    Value::String(s.into())
}

/// An argument as a list of values: each node's value of a node-set, else the value itself.
pub(super) fn flatten(a: &mut Args<'_, '_, '_>, i: usize) -> Result<Vec<Value>, ExprError> {
    Ok(match a.value(i)? {
        Value::Nodes(nodes) => nodes.iter().map(|&n| text(&*a.ev.ctx.value(n))).collect(),
        other => vec![other],
    })
}
