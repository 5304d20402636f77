//! Arbitrary text as pyxform markdown tables.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_xlsform::{import_markdown, ImportOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = import_markdown(&text, &ImportOptions::default());
});
