//! Bounds an `.xls` or `.ods` workbook before calamine reads it.
//!
//! calamine 0.35 reads these two formats into ranges dense from a sheet's first to its
//! last value, and reads every sheet as it opens the file: an `.xls` with one value in
//! `A1` and one in row 65536, column 65536, or an `.ods` whose rows repeat a value a
//! million times, makes it allocate billions of cells from a few hundred bytes. So the
//! file is read here first, the way calamine reads it (the same records and elements,
//! the same repeat caps), and a sheet whose range would hold more than
//! [`MAX_CELL_SLOTS`] cells is refused with its name and its extent. Anything that is not
//! a readable compound file or zip is left for calamine to report.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::workbook::MAX_CELL_SLOTS;
use crate::xlsx_bounds::{MAX_COLUMNS, MAX_ROWS};
use crate::{Error, Result};

/// Refuse an `.xls` or `.ods` whose sheets calamine would read into too large a range.
pub fn check(bytes: &[u8]) -> Result<()> {
    check_xls(bytes)?;
    check_ods(bytes)
}

/// The extent of one sheet's values, 0-based and inclusive.
#[derive(Default)]
struct Extent {
    rows: Option<(u64, u64)>,
    cols: Option<(u64, u64)>,
}

impl Extent {
    fn add(&mut self, row: u64, first_col: u64, last_col: u64) {
        self.rows = Some(match self.rows {
            None => (row, row),
            Some((a, b)) => (a.min(row), b.max(row)),
        });
        self.cols = Some(match self.cols {
            None => (first_col, last_col),
            Some((a, b)) => (a.min(first_col), b.max(last_col)),
        });
    }

    /// Cells of the dense range from the first to the last value.
    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1).saturating_mul(c1 - c0 + 1),
            _ => 0,
        }
    }

    fn check(&self, sheet: &str) -> Result<()> {
        let cells = self.cells();
        if cells <= MAX_CELL_SLOTS as u64 {
            return Ok(());
        }
        let (Some((r0, r1)), Some((c0, c1))) = (self.rows, self.cols) else {
            return Ok(());
        };
        Err(Error::Spreadsheet(format!(
            "sheet '{sheet}' is too large: its values span {}{}:{}{}, {cells} cells, more \
             than the {MAX_CELL_SLOTS} a sheet may have",
            column_letters(c0),
            r0 + 1,
            column_letters(c1),
            r1 + 1
        )))
    }
}

/// `A`, `B`, …, `Z`, `AA`, … for a 0-based column.
fn column_letters(col: u64) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// .xls: BIFF records in the compound file's `Workbook` (BIFF8) or `Book` (BIFF5) stream.

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const BOUNDSHEET: u16 = 0x0085;
const FILEPASS: u16 = 0x002F;
const MULRK: u16 = 0x00BD;
/// The records calamine turns into one cell at the row and column of their first four
/// bytes: Number, Label, BoolErr, Rk, LabelSst, Formula.
const CELL_RECORDS: [u16; 6] = [0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006];

fn check_xls(bytes: &[u8]) -> Result<()> {
    let Ok(mut file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut stream = Vec::new();
    let read = match file.open_stream("Workbook") {
        Ok(mut s) => s.read_to_end(&mut stream),
        Err(_) => match file.open_stream("Book") {
            Ok(mut s) => s.read_to_end(&mut stream),
            Err(_) => return Ok(()),
        },
    };
    if read.is_err() {
        return Ok(());
    }
    scan_biff(&stream)
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Walk the records; each substream from a BOF to its EOF is a sheet, named by the
/// BOUNDSHEET record that points at its BOF.
fn scan_biff(stream: &[u8]) -> Result<()> {
    let mut names: Vec<(u32, String)> = Vec::new();
    let mut biff8 = true;
    let mut sheet: Option<(String, Extent)> = None;
    let mut pos = 0usize;
    let mut substreams = 0usize;
    while let (Some(kind), Some(len)) = (u16_at(stream, pos), u16_at(stream, pos + 2)) {
        let start = pos;
        let Some(data) = stream.get(pos + 4..pos + 4 + usize::from(len)) else {
            break;
        };
        pos += 4 + usize::from(len);
        match kind {
            // Encrypted: the cell records are ciphertext; calamine refuses the file.
            FILEPASS => return Ok(()),
            BOF => {
                if substreams == 0 {
                    biff8 = u16_at(data, 0) == Some(0x0600);
                }
                substreams += 1;
                let name = names
                    .iter()
                    .find(|(at, _)| *at as usize == start)
                    .map_or_else(|| format!("sheet {}", substreams - 1), |(_, n)| n.clone());
                sheet = Some((name, Extent::default()));
            }
            EOF => {
                if let Some((name, extent)) = sheet.take() {
                    extent.check(&name)?;
                }
            }
            BOUNDSHEET => {
                if let Some(entry) = boundsheet(data, biff8) {
                    names.push(entry);
                }
            }
            MULRK => {
                if let (Some((_, extent)), Some(row), Some(first), Some(last)) = (
                    sheet.as_mut(),
                    u16_at(data, 0),
                    u16_at(data, 2),
                    data.len().checked_sub(2).and_then(|at| u16_at(data, at)),
                ) {
                    if first <= last {
                        extent.add(row.into(), first.into(), last.into());
                    }
                }
            }
            k if CELL_RECORDS.contains(&k) => {
                if let (Some((_, extent)), Some(row), Some(col)) =
                    (sheet.as_mut(), u16_at(data, 0), u16_at(data, 2))
                {
                    extent.add(row.into(), col.into(), col.into());
                }
            }
            _ => {}
        }
    }
    // A last sheet without its EOF is still read by calamine up to the stream's end.
    match sheet {
        Some((name, extent)) => extent.check(&name),
        None => Ok(()),
    }
}

/// A BOUNDSHEET record: the stream offset of the sheet's BOF and the sheet's name.
fn boundsheet(data: &[u8], biff8: bool) -> Option<(u32, String)> {
    let at = u32::from_le_bytes(data.get(0..4)?.try_into().ok()?);
    let count = usize::from(*data.get(6)?);
    let name = if biff8 {
        let wide = data.get(7)? & 1 == 1;
        if wide {
            let units: Vec<u16> = data
                .get(8..8 + 2 * count)?
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            data.get(8..8 + count)?
                .iter()
                .map(|&b| char::from(b))
                .collect()
        }
    } else {
        data.get(7..7 + count)?
            .iter()
            .map(|&b| char::from(b))
            .collect()
    };
    Some((at, name))
}

// ---------------------------------------------------------------------------------------
// .ods: `content.xml`'s tables, rows and cells with their repeat counts.

fn check_ods(bytes: &[u8]) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    scan_ods(content)
}

/// The numeric value of attribute `name`, 1 when absent or unreadable (calamine then
/// fails on it, or reads 1).
fn repeats(e: &BytesStart<'_>, name: &[u8]) -> u64 {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| std::str::from_utf8(&a.value).ok()?.trim().parse().ok())
        .unwrap_or(1)
}

/// Whether a cell holds what calamine reads as a value or a formula (a string-typed cell
/// counts even when its text turns out empty: the extent is then at most too large).
fn has_value(e: &BytesStart<'_>) -> bool {
    e.attributes().flatten().any(|a| match a.key.as_ref() {
        b"office:value"
        | b"office:string-value"
        | b"office:date-value"
        | b"office:time-value"
        | b"office:boolean-value"
        | b"table:formula" => true,
        b"office:value-type" => &*a.value == b"string",
        _ => false,
    })
}

/// One table being read: its extent with row repeats expanded as calamine expands them.
struct OdsTable {
    name: String,
    /// Rows read so far, repeats counted (calamine caps them at [`MAX_ROWS`]).
    rows: u64,
    /// The row being read.
    row: Option<OdsRow>,
    extent: Extent,
}

/// A `table:table-row` being read.
struct OdsRow {
    /// Its first row (0-based) and how many rows it stands for.
    first: u64,
    repeat: u64,
    /// The column its next cell starts at.
    next: u64,
    /// The first and last column holding a value.
    values: Option<(u64, u64)>,
}

fn scan_ods(content: impl Read) -> Result<()> {
    let mut xml = Reader::from_reader(std::io::BufReader::new(content));
    xml.config_mut().expand_empty_elements = true;
    let mut table: Option<OdsTable> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(event) => event,
        };
        match event {
            Event::Start(e) if e.name().as_ref() == b"table:table" => {
                let name = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"table:name")
                    .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                    .unwrap_or_default();
                table = Some(OdsTable {
                    name,
                    rows: 0,
                    row: None,
                    extent: Extent::default(),
                });
            }
            Event::End(e) if e.name().as_ref() == b"table:table" => {
                if let Some(t) = table.take() {
                    t.extent.check(&t.name)?;
                }
            }
            Event::Start(e) if e.name().as_ref() == b"table:table-row" => {
                if let Some(t) = table.as_mut() {
                    let wanted = repeats(&e, b"table:number-rows-repeated");
                    let repeat = wanted.min(u64::from(MAX_ROWS).saturating_sub(t.rows));
                    t.row = Some(OdsRow {
                        first: t.rows,
                        repeat,
                        next: 0,
                        values: None,
                    });
                    t.rows += repeat;
                }
            }
            Event::End(e) if e.name().as_ref() == b"table:table-row" => {
                if let Some(t) = table.as_mut() {
                    if let Some(OdsRow {
                        first,
                        repeat,
                        values: Some((c0, c1)),
                        ..
                    }) = t.row.take()
                    {
                        if repeat > 0 {
                            t.extent.add(first, c0, c1);
                            t.extent.add(first + repeat - 1, c0, c1);
                        }
                    }
                }
            }
            Event::Start(e)
                if e.name().as_ref() == b"table:table-cell"
                    || e.name().as_ref() == b"table:covered-table-cell" =>
            {
                if let Some(row) = table.as_mut().and_then(|t| t.row.as_mut()) {
                    let wanted = repeats(&e, b"table:number-columns-repeated");
                    let repeat = wanted.min(u64::from(MAX_COLUMNS).saturating_sub(row.next));
                    if repeat > 0 && has_value(&e) {
                        let (first, last) = (row.next, row.next + repeat - 1);
                        row.values = Some(match row.values {
                            None => (first, last),
                            Some((a, b)) => (a.min(first), b.max(last)),
                        });
                    }
                    row.next += repeat;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BIFF record.
    fn record(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend(col.to_le_bytes());
        data.extend([0u8; 10]);
        record(0x0203, &data)
    }

    /// A BIFF8 stream: globals naming one sheet, then the sheet with `cells`.
    fn biff8(cells: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(BOF, &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0]);
        let sheet_bof = record(BOF, &[0x00, 0x06, 0x10, 0x00, 0, 0, 0, 0]);
        let name = b"survey";
        let boundsheet_len = 4 + 8 + name.len();
        let sheet_at = (bof.len() + boundsheet_len + 4) as u32;
        let mut data = sheet_at.to_le_bytes().to_vec();
        data.extend([0, 0, name.len() as u8, 0]);
        data.extend(name);
        let mut out = bof;
        out.extend(record(BOUNDSHEET, &data));
        out.extend(record(EOF, &[]));
        out.extend(sheet_bof);
        for cell in cells {
            out.extend(cell);
        }
        out.extend(record(EOF, &[]));
        out
    }

    #[test]
    fn an_xls_sheet_spanning_too_many_cells_is_refused_with_its_name_and_extent() {
        let err = scan_biff(&biff8(&[number(0, 0), number(65_535, 255)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'survey'"), "{err}");
        assert!(err.contains("A1:IV65536"), "{err}");
        // A MULRK's last column counts too.
        let mut mulrk = 3u16.to_le_bytes().to_vec();
        mulrk.extend(0u16.to_le_bytes());
        mulrk.extend([0u8; 6]);
        mulrk.extend(60_000u16.to_le_bytes());
        let err = scan_biff(&biff8(&[number(200, 0), record(MULRK, &mulrk)])).unwrap_err();
        assert!(err.to_string().contains("A4:CJSS201"), "{err}");
    }

    #[test]
    fn an_xls_sheet_of_ordinary_size_passes() {
        let cells: Vec<_> = (0..500).map(|r| number(r, r % 20)).collect();
        scan_biff(&biff8(&cells)).unwrap();
        // A truncated or unreadable stream is left for calamine.
        scan_biff(&[0x09, 0x08, 0xff]).unwrap();
        check(b"not a workbook at all").unwrap();
    }

    fn ods_content(rows: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="survey">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
    }

    const VALUE: &str =
        r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#;

    #[test]
    fn an_ods_whose_repeats_make_a_huge_range_is_refused() {
        // One value repeated across every column of a row repeated a million times.
        let rows = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384"/></table:table-row>"#;
        let err = scan_ods(ods_content(rows).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'survey'") && err.contains("A1:XFD1000000"),
            "{err}"
        );
        // Two values far apart: the empty rows between them count.
        let rows = format!(
            r#"<table:table-row>{VALUE}</table:table-row><table:table-row table:number-rows-repeated="999998"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="99"/>{VALUE}</table:table-row>"#
        );
        let err = scan_ods(ods_content(&rows).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("A1:CV1000000"), "{err}");
    }

    #[test]
    fn an_ods_with_trailing_empty_repeats_passes() {
        // As LibreOffice writes a sheet: values, then empty cells and rows repeated to
        // the sheet's end, which calamine does not expand.
        let mut rows = String::new();
        for _ in 0..300 {
            rows.push_str(&format!(
                r#"<table:table-row>{VALUE}{VALUE}<table:table-cell table:number-columns-repeated="16382"/></table:table-row>"#
            ));
        }
        rows.push_str(r#"<table:table-row table:number-rows-repeated="1048276"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#);
        scan_ods(ods_content(&rows).as_bytes()).unwrap();
    }
}
