//! Form versions on PostgreSQL: publishing one (immutable once published), listing and
//! reading them.

use postgres::Client;

use super::super::shared;
use super::super::{FormVersion, FormVersionSummary, Published};
use super::connection::Attempt;

pub(super) fn publish_form(c: &mut Client, form: &FormVersion) -> Attempt<Published> {
    let mut tx = c.transaction()?;
    let inserted = tx.execute(
        "INSERT INTO form_versions (project, form, version, title, sha256, document, published_at, published_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        &[
            &form.project,
            &form.form,
            &form.version,
            &form.title,
            &form.sha256,
            &form.document,
            &form.published_at,
            &form.published_by,
        ],
    )?;
    if inserted == 1 {
        tx.commit()?;
        return Ok(Published::New);
    }
    let sha: String = tx
        .query_one(
            "SELECT sha256 FROM form_versions WHERE project = $1 AND form = $2 AND version = $3",
            &[&form.project, &form.form, &form.version],
        )?
        .try_get(0)?;
    Ok(shared::already_published(form, &sha)?)
}

pub(super) fn list_forms(c: &mut Client, project: &str) -> Attempt<Vec<FormVersionSummary>> {
    c.query(
        "SELECT form, version, title, published_at, sha256 FROM form_versions
         WHERE project = $1 ORDER BY form, published_at, version",
        &[&project],
    )?
    .iter()
    .map(|r| {
        Ok(FormVersionSummary {
            form: r.try_get(0)?,
            version: r.try_get(1)?,
            title: r.try_get(2)?,
            published_at: r.try_get(3)?,
            sha256: r.try_get(4)?,
            recipients: Vec::new(),
        })
    })
    .collect()
}

pub(super) fn get_form(
    c: &mut Client,
    project: &str,
    form: &str,
    version: &str,
) -> Attempt<Option<FormVersion>> {
    let Some(r) = c.query_opt(
        "SELECT title, sha256, document, published_at, published_by FROM form_versions
         WHERE project = $1 AND form = $2 AND version = $3",
        &[&project, &form, &version],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(FormVersion {
        project: project.to_owned(),
        form: form.to_owned(),
        version: version.to_owned(),
        title: r.try_get(0)?,
        sha256: r.try_get(1)?,
        document: r.try_get(2)?,
        published_at: r.try_get(3)?,
        published_by: r.try_get(4)?,
    }))
}
