//! Attachments on SQLite: a row per file with its declared size and the bytes received,
//! the bytes in `attachment_chunks` keyed by their offset.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::store::shared::{self, Chunk, ChunkStep};
use crate::store::{AttachmentStatus, ChunkOutcome};
use crate::Result;

pub(super) fn status(
    c: &Connection,
    project: &str,
    sha256: &str,
) -> Result<Option<AttachmentStatus>> {
    Ok(c.query_row(
        "SELECT size, received, complete FROM attachments WHERE project = ?1 AND sha256 = ?2",
        params![project, sha256],
        |r| {
            Ok(AttachmentStatus {
                sha256: sha256.to_owned(),
                size: r.get::<_, i64>(0)? as u64,
                received: r.get::<_, i64>(1)? as u64,
                complete: r.get(2)?,
            })
        },
    )
    .optional()?)
}

/// `Store::put_attachment_chunk`, on the write connection.
pub(super) fn put_chunk(c: &mut Connection, chunk: &Chunk<'_>) -> Result<ChunkOutcome> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let status = match status(&tx, chunk.project, chunk.sha256)? {
        Some(status) => status,
        None => {
            tx.execute(
                "INSERT INTO attachments (project, sha256, size, received, complete, created_at)
                 VALUES (?1, ?2, ?3, 0, 0, ?4)",
                params![chunk.project, chunk.sha256, chunk.size as i64, chunk.now],
            )?;
            shared::new_attachment(chunk.sha256, chunk.size)
        }
    };
    let (end, status) = match shared::chunk_step(&status, chunk)? {
        ChunkStep::Answer(outcome) => return Ok(outcome),
        ChunkStep::Append { end } => (end, status),
        ChunkStep::Restart { end } => {
            remove_chunks(&tx, chunk.project, chunk.sha256)?;
            tx.execute(
                "UPDATE attachments SET size = ?3, received = 0 WHERE project = ?1 AND sha256 = ?2",
                params![chunk.project, chunk.sha256, chunk.size as i64],
            )?;
            (end, shared::new_attachment(chunk.sha256, chunk.size))
        }
    };
    // The last byte: the content is checked before anything is written, so the file is
    // complete, or gone, in this one transaction.
    if end == chunk.size {
        let mut stmt = tx.prepare(
            "SELECT data FROM attachment_chunks WHERE project = ?1 AND sha256 = ?2 ORDER BY offset",
        )?;
        let stored = stmt.query_map(params![chunk.project, chunk.sha256], |r| r.get(0))?;
        let complete = shared::completes(
            chunk.sha256,
            stored.map(|r| r.map_err(Into::into)),
            chunk.data,
        )?;
        drop(stmt);
        if !complete {
            remove_chunks(&tx, chunk.project, chunk.sha256)?;
            tx.execute(
                "DELETE FROM attachments WHERE project = ?1 AND sha256 = ?2",
                params![chunk.project, chunk.sha256],
            )?;
            tx.commit()?;
            return Ok(ChunkOutcome::Discarded);
        }
    }
    let complete = end == chunk.size;
    if !chunk.data.is_empty() {
        tx.execute(
            "INSERT INTO attachment_chunks (project, sha256, offset, data) VALUES (?1, ?2, ?3, ?4)",
            params![chunk.project, chunk.sha256, chunk.offset as i64, chunk.data],
        )?;
    }
    tx.execute(
        "UPDATE attachments SET received = ?3, complete = ?4,
         completed_at = CASE WHEN ?4 THEN ?5 ELSE completed_at END
         WHERE project = ?1 AND sha256 = ?2",
        params![chunk.project, chunk.sha256, end as i64, complete, chunk.now],
    )?;
    tx.commit()?;
    Ok(ChunkOutcome::Stored(AttachmentStatus {
        received: end,
        complete,
        ..status
    }))
}

fn remove_chunks(c: &Connection, project: &str, sha256: &str) -> Result<()> {
    c.execute(
        "DELETE FROM attachment_chunks WHERE project = ?1 AND sha256 = ?2",
        params![project, sha256],
    )?;
    Ok(())
}

/// `Store::read_attachment`.
pub(super) fn read(
    c: &Connection,
    project: &str,
    sha256: &str,
    offset: u64,
    max_bytes: u64,
) -> Result<Vec<u8>> {
    // The chunk holding `offset` starts at or before it.
    let mut stmt = c.prepare_cached(
        "SELECT offset, data FROM attachment_chunks
         WHERE project = ?1 AND sha256 = ?2 AND offset + length(data) > ?3 ORDER BY offset",
    )?;
    let mut rows = stmt.query(params![project, sha256, offset as i64])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let start: i64 = row.get(0)?;
        let data: Vec<u8> = row.get(1)?;
        out.extend_from_slice(shared::chunk_from(start, &data, offset as i64));
        if out.len() as u64 >= max_bytes {
            break;
        }
    }
    Ok(out)
}

pub(super) fn complete(c: &Connection, project: &str, sha256: &str, now: &str) -> Result<()> {
    c.execute(
        "UPDATE attachments SET complete = 1, completed_at = ?3 WHERE project = ?1 AND sha256 = ?2",
        params![project, sha256, now],
    )?;
    Ok(())
}

pub(super) fn discard(c: &mut Connection, project: &str, sha256: &str) -> Result<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // A complete (verified) attachment is never discarded.
    tx.execute(
        "DELETE FROM attachment_chunks WHERE project = ?1 AND sha256 = ?2
         AND EXISTS (SELECT 1 FROM attachments WHERE project = ?1 AND sha256 = ?2 AND complete = 0)",
        params![project, sha256],
    )?;
    tx.execute(
        "DELETE FROM attachments WHERE project = ?1 AND sha256 = ?2 AND complete = 0",
        params![project, sha256],
    )?;
    tx.commit()?;
    Ok(())
}
