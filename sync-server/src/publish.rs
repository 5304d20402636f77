//! Publishing a form version: the engine's checker decides whether the document is a
//! form; a version, once published, never changes. The API and the CLI both call
//! [`publish`].

use voices_core::form::Form;

use crate::auth;
use crate::store::{FormVersion, Published, Store};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The document is not a valid form: every error, with its line, column and pointer.
    #[error("{0}")]
    InvalidForm(String),
    /// The version is already published with other content.
    #[error("{0}")]
    VersionExists(String),
    #[error(transparent)]
    Store(crate::Error),
}

/// Check a form document with the engine's checker; every error, with its line, column
/// and JSON pointer, or the parsed form.
pub fn check_form(document: &str) -> Result<Form, String> {
    let report = voices_core::check::check_source(document);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    match report.form {
        Some(form) if errors.is_empty() => Ok(form),
        _ => Err(format!("the form is not valid:\n{}", errors.join("\n"))),
    }
}

/// Publish a checked form version in a project, as `by`.
pub fn publish(
    store: &dyn Store,
    project: &str,
    document: &str,
    by: &str,
) -> Result<(Form, Published), PublishError> {
    let form = check_form(document).map_err(PublishError::InvalidForm)?;
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
