//! A sheet read by its header: columns by canonical key and language, and the
//! non-empty cells of a row.

use std::collections::{BTreeMap, HashMap};

use voices_core::form::Text;

use super::languages::LanguageSet;
use super::Importer;
use crate::columns::split_header;
use crate::diag::CellRef;
use crate::workbook::{Sheet, SheetRow};

/// A sheet's header: column keys (lowercased, de-aliased) with their language suffix.
pub(super) struct Table<'a> {
    pub(super) sheet: &'a str,
    pub(super) header_row: u32,
    pub(super) columns: Vec<Column>,
    pub(super) rows: &'a [SheetRow],
    /// The first row left out: it follows more than [`MAX_EMPTY_ROWS`] empty rows.
    pub(super) ignored_from: Option<u32>,
}

/// pyxform takes a run of this many empty rows for the end of a sheet's data and
/// reads nothing below it; so does Voices, with a warning.
const MAX_EMPTY_ROWS: u32 = 60;

#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) index: u32,
    pub(super) key: String,
    /// Header as written, for choice properties and messages.
    pub(super) header: String,
    /// Language code of a `::lang` suffix.
    pub(super) lang: Option<String>,
}

/// A value read from one cell.
#[derive(Debug, Clone)]
pub(super) struct Cell<'a> {
    pub(super) text: &'a str,
    pub(super) at: CellRef,
}

impl<'a> Table<'a> {
    pub(super) fn new(sheet: &'a Sheet, languages: &mut LanguageSet) -> Option<Table<'a>> {
        let (header, mut rows) = sheet.rows.split_first()?;
        let mut columns = Vec::new();
        for (i, h) in header.cells.iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            let (key, suffix) = split_header(h);
            let lang = suffix.map(|s| languages.add(&s));
            columns.push(Column {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                key,
                header: h.clone(),
                lang,
            });
        }
        let mut previous = header.number;
        let mut ignored_from = None;
        for (i, row) in rows.iter().enumerate() {
            if row.number.saturating_sub(previous) > MAX_EMPTY_ROWS + 1 {
                ignored_from = Some(row.number);
                rows = &rows[..i];
                break;
            }
            previous = row.number;
        }
        Some(Table {
            sheet: &sheet.name,
            header_row: header.number,
            columns,
            rows,
            ignored_from,
        })
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.columns.iter().any(|c| c.key == key)
    }

    /// The untranslated cell for `key` in `row`, when non-empty.
    pub(super) fn get<'r>(&self, row: &'r SheetRow, key: &str) -> Option<Cell<'r>> {
        self.columns
            .iter()
            .filter(|c| c.key == key && c.lang.is_none())
            .find_map(|c| self.cell(row, c))
    }

    pub(super) fn cell<'r>(&self, row: &'r SheetRow, column: &Column) -> Option<Cell<'r>> {
        let text = row.cells.get(column.index as usize)?.as_str();
        if text.is_empty() {
            return None;
        }
        Some(Cell {
            text,
            at: CellRef::cell(self.sheet, row.number, column.index),
        })
    }

    /// Translatable text for `key`: a plain string when only the plain column is filled,
    /// otherwise a map by language (a plain cell counts for the default language).
    pub(super) fn text(
        &self,
        row: &SheetRow,
        key: &str,
        default_lang: &str,
    ) -> Option<(Text, CellRef)> {
        let mut translated = BTreeMap::new();
        let mut first_at = None;
        for column in self.columns.iter().filter(|c| c.key == key) {
            if let (Some(lang), Some(cell)) = (&column.lang, self.cell(row, column)) {
                first_at.get_or_insert(cell.at.clone());
                translated
                    .entry(lang.clone())
                    .or_insert_with(|| cell.text.to_owned());
            }
        }
        let plain = self.get(row, key);
        if translated.is_empty() {
            return plain.map(|c| (Text::Plain(c.text.to_owned()), c.at));
        }
        if let Some(p) = plain {
            first_at = Some(p.at.clone());
            translated
                .entry(default_lang.to_owned())
                .or_insert_with(|| p.text.to_owned());
        }
        Some((Text::Translated(translated), first_at?))
    }

    pub(super) fn row_ref(&self, row: &SheetRow) -> CellRef {
        CellRef::row(self.sheet, row.number)
    }
}

impl Importer<'_> {
    /// Two columns meaning the same (`name` and its alias `value`, or a header written
    /// twice) would make a row ambiguous.
    pub(super) fn check_headers(&mut self, table: &Table) {
        if let Some(row) = table.ignored_from {
            self.warn(
                Some(CellRef::row(table.sheet, row)),
                "ignored-rows",
                format!(
                    "this row and those below it follow more than {MAX_EMPTY_ROWS} empty rows; \
                     pyxform reads no further, so neither does Voices"
                ),
            );
        }
        let mut seen: HashMap<(&str, Option<&str>), &Column> = HashMap::new();
        for column in &table.columns {
            let key = (column.key.as_str(), column.lang.as_deref());
            if let Some(first) = seen.get(&key) {
                self.error(
                    Some(CellRef::cell(table.sheet, table.header_row, column.index)),
                    "duplicate-column",
                    format!(
                        "column '{}' means the same as column '{}' ({}): keep only one",
                        column.header,
                        first.header,
                        crate::workbook::column_letters(first.index)
                    ),
                );
            } else {
                seen.insert(key, column);
            }
        }
    }
}
