//! XLSForm import and export for Voices.
//!
//! [`import`] turns a spreadsheet (`.xlsx`, `.xls`) or a pyxform markdown table into a
//! [`voices_core::form::Form`], reporting every problem at once as [`Diagnostic`]s that
//! name the sheet cell. [`export`] writes a form back as an XLSForm `.xlsx`. The
//! Voices-specific columns (consent, privacy, `pii`, `sensitive`, safe exit) are
//! documented in `docs/xlsform.md`.

mod columns;
mod dense_bounds;
pub mod diag;
pub mod export;
pub mod import;
mod language;
pub mod workbook;
mod xlsx_bounds;

pub use diag::{CellRef, Diagnostic, Severity};
pub use export::export_xlsx;
pub use import::{import_workbook, ImportOptions, ImportReport};
pub use workbook::Workbook;

use std::path::Path;

/// Errors that stop an import or export before any form-level diagnostics can be given.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the spreadsheet: {0}")]
    Spreadsheet(String),
    #[error("cannot write the spreadsheet: {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: unsupported file type (expected .xlsx, .xls or .md)")]
    UnsupportedFile(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Import a file by its extension: `.xlsx`/`.xlsm`/`.xls`/`.ods` as a spreadsheet,
/// `.md`/`.markdown` as pyxform markdown tables.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<ImportReport> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| Error::Io {
            path: p.display().to_string(),
            source,
        })
    };
    let mut options = options.clone();
    if options.source_name.is_empty() {
        options.source_name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("form")
            .to_owned();
    }
    let workbook = match ext.as_str() {
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Workbook::from_spreadsheet_bytes(&read(path)?)?,
        "md" | "markdown" => {
            let bytes = read(path)?;
            Workbook::from_markdown(&String::from_utf8_lossy(&bytes))
        }
        _ => return Err(Error::UnsupportedFile(path.display().to_string())),
    };
    Ok(import_workbook(&workbook, &options))
}

/// Import spreadsheet bytes (a file the user picked in the app).
pub fn import_spreadsheet_bytes(bytes: &[u8], options: &ImportOptions) -> Result<ImportReport> {
    let workbook = Workbook::from_spreadsheet_bytes(bytes)?;
    Ok(import_workbook(&workbook, options))
}

/// Import pyxform markdown tables.
pub fn import_markdown(text: &str, options: &ImportOptions) -> ImportReport {
    import_workbook(&Workbook::from_markdown(text), options)
}
