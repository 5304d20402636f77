//! Withdrawn responses on SQLite: marking one (it leaves the console's index and counts
//! in the same transaction) and purging those kept past the project's days.

use rusqlite::{params, Connection, OptionalExtension};
use voices_core::sync::ResponseState;

use super::console;
use crate::store::codec;
use crate::store::projection::{self, Deltas, IndexCache};
use crate::store::Withdrawal;
use crate::{attachments, Result};

fn withdrawal_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<Withdrawal>> {
    let at: Option<String> = r.get(first)?;
    Ok(match at {
        None => None,
        Some(at) => Some(Withdrawal {
            at,
            by: r.get::<_, Option<String>>(first + 1)?.unwrap_or_default(),
            reason: r.get(first + 2)?,
            purged_at: r.get(first + 3)?,
        }),
    })
}

pub(super) fn withdrawal_of(c: &Connection, project: &str, id: &str) -> Result<Option<Withdrawal>> {
    Ok(c.query_row(
        "SELECT withdrawn_at, withdrawn_by, withdrawn_reason, purged_at FROM responses
         WHERE project = ?1 AND id = ?2",
        params![project, id],
        |r| withdrawal_row(r, 0),
    )
    .optional()?
    .flatten())
}

/// `Store::withdraw` in the caller's (write) transaction.
pub(super) fn withdraw(
    tx: &Connection,
    cache: &IndexCache,
    project: &str,
    id: &str,
    reason: Option<&str>,
    by: &str,
    now: &str,
) -> Result<Option<Withdrawal>> {
    let row = tx
        .query_row(
            "SELECT state, enumerator, received_at, quarantine,
                 withdrawn_at, withdrawn_by, withdrawn_reason, purged_at, device
             FROM responses WHERE project = ?1 AND id = ?2",
            params![project, id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    withdrawal_row(r, 4)?,
                    r.get::<_, String>(8)?,
                ))
            },
        )
        .optional()?;
    let Some((state, enumerator, received_at, quarantine, earlier, device)) = row else {
        return Ok(None);
    };
    if earlier.is_some() {
        return Ok(earlier);
    }
    // What the response counts for on the console is taken away, as an ingest that
    // changes it would before adding its new share.
    let state = codec::decode(&state)?;
    let version = state.form_version().unwrap_or_default().to_owned();
    let index = console::index_of(tx, cache, project, &state.form, &version)?;
    let before = projection::project(&state, index.as_deref(), quarantine != "[]");
    let mut deltas = Deltas::default();
    deltas.add(&before, &enumerator, &device, &received_at, -1);
    let rowid: Option<i64> = tx
        .query_row(
            "SELECT rowid FROM response_index WHERE project = ?1 AND id = ?2",
            params![project, id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(rowid) = rowid {
        tx.execute("DELETE FROM response_text WHERE rowid = ?1", [rowid])?;
        tx.execute("DELETE FROM response_index WHERE rowid = ?1", [rowid])?;
    }
    console::write_projection(tx, project, &[], deltas, now)?;
    // A new feed position: an ingest planned before this reads the row as changed and
    // plans again (and then refuses the response's revisions).
    let next = super::last_feed_position(tx, project)? + 1;
    tx.execute(
        "UPDATE responses SET withdrawn_at = ?3, withdrawn_by = ?4, withdrawn_reason = ?5,
             updated_at = ?3, feed_seq = ?6
         WHERE project = ?1 AND id = ?2",
        params![project, id, now, by, reason, next],
    )?;
    Ok(Some(Withdrawal {
        at: now.to_owned(),
        by: by.to_owned(),
        reason: reason.map(str::to_owned),
        purged_at: None,
    }))
}

/// `Store::purge_withdrawn` in the caller's (write) transaction. The files the purged
/// responses name go too, unless a response not purged still names them.
pub(super) fn purge(
    tx: &Connection,
    project: &str,
    withdrawn_before: &str,
    now: &str,
) -> Result<u64> {
    let due: Vec<(String, String, String, String)> = tx
        .prepare_cached(
            "SELECT id, form, state, quarantine FROM responses
             WHERE project = ?1 AND withdrawn_at IS NOT NULL AND purged_at IS NULL
                 AND withdrawn_at <= ?2",
        )?
        .query_map(params![project, withdrawn_before], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut empty = tx.prepare_cached(
        "UPDATE responses SET state = ?3, quarantine = '[]', conflict = 0, purged_at = ?4
         WHERE project = ?1 AND id = ?2",
    )?;
    let mut bodies = tx
        .prepare_cached("UPDATE revisions SET body = '' WHERE project = ?1 AND response_id = ?2")?;
    // Reviews keep who decided what and when (the audit of the send-back); their words
    // go: a comment may quote what the respondent said, and `context` holds the answers
    // a send-back was made on.
    let mut reviews = tx.prepare_cached(
        "UPDATE reviews SET comment = NULL, fields = NULL, context = NULL
         WHERE project = ?1 AND response_id = ?2",
    )?;
    let mut files = std::collections::BTreeSet::new();
    // A revision lists the files its answers name (`files`, by SHA-256), the sealed
    // files of sealed answers included.
    let mut revision_bodies =
        tx.prepare_cached("SELECT body FROM revisions WHERE project = ?1 AND response_id = ?2")?;
    for (id, form, stored, quarantine) in &due {
        files.extend(attachments::named_in(stored));
        files.extend(attachments::named_in(quarantine));
        for body in revision_bodies.query_map(params![project, id], |r| r.get::<_, String>(0))? {
            files.extend(attachments::named_by_revision(&body?));
        }
        let state = codec::encode(&ResponseState::new(id.as_str(), form.as_str()))?;
        empty.execute(params![project, id, state, now])?;
        bodies.execute(params![project, id])?;
        reviews.execute(params![project, id])?;
    }
    let mut named = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM responses WHERE project = ?1 AND purged_at IS NULL
             AND (instr(lower(state), ?2) > 0 OR instr(lower(quarantine), ?2) > 0))
         OR EXISTS (SELECT 1 FROM revisions WHERE project = ?1 AND instr(lower(body), ?2) > 0)",
    )?;
    for sha in &files {
        if !named.query_row(params![project, sha], |r| r.get::<_, bool>(0))? {
            tx.execute(
                "DELETE FROM attachment_chunks WHERE project = ?1 AND sha256 = ?2",
                params![project, sha],
            )?;
            tx.execute(
                "DELETE FROM attachments WHERE project = ?1 AND sha256 = ?2",
                params![project, sha],
            )?;
        }
    }
    Ok(due.len() as u64)
}

pub(super) fn keep_days(c: &Connection, project: &str) -> Result<Option<Option<i64>>> {
    Ok(c.query_row(
        "SELECT withdrawn_keep_days FROM projects WHERE id = ?1",
        [project],
        |r| r.get(0),
    )
    .optional()?)
}
