//! Attachments on PostgreSQL: a row per file with its declared size and the bytes
//! received, the bytes in `attachment_chunks` keyed by their offset. The file's row lock
//! serializes its chunks across server processes.

use postgres::{Client, GenericClient};

use super::{Attempt, Fail};
use crate::store::shared::{self, Chunk, ChunkStep};
use crate::store::{AttachmentStatus, ChunkOutcome};
use crate::Error;

/// The status of an attachment; `lock`: hold its row until the transaction ends.
pub(super) fn status(
    c: &mut impl GenericClient,
    project: &str,
    sha256: &str,
    lock: bool,
) -> Attempt<Option<AttachmentStatus>> {
    let sql = if lock {
        "SELECT size, received, complete FROM attachments WHERE project = $1 AND sha256 = $2 FOR UPDATE"
    } else {
        "SELECT size, received, complete FROM attachments WHERE project = $1 AND sha256 = $2"
    };
    let row = c.query_opt(sql, &[&project, &sha256])?;
    row.map(|r| {
        Ok(AttachmentStatus {
            sha256: sha256.to_owned(),
            size: r.try_get::<_, i64>(0)? as u64,
            received: r.try_get::<_, i64>(1)? as u64,
            complete: r.try_get(2)?,
        })
    })
    .transpose()
}

/// `Store::put_attachment_chunk`, one attempt.
pub(super) fn put_chunk(c: &mut Client, chunk: &Chunk<'_>) -> Attempt<ChunkOutcome> {
    let mut tx = c.transaction()?;
    tx.execute(
        "INSERT INTO attachments (project, sha256, size, received, complete, created_at)
         VALUES ($1, $2, $3, 0, FALSE, $4) ON CONFLICT DO NOTHING",
        &[
            &chunk.project,
            &chunk.sha256,
            &(chunk.size as i64),
            &chunk.now,
        ],
    )?;
    let status = status(&mut tx, chunk.project, chunk.sha256, true)?.ok_or_else(|| {
        Fail::Other(Error::NotFound(format!(
            "attachment {} vanished",
            chunk.sha256
        )))
    })?;
    let (end, status) = match shared::chunk_step(&status, chunk)? {
        ChunkStep::Answer(outcome) => {
            tx.commit()?;
            return Ok(outcome);
        }
        ChunkStep::Append { end } => (end, status),
        ChunkStep::Restart { end } => {
            remove_chunks(&mut tx, chunk.project, chunk.sha256)?;
            tx.execute(
                "UPDATE attachments SET size = $3, received = 0 WHERE project = $1 AND sha256 = $2",
                &[&chunk.project, &chunk.sha256, &(chunk.size as i64)],
            )?;
            (end, shared::new_attachment(chunk.sha256, chunk.size))
        }
    };
    // The last byte: the content is checked before anything is written, so the file is
    // complete, or gone, in this one transaction (under the file's row lock).
    if end == chunk.size {
        let stored = stored_chunks(&mut tx, chunk.project, chunk.sha256);
        if !shared::completes(chunk.sha256, stored, chunk.data)? {
            remove_chunks(&mut tx, chunk.project, chunk.sha256)?;
            tx.execute(
                "DELETE FROM attachments WHERE project = $1 AND sha256 = $2",
                &[&chunk.project, &chunk.sha256],
            )?;
            tx.commit()?;
            return Ok(ChunkOutcome::Discarded);
        }
    }
    let complete = end == chunk.size;
    if !chunk.data.is_empty() {
        tx.execute(
            "INSERT INTO attachment_chunks (project, sha256, \"offset\", data) VALUES ($1, $2, $3, $4)",
            &[&chunk.project, &chunk.sha256, &(chunk.offset as i64), &chunk.data],
        )?;
    }
    let completed_at = complete.then_some(chunk.now);
    tx.execute(
        "UPDATE attachments SET received = $3, complete = $4,
         completed_at = COALESCE($5, completed_at)
         WHERE project = $1 AND sha256 = $2",
        &[
            &chunk.project,
            &chunk.sha256,
            &(end as i64),
            &complete,
            &completed_at,
        ],
    )?;
    tx.commit()?;
    Ok(ChunkOutcome::Stored(AttachmentStatus {
        received: end,
        complete,
        ..status
    }))
}

fn remove_chunks(c: &mut impl GenericClient, project: &str, sha256: &str) -> Attempt<()> {
    c.execute(
        "DELETE FROM attachment_chunks WHERE project = $1 AND sha256 = $2",
        &[&project, &sha256],
    )?;
    Ok(())
}

/// A file's stored chunks in order, read one at a time (a large file is never loaded at
/// once).
fn stored_chunks<'c>(
    c: &'c mut impl GenericClient,
    project: &'c str,
    sha256: &'c str,
) -> impl Iterator<Item = crate::Result<Vec<u8>>> + 'c {
    let mut at = 0i64;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let row = c.query_opt(
            "SELECT \"offset\", data FROM attachment_chunks
             WHERE project = $1 AND sha256 = $2 AND \"offset\" >= $3
             ORDER BY \"offset\" LIMIT 1",
            &[&project, &sha256, &at],
        );
        let read = row.map_err(crate::Error::from).and_then(|row| match row {
            None => Ok(None),
            Some(row) => {
                let start: i64 = row.try_get(0).map_err(crate::Error::from)?;
                let data: Vec<u8> = row.try_get(1).map_err(crate::Error::from)?;
                at = start + data.len().max(1) as i64;
                Ok(Some(data))
            }
        });
        match read {
            Ok(Some(data)) => Some(Ok(data)),
            Ok(None) => None,
            Err(e) => {
                done = true;
                Some(Err(e))
            }
        }
    })
}

/// `Store::read_attachment`: one chunk at a time, so a large file is never loaded at
/// once.
pub(super) fn read(
    c: &mut Client,
    project: &str,
    sha256: &str,
    offset: u64,
    max_bytes: u64,
) -> Attempt<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = offset as i64;
    while (out.len() as u64) < max_bytes {
        let row = c.query_opt(
            "SELECT \"offset\", data FROM attachment_chunks
             WHERE project = $1 AND sha256 = $2 AND \"offset\" + length(data) > $3
             ORDER BY \"offset\" LIMIT 1",
            &[&project, &sha256, &at],
        )?;
        let Some(row) = row else { break };
        let start: i64 = row.try_get(0)?;
        let data: Vec<u8> = row.try_get(1)?;
        out.extend_from_slice(shared::chunk_from(start, &data, at));
        at = start + data.len() as i64;
    }
    Ok(out)
}

pub(super) fn complete(c: &mut Client, project: &str, sha256: &str, now: &str) -> Attempt<()> {
    c.execute(
        "UPDATE attachments SET complete = TRUE, completed_at = $3 WHERE project = $1 AND sha256 = $2",
        &[&project, &sha256, &now],
    )?;
    Ok(())
}

pub(super) fn discard(c: &mut Client, project: &str, sha256: &str) -> Attempt<()> {
    let mut tx = c.transaction()?;
    // A complete (verified) attachment is never discarded.
    let pending = tx.execute(
        "DELETE FROM attachments WHERE project = $1 AND sha256 = $2 AND NOT complete",
        &[&project, &sha256],
    )?;
    if pending > 0 {
        tx.execute(
            "DELETE FROM attachment_chunks WHERE project = $1 AND sha256 = $2",
            &[&project, &sha256],
        )?;
    }
    tx.commit()?;
    Ok(())
}
