//! An SQLite ingest: planned optimistically on a reader's snapshot, in parallel with
//! other batches, then written under the single write lock only if nothing it read has
//! changed (see the backend's module comment).

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use voices_core::sync::protocol::RecordAck;

use super::{console, SqliteStore};
use crate::store::codec;
use crate::store::plan::{self, Ingest, Loaded, Plan};
use crate::store::projection::IndexCache;
use crate::store::IncomingRevision;
use crate::{Backend, Error, Result};

/// Optimistic attempts before a batch is planned under the write lock.
const OPTIMISTIC_ATTEMPTS: usize = 4;

/// Read what the batch needs (its revision ids already stored, the current rows of the
/// responses it touches) and plan it.
fn plan_batch<'a>(
    c: &Connection,
    cache: &IndexCache,
    ingest: &Ingest<'_>,
    batch: &'a [IncomingRevision],
    valid: &[bool],
) -> Result<Plan<'a>> {
    let project = ingest.project;
    let mut stored = HashMap::new();
    let mut loaded = HashMap::new();
    {
        let mut find_revision =
            c.prepare_cached("SELECT sha256 FROM revisions WHERE project = ?1 AND id = ?2")?;
        let mut load_response = c.prepare_cached(
            "SELECT state, device, enumerator, received_at, review_state, feed_seq,
                 withdrawn_at IS NOT NULL
             FROM responses WHERE project = ?1 AND id = ?2",
        )?;
        for (incoming, _) in batch.iter().zip(valid).filter(|(_, ok)| **ok) {
            let rev = &incoming.revision;
            if let Some(found) = find_revision
                .query_row(params![project, rev.id], |r| r.get(0))
                .optional()?
            {
                stored.insert(rev.id.clone(), found);
                continue;
            }
            if loaded.contains_key(&rev.response) {
                continue;
            }
            let row = load_response
                .query_row(params![project, rev.response], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .optional()?;
            if let Some((
                state,
                device,
                enumerator,
                received_at,
                review_state,
                feed_seq,
                withdrawn,
            )) = row
            {
                let row = Loaded {
                    withdrawn,
                    state: codec::decode(&state)?,
                    device,
                    enumerator,
                    received_at,
                    review_state,
                    feed_seq,
                };
                loaded.insert(rev.response.clone(), row);
            }
        }
    }
    let pairs = plan::versions_needed(batch, loaded.values());
    let indexes = console::indexes(c, cache, project, pairs)?;
    plan::plan(ingest, &indexes, batch, valid, &stored, loaded)
}

/// Write a planned batch in one transaction, unless something it was planned from has
/// changed since (`None`: plan again). Takes feed positions as the project's `MAX + 1` under the
/// write lock (see the module comment).
fn write_plan(
    c: &mut Connection,
    ingest: &Ingest<'_>,
    planned: Plan<'_>,
) -> Result<Option<Vec<RecordAck>>> {
    let Ingest {
        project,
        uploader,
        now,
        ..
    } = *ingest;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut version =
            tx.prepare_cached("SELECT feed_seq FROM responses WHERE project = ?1 AND id = ?2")?;
        for changed in &planned.changed {
            let current: Option<i64> = version
                .query_row(params![project, changed.id], |r| r.get(0))
                .optional()?;
            if current != changed.read_at {
                return Ok(None);
            }
        }
        let mut insert_revision = tx.prepare_cached(
            "INSERT INTO revisions (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (project, id) DO NOTHING",
        )?;
        for incoming in &planned.accepted {
            let rev = &incoming.revision;
            let inserted = insert_revision.execute(params![
                rev.id,
                project,
                rev.response,
                rev.actor,
                rev.seq as i64,
                incoming.sha256,
                incoming.body,
                uploader.id,
                now
            ])?;
            if inserted == 0 {
                // Stored meanwhile by another batch (for another response): plan again
                // to acknowledge it as a duplicate or a conflict.
                return Ok(None);
            }
        }
        let mut next_seq = super::last_feed_position(&tx, project)?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO responses (project, id, form, version, device, enumerator, state, quarantine,
                 conflict, review_state, received_at, updated_at, feed_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (project, id) DO UPDATE SET version = excluded.version, state = excluded.state,
                 quarantine = excluded.quarantine, conflict = excluded.conflict,
                 review_state = excluded.review_state,
                 updated_at = excluded.updated_at, feed_seq = excluded.feed_seq",
        )?;
        for changed in &planned.changed {
            next_seq += 1;
            upsert.execute(params![
                project,
                changed.id,
                changed.form,
                changed.version,
                changed.device,
                changed.enumerator,
                changed.state,
                changed.quarantine,
                changed.conflict,
                changed.review_state,
                changed.received_at,
                now,
                next_seq
            ])?;
        }
    }
    console::write_projection(&tx, project, &planned.changed, planned.deltas, now)?;
    super::review::record_resubmissions(&tx, project, &planned.changed, now)?;
    tx.commit()?;
    Ok(Some(planned.acks))
}

/// Store and merge a batch (`Store::ingest`).
pub(super) fn ingest(
    store: &SqliteStore,
    ingest: &Ingest<'_>,
    batch: &[IncomingRevision],
) -> Result<Vec<RecordAck>> {
    let valid = plan::well_formed(batch);
    // Optimistic: read and merge on a reader's snapshot while other batches write,
    // then write only if nothing read has changed meanwhile.
    for _ in 0..OPTIMISTIC_ATTEMPTS {
        let planned = store.planning(|| {
            store.read(|c| {
                let snapshot = c.unchecked_transaction()?;
                plan_batch(&snapshot, &store.indexes, ingest, batch, &valid)
            })
        })?;
        if let Some(acks) = store.write(|c| write_plan(c, ingest, planned))? {
            return Ok(acks);
        }
    }
    // Still racing (other batches keep editing the same responses): plan under the
    // write lock, where nothing can change what was read.
    store.write(|c| {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let planned = plan_batch(&tx, &store.indexes, ingest, batch, &valid)?;
        drop(tx);
        write_plan(c, ingest, planned)?.ok_or_else(|| {
            Error::backend(
                Backend::Sqlite,
                "a batch planned under the write lock went stale",
            )
        })
    })
}
