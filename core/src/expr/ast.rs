//! The syntax tree of an expression, as produced by [`parse`](super::parse).
//!
//! The tree is public so the form checker can walk it (references, paths and
//! calls, each with the byte span where it appears in the source). Operator
//! chains of equal precedence (`a + b - c`) are stored flat in
//! [`ExprKind::Chain`] rather than as nested binary nodes, so a 100,000-term
//! sum is a shallow tree that neither parsing, evaluation nor dropping can
//! overflow the stack on.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::functions::Function;

/// A byte range `start..end` in the expression source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// One expression node with its source span.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// What an expression node is.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A number literal (`3`, `.5`, `12.`).
    Number(f64),
    /// A string literal, quotes removed (XPath has no escapes).
    String(Arc<str>),
    /// An XLSForm reference `${name}` (name without `${` `}`).
    Reference(Arc<str>),
    /// An XPath variable `$name`; parsed so the error is clear, not supported at evaluation.
    Variable(Arc<str>),
    /// A location path or filter expression: `/data/x`, `../x`, `.`, `instance('l')/root/item[…]`.
    Path(Box<PathExpr>),
    /// Unary minus: `-x`.
    Negate(Box<Expr>),
    /// A left-associative chain of operators of one precedence level: `first op1 e1 op2 e2 …`.
    Chain {
        first: Box<Expr>,
        rest: Vec<ChainLink>,
    },
    /// A function call.
    Call(Box<Call>),
}

/// One `op operand` pair of a [`ExprKind::Chain`].
#[derive(Debug, Clone)]
pub struct ChainLink {
    pub op: BinaryOp,
    /// Where the operator itself is.
    pub op_span: Span,
    pub operand: Expr,
}

/// Binary operators, by XPath precedence (lowest first): `or`; `and`; `= !=`;
/// `< <= > >=`; `+ -`; `* div mod`; `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Union,
}

impl BinaryOp {
    /// The operator as written in XPath.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "div",
            BinaryOp::Mod => "mod",
            BinaryOp::Union => "|",
        }
    }

    /// Precedence level: operators of one level form one [`ExprKind::Chain`].
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::NotEq => 3,
            BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
            BinaryOp::Union => 7,
        }
    }
}

/// A function call such as `concat(a, b)` or `jr:choice-name(${x}, '${x}')`.
#[derive(Debug, Clone)]
pub struct Call {
    /// The name as written, prefix included (`jr:choice-name`).
    pub name: Arc<str>,
    pub name_span: Span,
    /// The built-in it names, if any; `None` is reported at evaluation (and by the checker).
    pub function: Option<Function>,
    pub args: Vec<Expr>,
    /// The compiled pattern when this is `regex(…)` with a literal pattern, built on first use.
    pub(crate) regex: RegexCache,
}

/// A lazily compiled regular expression kept next to the call that uses it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RegexCache(pub(crate) OnceLock<Result<regex::Regex, String>>);

/// A location path, optionally starting from a filter expression.
#[derive(Debug, Clone)]
pub struct PathExpr {
    pub start: PathStart,
    /// The steps after the start, in order.
    pub steps: Vec<Step>,
}

/// Where a path starts.
#[derive(Debug, Clone)]
pub enum PathStart {
    /// `/…`: the document root.
    Root,
    /// A relative path: the context node.
    Context,
    /// A filter expression: `instance('x')`, `${ref}`, `(…)`, `current()`, with optional predicates.
    Filter {
        expr: Box<Expr>,
        predicates: Vec<Expr>,
    },
}

/// One step of a location path: `axis::test[predicate]…`.
#[derive(Debug, Clone)]
pub struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
    pub span: Span,
}

/// The supported axes. Others (descendant, ancestor, attribute, sibling…) are
/// rejected at parse time: they have no meaning in a Voices response tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Child,
    /// `.` and `self::`.
    SelfNode,
    /// `..` and `parent::`.
    Parent,
}

/// What a step selects on its axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeTest {
    /// Elements with this name.
    Name(Arc<str>),
    /// `*`: any element.
    Any,
    /// `node()`: any node (used by `.` and `..`).
    Node,
}

/// A `${name}` reference found by [`Expr::references`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceSite<'a> {
    pub name: &'a str,
    pub span: Span,
}

/// A function call found by [`Expr::calls`].
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'a> {
    pub call: &'a Call,
    /// The span of the whole call, name to closing parenthesis.
    pub span: Span,
}

/// A path found by [`Expr::paths`].
#[derive(Debug, Clone, Copy)]
pub struct PathSite<'a> {
    pub path: &'a PathExpr,
    pub span: Span,
}

impl Expr {
    /// Visit every node of the tree, parents before children, without recursion.
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(&'a Expr)) {
        let mut stack: Vec<&'a Expr> = vec![self];
        while let Some(expr) = stack.pop() {
            visit(expr);
            let before = stack.len();
            match &expr.kind {
                ExprKind::Number(_)
                | ExprKind::String(_)
                | ExprKind::Reference(_)
                | ExprKind::Variable(_) => {}
                ExprKind::Negate(inner) => stack.push(inner),
                ExprKind::Chain { first, rest } => {
                    stack.push(first);
                    stack.extend(rest.iter().map(|link| &link.operand));
                }
                ExprKind::Call(call) => stack.extend(call.args.iter()),
                ExprKind::Path(path) => {
                    if let PathStart::Filter { expr, predicates } = &path.start {
                        stack.push(expr);
                        stack.extend(predicates.iter());
                    }
                    for step in &path.steps {
                        stack.extend(step.predicates.iter());
                    }
                }
            }
            // Keep source order: children were pushed left to right, pop them that way.
            stack[before..].reverse();
        }
    }

    /// Every `${name}` reference, in source order.
    pub fn references(&self) -> Vec<ReferenceSite<'_>> {
        let mut out = Vec::new();
        self.walk(|e| {
            if let ExprKind::Reference(name) = &e.kind {
                out.push(ReferenceSite { name, span: e.span });
            }
        });
        out
    }

    /// Every function call, in source order (outer calls before the calls in their arguments).
    pub fn calls(&self) -> Vec<CallSite<'_>> {
        let mut out = Vec::new();
        self.walk(|e| {
            if let ExprKind::Call(call) = &e.kind {
                out.push(CallSite { call, span: e.span });
            }
        });
        out
    }

    /// Every location path (`/data/x`, `../x`, `.`, `instance('l')/root/item`), in source order.
    pub fn paths(&self) -> Vec<PathSite<'_>> {
        let mut out = Vec::new();
        self.walk(|e| {
            if let ExprKind::Path(path) = &e.kind {
                out.push(PathSite { path, span: e.span });
            }
        });
        out
    }
}

/// Prints the expression back as XPath, normalised: one space around binary
/// operators, nested chains and negations in parentheses, string literals in
/// single quotes unless they contain one. Parsing the output gives the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Printing recurses once per nesting level, which the parser caps.
        match &self.kind {
            ExprKind::Number(n) => {
                if n.is_finite() {
                    f.write_str(&super::value::format_number(*n))
                } else {
                    // A literal too large for f64 parses as infinity; so does this one.
                    write!(f, "1{}", "0".repeat(310))
                }
            }
            ExprKind::String(s) => write_literal(f, s),
            ExprKind::Reference(name) => write!(f, "${{{name}}}"),
            ExprKind::Variable(name) => write!(f, "${name}"),
            ExprKind::Negate(inner) => {
                f.write_str("-")?;
                if let ExprKind::Negate(_) = inner.kind {
                    // `--x` needs no parentheses (which would count as nesting).
                    return write!(f, "{inner}");
                }
                // Unary minus binds tighter than `*` and looser than `|`:
                // `-a | b` is `-(a | b)`.
                write_operand(f, inner, 7, true)
            }
            ExprKind::Chain { first, rest } => {
                let level = rest.first().map_or(0, |l| l.op.precedence());
                write_operand(f, first, level, true)?;
                for link in rest {
                    write!(f, " {} ", link.op.symbol())?;
                    write_operand(f, &link.operand, level, false)?;
                }
                Ok(())
            }
            ExprKind::Call(call) => {
                write!(f, "{}(", call.name)?;
                for (i, arg) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            ExprKind::Path(path) => {
                match &path.start {
                    PathStart::Root => f.write_str("/")?,
                    PathStart::Context => {}
                    PathStart::Filter { expr, predicates } => {
                        write_operand(f, expr, 8, false)?;
                        write_predicates(f, predicates)?;
                        if !path.steps.is_empty() {
                            f.write_str("/")?;
                        }
                    }
                }
                for (i, step) in path.steps.iter().enumerate() {
                    if i > 0 {
                        f.write_str("/")?;
                    }
                    match (step.axis, &step.test) {
                        (Axis::SelfNode, NodeTest::Node) => f.write_str(".")?,
                        (Axis::Parent, NodeTest::Node) => f.write_str("..")?,
                        (axis, test) => {
                            match axis {
                                Axis::Child => {}
                                Axis::SelfNode => f.write_str("self::")?,
                                Axis::Parent => f.write_str("parent::")?,
                            }
                            match test {
                                NodeTest::Name(n) => f.write_str(n)?,
                                NodeTest::Any => f.write_str("*")?,
                                NodeTest::Node => f.write_str("node()")?,
                            }
                        }
                    }
                    write_predicates(f, &step.predicates)?;
                }
                Ok(())
            }
        }
    }
}

/// An operand of an operator at precedence `level` (8 for the start of a
/// filter expression): in parentheses when printing it bare would regroup it.
/// Parentheses are only added where the source must have had them, so printing
/// never nests deeper than the parser accepts.
fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, level: u8, first: bool) -> fmt::Result {
    if let ExprKind::Path(path) = &e.kind {
        if level < 8 && matches!(path.start, PathStart::Root) && path.steps.is_empty() {
            // A bare `/` before `*` or `div` would read as a path (`/*`, `/div`).
            return f.write_str("/.");
        }
    }
    let compound = match &e.kind {
        ExprKind::Chain { rest, .. } => {
            let own = rest.first().map_or(0, |l| l.op.precedence());
            own < level || (own == level && !first)
        }
        // `-x` may stand anywhere a `*` operand may; not inside `|` or a filter.
        ExprKind::Negate(_) => level >= 7,
        // A filter's start needs them before `[` or `/step`.
        ExprKind::Path(_) => level == 8,
        _ => false,
    };
    if compound {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn write_predicates(f: &mut fmt::Formatter<'_>, predicates: &[Expr]) -> fmt::Result {
    for p in predicates {
        write!(f, "[{p}]")?;
    }
    Ok(())
}

fn write_literal(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if s.contains('\'') {
        write!(f, "\"{s}\"")
    } else {
        write!(f, "'{s}'")
    }
}
