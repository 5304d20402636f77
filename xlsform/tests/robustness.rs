//! Malformed and hostile input gives a clear error or a clean result, never a panic or an
//! allocation the size of the sheet's declared dimensions.

use std::io::{Cursor, Read, Write};

use voices_xlsform::workbook::MAX_CELL_SLOTS;
use voices_xlsform::{import_markdown, import_spreadsheet_bytes, ImportOptions, Workbook};

fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("survey").unwrap();
    for (row, col, text) in cells {
        sheet.write_string(*row, *col, *text).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// A real workbook (sheet `survey`, `type`/`name`/`label` header) whose sheet XML is then
/// rewritten by `edit`, as a hostile file would have it.
fn hand_edited_xlsx(edit: impl Fn(&str) -> String) -> Vec<u8> {
    with_parts(edit, &[])
}

/// [`hand_edited_xlsx`] with more archive parts `(name, content)`.
fn with_parts(edit: impl Fn(&str) -> String, extra: &[(&str, &str)]) -> Vec<u8> {
    let original = xlsx(&[(0, 0, "type"), (0, 1, "name"), (0, 2, "label")]);
    let mut source = zip::ZipArchive::new(Cursor::new(original)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut edited = false;
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            bytes = edit(std::str::from_utf8(&bytes).unwrap()).into_bytes();
            edited = true;
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    assert!(edited, "the workbook has xl/worksheets/sheet1.xml");
    for (name, content) in extra {
        out.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(content.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The sheet XML with `<sheetData>…</sheetData>` replaced by `data`.
fn with_sheet_data(data: &str) -> Vec<u8> {
    let data = data.to_owned();
    hand_edited_xlsx(move |xml| {
        let start = xml.find("<sheetData").unwrap();
        let end = xml.find("</sheetData>").unwrap() + "</sheetData>".len();
        format!(
            "{}<sheetData>{data}</sheetData>{}",
            &xml[..start],
            &xml[end..]
        )
    })
}

fn refused(bytes: &[u8]) -> String {
    let err = Workbook::from_spreadsheet_bytes(bytes)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cannot read the spreadsheet"), "{err}");
    err
}

#[test]
fn the_hand_edited_workbook_reads_when_left_alone() {
    let book = Workbook::from_spreadsheet_bytes(&hand_edited_xlsx(str::to_owned)).unwrap();
    assert_eq!(
        book.sheet("survey").unwrap().rows[0].cells,
        ["type", "name", "label"]
    );
    let book = Workbook::from_spreadsheet_bytes(&with_sheet_data(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>type</t></is></c><c t="inlineStr"><is><t>name</t></is></c></row><row><c t="inlineStr"><is><t>text</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>"#,
    ))
    .unwrap();
    let rows = &book.sheet("survey").unwrap().rows;
    assert_eq!(rows[0].cells, ["type", "name"]);
    assert_eq!((rows[1].number, rows[1].cells[0].as_str()), (2, "text"));
    assert_eq!((rows[2].number, rows[2].cells.len()), (1_048_576, 16_384));
}

// Found by the `spreadsheet` fuzz target: calamine computes cell references with unchecked
// u32 arithmetic (a panic in a debug build, a wrong position in a release build).
#[test]
fn cell_references_past_the_last_cell_are_refused_naming_sheet_and_cell() {
    let long = format!("{}1", "A".repeat(38));
    for (reference, shown) in [
        (long.as_str(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"),
        ("XFE1", "XFE1"),
        ("A1048577", "A1048577"),
        ("A99999999999999999999", "A99999999999999999999"),
        ("a4294967297", "a4294967297"),
        // From the fuzzer: too many letters, then not a reference at all.
        ("Badsheetml.sheet.main+xml", "Badsheetml.sheet.main+xml"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ] {
        let bytes = with_sheet_data(&format!(
            r#"<row r="1"><c r="{reference}" t="inlineStr"><is><t>x</t></is></c></row>"#
        ));
        let err = refused(&bytes);
        assert!(
            err.contains("sheet 'survey'") && err.contains(&format!("'{shown}'")),
            "{err}"
        );
        assert!(err.contains("XFD1048576"), "{err}");
        let err = import_spreadsheet_bytes(&bytes, &ImportOptions::default()).unwrap_err();
        assert!(err.to_string().contains("sheet 'survey'"), "{err}");
    }
}

#[test]
fn only_the_parts_calamine_reads_as_sheets_are_checked() {
    let hostile = format!(
        r#"<worksheet><sheetData><row r="1"><c r="{}1"><v>1</v></c></row></sheetData></worksheet>"#,
        "A".repeat(38)
    );
    // Not a sheet calamine would read: the workbook imports.
    let bytes = with_parts(str::to_owned, &[("docProps/extra.xml", hostile.as_str())]);
    assert!(Workbook::from_spreadsheet_bytes(&bytes).is_ok());
    // In a sheet folder (any case, even unlisted in the workbook): checked.
    let bytes = with_parts(
        str::to_owned,
        &[("XL/Worksheets/sheet9.xml", hostile.as_str())],
    );
    let err = refused(&bytes);
    assert!(err.contains("XL/Worksheets/sheet9.xml"), "{err}");
}

/// The `spreadsheet` fuzz target's crasher as it found it (a seed workbook mutated: a
/// cell `r="Badsheetml.sheet.main+xml"`, broken CRCs): refused by the check, which names
/// the cell, rather than by the catch of calamine's overflow panic.
#[test]
fn the_fuzzers_crasher_is_refused_naming_the_cell() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fuzz-crash-long-column-letters.xlsx"
    );
    let err = refused(&std::fs::read(path).unwrap());
    assert!(
        err.contains("cell reference 'Badsheetml.sheet.main+xml' is past"),
        "{err}"
    );
}

/// The second crasher: its first bytes are not `PK`, so the check was skipped, while
/// calamine still opened it as an `.xlsx` and overflowed on its `<dimension ref>`.
#[test]
fn a_workbook_without_the_zip_magic_is_checked_too() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fuzz-crash-dimension-no-zip-magic.xlsx"
    );
    let err = refused(&std::fs::read(path).unwrap());
    assert!(
        err.contains("dimension reference 'Aeeeeeeeeeeeeeeeeeeeeeeepeaieeeeer1' is past"),
        "{err}"
    );
}

#[test]
fn row_references_and_counted_positions_past_the_sheet_are_refused() {
    let err = refused(&with_sheet_data(
        r#"<row r="99999999999"><c t="inlineStr"><is><t>x</t></is></c></row>"#,
    ));
    assert!(err.contains("row reference '99999999999'"), "{err}");
    // No references: calamine counts cells along the row, one past XFD is refused.
    let cells = r#"<c t="inlineStr"><is><t>x</t></is></c>"#.repeat(16_385);
    let err = refused(&with_sheet_data(&format!("<row>{cells}</row>")));
    assert!(err.contains("column 16385"), "{err}");
    let err = refused(&with_sheet_data(
        r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row><row><c><v>2</v></c></row>"#,
    ));
    assert!(err.contains("row 1048577, column 1"), "{err}");
    let err = refused(&with_sheet_data(r#"<row r="1048576"></row><row></row>"#));
    assert!(err.contains("more than 1048576 rows"), "{err}");
}

#[test]
fn declared_dimensions_past_the_sheet_or_reversed_are_refused() {
    for (dimension, says) in [
        ("A1:XFE1", "dimension reference 'A1:XFE1' is past"),
        (
            "A1:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ1",
            "dimension reference 'A1:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ…' is past",
        ),
        ("A1:A4294967296", "is past"),
        ("B2:A1", "dimension 'B2:A1' ends before it starts"),
    ] {
        let bytes = hand_edited_xlsx(|xml| {
            let start = xml.find("<dimension").unwrap();
            let end = start + xml[start..].find("/>").unwrap() + 2;
            format!(
                r#"{}<dimension ref="{dimension}"/>{}"#,
                &xml[..start],
                &xml[end..]
            )
        });
        let err = refused(&bytes);
        assert!(
            err.contains("sheet 'survey'") && err.contains(says),
            "{err}"
        );
    }
    // The largest sheet Excel allows, declared but empty, costs nothing.
    let bytes = hand_edited_xlsx(|xml| {
        let start = xml.find("<dimension").unwrap();
        let end = start + xml[start..].find("/>").unwrap() + 2;
        format!(
            r#"{}<dimension ref="A1:XFD1048576"/>{}"#,
            &xml[..start],
            &xml[end..]
        )
    });
    assert_eq!(
        Workbook::from_spreadsheet_bytes(&bytes).unwrap().sheets[0].rows[0].cells,
        ["type", "name", "label"]
    );
}

#[test]
fn garbage_bytes_are_an_error_not_a_panic() {
    let options = ImportOptions::default();
    for bytes in [
        &b""[..],
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 truncated xls",
        b"plain text",
    ] {
        let err = import_spreadsheet_bytes(bytes, &options).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read the spreadsheet"),
            "{err}"
        );
    }
}

#[test]
fn a_far_corner_cell_costs_no_memory_for_the_empty_sheet_between() {
    // Declared A1:XFD1048576, two values: a dense range would be 17 billion cells.
    let bytes = xlsx(&[(0, 0, "type"), (1_048_575, 16_383, "x")]);
    let book = Workbook::from_spreadsheet_bytes(&bytes).unwrap();
    let survey = book.sheet("survey").unwrap();
    assert_eq!(survey.rows.len(), 2);
    assert_eq!(survey.rows[1].number, 1_048_576);
    assert_eq!(survey.rows[1].cells.len(), 16_384);
}

#[test]
fn sheets_beyond_the_cell_budget_are_refused() {
    let rows = (MAX_CELL_SLOTS / 16_384) as u32 + 2;
    let cells: Vec<(u32, u16, &str)> = (0..rows).map(|r| (r, 16_383, "x")).collect();
    let err = Workbook::from_spreadsheet_bytes(&xlsx(&cells)).unwrap_err();
    assert!(err.to_string().contains("is too large"), "{err}");
}

#[test]
fn odd_markdown_and_odd_cells_are_reported() {
    let options = ImportOptions::default();
    for md in [
        "",
        "|",
        "||||",
        "| survey |\n",
        "| survey |\n| | type |\n| | begin group |\n| | begin repeat |\n",
        "| survey |\n| | type | name | label |\n| | end repeat | | |\n| | end group | | |\n",
        "| survey |\n| | type | name | label | relevant |\n| | text | q | Q | ((((((( |\n",
        "| survey |\n| | type | name | label::(( | hint::)) |\n| | text | q | Q | H |\n",
        "| survey |\n| | type | name | label | default |\n| | text | q | Q | it's \"x\" |\n",
        "| survey |\n| | type | name | label |\n| | select_one | q | Q |\n| | select_one  | | |\n",
    ] {
        let report = import_markdown(md, &options);
        assert!(
            report.form.is_some() || report.has_errors(),
            "either a form or an error for {md:?}"
        );
    }
    let deep = format!(
        "| survey |\n| | type | name | label | calculation |\n| | calculate | c | | {}1{} |\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let report = import_markdown(&deep, &options);
    assert!(
        report.has_errors(),
        "a 10,000-deep expression is reported, not a stack overflow"
    );
    let mut nested = String::from("| survey |\n| | type | name | label |\n");
    for i in 0..100_000 {
        nested.push_str(&format!("| | begin group | g{i} | G |\n"));
    }
    let report = import_markdown(&nested, &options);
    assert!(report.errors().any(|d| d.code == "too-deep"));
    assert!(report.errors().any(|d| d.code == "unbalanced"));
}
