//! Reading spreadsheets into plain text cells: `.xlsx`/`.xls` through calamine and
//! pyxform's markdown tables. Everything after this module sees only [`Workbook`].

use std::io::Cursor;

use calamine::{Data, Reader};

use crate::xlsx_bounds::{MAX_COLUMNS, MAX_ROWS};
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
    ///
    /// `.xlsx` and `.xlsb` are streamed cell by cell, so a file that declares a huge sheet
    /// but holds few values costs little memory; sheets with more than [`MAX_CELL_SLOTS`]
    /// cells (counting the blanks left of each value), and cells past Excel's last cell
    /// `XFD1048576`, are refused rather than exhausting memory. An `.xlsx`'s cell
    /// references are checked before calamine parses them ([`crate::xlsx_bounds`]).
    /// calamine reads `.xls` and `.ods` into ranges dense from a sheet's first to its
    /// last value, so a sheet whose range would exceed [`MAX_CELL_SLOTS`] is refused
    /// before calamine opens the file ([`crate::dense_bounds`]). A panic inside calamine
    /// is still turned into an error.
    pub fn from_spreadsheet_bytes(bytes: &[u8]) -> Result<Workbook> {
        // Whatever the first bytes: a zip reader finds the archive from its end, and
        // calamine's format detection tries `.xlsx` for any file.
        crate::xlsx_bounds::check(bytes)?;
        // Last resort for a calamine bug the checks above do not foresee: its parsers see
        // only these bytes and build values that are dropped with the panic, so nothing
        // half-built is observed. (The dev and release profiles unwind; only the wasm
        // profile aborts, and the WebAssembly module does not read spreadsheets.)
        std::panic::catch_unwind(|| read_spreadsheet(bytes)).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Error::Spreadsheet(format!(
                "the spreadsheet reader failed on this file ({what})"
            )))
        })
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

/// Most cell slots a sheet may need (rows × the columns up to each row's last value).
pub const MAX_CELL_SLOTS: usize = 5_000_000;

fn read_spreadsheet(bytes: &[u8]) -> Result<Workbook> {
    if bytes.starts_with(b"PK") {
        if let Ok(book) = calamine::Xlsx::new(Cursor::new(bytes)) {
            return read_xlsx(book);
        }
    }
    if let Ok(book) = calamine::Xlsb::new(Cursor::new(bytes)) {
        return read_xlsb(book);
    }
    // calamine reads `.xls` and `.ods` sheets into dense ranges as it opens the file.
    crate::dense_bounds::check(bytes)?;
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| Error::Spreadsheet(e.to_string()))?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| Error::Spreadsheet(format!("sheet '{name}': {e}")))?;
        let mut builder = SheetBuilder::new(&name);
        for cell in range.used_cells() {
            let (row, col, value) = cell;
            let (r, c) = range.start().unwrap_or((0, 0));
            let row = u32::try_from(row).unwrap_or(u32::MAX).saturating_add(r);
            let col = u32::try_from(col).unwrap_or(u32::MAX).saturating_add(c);
            builder.add(row, col, cell_text(value))?;
        }
        sheets.push(builder.finish());
    }
    Ok(Workbook { sheets })
}

/// Read every sheet cell by cell, never as a dense range. `.xlsx` and `.xlsb` readers are
/// distinct calamine types with the same methods (no shared trait), hence a macro.
macro_rules! read_cell_by_cell {
    ($book:expr) => {{
        let book = &mut $book;
        let mut sheets = Vec::new();
        for name in book.sheet_names() {
            let mut reader = book
                .worksheet_cells_reader(&name)
                .map_err(|e| Error::Spreadsheet(format!("sheet '{name}': {e}")))?;
            let mut builder = SheetBuilder::new(&name);
            while let Some(cell) = reader
                .next_cell()
                .map_err(|e| Error::Spreadsheet(format!("sheet '{name}': {e}")))?
            {
                let (row, col) = cell.get_position();
                let value = Data::from(cell.get_value().clone());
                builder.add(row, col, cell_text(&value))?;
            }
            drop(reader);
            sheets.push(builder.finish());
        }
        Ok(Workbook { sheets })
    }};
}

fn read_xlsx(mut book: calamine::Xlsx<Cursor<&[u8]>>) -> Result<Workbook> {
    read_cell_by_cell!(book)
}

fn read_xlsb(mut book: calamine::Xlsb<Cursor<&[u8]>>) -> Result<Workbook> {
    read_cell_by_cell!(book)
}

/// Collects non-empty cells (0-based positions) into rows, within [`MAX_CELL_SLOTS`].
struct SheetBuilder {
    name: String,
    rows: std::collections::BTreeMap<u32, Vec<(u32, String)>>,
    slots: usize,
}

impl SheetBuilder {
    fn new(name: &str) -> Self {
        SheetBuilder {
            name: name.to_owned(),
            rows: std::collections::BTreeMap::new(),
            slots: 0,
        }
    }

    fn add(&mut self, row: u32, col: u32, text: String) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(Error::Spreadsheet(format!(
                "sheet '{}': a value at row {}, column {} is past the last cell a sheet can \
                 have (XFD1048576)",
                self.name,
                u64::from(row) + 1,
                u64::from(col) + 1
            )));
        }
        let cells = self.rows.entry(row).or_default();
        let before = cells
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let after = before.max(col as usize + 1);
        self.slots = self.slots.saturating_add(after - before);
        if self.slots > MAX_CELL_SLOTS {
            return Err(Error::Spreadsheet(format!(
                "sheet '{}' is too large: a value at {}{} makes it more than {MAX_CELL_SLOTS} cells",
                self.name,
                column_letters(col),
                u64::from(row) + 1
            )));
        }
        cells.push((col, text));
        Ok(())
    }

    fn finish(self) -> Sheet {
        let rows = self
            .rows
            .into_iter()
            .map(|(row, values)| {
                let width = values
                    .iter()
                    .map(|(c, _)| *c as usize + 1)
                    .max()
                    .unwrap_or(0);
                let mut cells = vec![String::new(); width];
                for (col, text) in values {
                    cells[col as usize] = text;
                }
                SheetRow {
                    number: row.saturating_add(1),
                    cells,
                }
            })
            .collect();
        Sheet {
            name: self.name,
            rows,
        }
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
