//! The forms on the device: importing (JSON, XLSForm, folders), the compiled forms
//! the engine runs, and the list the home screen shows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::Serialize;
use ts_rs::TS;
use voices_core::engine::CompiledForm;
use voices_core::form::Form;

use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::{ResponseStatus, SharedStore, Stored};
use crate::view::{self, LanguageView};

/// Example forms shipped inside the app: `(file name, JSON)`.
pub const EXAMPLES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/examples.rs"));

#[derive(Debug, Clone, Serialize, TS)]
pub struct FormSummary {
    pub form_id: String,
    pub version: String,
    /// Title in the form's default language (titles must be neutral).
    pub title: String,
    pub languages: Vec<LanguageView>,
    pub default_language: String,
    pub drafts: u32,
    pub finalized: u32,
    /// Versions of this form on the device (the newest is listed).
    pub versions: u32,
}

/// One problem in a form document, located precisely.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// JSON pointer of the offending value (empty when unknown).
    pub pointer: String,
    pub line: u32,
    pub column: u32,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileReport {
    pub file: String,
    /// `added`, `already_present`, `rejected`.
    pub outcome: String,
    pub form_id: Option<String>,
    pub version: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
}

/// The form versions on the device and their compiled forms (compiled once, then shared).
pub struct Forms {
    store: SharedStore,
    compiled: Mutex<HashMap<(String, String), Arc<CompiledForm>>>,
}

impl Forms {
    pub(crate) fn new(store: SharedStore) -> Forms {
        Forms {
            store,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// Add the embedded example forms (each version once).
    pub fn load_examples(&self) -> Result<ImportReport> {
        let files = EXAMPLES
            .iter()
            .map(|(name, text)| self.import_text(name, text, "example"))
            .collect::<Result<Vec<_>>>()?;
        Ok(ImportReport { files })
    }

    /// Check a form document with the engine's checker and keep it if it has no errors.
    pub fn import_text(&self, file: &str, text: &str, source: &str) -> Result<FileReport> {
        let report = voices_core::check::check_source(text);
        let diagnostics: Vec<Diagnostic> = report
            .diagnostics
            .iter()
            .map(|d| Diagnostic {
                severity: if d.is_error() { "error" } else { "warning" }.to_owned(),
                pointer: d.pointer.clone(),
                line: d.line.unwrap_or(0) as u32,
                column: d.column.unwrap_or(0) as u32,
                code: d.code.to_string(),
                message: d.message.clone(),
            })
            .collect();
        let mut out = FileReport {
            file: file.to_owned(),
            outcome: "rejected".to_owned(),
            form_id: report.form.as_ref().map(|f| f.id.clone()),
            version: report.form.as_ref().map(|f| f.version.clone()),
            diagnostics,
        };
        let Some(form) = report.form.as_ref().filter(|_| !report.has_errors()) else {
            return Ok(out);
        };
        let canonical =
            serde_json::to_string(form).map_err(|e| Error::InvalidForm(format!("{file}: {e}")))?;
        let stored =
            self.store
                .lock()
                .put_form_version(&form.id, &form.version, &canonical, source, &now());
        match stored {
            Ok(Stored::Added) => out.outcome = "added".to_owned(),
            Ok(Stored::AlreadyPresent) => out.outcome = "already_present".to_owned(),
            Err(Error::Conflict(message)) => out.diagnostics.push(Diagnostic {
                severity: "error".to_owned(),
                pointer: "/version".to_owned(),
                line: 0,
                column: 0,
                code: "version_reused".to_owned(),
                message,
            }),
            Err(e) => return Err(e),
        }
        Ok(out)
    }

    /// [`Forms::import_spreadsheet`] for bytes the UI sent as base64.
    pub fn import_spreadsheet_base64(&self, file: &str, data_base64: &str) -> Result<FileReport> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64)
            .map_err(|e| Error::InvalidInput(format!("spreadsheet `{file}`: {e}")))?;
        self.import_spreadsheet(file, &bytes)
    }

    /// Import an XLSForm spreadsheet the user picked. The converted form goes through the
    /// same checks and storage as a JSON form; importer problems come back as diagnostics
    /// naming the cell (shown as `file.xlsx:survey!C42: message`); nothing is stored then.
    pub fn import_spreadsheet(&self, file: &str, bytes: &[u8]) -> Result<FileReport> {
        let stem = Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("form")
            .to_owned();
        let options = voices_xlsform::ImportOptions {
            source_name: stem,
            lenient: false,
        };
        let rejected = |diagnostics| FileReport {
            file: file.to_owned(),
            outcome: "rejected".to_owned(),
            form_id: None,
            version: None,
            diagnostics,
        };
        let report = match voices_xlsform::import_spreadsheet_bytes(bytes, &options) {
            Ok(report) => report,
            Err(e) => {
                return Ok(rejected(vec![Diagnostic {
                    severity: "error".to_owned(),
                    pointer: String::new(),
                    line: 0,
                    column: 0,
                    code: "unreadable-spreadsheet".to_owned(),
                    message: e.to_string(),
                }]))
            }
        };
        let xls_diagnostics: Vec<Diagnostic> = report
            .diagnostics
            .iter()
            .map(|d| Diagnostic {
                severity: if d.is_error() { "error" } else { "warning" }.to_owned(),
                // The cell (`survey!C42`) stands where a JSON form's pointer does; the UI
                // shows it after the file name, as `file.xlsx:survey!C42`.
                pointer: d
                    .location
                    .as_ref()
                    .map(|at| at.to_string())
                    .unwrap_or_default(),
                line: 0,
                column: 0,
                code: d.code.to_string(),
                message: d.message.clone(),
            })
            .collect();
        let Some(form) = report.form.as_ref().filter(|_| !report.has_errors()) else {
            return Ok(rejected(xls_diagnostics));
        };
        let json =
            serde_json::to_string(form).map_err(|e| Error::InvalidForm(format!("{file}: {e}")))?;
        let mut out = self.import_text(file, &json, "xlsform")?;
        let mut diagnostics = xls_diagnostics;
        diagnostics.append(&mut out.diagnostics);
        out.diagnostics = diagnostics;
        Ok(out)
    }

    /// Import one form file, or every form file in a folder: JSON forms (`.json`) and
    /// XLSForm workbooks (`.xlsx`, `.xls`). In a folder, a file that cannot be read is
    /// reported as rejected with the reason and the others are still imported.
    pub fn import_path(&self, path: &Path) -> Result<ImportReport> {
        if !path.exists() {
            return Err(Error::NotFound(format!(
                "no file or folder at {}",
                path.display()
            )));
        }
        let files: Vec<PathBuf> = if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| Error::file(format!("reading folder {}", path.display()), e))?;
            let mut files = Vec::new();
            for entry in entries {
                let entry =
                    entry.map_err(|e| Error::file(format!("reading {}", path.display()), e))?;
                let p = entry.path();
                if p.is_file() && is_form_file(&p) {
                    files.push(p);
                }
            }
            if files.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "no form files (.json, .xlsx, .xls) in the folder {}",
                    path.display()
                )));
            }
            files.sort();
            files
        } else {
            vec![path.to_owned()]
        };
        let single = files.len() == 1 && !path.is_dir();
        let mut reports = Vec::new();
        for file in files {
            let name = file.display().to_string();
            let spreadsheet = has_extension(&file, &["xlsx", "xls"]);
            let report = match std::fs::read(&file) {
                Err(e) if single => {
                    return Err(Error::file(format!("reading {name}"), e));
                }
                Err(e) => unreadable(&name, format!("cannot read the file: {e}")),
                Ok(bytes) if spreadsheet => self.import_spreadsheet(&name, &bytes)?,
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => self.import_text(&name, &text, "file")?,
                    Err(e) => unreadable(
                        &name,
                        format!(
                            "not a JSON form: not UTF-8 text (byte {})",
                            e.utf8_error().valid_up_to() + 1
                        ),
                    ),
                },
            };
            reports.push(report);
        }
        Ok(ImportReport { files: reports })
    }

    pub(crate) fn compiled(&self, form_id: &str, version: &str) -> Result<Arc<CompiledForm>> {
        let key = (form_id.to_owned(), version.to_owned());
        if let Some(f) = lock(&self.compiled).get(&key) {
            return Ok(f.clone());
        }
        let definition = self.store.lock().form_definition(form_id, version)?;
        let form = Form::from_json(&definition)
            .map_err(|e| Error::Corrupt(format!("stored form `{form_id}` `{version}`: {e}")))?;
        let compiled = CompiledForm::compile(form).map_err(|diagnostics| {
            let first = diagnostics
                .first()
                .map(|d| d.to_string())
                .unwrap_or_default();
            Error::InvalidForm(format!(
                "form `{form_id}` `{version}` no longer compiles: {first}"
            ))
        })?;
        let compiled = Arc::new(compiled);
        lock(&self.compiled).insert(key, compiled.clone());
        Ok(compiled)
    }

    /// A form version's title in its default language (its id when unreadable).
    pub fn title(&self, form_id: &str, version: &str) -> String {
        match self.compiled(form_id, version) {
            Ok(compiled) => {
                let form = compiled.form();
                form.title
                    .get(&form.default_language, &form.default_language)
                    .to_owned()
            }
            Err(_) => form_id.to_owned(),
        }
    }

    /// The newest version of a form on the device, if it has any.
    pub fn newest_version(&self, form_id: &str) -> Result<Option<String>> {
        Ok(self
            .store
            .lock()
            .form_versions()?
            .into_iter()
            .rev()
            .find(|r| r.form_id == form_id)
            .map(|r| r.version))
    }

    pub fn list(&self) -> Result<Vec<FormSummary>> {
        let (versions, counts) = {
            let store = self.store.lock();
            (store.form_versions()?, store.response_counts()?)
        };
        let mut out: Vec<FormSummary> = Vec::new();
        for row in versions {
            let compiled = self.compiled(&row.form_id, &row.version)?;
            let form = compiled.form();
            let count = |statuses: &[ResponseStatus]| -> u32 {
                counts
                    .iter()
                    .filter(|(f, _, s, _)| f == &row.form_id && statuses.contains(s))
                    .map(|(_, _, _, n)| n)
                    .sum()
            };
            let summary = FormSummary {
                form_id: row.form_id.clone(),
                version: row.version.clone(),
                title: form
                    .title
                    .get(&form.default_language, &form.default_language)
                    .to_owned(),
                languages: view::languages(form),
                default_language: form.default_language.clone(),
                drafts: count(&[ResponseStatus::Draft]),
                finalized: count(&[
                    ResponseStatus::Finalized,
                    ResponseStatus::Queued,
                    ResponseStatus::Sent,
                ]),
                versions: 1,
            };
            // Rows come oldest first per form: the newest version replaces the entry.
            match out.iter_mut().find(|s| s.form_id == row.form_id) {
                Some(existing) => {
                    let versions = existing.versions + 1;
                    *existing = FormSummary {
                        versions,
                        ..summary
                    };
                }
                None => out.push(summary),
            }
        }
        out.sort_by_key(|a| a.title.to_lowercase());
        Ok(out)
    }
}

/// A form file a folder import picks up: JSON forms and XLSForm workbooks, not the
/// lock files office programs leave beside an open workbook (`~$form.xlsx`) nor hidden files.
fn is_form_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.') || n.starts_with("~$"));
    !hidden && has_extension(path, &["json", "xlsx", "xls"])
}

fn has_extension(path: &Path, wanted: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| wanted.iter().any(|w| e.eq_ignore_ascii_case(w)))
}

/// The report of a file that could not be read as a form at all.
fn unreadable(file: &str, message: String) -> FileReport {
    FileReport {
        file: file.to_owned(),
        outcome: "rejected".to_owned(),
        form_id: None,
        version: None,
        diagnostics: vec![Diagnostic {
            severity: "error".to_owned(),
            pointer: String::new(),
            line: 0,
            column: 0,
            code: "unreadable-file".to_owned(),
            message,
        }],
    }
}
