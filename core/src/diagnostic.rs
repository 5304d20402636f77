//! A problem found in a form: its severity, stable code, JSON pointer and message.
//!
//! The bottom of the checking stack: the engine's compiler and structural rules
//! produce these, and the checker (`check`) places them in source text, so both
//! depend on this module and not on each other.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// Two assent blocks.
    MultipleAssent,
    /// An assent block with no consent block before it.
    AssentWithoutConsent,
    /// An assent block without its `minor` expression.
    AssentWithoutMinor,
    /// `minor` on a consent block.
    MinorOnConsent,
    /// `relevant` on an assent block (its `minor` decides).
    RelevantOnAssent,
    /// An assent's `minor` reads an answer asked after it.
    MinorAskedLater,
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
    /// `choices_from` names something other than a field inside a repeat.
    ChoicesFromNotInRepeat,
    /// A select names more than one source of choices (`choices`, `choices_file`, `choices_from`).
    ConflictingChoiceSources,
    UnknownChoiceProperty,
    UnsupportedExpression,
    /// A `disaggregation` mark on a field type that cannot carry it.
    DisaggregationType,
    /// Two fields of one scope marked with the same `disaggregation`.
    DuplicateDisaggregation,
    /// A `respondent_selection` field without its `selection` (or `selection` elsewhere).
    SelectionWithoutParams,
    /// A respondent selection's `roster` is not a repeat beside the selection field.
    InvalidRoster,
    /// A respondent selection with a `calculation` or `default`: the app draws its answer.
    SelectionCalculated,
    /// `enumerator()` with a key other than `sex`, `languages` or `area`.
    UnknownEnumeratorKey,
    /// A group's `match` rule inside another group with a rule, or inside a
    /// privacy-checked one, or on a group that is not a page.
    NestedMatch,
    /// A `referral` step without its `referral` area (or `referral` elsewhere).
    ReferralWithoutParams,
    /// A referral step with a `calculation`, `default` or `choices`: its answer is what
    /// the respondent chose among the services listed.
    ReferralCalculated,
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

/// Document order by pointer segments (numbers compared as numbers), errors first on ties.
pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
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

/// ", did you mean `x`?" for the closest candidate, if one is close.
pub(crate) fn suggestion<'a>(wrong: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let best = candidates
        .map(|c| (edit_distance(wrong, c), c))
        .filter(|(d, c)| *d <= 2.max(c.chars().count() / 4))
        .min();
    match best {
        Some((_, c)) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    // Names too different in length are never suggested: decide before allocating.
    if a.chars().count().abs_diff(b.chars().count()) > 3 {
        return usize::MAX / 2;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
