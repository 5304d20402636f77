//! Odd cells in a well-formed workbook: the bytes are split into sheets, rows and cells
//! (0xFF ends a cell, 0xFE a row, 0xFD a sheet), so the fuzzer explores column headers,
//! types and expressions rather than zip framing. Whatever imports must also export and
//! import again without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_xlsform::workbook::{Sheet, SheetRow, Workbook};
use voices_xlsform::{export_xlsx, import_spreadsheet_bytes, import_workbook, ImportOptions};

const SHEETS: [&str; 4] = ["survey", "choices", "settings", "entities"];

fuzz_target!(|data: &[u8]| {
    let mut book = Workbook::default();
    for (i, sheet_bytes) in data.split(|b| *b == 0xFD).enumerate().take(SHEETS.len()) {
        let mut sheet = Sheet {
            name: SHEETS[i].to_owned(),
            rows: Vec::new(),
        };
        for (r, row_bytes) in sheet_bytes.split(|b| *b == 0xFE).enumerate() {
            let cells = row_bytes
                .split(|b| *b == 0xFF)
                .map(|c| String::from_utf8_lossy(c).trim().to_owned())
                .collect();
            sheet.rows.push(SheetRow {
                number: r as u32 + 1,
                cells,
            });
        }
        book.sheets.push(sheet);
    }
    let report = import_workbook(&book, &ImportOptions::default());
    if let Some(form) = report.form {
        if let Ok(bytes) = export_xlsx(&form) {
            let _ = import_spreadsheet_bytes(&bytes, &ImportOptions::default());
        }
    }
});
