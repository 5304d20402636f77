//! Recursive-descent parser for XPath 1.0 with XLSForm `${name}` references.
//!
//! Chains of one precedence level are parsed with loops, so only real nesting
//! (parentheses, arguments, predicates, unary minus) uses the stack; that is
//! capped at [`MAX_NESTING`].

use std::sync::Arc;

use super::ast::{
    Axis, BinaryOp, Call, ChainLink, Expr, ExprKind, NodeTest, PathExpr, PathStart, RegexCache,
    Span, Step,
};
use super::functions::Function;
use super::lexer::{tokenize, Tok, Token};
use super::{ErrorKind, ExprError};

/// The deepest nesting of parentheses, calls, predicates and unary minus accepted.
///
/// Real forms nest a few levels; 128 keeps parsing and evaluation well inside a
/// 2 MiB thread stack even in unoptimised builds.
pub const MAX_NESTING: usize = 128;

pub(crate) fn parse(src: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(src)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.expr()?;
    let next = parser.peek();
    if next.tok != Tok::Eof {
        let message = match next.tok {
            Tok::RParen => "unexpected `)`: no `(` is open here".to_owned(),
            Tok::RBracket => "unexpected `]`: no `[` is open here".to_owned(),
            _ => format!(
                "expected an operator or the end of the expression, found {}",
                next.tok.describe()
            ),
        };
        return Err(ExprError::new(ErrorKind::Syntax, next.span, message));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn enter(&mut self, span: Span) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(ExprError::new(
                ErrorKind::TooDeep,
                span,
                format!("expression nested more than {MAX_NESTING} levels deep"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.binary(1)
    }

    fn binary_op(tok: &Tok) -> Option<BinaryOp> {
        Some(match tok {
            Tok::Or => BinaryOp::Or,
            Tok::And => BinaryOp::And,
            Tok::Eq => BinaryOp::Eq,
            Tok::NotEq => BinaryOp::NotEq,
            Tok::Lt => BinaryOp::Lt,
            Tok::LtEq => BinaryOp::LtEq,
            Tok::Gt => BinaryOp::Gt,
            Tok::GtEq => BinaryOp::GtEq,
            Tok::Plus => BinaryOp::Add,
            Tok::Minus => BinaryOp::Sub,
            Tok::Multiply => BinaryOp::Mul,
            Tok::Div => BinaryOp::Div,
            Tok::Mod => BinaryOp::Mod,
            _ => return None,
        })
    }

    /// Precedence climbing over `or` … `* div mod`. Operators of one level
    /// collect into a single flat chain, so `1+1+…` needs no recursion.
    fn binary(&mut self, min_precedence: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        while let Some(op) = Self::binary_op(&self.peek().tok) {
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            let op_span = self.bump().span;
            let rhs = self.binary(precedence + 1)?;
            lhs = append_link(lhs, op, op_span, rhs);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek().tok == Tok::Minus {
            let start = self.bump().span;
            self.enter(start)?;
            let inner = self.unary();
            self.leave();
            let inner = inner?;
            let span = start.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Negate(Box::new(inner)),
                span,
            });
        }
        self.union()
    }

    fn union(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.path_expr()?;
        while self.peek().tok == Tok::Pipe {
            let op_span = self.bump().span;
            let rhs = self.path_expr()?;
            lhs = append_link(lhs, BinaryOp::Union, op_span, rhs);
        }
        Ok(lhs)
    }

    fn path_expr(&mut self) -> Result<Expr, ExprError> {
        let token = self.peek().clone();
        let start_span = token.span;
        match &token.tok {
            Tok::Slash => {
                self.bump();
                let mut steps = Vec::new();
                // A lone `/` is the root; otherwise a relative path follows.
                if self.starts_step() {
                    self.relative_steps(&mut steps)?;
                }
                Ok(self.path(PathStart::Root, steps, start_span))
            }
            Tok::DoubleSlash => Err(unsupported(
                start_span,
                "`//` (descendant search) is not supported; write the full path",
            )),
            _ if self.starts_step() => {
                let mut steps = Vec::new();
                self.relative_steps(&mut steps)?;
                Ok(self.path(PathStart::Context, steps, start_span))
            }
            _ => {
                let primary = self.primary()?;
                let mut predicates = Vec::new();
                self.predicates(&mut predicates)?;
                let mut steps = Vec::new();
                match self.peek().tok {
                    Tok::Slash => {
                        self.bump();
                        self.relative_steps(&mut steps)?;
                    }
                    Tok::DoubleSlash => {
                        return Err(unsupported(
                            self.peek().span,
                            "`//` (descendant search) is not supported; write the full path",
                        ))
                    }
                    _ => {}
                }
                if predicates.is_empty() && steps.is_empty() {
                    return Ok(primary);
                }
                Ok(self.path(
                    PathStart::Filter {
                        expr: Box::new(primary),
                        predicates,
                    },
                    steps,
                    start_span,
                ))
            }
        }
    }

    fn path(&self, start: PathStart, steps: Vec<Step>, start_span: Span) -> Expr {
        let end = self.tokens[self.pos.saturating_sub(1)]
            .span
            .end
            .max(start_span.end);
        Expr {
            kind: ExprKind::Path(Box::new(PathExpr { start, steps })),
            span: Span::new(start_span.start, end),
        }
    }

    /// Whether the next token begins a location step (and not a function call).
    fn starts_step(&self) -> bool {
        match &self.peek().tok {
            Tok::Dot | Tok::DotDot | Tok::At | Tok::Star | Tok::PrefixWildcard => true,
            Tok::Name(_) => {
                // `name(` is a call unless it is a node-type test; `name::` is an axis.
                match self.peek_at(1) {
                    Tok::LParen => matches!(
                        &self.peek().tok,
                        Tok::Name(n) if is_node_type(n)
                    ),
                    _ => true,
                }
            }
            _ => false,
        }
    }

    fn relative_steps(&mut self, steps: &mut Vec<Step>) -> Result<(), ExprError> {
        loop {
            steps.push(self.step()?);
            match self.peek().tok {
                Tok::Slash => {
                    self.bump();
                }
                Tok::DoubleSlash => {
                    return Err(unsupported(
                        self.peek().span,
                        "`//` (descendant search) is not supported; write the full path",
                    ))
                }
                _ => return Ok(()),
            }
        }
    }

    fn step(&mut self) -> Result<Step, ExprError> {
        let token = self.bump();
        let start = token.span;
        let (axis, test) = match token.tok {
            Tok::Dot => (Axis::SelfNode, NodeTest::Node),
            Tok::DotDot => (Axis::Parent, NodeTest::Node),
            Tok::At => {
                return Err(unsupported(
                    start,
                    "attributes (`@name`) are not supported in Voices forms",
                ))
            }
            Tok::Star => (Axis::Child, NodeTest::Any),
            Tok::PrefixWildcard => {
                return Err(unsupported(
                    start,
                    "namespace wildcards (`prefix:*`) are not supported",
                ))
            }
            Tok::Name(name) => {
                if self.peek().tok == Tok::ColonColon {
                    self.bump();
                    let axis = match &*name {
                        "child" => Axis::Child,
                        "self" => Axis::SelfNode,
                        "parent" => Axis::Parent,
                        other => {
                            return Err(unsupported(
                                start,
                                format!("the `{other}::` axis is not supported (only child, self and parent)"),
                            ))
                        }
                    };
                    let test_token = self.bump();
                    let test = match test_token.tok {
                        Tok::Star => NodeTest::Any,
                        Tok::Name(n) => self.name_test(n, test_token.span)?,
                        other => {
                            return Err(ExprError::new(
                                ErrorKind::Syntax,
                                test_token.span,
                                format!(
                                    "expected a name after `{name}::`, found {}",
                                    other.describe()
                                ),
                            ))
                        }
                    };
                    (axis, test)
                } else {
                    (Axis::Child, self.name_test(name, start)?)
                }
            }
            other => {
                return Err(ExprError::new(
                    ErrorKind::Syntax,
                    start,
                    format!(
                        "expected a path step (a name, `.` or `..`), found {}",
                        other.describe()
                    ),
                ))
            }
        };
        let mut predicates = Vec::new();
        self.predicates(&mut predicates)?;
        let end = self.tokens[self.pos.saturating_sub(1)].span.end;
        Ok(Step {
            axis,
            test,
            predicates,
            span: Span::new(start.start, end.max(start.end)),
        })
    }

    fn name_test(&mut self, name: Arc<str>, span: Span) -> Result<NodeTest, ExprError> {
        if self.peek().tok == Tok::LParen && is_node_type(&name) {
            self.bump();
            let close = self.bump();
            if close.tok != Tok::RParen {
                return Err(ExprError::new(
                    ErrorKind::Syntax,
                    close.span,
                    format!("expected `)` after `{name}(`"),
                ));
            }
            if &*name == "node" {
                return Ok(NodeTest::Node);
            }
            return Err(unsupported(
                span,
                format!("the `{name}()` node test is not supported (form data has only elements)"),
            ));
        }
        // A prefixed name (`fuel:diesel`, OpenStreetMap's tags as choice properties) is
        // matched as written: form data has no namespaces to resolve a prefix in.
        Ok(NodeTest::Name(name))
    }

    fn predicates(&mut self, out: &mut Vec<Expr>) -> Result<(), ExprError> {
        while self.peek().tok == Tok::LBracket {
            let open = self.bump().span;
            self.enter(open)?;
            let inner = self.expr();
            self.leave();
            let inner = inner?;
            let close = self.bump();
            if close.tok != Tok::RBracket {
                return Err(ExprError::new(
                    ErrorKind::Syntax,
                    close.span,
                    format!(
                        "expected `]` to close the predicate opened at {}, found {}",
                        open.start,
                        close.tok.describe()
                    ),
                ));
            }
            out.push(inner);
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let token = self.bump();
        let span = token.span;
        let kind = match token.tok {
            Tok::Number(n) => ExprKind::Number(n),
            Tok::Str(s) => ExprKind::String(s),
            Tok::Reference(name) => ExprKind::Reference(name),
            Tok::Variable(name) => ExprKind::Variable(name),
            Tok::LParen => {
                self.enter(span)?;
                let inner = self.expr();
                self.leave();
                let inner = inner?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return Err(ExprError::new(
                        ErrorKind::Syntax,
                        close.span,
                        format!(
                            "expected `)` to close the `(` opened at {}, found {}",
                            span.start,
                            close.tok.describe()
                        ),
                    ));
                }
                // Keep the parenthesised span so messages point at the whole group.
                return Ok(Expr {
                    kind: inner.kind,
                    span: Span::new(span.start, close.span.end),
                });
            }
            Tok::Name(name) if self.peek().tok == Tok::LParen => return self.call(name, span),
            other => {
                return Err(ExprError::new(
                    ErrorKind::Syntax,
                    span,
                    match other {
                        Tok::Eof => "the expression ends where a value was expected".to_owned(),
                        other => format!("expected a value, found {}", other.describe()),
                    },
                ))
            }
        };
        Ok(Expr { kind, span })
    }

    fn call(&mut self, name: Arc<str>, name_span: Span) -> Result<Expr, ExprError> {
        let open = self.bump().span;
        self.enter(open)?;
        let result = self.call_args(&name, name_span);
        self.leave();
        let (args, end) = result?;
        let function = Function::lookup(&name);
        Ok(Expr {
            kind: ExprKind::Call(Box::new(Call {
                name,
                name_span,
                function,
                args,
                regex: RegexCache::default(),
            })),
            span: Span::new(name_span.start, end),
        })
    }

    fn call_args(&mut self, name: &str, name_span: Span) -> Result<(Vec<Expr>, usize), ExprError> {
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            return Ok((args, self.bump().span.end));
        }
        loop {
            args.push(self.expr()?);
            let next = self.bump();
            match next.tok {
                Tok::Comma => continue,
                Tok::RParen => return Ok((args, next.span.end)),
                other => {
                    return Err(ExprError::new(
                        ErrorKind::Syntax,
                        next.span,
                        format!(
                        "expected `,` or `)` to close the call to `{name}` opened at {}, found {}",
                        name_span.start,
                        other.describe()
                    ),
                    ))
                }
            }
        }
    }
}

/// `lhs op rhs`, extending `lhs` when it already is a chain of the same level
/// (left associativity makes `(a - b) - c` and `a - b - c` the same chain).
fn append_link(lhs: Expr, op: BinaryOp, op_span: Span, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    let link = ChainLink {
        op,
        op_span,
        operand: rhs,
    };
    match lhs.kind {
        ExprKind::Chain { first, mut rest }
            if rest
                .first()
                .is_some_and(|l| l.op.precedence() == op.precedence()) =>
        {
            rest.push(link);
            Expr {
                kind: ExprKind::Chain { first, rest },
                span,
            }
        }
        kind => Expr {
            kind: ExprKind::Chain {
                first: Box::new(Expr {
                    kind,
                    span: lhs.span,
                }),
                rest: vec![link],
            },
            span,
        },
    }
}

fn is_node_type(name: &str) -> bool {
    matches!(name, "node" | "text" | "comment" | "processing-instruction")
}

fn unsupported(span: Span, message: impl Into<String>) -> ExprError {
    ExprError::new(ErrorKind::Unsupported, span, message)
}
