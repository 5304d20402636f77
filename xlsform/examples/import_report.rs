//! `cargo run -p voices-xlsform --example import_report -- FILE...`: one JSON line per
//! workbook with what the importer made of it — the form (when there was no error), every
//! diagnostic with its cell, and the survey row each form item came from. The pyxform
//! differential test (`scripts/xlsform-differential.sh`) reads these lines; one process for
//! the whole corpus keeps that test fast.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Value};
use voices_xlsform::{import_file, ImportOptions};

fn main() -> std::process::ExitCode {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!("usage: import_report FILE...");
        return std::process::ExitCode::from(2);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &files {
        let line = match import_file(file, &ImportOptions::default()) {
            Ok(report) => {
                let origins: serde_json::Map<String, Value> = report
                    .origins
                    .iter()
                    .map(|(pointer, origin)| {
                        (
                            pointer.clone(),
                            json!({"sheet": origin.sheet, "row": origin.row}),
                        )
                    })
                    .collect();
                json!({
                    "file": file.display().to_string(),
                    "form": report.form,
                    "diagnostics": report.diagnostics,
                    "origins": origins,
                })
            }
            Err(e) => json!({"file": file.display().to_string(), "unreadable": e.to_string()}),
        };
        if writeln!(out, "{line}").is_err() {
            return std::process::ExitCode::from(1);
        }
    }
    std::process::ExitCode::SUCCESS
}
