//! Diagnostics that name the spreadsheet cell, the way a form designer looks for it:
//! `survey!C42: message`.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::workbook::column_letters;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in the workbook: a sheet, optionally a row, optionally a column (0-based).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CellRef {
    pub sheet: String,
    pub row: Option<u32>,
    pub column: Option<u32>,
}

impl CellRef {
    pub fn sheet(sheet: &str) -> CellRef {
        CellRef {
            sheet: sheet.to_owned(),
            row: None,
            column: None,
        }
    }

    pub fn row(sheet: &str, row: u32) -> CellRef {
        CellRef {
            sheet: sheet.to_owned(),
            row: Some(row),
            column: None,
        }
    }

    pub fn cell(sheet: &str, row: u32, column: u32) -> CellRef {
        CellRef {
            sheet: sheet.to_owned(),
            row: Some(row),
            column: Some(column),
        }
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.sheet)?;
        match (self.column, self.row) {
            (Some(c), Some(r)) => write!(f, "!{}{r}", column_letters(c)),
            (None, Some(r)) => write!(f, "!{r}"),
            (Some(c), None) => write!(f, "!{}", column_letters(c)),
            (None, None) => Ok(()),
        }
    }
}

/// One problem found while importing.
/// Serializes as `{severity, location: {sheet, row, column}, code, message}` for the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Where in the workbook, when known.
    pub location: Option<CellRef>,
    /// Stable machine-readable kind, e.g. `duplicate-choice`, `unknown-type`; the form
    /// checker's codes are written the same way (`instance-name-sensitive`).
    pub code: Cow<'static, str>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(
        location: Option<CellRef>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            location,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub fn warning(
        location: Option<CellRef>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            location,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file.xlsx:survey!C42: error: message`.
    pub fn render(&self, file: &str) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.location {
            Some(at) => format!("{file}:{at}: {severity}: {} [{}]", self.message, self.code),
            None => format!("{file}: {severity}: {} [{}]", self.message, self.code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sheet_column_and_row() {
        let d = Diagnostic::error(
            Some(CellRef::cell("survey", 42, 2)),
            "bad-expression",
            "unclosed parenthesis",
        );
        assert_eq!(
            d.render("form.xlsx"),
            "form.xlsx:survey!C42: error: unclosed parenthesis [bad-expression]"
        );
        let w = Diagnostic::warning(Some(CellRef::sheet("settings")), "derived-version", "x");
        assert_eq!(
            w.render("f.md"),
            "f.md:settings: warning: x [derived-version]"
        );
    }
}
