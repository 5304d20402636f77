//! Form versions on SQLite: publishing one (immutable once published), listing and
//! reading them.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::super::shared;
use super::super::{FormVersion, FormVersionSummary, Published};
use crate::Result;

pub(super) fn publish_form(c: &mut Connection, form: &FormVersion) -> Result<Published> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: Option<String> = tx
        .query_row(
            "SELECT sha256 FROM form_versions WHERE project = ?1 AND form = ?2 AND version = ?3",
            params![form.project, form.form, form.version],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(sha) = existing {
        return shared::already_published(form, &sha);
    }
    tx.execute(
        "INSERT INTO form_versions (project, form, version, title, sha256, document, published_at, published_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            form.project,
            form.form,
            form.version,
            form.title,
            form.sha256,
            form.document,
            form.published_at,
            form.published_by
        ],
    )?;
    tx.commit()?;
    Ok(Published::New)
}

pub(super) fn list_forms(c: &Connection, project: &str) -> Result<Vec<FormVersionSummary>> {
    let mut stmt = c.prepare_cached(
        "SELECT form, version, title, published_at, sha256 FROM form_versions
         WHERE project = ?1 ORDER BY form, published_at, version",
    )?;
    let rows = stmt.query_map([project], |r| {
        Ok(FormVersionSummary {
            form: r.get(0)?,
            version: r.get(1)?,
            title: r.get(2)?,
            published_at: r.get(3)?,
            sha256: r.get(4)?,
            recipients: Vec::new(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn get_form(
    c: &Connection,
    project: &str,
    form: &str,
    version: &str,
) -> Result<Option<FormVersion>> {
    Ok(c.query_row(
        "SELECT title, sha256, document, published_at, published_by FROM form_versions
         WHERE project = ?1 AND form = ?2 AND version = ?3",
        params![project, form, version],
        |r| {
            Ok(FormVersion {
                project: project.to_owned(),
                form: form.to_owned(),
                version: version.to_owned(),
                title: r.get(0)?,
                sha256: r.get(1)?,
                document: r.get(2)?,
                published_at: r.get(3)?,
                published_by: r.get(4)?,
            })
        },
    )
    .optional()?)
}
