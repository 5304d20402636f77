//! Splits an expression into tokens, applying XPath's rules for telling the
//! multiply operator from the `*` name test and `and`/`or`/`div`/`mod` from names.

use std::sync::Arc;

use super::ast::Span;
use super::{ErrorKind, ExprError};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Number(f64),
    Str(Arc<str>),
    /// `${name}`
    Reference(Arc<str>),
    /// `$name`
    Variable(Arc<str>),
    /// An NCName or QName (`prefix:local`).
    Name(Arc<str>),
    /// `prefix:*`
    PrefixWildcard,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Slash,
    DoubleSlash,
    Dot,
    DotDot,
    At,
    ColonColon,
    Pipe,
    Plus,
    Minus,
    /// `*` as a name test.
    Star,
    /// `*` as multiplication.
    Multiply,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
    Div,
    Mod,
    Eof,
}

impl Tok {
    /// Whether a following `*` or name must be read as an operator (XPath 1.0 §3.7).
    fn makes_next_operator(&self) -> bool {
        !matches!(
            self,
            Tok::At
                | Tok::ColonColon
                | Tok::LParen
                | Tok::LBracket
                | Tok::Comma
                | Tok::Slash
                | Tok::DoubleSlash
                | Tok::Pipe
                | Tok::Plus
                | Tok::Minus
                | Tok::Multiply
                | Tok::Eq
                | Tok::NotEq
                | Tok::Lt
                | Tok::LtEq
                | Tok::Gt
                | Tok::GtEq
                | Tok::And
                | Tok::Or
                | Tok::Div
                | Tok::Mod
        )
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Number(n) => format!("number {n}"),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Reference(name) => format!("`${{{name}}}`"),
            Tok::Variable(name) => format!("`${name}`"),
            Tok::Name(name) => format!("`{name}`"),
            Tok::PrefixWildcard => "a prefixed `*`".to_owned(),
            Tok::Eof => "the end of the expression".to_owned(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Slash => "/",
            Tok::DoubleSlash => "//",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::At => "@",
            Tok::ColonColon => "::",
            Tok::Pipe => "|",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star | Tok::Multiply => "*",
            Tok::Eq => "=",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::LtEq => "<=",
            Tok::Gt => ">",
            Tok::GtEq => ">=",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Div => "div",
            Tok::Mod => "mod",
            _ => "?",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.') || (!c.is_ascii() && !c.is_whitespace())
}

/// Tokenize the whole source; the last token is always [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = src.as_bytes();
    let mut out: Vec<Token> = Vec::with_capacity(src.len() / 2 + 1);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        let start = i;
        let operator_context = out.last().is_some_and(|t| t.tok.makes_next_operator());
        let tok = match c {
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b'[' => {
                i += 1;
                Tok::LBracket
            }
            b']' => {
                i += 1;
                Tok::RBracket
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'@' => {
                i += 1;
                Tok::At
            }
            b'|' => {
                i += 1;
                Tok::Pipe
            }
            b'+' => {
                i += 1;
                Tok::Plus
            }
            b'-' => {
                i += 1;
                Tok::Minus
            }
            b'=' => {
                i += 1;
                Tok::Eq
            }
            b'*' => {
                i += 1;
                if operator_context {
                    Tok::Multiply
                } else {
                    Tok::Star
                }
            }
            b'/' => {
                if bytes.get(i + 1) == Some(&b'/') {
                    i += 2;
                    Tok::DoubleSlash
                } else {
                    i += 1;
                    Tok::Slash
                }
            }
            b'!' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::NotEq
                } else {
                    return Err(ExprError::new(
                        ErrorKind::Syntax,
                        Span::new(i, i + 1),
                        "`!` must be followed by `=` (use `not(…)` for negation)",
                    ));
                }
            }
            b'<' | b'>' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                i += if eq { 2 } else { 1 };
                match (c, eq) {
                    (b'<', false) => Tok::Lt,
                    (b'<', true) => Tok::LtEq,
                    (_, false) => Tok::Gt,
                    (_, true) => Tok::GtEq,
                }
            }
            b':' => {
                if bytes.get(i + 1) == Some(&b':') {
                    i += 2;
                    Tok::ColonColon
                } else {
                    return Err(ExprError::new(
                        ErrorKind::Syntax,
                        Span::new(i, i + 1),
                        "unexpected `:` (a prefix must be written right before a name, as in `jr:choice-name`)",
                    ));
                }
            }
            b'\'' | b'"' => {
                let close = src[i + 1..].find(c as char).ok_or_else(|| {
                    ExprError::new(
                        ErrorKind::Syntax,
                        Span::new(i, src.len()),
                        format!(
                            "string opened at {i} is never closed (expected a closing {})",
                            c as char
                        ),
                    )
                })?;
                let text = &src[i + 1..i + 1 + close];
                i += close + 2;
                Tok::Str(Arc::from(text))
            }
            b'$' => {
                if bytes.get(i + 1) == Some(&b'{') {
                    let close = src[i + 2..].find('}').ok_or_else(|| {
                        ExprError::new(
                            ErrorKind::Syntax,
                            Span::new(i, src.len()),
                            format!("reference `${{` opened at {i} is never closed with `}}`"),
                        )
                    })?;
                    let name = src[i + 2..i + 2 + close].trim();
                    let span = Span::new(i, i + 3 + close);
                    if name.is_empty()
                        || !name.chars().next().is_some_and(is_name_start)
                        || !name.chars().all(is_name_char)
                    {
                        return Err(ExprError::new(
                            ErrorKind::Syntax,
                            span,
                            format!("`${{{name}}}` is not a valid field reference (expected `${{name}}` with a field name)"),
                        ));
                    }
                    i += 3 + close;
                    Tok::Reference(Arc::from(name))
                } else {
                    let rest = &src[i + 1..];
                    let len = name_len(rest);
                    if len == 0 {
                        return Err(ExprError::new(
                            ErrorKind::Syntax,
                            Span::new(i, i + 1),
                            "`$` must start a reference `${name}`",
                        ));
                    }
                    i += 1 + len;
                    Tok::Variable(Arc::from(&rest[..len]))
                }
            }
            b'0'..=b'9' | b'.' => {
                let digits_start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let int_len = i - digits_start;
                if c == b'.' && int_len == 0 {
                    // `.`, `..` or `.5`
                    if bytes.get(i + 1) == Some(&b'.') {
                        i += 2;
                        out.push(Token {
                            tok: Tok::DotDot,
                            span: Span::new(start, i),
                        });
                        continue;
                    }
                    if !bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()) {
                        i += 1;
                        out.push(Token {
                            tok: Tok::Dot,
                            span: Span::new(start, i),
                        });
                        continue;
                    }
                }
                if bytes.get(i) == Some(&b'.') {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let text = &src[start..i];
                // Digits with at most one dot always parse; keep the error path anyway.
                let value = text.parse::<f64>().map_err(|_| {
                    ExprError::new(
                        ErrorKind::Syntax,
                        Span::new(start, i),
                        format!("`{text}` is not a number"),
                    )
                })?;
                Tok::Number(value)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                if !is_name_start(ch) {
                    return Err(ExprError::new(
                        ErrorKind::Syntax,
                        Span::new(i, i + ch.len_utf8()),
                        format!("unexpected character `{ch}`"),
                    ));
                }
                let len = name_len(&src[i..]);
                let mut end = i + len;
                let mut prefix_wildcard = false;
                // A QName `prefix:local`, but not an axis `name::`.
                if bytes.get(end) == Some(&b':') && bytes.get(end + 1) != Some(&b':') {
                    let after = &src[end + 1..];
                    if after.starts_with('*') {
                        prefix_wildcard = true;
                        end += 2;
                    } else if after.chars().next().is_some_and(is_name_start) {
                        end += 1 + name_len(after);
                    }
                }
                let word = &src[i..end];
                i = end;
                if prefix_wildcard {
                    Tok::PrefixWildcard
                } else if operator_context {
                    match word {
                        "and" => Tok::And,
                        "or" => Tok::Or,
                        "div" => Tok::Div,
                        "mod" => Tok::Mod,
                        _ => Tok::Name(Arc::from(word)),
                    }
                } else {
                    Tok::Name(Arc::from(word))
                }
            }
        };
        out.push(Token {
            tok,
            span: Span::new(start, i),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Ok(out)
}

fn name_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if is_name_start(c) => {}
        _ => return 0,
    }
    for (idx, c) in chars {
        if !is_name_char(c) {
            return idx;
        }
    }
    s.len()
}
