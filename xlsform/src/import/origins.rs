//! Where each part of the form came from: the row of every item and the column of
//! each of its properties, so the checker's diagnostics (JSON pointers into the
//! form) are shown at the cell the designer wrote.

use std::borrow::Cow;
use std::collections::BTreeMap;

use voices_core::check;
use voices_core::form::Form;

use super::table::{Column, Table};
use super::Importer;
use crate::columns;
use crate::diag::{CellRef, Diagnostic, Severity};
use crate::workbook::SheetRow;

/// The survey row an item came from and the columns of its properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub sheet: String,
    pub row: u32,
    pub columns: BTreeMap<String, u32>,
}

impl Origin {
    /// The cell holding `property` of this item, or its row when unknown.
    pub fn cell(&self, property: Option<&str>) -> CellRef {
        match property.and_then(|p| self.columns.get(p)) {
            Some(col) => CellRef::cell(&self.sheet, self.row, *col),
            None => CellRef::row(&self.sheet, self.row),
        }
    }
}

impl Importer<'_> {
    /// Record that the survey item at `ptr` comes from `row`.
    pub(super) fn record_origin(&mut self, table: &Table, row: &SheetRow, ptr: &str) {
        let mut origin = Origin::of_row(table, row, |column| {
            columns::survey_property(&column.key).map(str::to_owned)
        });
        // A select's list is named in its type cell.
        if let Some(type_col) = origin.columns.get("type").copied() {
            origin
                .columns
                .entry("choices".to_owned())
                .or_insert(type_col);
        }
        self.origins.insert(ptr.to_owned(), origin);
    }
}

impl Origin {
    /// `row` with the column of each property its filled cells give, as `property_of`
    /// names it (`None`: no property); the first column wins.
    pub(super) fn of_row(
        table: &Table,
        row: &SheetRow,
        property_of: impl Fn(&Column) -> Option<String>,
    ) -> Origin {
        let mut columns = BTreeMap::new();
        for column in &table.columns {
            if table.cell(row, column).is_none() {
                continue;
            }
            if let Some(property) = property_of(column) {
                columns.entry(property).or_insert(column.index);
            }
        }
        Origin {
            sheet: table.sheet.to_owned(),
            row: row.number,
            columns,
        }
    }
}

/// The engine's form checker on the imported form, its pointers mapped back to cells.
pub(super) fn checker_diagnostics(
    form: &Form,
    origins: &BTreeMap<String, Origin>,
) -> Vec<Diagnostic> {
    let found = check::check_form(form);
    if found.is_empty() {
        return Vec::new();
    }
    let json = serde_json::to_value(form).unwrap_or_default();
    found
        .into_iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let (Some((start, _)), Some(text)) =
                (d.span, json.pointer(&d.pointer).and_then(|v| v.as_str()))
            {
                let character = text.get(..start).map_or(start, |t| t.chars().count()) + 1;
                message = format!("{message} (character {character} of '{text}')");
            }
            Diagnostic {
                severity: match d.severity {
                    check::Severity::Error => Severity::Error,
                    check::Severity::Warning => Severity::Warning,
                },
                location: locate_in(origins, &d.pointer),
                code: Cow::Owned(d.code.as_str().replace('_', "-")),
                message,
            }
        })
        .collect()
}

/// The cell a JSON pointer into the form came from: the longest recorded prefix, and
/// the property right after it.
pub(super) fn locate_in(origins: &BTreeMap<String, Origin>, pointer: &str) -> Option<CellRef> {
    // The longest item pointer that is the pointer or a `/`-prefix of it: try the
    // pointer, then cut one segment at a time (a look-up each, not a scan of every item,
    // which made forms with thousands of choices slow to report on).
    let mut candidate = pointer;
    loop {
        if let Some(origin) = origins.get(candidate) {
            let property = pointer[candidate.len()..].split('/').nth(1);
            return Some(origin.cell(property));
        }
        if candidate.is_empty() {
            return None;
        }
        candidate = &candidate[..candidate.rfind('/')?];
    }
}

/// A JSON pointer segment (RFC 6901).
pub(super) fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
