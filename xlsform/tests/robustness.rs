//! Malformed and hostile input gives a clear error or a clean result, never a panic or an
//! allocation the size of the sheet's declared dimensions.

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
