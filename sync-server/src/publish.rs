//! Publishing a form version: the engine's checker decides whether the document is a
//! form; a version, once published, never changes. The API and the CLI both call
//! [`publish`]; an XLSForm workbook is converted first ([`publish_workbook`]), its
//! problems reported by sheet and cell.

use voices_core::form::Form;

use crate::auth;
use crate::store::{FormVersion, Published, Store};

pub use voices_core::sync::protocol::Finding;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The document is not a valid form: every error, with where it is.
    #[error("{message}")]
    InvalidForm {
        message: String,
        findings: Vec<Finding>,
    },
    /// The version is already published with other content.
    #[error("{0}")]
    VersionExists(String),
    #[error(transparent)]
    Store(crate::Error),
}

/// Check a form document with the engine's checker: the parsed form, or every error
/// with its line, column and JSON pointer.
pub fn check_form(document: &str) -> Result<Form, PublishError> {
    let report = voices_core::check::check_source(document);
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.is_error()).collect();
    match report.form {
        Some(form) if errors.is_empty() => Ok(form),
        _ => Err(PublishError::InvalidForm {
            message: format!(
                "the form is not valid:\n{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            findings: errors
                .iter()
                .map(|d| Finding {
                    severity: "error".into(),
                    code: d.code.as_str(),
                    message: d.message.clone(),
                    pointer: Some(d.pointer.clone()),
                    line: d.line,
                    column: d.column,
                    sheet: None,
                    row: None,
                    cell: None,
                })
                .collect(),
        }),
    }
}

/// Convert an XLSForm workbook (`.xlsx`, `.xls`, `.ods` bytes) and publish the form:
/// refused with every error by sheet and cell when it does not convert.
pub fn publish_workbook(
    store: &dyn Store,
    project: &str,
    workbook: &[u8],
    by: &str,
) -> Result<(Form, Published), PublishError> {
    let converted = convert_workbook(workbook)?;
    let errors: Vec<Finding> = converted
        .findings
        .into_iter()
        .filter(|f| f.severity == "error")
        .collect();
    if !errors.is_empty() {
        return Err(PublishError::InvalidForm {
            message: format!(
                "the workbook is not a valid form:\n{}",
                errors
                    .iter()
                    .map(|f| format!("{}: {}", f.cell.as_deref().unwrap_or("workbook"), f.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            findings: errors,
        });
    }
    let document =
        serde_json::to_string_pretty(&converted.form).map_err(|e| PublishError::Store(e.into()))?;
    publish(store, project, &document, by)
}

/// A workbook converted to a form, with what the importer found (errors and warnings),
/// each by sheet and cell.
#[derive(Debug)]
pub struct Converted {
    pub form: Form,
    pub findings: Vec<Finding>,
}

/// Convert an XLSForm workbook to a form as `voices form import` does, without publishing
/// it (the console's workbench edits the result as a draft): the form with the importer's
/// warnings, or every error by sheet and cell.
pub fn convert_workbook(workbook: &[u8]) -> Result<Converted, PublishError> {
    let options = voices_xlsform::ImportOptions {
        source_name: "form".into(),
        lenient: false,
    };
    let report = voices_xlsform::import_spreadsheet_bytes(workbook, &options).map_err(|e| {
        PublishError::InvalidForm {
            message: format!("the workbook cannot be read: {e}"),
            findings: vec![Finding {
                severity: "error".into(),
                code: "unreadable-workbook".into(),
                message: e.to_string(),
                pointer: None,
                line: None,
                column: None,
                sheet: None,
                row: None,
                cell: None,
            }],
        }
    })?;
    let findings: Vec<Finding> = report
        .diagnostics
        .iter()
        .map(|d| Finding {
            severity: if d.is_error() { "error" } else { "warning" }.into(),
            code: d.code.to_string(),
            message: d.message.clone(),
            pointer: None,
            line: None,
            column: None,
            sheet: d.location.as_ref().map(|at| at.sheet.clone()),
            row: d.location.as_ref().and_then(|at| at.row),
            cell: d
                .location
                .as_ref()
                .filter(|at| at.row.is_some())
                .map(ToString::to_string),
        })
        .collect();
    match report.form {
        Some(form) => Ok(Converted { form, findings }),
        None => Err(PublishError::InvalidForm {
            message: format!(
                "the workbook is not a valid form:\n{}",
                report
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.render("workbook"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            findings: findings
                .into_iter()
                .filter(|f| f.severity == "error")
                .collect(),
        }),
    }
}

/// Publish a checked form version in a project, as `by`.
pub fn publish(
    store: &dyn Store,
    project: &str,
    document: &str,
    by: &str,
) -> Result<(Form, Published), PublishError> {
    let form = check_form(document)?;
    let version = FormVersion {
        project: project.to_owned(),
        form: form.id.clone(),
        version: form.version.clone(),
        title: form
            .title
            .get(&form.default_language, &form.default_language)
            .to_owned(),
        sha256: auth::sha256_hex(document.as_bytes()),
        document: document.to_owned(),
        published_at: crate::now_text(),
        published_by: by.to_owned(),
    };
    let published = store.publish_form(&version).map_err(|e| match e {
        crate::Error::Conflict(m) => PublishError::VersionExists(m),
        other => PublishError::Store(other),
    })?;
    Ok((form, published))
}
