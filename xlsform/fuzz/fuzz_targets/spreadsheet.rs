//! Arbitrary bytes as an .xlsx/.xls file: malformed zips, broken XML, odd cell types.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_xlsform::{import_spreadsheet_bytes, ImportOptions};

fuzz_target!(|data: &[u8]| {
    let _ = import_spreadsheet_bytes(data, &ImportOptions::default());
});
