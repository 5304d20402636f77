//! The referral directory on PostgreSQL: versions of a project's directory, the latest
//! read. A publication locks the project's row, so two at once take two versions.

use postgres::{Client, GenericClient, Row};

use super::Attempt;
use crate::store::{Published, PublishedDirectory};

const COLUMNS: &str = "version, document, sha256, published_at, published_by";

fn row(r: &Row) -> Attempt<PublishedDirectory> {
    let version: i32 = r.try_get(0)?;
    Ok(PublishedDirectory {
        version: i64::from(version),
        document: r.try_get(1)?,
        sha256: r.try_get(2)?,
        published_at: r.try_get(3)?,
        published_by: r.try_get(4)?,
    })
}

pub(super) fn latest(
    c: &mut impl GenericClient,
    project: &str,
) -> Attempt<Option<PublishedDirectory>> {
    c.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM referral_directories WHERE project = $1
             ORDER BY version DESC LIMIT 1"
        ),
        &[&project],
    )?
    .as_ref()
    .map(row)
    .transpose()
}

/// `Store::publish_directory`, in one transaction.
pub(super) fn publish(
    c: &mut Client,
    project: &str,
    document: &str,
    sha256: &str,
    by: &str,
    now: &str,
) -> Attempt<Option<(PublishedDirectory, Published)>> {
    let mut tx = c.transaction()?;
    if tx
        .query_opt(
            "SELECT 1 FROM projects WHERE id = $1 FOR UPDATE",
            &[&project],
        )?
        .is_none()
    {
        return Ok(None);
    }
    let latest = latest(&mut tx, project)?;
    if let Some(latest) = latest.as_ref().filter(|l| l.sha256 == sha256) {
        let same = latest.clone();
        tx.commit()?;
        return Ok(Some((same, Published::AlreadyIdentical)));
    }
    let version = latest.map_or(1, |l| l.version + 1);
    let stored = i32::try_from(version).unwrap_or(i32::MAX);
    tx.execute(
        &format!(
            "INSERT INTO referral_directories (project, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ),
        &[&project, &stored, &document, &sha256, &now, &by],
    )?;
    tx.commit()?;
    Ok(Some((
        PublishedDirectory {
            version,
            document: document.to_owned(),
            sha256: sha256.to_owned(),
            published_at: now.to_owned(),
            published_by: by.to_owned(),
        },
        Published::New,
    )))
}
