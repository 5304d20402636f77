//! `.xls` and `.ods` workbooks, which calamine reads into ranges dense from a sheet's
//! first to its last value as it opens the file: a hostile sheet whose values span a
//! huge range is refused before calamine allocates it (without the check these tests
//! exhaust the memory), and an ordinary one still reads.

use std::io::{Cursor, Write};

use voices_xlsform::Workbook;

const ODS_MIMETYPE: &str = "application/vnd.oasis.opendocument.spreadsheet";

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

/// An `.ods` whose `survey` table holds `rows` (table-row elements).
fn ods(rows: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="survey">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("mimetype", stored).unwrap();
    out.write_all(ODS_MIMETYPE.as_bytes()).unwrap();
    out.start_file(
        "META-INF/manifest.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    out.write_all(MANIFEST.as_bytes()).unwrap();
    out.start_file("content.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    out.write_all(content.as_bytes()).unwrap();
    out.finish().unwrap().into_inner()
}

fn text(value: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>"#
    )
}

fn refused(bytes: &[u8]) -> String {
    let err = Workbook::from_spreadsheet_bytes(bytes)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cannot read the spreadsheet"), "{err}");
    err
}

#[test]
fn an_ordinary_ods_reads_with_its_trailing_empty_repeats() {
    let mut rows = format!(
        "<table:table-row>{}{}{}<table:table-cell table:number-columns-repeated=\"16381\"/></table:table-row>",
        text("type"),
        text("name"),
        text("label")
    );
    rows.push_str(&format!(
        "<table:table-row>{}{}{}</table:table-row>",
        text("text"),
        text("q1"),
        text("Your name?")
    ));
    rows.push_str(r#"<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#);
    let book = Workbook::from_spreadsheet_bytes(&ods(&rows)).unwrap();
    let survey = book.sheet("survey").unwrap();
    assert_eq!(survey.rows.len(), 2);
    assert_eq!(survey.rows[1].cells, ["text", "q1", "Your name?"]);
}

#[test]
fn an_ods_whose_repeats_span_a_huge_range_is_refused_naming_the_sheet() {
    // A few hundred bytes: one value across every column, the row repeated a million
    // times (calamine would build 16 billion cells).
    let rows = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384"/></table:table-row>"#;
    let err = refused(&ods(rows));
    assert!(err.contains("sheet 'survey' is too large"), "{err}");
    assert!(err.contains("A1:XFD1000000"), "{err}");
    // Two values in far corners, empty rows repeated between them.
    let rows = format!(
        "<table:table-row>{}</table:table-row><table:table-row table:number-rows-repeated=\"1048574\"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated=\"16383\"/>{}</table:table-row>",
        text("type"),
        text("x")
    );
    let err = refused(&ods(&rows));
    assert!(err.contains("A1:XFD1048576"), "{err}");
}

/// A BIFF record.
fn record(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_le_bytes().to_vec();
    out.extend((data.len() as u16).to_le_bytes());
    out.extend(data);
    out
}

/// A NUMBER record at a 0-based row and column.
fn number(row: u16, col: u16) -> Vec<u8> {
    let mut data = row.to_le_bytes().to_vec();
    data.extend(col.to_le_bytes());
    data.extend(0u16.to_le_bytes());
    data.extend(1.0f64.to_le_bytes());
    record(0x0203, &data)
}

/// An `.xls` (BIFF8 in a compound file) with one sheet `survey` holding `cells`.
fn xls(cells: &[Vec<u8>]) -> Vec<u8> {
    let bof = |kind: u8| {
        record(
            0x0809,
            &[0x00, 0x06, kind, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        )
    };
    let name = b"survey";
    let globals_bof = bof(0x05);
    let boundsheet_len = 4 + 8 + name.len();
    let sheet_at = (globals_bof.len() + boundsheet_len + 4) as u32;
    let mut boundsheet = sheet_at.to_le_bytes().to_vec();
    boundsheet.extend([0, 0, name.len() as u8, 0]);
    boundsheet.extend(name);
    let mut stream = globals_bof;
    stream.extend(record(0x0085, &boundsheet));
    stream.extend(record(0x000A, &[]));
    stream.extend(bof(0x10));
    for cell in cells {
        stream.extend(cell);
    }
    stream.extend(record(0x000A, &[]));
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    file.create_stream("Workbook")
        .unwrap()
        .write_all(&stream)
        .unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}

#[test]
fn an_xls_whose_values_span_a_huge_range_is_refused_before_calamine_reads_it() {
    // Two numbers, A1 and the last cell a BIFF8 record can name: calamine would build
    // 65,536 × 65,536 cells.
    let err = refused(&xls(&[number(0, 0), number(65_535, 65_535)]));
    assert!(err.contains("sheet 'survey' is too large"), "{err}");
    assert!(err.contains("A1:CRXP65536"), "{err}");
}

#[test]
fn an_xls_of_ordinary_extent_is_left_to_calamine() {
    // 1,000 rows × 20 columns: within the budget, so calamine reads (or refuses) it.
    let cells: Vec<_> = (0..1000).map(|r| number(r, r % 20)).collect();
    if let Err(err) = Workbook::from_spreadsheet_bytes(&xls(&cells)) {
        assert!(!err.to_string().contains("too large"), "{err}");
    }
}
