//! The form checker: every problem in a form at once, each with a stable code,
//! a JSON pointer and, for source text, a line and column.
//!
//! [`check_source`] parses JSON text and checks it; [`check_form`] checks a
//! parsed [`Form`]. Structural rules live in [`structure`]; expression rules
//! (syntax, references, cycles, functions, types) run in the engine's compiler,
//! which this module calls, so a form that checks clean always compiles.

mod structure;

pub(crate) use structure::suggestion;

use crate::collections::Set;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::form::Form;
use crate::locate;

/// How bad a problem is: errors stop a form from being used, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable identifiers of the checker's rules (their snake_case name is the code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The text is not valid JSON.
    JsonSyntax,
    /// Valid JSON that is not a form (missing or unknown property, wrong type).
    JsonStructure,
    /// Nested deeper than the parser accepts.
    NestingTooDeep,
    InvalidId,
    InvalidName,
    EmptyVersion,
    DuplicateName,
    NoLanguages,
    DuplicateLanguage,
    DefaultLanguageNotListed,
    UnknownLanguage,
    MissingTranslation,
    RtlExpected,
    UnknownChoiceList,
    SelectWithoutList,
    ChoicesOnNonSelect,
    EmptyChoiceList,
    DuplicateChoice,
    InvalidChoiceName,
    InvalidRange,
    RangeWithoutParams,
    RepeatMinMax,
    RepeatCountBounds,
    MultipleConsent,
    ConsentNotTopLevel,
    ConsentNotFirst,
    PrivacyPromptWithoutPrivacy,
    NestedPrivacyCheck,
    EmptyGroup,
    UnknownDecoyGroup,
    DecoyGroupNotTopLevel,
    DecoyGroupSensitive,
    InstanceNameSensitive,
    ExpressionSyntax,
    UnknownReference,
    AmbiguousReference,
    Cycle,
    UnknownFunction,
    WrongArity,
    InvalidRegex,
    TypeMismatch,
    UnknownChoice,
    ChoiceFilterOnNonSelect,
    UnknownChoiceProperty,
    UnsupportedExpression,
    /// A `disaggregation` mark on a field type that cannot carry it.
    DisaggregationType,
    /// Two fields of one scope marked with the same `disaggregation`.
    DuplicateDisaggregation,
}

impl Code {
    /// The code as written in reports (`duplicate_name`).
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// One problem found in a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// JSON pointer of the offending value (`/body/3/relevant`); `""` is the whole document.
    pub pointer: String,
    /// 1-based line in the source text (only when checked from text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in characters (only when checked from text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Byte range inside the string at `pointer` (an expression error's position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<(usize, usize)>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            pointer: pointer.into(),
            line: None,
            column: None,
            span: None,
            message: message.into(),
        }
    }

    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, pointer, message)
        }
    }

    /// Point at bytes `start..end` inside the string value at the pointer.
    pub fn with_span(mut self, start: usize, end: usize) -> Self {
        self.span = Some((start, end));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `line:col: pointer: message` (or `pointer: message` without a position).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "{line}:{column}: ")?;
        }
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{pointer}: {kind}[{}]: {}", self.code, self.message)
    }
}

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
    let mut out = structure::check(form);
    out.extend(crate::engine::compile_diagnostics(form));
    sort(&mut out);
    out
}

pub(crate) fn structure_diagnostics(form: &Form) -> Vec<Diagnostic> {
    structure::check(form)
}

pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
    // Document order by pointer segments (numbers compared as numbers), errors first on ties.
    diagnostics.sort_by(|a, b| {
        pointer_key(&a.pointer)
            .cmp(&pointer_key(&b.pointer))
            .then(a.severity.cmp(&b.severity))
            .then(a.span.cmp(&b.span))
    });
}

fn pointer_key(pointer: &str) -> Vec<(u64, &str)> {
    pointer
        .split('/')
        .skip(1)
        .map(|seg| match seg.parse::<u64>() {
            Ok(n) => (n, ""),
            Err(_) => (u64::MAX, seg),
        })
        .collect()
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
