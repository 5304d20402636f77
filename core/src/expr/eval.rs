//! The evaluator: walks a parsed [`Expr`] against an [`EvalContext`].

use std::cmp::Ordering;

use crate::env::Environment;

use super::ast::{Axis, BinaryOp, ChainLink, Expr, ExprKind, NodeTest, PathExpr, PathStart};
use super::context::{EvalContext, NodeId};
use super::value::{string_to_number, Value};
use super::{ErrorKind, ExprError};

/// The focus of evaluation: the context node, its position and the size of its node-set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Focus {
    pub node: Option<NodeId>,
    /// 1-based position inside a predicate; 0 outside predicates, where
    /// `position()` is the context node's own position (its repeat instance number).
    pub position: usize,
    pub size: usize,
}

pub(crate) struct Evaluator<'a> {
    pub ctx: &'a dyn EvalContext,
    pub env: &'a mut dyn Environment,
    /// `current()`: the node the whole expression belongs to.
    pub current: Option<NodeId>,
}

impl<'a> Evaluator<'a> {
    pub fn new(ctx: &'a dyn EvalContext, env: &'a mut dyn Environment) -> Evaluator<'a> {
        let current = ctx.context_node();
        Evaluator { ctx, env, current }
    }

    pub fn top_focus(&self) -> Focus {
        Focus {
            node: self.current,
            position: 0,
            size: 1,
        }
    }

    pub fn eval(&mut self, expr: &Expr, focus: Focus) -> Result<Value, ExprError> {
        match &expr.kind {
            ExprKind::Number(n) => Ok(Value::Number(*n)),
            ExprKind::String(s) => Ok(Value::String(s.clone())),
            ExprKind::Reference(name) => {
                let mut nodes = Vec::new();
                if self.ctx.resolve_reference(name, self.current, &mut nodes) {
                    Ok(Value::Nodes(nodes))
                } else {
                    Err(ExprError::new(
                        ErrorKind::UnknownReference,
                        expr.span,
                        format!("`${{{name}}}` does not name a field of this form"),
                    ))
                }
            }
            ExprKind::Variable(name) => Err(ExprError::new(
                ErrorKind::Unsupported,
                expr.span,
                format!("variables such as `${name}` are not supported; write `${{{name}}}` to refer to a field"),
            )),
            ExprKind::Negate(inner) => {
                let v = self.eval(inner, focus)?;
                Ok(Value::Number(-v.to_number(self.ctx)))
            }
            ExprKind::Chain { first, rest } => self.chain(first, rest, focus),
            ExprKind::Call(call) => super::functions::call(self, call, expr.span, focus),
            ExprKind::Path(path) => self.path(path, focus).map(Value::Nodes),
        }
    }

    fn chain(
        &mut self,
        first: &Expr,
        rest: &[ChainLink],
        focus: Focus,
    ) -> Result<Value, ExprError> {
        let Some(head) = rest.first() else {
            return self.eval(first, focus);
        };
        match head.op {
            BinaryOp::Or | BinaryOp::And => {
                let want = head.op == BinaryOp::Or;
                // `a or b or c`: stop at the first operand that decides the result.
                if self.eval(first, focus)?.to_boolean() == want {
                    return Ok(Value::Boolean(want));
                }
                for link in rest {
                    if self.eval(&link.operand, focus)?.to_boolean() == want {
                        return Ok(Value::Boolean(want));
                    }
                }
                Ok(Value::Boolean(!want))
            }
            BinaryOp::Union => {
                let mut acc = self.node_operand(first, focus)?;
                for link in rest {
                    acc.extend(self.node_operand(&link.operand, focus)?);
                }
                acc.sort_unstable();
                acc.dedup();
                Ok(Value::Nodes(acc))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                let mut acc = self.eval(first, focus)?.to_number(self.ctx);
                for link in rest {
                    let rhs = self.eval(&link.operand, focus)?.to_number(self.ctx);
                    acc = arithmetic(link.op, acc, rhs);
                }
                Ok(Value::Number(acc))
            }
            _ => {
                let mut acc = self.eval(first, focus)?;
                for link in rest {
                    let rhs = self.eval(&link.operand, focus)?;
                    acc = Value::Boolean(compare(self.ctx, link.op, &acc, &rhs));
                }
                Ok(acc)
            }
        }
    }

    fn node_operand(&mut self, expr: &Expr, focus: Focus) -> Result<Vec<NodeId>, ExprError> {
        match self.eval(expr, focus)? {
            Value::Nodes(n) => Ok(n),
            other => Err(ExprError::new(
                ErrorKind::Type,
                expr.span,
                format!("`|` joins node-sets, but this is a {}", other.type_name()),
            )),
        }
    }

    pub fn path(&mut self, path: &PathExpr, focus: Focus) -> Result<Vec<NodeId>, ExprError> {
        let mut nodes = match &path.start {
            PathStart::Root => self.ctx.root().into_iter().collect(),
            PathStart::Context => focus.node.into_iter().collect(),
            PathStart::Filter { expr, predicates } => {
                let nodes = match self.eval(expr, focus)? {
                    Value::Nodes(n) => n,
                    other => {
                        return Err(ExprError::new(
                            ErrorKind::Type,
                            expr.span,
                            format!(
                                "a path or predicate needs a node-set here, but this is a {}",
                                other.type_name()
                            ),
                        ))
                    }
                };
                self.filter(nodes, predicates)?
            }
        };
        let mut next = Vec::new();
        for step in &path.steps {
            // `.` keeps the node-set as it is: no copy.
            if step.axis == Axis::SelfNode
                && step.test == NodeTest::Node
                && step.predicates.is_empty()
            {
                continue;
            }
            next.clear();
            for &node in &nodes {
                let from = next.len();
                match step.axis {
                    Axis::Child => {
                        let name = match &step.test {
                            NodeTest::Name(n) => Some(&**n),
                            NodeTest::Any | NodeTest::Node => None,
                        };
                        self.ctx.children(node, name, &mut next);
                    }
                    Axis::SelfNode => {
                        if self.matches(node, &step.test) {
                            next.push(node);
                        }
                    }
                    Axis::Parent => {
                        if let Some(p) = self.ctx.parent(node) {
                            if self.matches(p, &step.test) {
                                next.push(p);
                            }
                        }
                    }
                }
                if !step.predicates.is_empty() {
                    // Predicate positions count within this node's own step result.
                    let selected = self.filter(next.split_off(from), &step.predicates)?;
                    next.extend(selected);
                }
            }
            if nodes.len() > 1 {
                next.sort_unstable();
                next.dedup();
            }
            std::mem::swap(&mut nodes, &mut next);
        }
        Ok(nodes)
    }

    fn matches(&self, node: NodeId, test: &NodeTest) -> bool {
        match test {
            NodeTest::Node | NodeTest::Any => true,
            NodeTest::Name(n) => self.ctx.name(node) == **n,
        }
    }

    /// Keep the nodes every predicate accepts, each predicate seeing the survivors of the last.
    pub fn filter(
        &mut self,
        mut nodes: Vec<NodeId>,
        predicates: &[Expr],
    ) -> Result<Vec<NodeId>, ExprError> {
        for predicate in predicates {
            let size = nodes.len();
            let mut kept = Vec::with_capacity(size);
            for (i, &node) in nodes.iter().enumerate() {
                let inner = Focus {
                    node: Some(node),
                    position: i + 1,
                    size,
                };
                let keep = match self.eval(predicate, inner)? {
                    Value::Number(n) => n == (i + 1) as f64,
                    other => other.to_boolean(),
                };
                if keep {
                    kept.push(node);
                }
            }
            nodes = kept;
        }
        Ok(nodes)
    }
}

fn arithmetic(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        // XPath `mod` truncates like Java/JS `%`, which Rust's `%` on f64 matches.
        BinaryOp::Mod => a % b,
        _ => f64::NAN,
    }
}

/// XPath 1.0 comparison (§3.4), including node-set semantics: a comparison
/// with a node-set holds if it holds for some node.
pub(crate) fn compare(ctx: &dyn EvalContext, op: BinaryOp, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nodes(left), Value::Nodes(right)) => {
            if is_equality(op) {
                left.iter().any(|&l| {
                    let lv = ctx.value(l);
                    right
                        .iter()
                        .any(|&r| (*lv == *ctx.value(r)) == (op == BinaryOp::Eq))
                })
            } else {
                left.iter().any(|&l| {
                    let ln = string_to_number(&ctx.value(l));
                    right
                        .iter()
                        .any(|&r| relational(op, ln, string_to_number(&ctx.value(r))))
                })
            }
        }
        (Value::Nodes(nodes), other) => compare_nodes_with(ctx, op, nodes, other, false),
        (other, Value::Nodes(nodes)) => compare_nodes_with(ctx, op, nodes, other, true),
        _ => compare_atomic(ctx, op, a, b),
    }
}

fn is_equality(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::Eq | BinaryOp::NotEq)
}

fn compare_nodes_with(
    ctx: &dyn EvalContext,
    op: BinaryOp,
    nodes: &[NodeId],
    other: &Value,
    nodes_on_right: bool,
) -> bool {
    if let Value::Boolean(_) = other {
        let as_bool = Value::Boolean(!nodes.is_empty());
        return if nodes_on_right {
            compare_atomic(ctx, op, other, &as_bool)
        } else {
            compare_atomic(ctx, op, &as_bool, other)
        };
    }
    // Each node's value is compared as a string without copying it.
    let op = if nodes_on_right { mirror(op) } else { op };
    match other {
        Value::String(s) if is_equality(op) => nodes
            .iter()
            .any(|&n| (*ctx.value(n) == **s) == (op == BinaryOp::Eq)),
        _ if is_equality(op) => {
            let n = other.to_number(ctx);
            nodes.iter().any(|&node| {
                numbers_equal(string_to_number(&ctx.value(node)), n) == (op == BinaryOp::Eq)
            })
        }
        _ => {
            let n = other.to_number(ctx);
            nodes
                .iter()
                .any(|&node| relational(op, string_to_number(&ctx.value(node)), n))
        }
    }
}

/// The operator that gives the same result with the operands swapped.
fn mirror(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        other => other,
    }
}

fn compare_atomic(ctx: &dyn EvalContext, op: BinaryOp, a: &Value, b: &Value) -> bool {
    if is_equality(op) {
        let equal = match (a, b) {
            (Value::Boolean(_), _) | (_, Value::Boolean(_)) => a.to_boolean() == b.to_boolean(),
            (Value::Number(_) | Value::Date(_) | Value::DateTime(_), _)
            | (_, Value::Number(_) | Value::Date(_) | Value::DateTime(_)) => {
                numbers_equal(a.to_number(ctx), b.to_number(ctx))
            }
            _ => a.to_string_value(ctx) == b.to_string_value(ctx),
        };
        return equal == (op == BinaryOp::Eq);
    }
    relational(op, a.to_number(ctx), b.to_number(ctx))
}

/// Number equality with JavaRosa's tolerance, so `6.1 - 7.8 = -1.7` holds as a form designer expects.
fn numbers_equal(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() < 1e-12
}

fn relational(op: BinaryOp, a: f64, b: f64) -> bool {
    match a.partial_cmp(&b) {
        None => false,
        Some(ord) => match op {
            BinaryOp::Lt => ord == Ordering::Less,
            BinaryOp::LtEq => ord != Ordering::Greater,
            BinaryOp::Gt => ord == Ordering::Greater,
            BinaryOp::GtEq => ord != Ordering::Less,
            BinaryOp::Eq => ord == Ordering::Equal,
            BinaryOp::NotEq => ord != Ordering::Equal,
            _ => false,
        },
    }
}
