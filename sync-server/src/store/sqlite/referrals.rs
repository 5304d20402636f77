//! The referral directory on SQLite: versions of a project's directory, the latest read.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{Published, PublishedDirectory};
use crate::Result;

const COLUMNS: &str = "version, document, sha256, published_at, published_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublishedDirectory> {
    Ok(PublishedDirectory {
        version: r.get(0)?,
        document: r.get(1)?,
        sha256: r.get(2)?,
        published_at: r.get(3)?,
        published_by: r.get(4)?,
    })
}

pub(super) fn latest(c: &Connection, project: &str) -> Result<Option<PublishedDirectory>> {
    Ok(c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM referral_directories WHERE project = ?1
             ORDER BY version DESC LIMIT 1"
        ),
        [project],
        row,
    )
    .optional()?)
}

/// `Store::publish_directory` in the caller's (write) transaction.
pub(super) fn publish(
    tx: &Connection,
    project: &str,
    document: &str,
    sha256: &str,
    by: &str,
    now: &str,
) -> Result<Option<(PublishedDirectory, Published)>> {
    if !super::project_exists(tx, project)? {
        return Ok(None);
    }
    let latest = latest(tx, project)?;
    if let Some(latest) = latest.as_ref().filter(|l| l.sha256 == sha256) {
        return Ok(Some((latest.clone(), Published::AlreadyIdentical)));
    }
    let published = PublishedDirectory {
        version: latest.map_or(1, |l| l.version + 1),
        document: document.to_owned(),
        sha256: sha256.to_owned(),
        published_at: now.to_owned(),
        published_by: by.to_owned(),
    };
    tx.execute(
        &format!(
            "INSERT INTO referral_directories (project, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ),
        params![project, published.version, document, sha256, now, by],
    )?;
    Ok(Some((published, Published::New)))
}
