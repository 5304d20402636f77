//! The form checker: every problem in a form at once, each with a stable code,
//! a JSON pointer and, for source text, a line and column.
//!
//! [`check_source`] parses JSON text and checks it; [`check_form`] checks a
//! parsed [`Form`]. The rules themselves run in the engine (structural rules and
//! the compiler's expression rules: syntax, references, cycles, functions, types),
//! the same ones [`CompiledForm::compile`](crate::engine::CompiledForm::compile)
//! applies, so a form that checks clean always compiles. This module adds what
//! only source text has: JSON errors and line:column positions.

use crate::collections::Set;

pub use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::form::Form;
use crate::locate;

/// The result of checking form source text.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// The parsed form, when the text is a form at all (even one with errors).
    pub form: Option<Form>,
    /// Every problem, errors and warnings, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// Check a parsed form: structure, languages, choices, people-centred constructs and
/// every expression. Diagnostics carry pointers but no line/column.
pub fn check_form(form: &Form) -> Vec<Diagnostic> {
    let mut out = crate::engine::structure_diagnostics(form);
    out.extend(crate::engine::compile_diagnostics(form));
    crate::diagnostic::sort(&mut out);
    out
}

/// Parse and check form source text.
pub fn check_source(json: &str) -> CheckReport {
    let form = match serde_json::from_str::<Form>(json) {
        Ok(form) => form,
        Err(err) => {
            return CheckReport {
                form: None,
                diagnostics: vec![parse_error(json, &err)],
            }
        }
    };
    let mut diagnostics = check_form(&form);
    place(json, &mut diagnostics);
    CheckReport {
        form: Some(form),
        diagnostics,
    }
}

/// Fill in line and column of each diagnostic from its pointer (and span).
pub fn place(json: &str, diagnostics: &mut [Diagnostic]) {
    let wanted: Set<&str> = diagnostics
        .iter()
        .filter(|d| d.line.is_none())
        .map(|d| d.pointer.as_str())
        .collect();
    let found = locate::value_offsets(json, &wanted);
    let offsets: Vec<usize> = diagnostics
        .iter()
        .map(|d| {
            let Some(&start) = found.get(&d.pointer) else {
                // A pointer to a value that is absent (a missing property): its parent.
                return nearest_existing(json, &d.pointer);
            };
            match d.span {
                Some((from, _)) => locate::string_offset(json, start, from),
                None => start,
            }
        })
        .collect();
    let positions = locate::positions_of(json, &offsets);
    for (d, pos) in diagnostics.iter_mut().zip(positions) {
        if d.line.is_none() {
            d.line = Some(pos.line);
            d.column = Some(pos.column);
        }
    }
}

fn nearest_existing(json: &str, pointer: &str) -> usize {
    let mut p = pointer;
    while let Some(cut) = p.rfind('/') {
        p = &p[..cut];
        let set = Set::from_iter([p]);
        if let Some(&offset) = locate::value_offsets(json, &set).get(p) {
            return offset;
        }
    }
    0
}

/// Turn a serde error into a diagnostic with a pointer (and line/column from serde).
fn parse_error(json: &str, err: &serde_json::Error) -> Diagnostic {
    use serde_json::error::Category;
    let (line, column) = (err.line(), err.column());
    let offset = offset_of(json, line, column);
    let message = strip_position(&err.to_string());
    let (code, message) = if message.contains("recursion limit exceeded") {
        (
            Code::NestingTooDeep,
            "the form is nested too deeply to read (at most 127 levels of JSON nesting, \
             about 60 groups inside each other); flatten the structure"
                .to_owned(),
        )
    } else {
        match err.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                (Code::JsonSyntax, format!("not valid JSON: {message}"))
            }
            Category::Data => (Code::JsonStructure, message),
        }
    };
    let mut pointer = if code == Code::JsonStructure {
        // Serde reports the position just past the value it rejected: look at both sides.
        let here = locate::pointer_at(json, offset);
        let before = locate::pointer_at(json, offset.saturating_sub(1));
        if before.len() > here.len() {
            before
        } else {
            here
        }
    } else {
        String::new()
    };
    // Serde reports an item's unknown property at the end of the item; point at the property.
    for marker in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = message.split(marker).nth(1) {
            if let Some(name) = rest.split('`').next() {
                let key = if marker.starts_with("unknown variant") {
                    "type".to_owned()
                } else {
                    locate::escape_token(name)
                };
                let candidate = format!("{pointer}/{key}");
                if locate::value_offsets(json, &Set::from_iter([candidate.as_str()]))
                    .contains_key(&candidate)
                {
                    pointer = candidate;
                }
            }
        }
    }
    let mut d = Diagnostic::error(code, pointer.clone(), message);
    if code == Code::JsonStructure && !pointer.is_empty() {
        // The property's own position reads better than where serde noticed.
        let offsets = locate::value_offsets(json, &Set::from_iter([pointer.as_str()]));
        if let Some(&start) = offsets.get(&pointer) {
            let pos = locate::position_of(json, start);
            d.line = Some(pos.line);
            d.column = Some(pos.column);
            return d;
        }
    }
    d.line = Some(line.max(1));
    d.column = Some(column.max(1));
    d
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

/// Byte offset of serde's 1-based line and (byte) column.
fn offset_of(json: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in json.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(json.len());
        }
        offset += l.len();
    }
    json.len()
}

#[cfg(test)]
mod tests;
