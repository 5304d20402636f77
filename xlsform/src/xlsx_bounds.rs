//! Checks an `.xlsx`'s worksheet XML against Excel's sheet size before calamine reads it.
//!
//! calamine 0.35 turns a cell reference (`r="B7"`) into numbers with unchecked `u32`
//! arithmetic, subtracts a declared `<dimension ref="…">`'s corners unchecked, and counts
//! rows and cells that carry no reference by incrementing. A hostile reference
//! (`AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1`, a twelve-digit row, `B2:A1`) panics in a
//! debug build and wraps to a wrong position in a release build. So every sheet part of
//! the archive is read here first, the way calamine reads it
//! (same XML settings, same elements and attributes), and a reference or position past
//! `XFD1048576` is refused with the sheet and the reference.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{Error, Result};

/// Rows in an Excel sheet (the last is 1048576).
pub const MAX_ROWS: u32 = 1_048_576;
/// Columns in an Excel sheet (the last is `XFD`).
pub const MAX_COLUMNS: u32 = 16_384;

/// Where calamine finds sheets in the archive (lower case).
const SHEET_FOLDERS: [&str; 3] = ["xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/"];

/// Refuse a workbook whose worksheet XML names a cell or a dimension past `XFD1048576`.
/// Anything that is not a readable zip or XML is left for calamine to report.
pub fn check(bytes: &[u8]) -> Result<()> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let names = sheet_names_by_path(&mut zip);
    for index in 0..zip.len() {
        let Ok(entry) = zip.by_index(index) else {
            continue;
        };
        // calamine reads a sheet only from `xl/worksheets/`, `xl/chartsheets/` or
        // `xl/dialogsheets/` (matching names without case, `\` as `/`): every such part
        // is checked, whatever the relationships say, and no other part is read here.
        let path = entry.name().replace('\\', "/").to_ascii_lowercase();
        if !SHEET_FOLDERS.iter().any(|f| path.starts_with(f)) {
            continue;
        }
        let sheet = names
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(&path))
            .map_or_else(|| entry.name().to_owned(), |(_, name)| name.clone());
        scan_sheet(entry, &sheet)?;
    }
    Ok(())
}

/// Where a sheet's XML stands: before `<sheetData>`, inside it, or past it.
#[derive(PartialEq)]
enum Part {
    Head,
    Data,
    Tail,
}

/// Read one archive part as calamine's cell reader would, checking every position it
/// would compute. Parts without `<sheetData>` (and unreadable XML) pass.
fn scan_sheet(entry: impl Read, sheet: &str) -> Result<()> {
    let mut xml = Reader::from_reader(std::io::BufReader::new(entry));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut part = Part::Head;
    // calamine's running position for rows and cells without `r` (0-based).
    let (mut row, mut col) = (0u64, 0u64);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(event) => event,
        };
        match (&part, event) {
            (Part::Head, Event::Start(e)) => match e.local_name().as_ref() {
                b"dimension" => {
                    if let Some(value) = attribute(&e, b"ref") {
                        check_dimension(value, sheet)?;
                    }
                }
                b"sheetData" => part = Part::Data,
                _ => {}
            },
            (Part::Data, Event::Start(e)) => match e.local_name().as_ref() {
                b"row" => {
                    if let Some(value) = attribute(&e, b"r") {
                        match parse_reference(value) {
                            Reference::At(r, _) => row = u64::from(r),
                            Reference::Beyond => return Err(beyond(sheet, "row", value)),
                            Reference::Malformed => return Ok(()),
                        }
                    }
                }
                b"c" => {
                    let (r, c) = match attribute(&e, b"r").map(|v| (v, parse_reference(v))) {
                        Some((_, Reference::At(r, Some(c)))) => (u64::from(r), u64::from(c)),
                        Some((value, Reference::Beyond)) => {
                            return Err(beyond(sheet, "cell", value))
                        }
                        Some(_) => return Ok(()),
                        None => (row, col),
                    };
                    if r >= u64::from(MAX_ROWS) || c >= u64::from(MAX_COLUMNS) {
                        return Err(Error::Spreadsheet(format!(
                            "sheet '{sheet}': a cell without a reference falls at row {}, \
                             column {}, past the last cell a sheet can have (XFD1048576)",
                            r + 1,
                            c + 1
                        )));
                    }
                    col = c + 1;
                }
                _ => {}
            },
            (Part::Data, Event::End(e)) => match e.local_name().as_ref() {
                b"row" => {
                    row += 1;
                    col = 0;
                    if row > u64::from(MAX_ROWS) {
                        return Err(Error::Spreadsheet(format!(
                            "sheet '{sheet}' has more than {MAX_ROWS} rows"
                        )));
                    }
                }
                b"sheetData" => part = Part::Tail,
                _ => {}
            },
            _ => {}
        }
        if part == Part::Tail {
            return Ok(());
        }
    }
}

fn beyond(sheet: &str, what: &str, value: &[u8]) -> Error {
    Error::Spreadsheet(format!(
        "sheet '{sheet}': {what} reference '{}' is past the last cell a sheet can have \
         (XFD1048576)",
        shown(value)
    ))
}

/// A `<dimension ref="A1:C9">`: each corner within the sheet, the end not before the start.
fn check_dimension(value: &[u8], sheet: &str) -> Result<()> {
    let corners: Vec<Reference> = value.split(|b| *b == b':').map(parse_reference).collect();
    if corners.contains(&Reference::Beyond) {
        return Err(beyond(sheet, "dimension", value));
    }
    if let [Reference::At(r1, Some(c1)), Reference::At(r2, Some(c2))] = corners[..] {
        if r2 < r1 || c2 < c1 {
            return Err(Error::Spreadsheet(format!(
                "sheet '{sheet}': dimension '{}' ends before it starts",
                shown(value)
            )));
        }
    }
    Ok(())
}

/// A reference for an error message: at most 40 characters, control characters escaped.
fn shown(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out: String = text.chars().take(40).flat_map(char::escape_debug).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// The raw value of the attribute named exactly `name` (as calamine matches it).
fn attribute<'a>(e: &'a BytesStart<'_>, name: &[u8]) -> Option<&'a [u8]> {
    e.attributes().flatten().find_map(|a| match a.value {
        std::borrow::Cow::Borrowed(v) if a.key.as_ref() == name => Some(v),
        _ => None,
    })
}

#[derive(Debug, PartialEq)]
enum Reference {
    /// 0-based row and column (`None`: a row reference such as `7`).
    At(u32, Option<u32>),
    /// Well formed but past `XFD1048576`.
    Beyond,
    /// Something calamine refuses itself (other characters, no row, row 0).
    Malformed,
}

/// Letters then digits, as calamine reads them, with checked arithmetic. calamine
/// accumulates the letters, then the digits, before it looks at what follows them, so a
/// run too long is `Beyond` even when the reference is malformed after it.
fn parse_reference(value: &[u8]) -> Reference {
    let letters = value.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (column, rest) = value.split_at(letters);
    let mut col: u64 = 0;
    for b in column {
        col = col * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1;
        if col > u64::from(MAX_COLUMNS) {
            return Reference::Beyond;
        }
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut row: u64 = 0;
    for b in &rest[..digits] {
        row = row * 10 + u64::from(b - b'0');
        if row > u64::from(MAX_ROWS) {
            return Reference::Beyond;
        }
    }
    if digits == 0 || digits < rest.len() {
        return Reference::Malformed;
    }
    match (u32::try_from(row), u32::try_from(col)) {
        (Ok(row), Ok(col)) if row > 0 => Reference::At(row - 1, col.checked_sub(1)),
        _ => Reference::Malformed,
    }
}

/// Sheet names by the archive path of their XML, as calamine resolves them
/// (`xl/workbook.xml` names and relationship ids, `xl/_rels/workbook.xml.rels` targets).
/// Best effort: an unresolved part is named by its path.
fn sheet_names_by_path(zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Vec<(String, String)> {
    let targets = elements(zip, "xl/_rels/workbook.xml.rels", b"Relationship", |e| {
        Some((
            String::from_utf8_lossy(attribute(e, b"Id")?).into_owned(),
            String::from_utf8_lossy(attribute(e, b"Target")?).into_owned(),
        ))
    });
    elements(zip, "xl/workbook.xml", b"sheet", |e| {
        let name = e
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref() == b"name")?;
        let name = String::from_utf8_lossy(&name.value).into_owned();
        let name = quick_xml::escape::unescape(&name).ok()?.into_owned();
        let id = e
            .attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == b"id")?;
        let target = &targets.iter().find(|(i, _)| *i.as_bytes() == *id.value)?.1;
        let path = if let Some(rest) = target.strip_prefix('/') {
            rest.to_owned()
        } else if target.starts_with("xl/") {
            target.clone()
        } else {
            format!("xl/{target}")
        };
        Some((path, name))
    })
}

/// `pick` applied to every element named `local` in the archive part `path`.
fn elements<T>(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    path: &str,
    local: &[u8],
    pick: impl Fn(&BytesStart<'_>) -> Option<T>,
) -> Vec<T> {
    let Ok(entry) = zip.by_name(path) else {
        return Vec::new();
    };
    let mut xml = Reader::from_reader(std::io::BufReader::new(entry));
    let mut found = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == local => {
                found.extend(pick(&e));
            }
            Ok(Event::Eof) | Err(_) => return found,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_like_calamine_within_excel_limits() {
        assert_eq!(parse_reference(b"A1"), Reference::At(0, Some(0)));
        assert_eq!(parse_reference(b"c107"), Reference::At(106, Some(2)));
        assert_eq!(parse_reference(b"7"), Reference::At(6, None));
        assert_eq!(
            parse_reference(b"XFD1048576"),
            Reference::At(1_048_575, Some(16_383))
        );
        assert_eq!(parse_reference(b"XFE1"), Reference::Beyond);
        assert_eq!(parse_reference(b"A1048577"), Reference::Beyond);
        assert_eq!(
            parse_reference(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"),
            Reference::Beyond
        );
        assert_eq!(parse_reference(&[b'9'; 400]), Reference::Beyond);
        // Found by the fuzzer: calamine overflows on the letters before it refuses the
        // dot (a cell `r="Badsheetml.sheet.main+xml"`), and likewise on digits.
        assert_eq!(
            parse_reference(b"Badsheetml.sheet.main+xml"),
            Reference::Beyond
        );
        assert_eq!(parse_reference(&[b'Z'; 20]), Reference::Beyond);
        assert_eq!(parse_reference(b"A99999999999x"), Reference::Beyond);
        for bad in [&b""[..], b"A", b"A0", b"$A$1", b"A1B", b"1A"] {
            assert_eq!(parse_reference(bad), Reference::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn shown_references_are_short_and_escaped() {
        assert_eq!(shown(b"A\n1"), "A\\n1");
        assert_eq!(shown(&[b'A'; 100]).chars().count(), 41);
    }
}
