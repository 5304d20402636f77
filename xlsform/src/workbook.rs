//! Reading spreadsheets into plain text cells: `.xlsx`/`.xls` through calamine and
//! pyxform's markdown tables. Everything after this module sees only [`Workbook`].

use std::io::Cursor;

use calamine::{Data, Reader};

use crate::{Error, Result};

/// All sheets of a workbook, cells as trimmed text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

/// One sheet. Rows keep their spreadsheet numbers (1-based) so diagnostics can name cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<SheetRow>,
}

/// One non-empty row. `cells[i]` is column `i` (0 = `A`); empty cells are empty strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SheetRow {
    pub number: u32,
    pub cells: Vec<String>,
}

impl Workbook {
    /// The sheet called `name`, ignoring case and surrounding spaces (as pyxform does).
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets
            .iter()
            .find(|s| s.name.trim().eq_ignore_ascii_case(name))
    }

    /// Read an `.xlsx`, `.xlsm`, `.xlsb`, `.xls` or `.ods` file from memory.
    pub fn from_spreadsheet_bytes(bytes: &[u8]) -> Result<Workbook> {
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| Error::Spreadsheet(e.to_string()))?;
        let mut sheets = Vec::new();
        for name in book.sheet_names() {
            let range = book
                .worksheet_range(&name)
                .map_err(|e| Error::Spreadsheet(format!("sheet '{name}': {e}")))?;
            let (first_row, first_col) = range.start().unwrap_or((0, 0));
            let mut rows = Vec::new();
            for (i, row) in range.rows().enumerate() {
                let mut cells = vec![String::new(); first_col as usize];
                cells.extend(row.iter().map(cell_text));
                while cells.last().is_some_and(String::is_empty) {
                    cells.pop();
                }
                if cells.is_empty() {
                    continue;
                }
                let number = first_row.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
                rows.push(SheetRow {
                    number: number.saturating_add(1),
                    cells,
                });
            }
            sheets.push(Sheet { name, rows });
        }
        Ok(Workbook { sheets })
    }

    /// Read pyxform's markdown notation: a line `| survey |` starts a sheet, the next
    /// `|`-separated line is its header, every further line a row. The first cell of
    /// each line holds the sheet name (or nothing); `\|` is a literal bar.
    pub fn from_markdown(text: &str) -> Workbook {
        let mut sheets: Vec<Sheet> = Vec::new();
        for line in text.lines() {
            let Some(cells) = markdown_cells(line) else {
                continue;
            };
            let Some((first, rest)) = cells.split_first() else {
                continue;
            };
            if !first.is_empty() {
                sheets.push(Sheet {
                    name: first.clone(),
                    rows: Vec::new(),
                });
            }
            let mut rest = rest.to_vec();
            while rest.last().is_some_and(String::is_empty) {
                rest.pop();
            }
            if rest.is_empty() {
                continue;
            }
            if let Some(sheet) = sheets.last_mut() {
                let number = u32::try_from(sheet.rows.len() + 1).unwrap_or(u32::MAX);
                sheet.rows.push(SheetRow {
                    number,
                    cells: rest,
                });
            }
        }
        Workbook { sheets }
    }
}

/// The cells of one markdown table line, or `None` when it is not a table row
/// (or is a `|---|---|` separator).
fn markdown_cells(line: &str) -> Option<Vec<String>> {
    // Like pyxform: everything between the first and the last bar; text after the
    // last bar is a comment.
    let trimmed = line.trim_start().strip_prefix('|')?;
    let inner = &trimmed[..trimmed.rfind('|')?];
    if inner
        .chars()
        .all(|c| c == '|' || c == '-' || c == ':' || c == ' ')
    {
        return None;
    }
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut current).trim().to_owned()),
            _ => current.push(c),
        }
    }
    cells.push(current.trim().to_owned());
    Some(cells)
}

/// A cell as text the way pyxform sees it: whole numbers without `.0`, booleans as
/// `TRUE`/`FALSE`, dates in ISO 8601.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => d.date().to_string(),
            Some(d) => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => number_text(dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// Spreadsheet column letters for a 0-based column index (0 → `A`, 27 → `AB`).
pub fn column_letters(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_spreadsheet_convention() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn markdown_tables_become_sheets() {
        let book = Workbook::from_markdown(
            "
            | survey |
            | | type | name | label |
            | | text | q1 | a \\| b |

            | choices |
            | | list_name | name | label |
            | | yn | yes | Yes |
            ",
        );
        assert_eq!(book.sheets.len(), 2);
        let survey = book.sheet("SURVEY").unwrap();
        assert_eq!(survey.rows[0].cells, ["type", "name", "label"]);
        assert_eq!(survey.rows[1].cells, ["text", "q1", "a | b"]);
        assert_eq!(survey.rows[1].number, 2);
        assert_eq!(book.sheet("choices").unwrap().rows.len(), 2);
    }
}
