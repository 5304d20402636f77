//! Parse any text as a form document and run the checker on it: errors and
//! diagnostics are fine, panics, stack overflows and hangs are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_core::Form;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Form::from_json(text);
    let _ = voices_core::check::check_source(text);
});
