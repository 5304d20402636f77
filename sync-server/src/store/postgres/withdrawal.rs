//! Withdrawn responses on PostgreSQL: marking one (under the response's advisory lock,
//! so no ingest of it is halfway; it leaves the console's index and counts in the same
//! transaction) and purging those kept past the project's days.

use postgres::{Client, GenericClient, Row};
use voices_core::sync::ResponseState;

use super::{console, ingest, Attempt};
use crate::attachments;
use crate::store::codec;
use crate::store::projection::{self, Deltas, IndexCache};
use crate::store::Withdrawal;

fn withdrawal_row(row: &Row, first: usize) -> Attempt<Option<Withdrawal>> {
    let at: Option<String> = row.try_get(first)?;
    Ok(match at {
        None => None,
        Some(at) => Some(Withdrawal {
            at,
            by: row
                .try_get::<_, Option<String>>(first + 1)?
                .unwrap_or_default(),
            reason: row.try_get(first + 2)?,
            purged_at: row.try_get(first + 3)?,
        }),
    })
}

pub(super) fn withdrawal_of(
    c: &mut impl GenericClient,
    project: &str,
    id: &str,
) -> Attempt<Option<Withdrawal>> {
    match c.query_opt(
        "SELECT withdrawn_at, withdrawn_by, withdrawn_reason, purged_at FROM responses
         WHERE project = $1 AND id = $2",
        &[&project, &id],
    )? {
        Some(row) => withdrawal_row(&row, 0),
        None => Ok(None),
    }
}

/// `Store::withdraw`, in one transaction.
pub(super) fn withdraw(
    c: &mut Client,
    cache: &IndexCache,
    project: &str,
    id: &str,
    reason: Option<&str>,
    by: &str,
    now: &str,
) -> Attempt<Option<Withdrawal>> {
    let mut tx = c.transaction()?;
    ingest::lock_responses(&mut tx, project, [id])?;
    let Some(row) = tx.query_opt(
        "SELECT state, enumerator, received_at, quarantine,
             withdrawn_at, withdrawn_by, withdrawn_reason, purged_at, device
         FROM responses WHERE project = $1 AND id = $2",
        &[&project, &id],
    )?
    else {
        return Ok(None);
    };
    if let Some(earlier) = withdrawal_row(&row, 4)? {
        return Ok(Some(earlier));
    }
    let state: String = row.try_get(0)?;
    let enumerator: String = row.try_get(1)?;
    let received_at: String = row.try_get(2)?;
    let quarantine: String = row.try_get(3)?;
    let device: String = row.try_get(8)?;
    // What the response counts for on the console is taken away, as an ingest that
    // changes it would before adding its new share. The feed row is locked first (as
    // an ingest does), so count rows are written by one transaction of the project at
    // a time.
    let position = ingest::take_feed_positions(&mut tx, project, 1)?;
    let state = codec::decode(&state)?;
    let version = state.form_version().unwrap_or_default().to_owned();
    let index = console::index_of(&mut tx, cache, project, &state.form, &version)?;
    let before = projection::project(&state, index.as_deref(), quarantine != "[]");
    let mut deltas = Deltas::default();
    deltas.add(&before, &enumerator, &device, &received_at, -1);
    tx.execute(
        "DELETE FROM response_index WHERE project = $1 AND id = $2",
        &[&project, &id],
    )?;
    console::write_projection(&mut tx, project, &[], deltas, now)?;
    tx.execute(
        "UPDATE responses SET withdrawn_at = $3, withdrawn_by = $4, withdrawn_reason = $5,
             updated_at = $3, feed_seq = $6
         WHERE project = $1 AND id = $2",
        &[&project, &id, &now, &by, &reason, &position],
    )?;
    tx.commit()?;
    Ok(Some(Withdrawal {
        at: now.to_owned(),
        by: by.to_owned(),
        reason: reason.map(str::to_owned),
        purged_at: None,
    }))
}

/// `Store::purge_withdrawn`, in one transaction.
pub(super) fn purge(
    c: &mut Client,
    project: &str,
    withdrawn_before: &str,
    now: &str,
) -> Attempt<u64> {
    let mut tx = c.transaction()?;
    let due: Vec<(String, String)> = tx
        .query(
            "SELECT id, form FROM responses
             WHERE project = $1 AND withdrawn_at IS NOT NULL AND purged_at IS NULL
                 AND withdrawn_at <= $2
             ORDER BY id",
            &[&project, &withdrawn_before],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Attempt<_>>()?;
    ingest::lock_responses(&mut tx, project, due.iter().map(|(id, _)| id.as_str()))?;
    // The files the purged responses name go too, unless a response not purged still
    // names them (read after the locks: an ingest cannot change them meanwhile).
    let mut files = std::collections::BTreeSet::new();
    for (id, _) in &due {
        if let Some(row) = tx.query_opt(
            "SELECT state, quarantine FROM responses
             WHERE project = $1 AND id = $2 AND purged_at IS NULL",
            &[&project, &id],
        )? {
            files.extend(attachments::named_in(&row.try_get::<_, String>(0)?));
            files.extend(attachments::named_in(&row.try_get::<_, String>(1)?));
            // A revision lists the files its answers name (`files`, by SHA-256), the
            // sealed files of sealed answers included.
            for body in tx.query(
                "SELECT body FROM revisions WHERE project = $1 AND response_id = $2",
                &[&project, &id],
            )? {
                files.extend(attachments::named_by_revision(
                    &body.try_get::<_, String>(0)?,
                ));
            }
        }
    }
    for (id, form) in &due {
        let state = codec::encode(&ResponseState::new(id.as_str(), form.as_str()))?;
        tx.execute(
            "UPDATE responses SET state = $3, quarantine = '[]', conflict = FALSE, purged_at = $4
             WHERE project = $1 AND id = $2 AND purged_at IS NULL",
            &[&project, &id, &state, &now],
        )?;
        tx.execute(
            "UPDATE revisions SET body = '' WHERE project = $1 AND response_id = $2",
            &[&project, &id],
        )?;
        // Who decided what and when stays; the words go (as on SQLite).
        tx.execute(
            "UPDATE reviews SET comment = NULL, fields = NULL, context = NULL
             WHERE project = $1 AND response_id = $2",
            &[&project, &id],
        )?;
    }
    for sha in &files {
        let named: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM responses WHERE project = $1 AND purged_at IS NULL
                     AND (strpos(lower(state), $2) > 0 OR strpos(lower(quarantine), $2) > 0))
                 OR EXISTS (SELECT 1 FROM revisions WHERE project = $1 AND strpos(lower(body), $2) > 0)",
                &[&project, &sha],
            )?
            .try_get(0)?;
        if !named {
            tx.execute(
                "DELETE FROM attachment_chunks WHERE project = $1 AND sha256 = $2",
                &[&project, &sha],
            )?;
            tx.execute(
                "DELETE FROM attachments WHERE project = $1 AND sha256 = $2",
                &[&project, &sha],
            )?;
        }
    }
    tx.commit()?;
    Ok(due.len() as u64)
}

/// After a purge: the purged answers must not stay readable in the tables' files. A
/// plain VACUUM is not enough: it frees dead row versions but leaves their bytes in the
/// pages' free space (`tests/purge.rs` found a sealed answer's ciphertext there), so the
/// tables a purge touches are rewritten (`VACUUM FULL`, outside any transaction: it
/// cannot run in one). Each table is locked while it is rewritten, one after another;
/// a purge happens only when a withdrawal's days are over. Row versions an older
/// snapshot still sees are copied until the next purge; WAL segments, archives and base
/// backups keep what they held until they are recycled (docs/deploy.md).
pub(super) fn vacuum(c: &mut Client) -> Attempt<()> {
    c.batch_execute(
        "VACUUM FULL responses, revisions, reviews, response_index, attachments, attachment_chunks",
    )?;
    Ok(())
}

pub(super) fn keep_days(c: &mut impl GenericClient, project: &str) -> Attempt<Option<Option<i32>>> {
    Ok(
        match c.query_opt(
            "SELECT withdrawn_keep_days FROM projects WHERE id = $1",
            &[&project],
        )? {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        },
    )
}
