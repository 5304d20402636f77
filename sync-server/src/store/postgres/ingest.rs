//! A PostgreSQL ingest, in one transaction: per-response advisory locks (sorted, so
//! two batches cannot deadlock), the stored rows read, the batch planned, revisions and
//! responses written in bulk, and feed positions taken last (see the backend's module
//! comment for why positions commit in order).

use std::collections::HashMap;

use postgres::Client;
use sha2::{Digest, Sha256};
use voices_core::sync::protocol::RecordAck;

use super::{console, Attempt, Fail};
use crate::store::codec;
use crate::store::plan::{self, Ingest, Loaded, Plan};
use crate::store::projection::IndexCache;
use crate::store::IncomingRevision;
use crate::Error;

/// The advisory lock key of a response: 64 bits of a hash, the same in every process.
/// A collision between two responses only makes them wait for each other.
fn response_key(project: &str, response: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(project.as_bytes());
    h.update([0]);
    h.update(response.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

pub(super) fn lock_responses<'a>(
    tx: &mut postgres::Transaction<'_>,
    project: &str,
    responses: impl IntoIterator<Item = &'a str>,
) -> Attempt<()> {
    let mut keys: Vec<i64> = responses
        .into_iter()
        .map(|r| response_key(project, r))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    // unnest yields the (sorted) array in order, so locks are taken in key order.
    tx.execute(
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k",
        &[&keys],
    )?;
    Ok(())
}

/// Take `n` consecutive feed positions of `project`; the first is returned. The row
/// lock taken here is held until the transaction ends (see the module comment).
pub(super) fn take_feed_positions(
    tx: &mut postgres::Transaction<'_>,
    project: &str,
    n: i64,
) -> Attempt<i64> {
    let last: i64 = tx
        .query_one(
            "INSERT INTO feeds (project, last) VALUES ($1, $2)
             ON CONFLICT (project) DO UPDATE SET last = feeds.last + excluded.last
             RETURNING last",
            &[&project, &n],
        )?
        .try_get(0)?;
    Ok(last - n + 1)
}

/// One attempt at ingesting a batch, in one transaction.
pub(super) fn ingest_once(
    c: &mut Client,
    cache: &IndexCache,
    ingest: &Ingest<'_>,
    batch: &[IncomingRevision],
) -> Attempt<Vec<RecordAck>> {
    let Ingest {
        project,
        uploader,
        now,
        ..
    } = *ingest;
    let mut tx = c.transaction()?;
    let valid = plan::well_formed(batch);
    let candidates = batch.iter().zip(&valid).filter(|(_, ok)| **ok);
    lock_responses(
        &mut tx,
        project,
        candidates
            .clone()
            .map(|(i, _)| i.revision.response.as_str()),
    )?;

    let ids: Vec<&str> = candidates
        .clone()
        .map(|(i, _)| i.revision.id.as_str())
        .collect();
    let mut stored: HashMap<String, String> = HashMap::new();
    for row in tx.query(
        "SELECT id, sha256 FROM revisions WHERE project = $1 AND id = ANY($2)",
        &[&project, &ids],
    )? {
        stored.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut response_ids: Vec<&str> = candidates
        .map(|(i, _)| i.revision.response.as_str())
        .collect();
    response_ids.sort_unstable();
    response_ids.dedup();
    let mut loaded: HashMap<String, Loaded> = HashMap::new();
    for row in tx.query(
        "SELECT id, state, device, enumerator, received_at, review_state, feed_seq,
             withdrawn_at IS NOT NULL
         FROM responses WHERE project = $1 AND id = ANY($2)",
        &[&project, &response_ids],
    )? {
        let state: String = row.try_get(1)?;
        loaded.insert(
            row.try_get(0)?,
            Loaded {
                state: codec::decode(&state)?,
                device: row.try_get(2)?,
                enumerator: row.try_get(3)?,
                received_at: row.try_get(4)?,
                review_state: row.try_get(5)?,
                feed_seq: row.try_get(6)?,
                withdrawn: row.try_get(7)?,
            },
        );
    }

    let pairs = plan::versions_needed(batch, loaded.values());
    let indexes = console::indexes(&mut tx, cache, project, pairs)?;
    // The advisory locks keep these rows as read until the transaction ends, so the
    // plan cannot go stale (unlike SQLite's optimistic plan).
    let Plan {
        acks,
        accepted,
        changed,
        deltas,
    } = plan::plan(ingest, &indexes, batch, &valid, &stored, loaded)?;

    if !accepted.is_empty() {
        let mut ids = Vec::with_capacity(accepted.len());
        let mut responses = Vec::with_capacity(accepted.len());
        let mut actors = Vec::with_capacity(accepted.len());
        let mut seqs = Vec::with_capacity(accepted.len());
        let mut shas = Vec::with_capacity(accepted.len());
        let mut bodies = Vec::with_capacity(accepted.len());
        for incoming in &accepted {
            let rev = &incoming.revision;
            ids.push(rev.id.as_str());
            responses.push(rev.response.as_str());
            actors.push(rev.actor.as_str());
            seqs.push(i64::try_from(rev.seq).map_err(|_| {
                Fail::Other(Error::Invalid(format!(
                    "revision {}: edit number {} is out of range",
                    rev.id, rev.seq
                )))
            })?);
            shas.push(incoming.sha256.as_str());
            bodies.push(incoming.body.as_str());
        }
        let inserted = tx.execute(
            "INSERT INTO revisions (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
             SELECT r.id, $1, r.response_id, r.actor, r.seq, r.sha256, r.body, $2, $3
             FROM unnest($4::text[], $5::text[], $6::text[], $7::int8[], $8::text[], $9::text[])
                  WITH ORDINALITY AS r(id, response_id, actor, seq, sha256, body, n)
             ORDER BY r.n
             ON CONFLICT (project, id) DO NOTHING",
            &[&project, &uploader.id, &now, &ids, &responses, &actors, &seqs, &shas, &bodies],
        )?;
        if inserted != accepted.len() as u64 {
            // Another transaction committed one of these ids meanwhile (for a response
            // we did not lock). A fresh attempt sees it and acknowledges accordingly.
            return Err(Fail::Retry);
        }
    }

    if !changed.is_empty() {
        let n = changed.len();
        let mut ids = Vec::with_capacity(n);
        let mut forms = Vec::with_capacity(n);
        let mut versions = Vec::with_capacity(n);
        let mut devices = Vec::with_capacity(n);
        let mut enumerators = Vec::with_capacity(n);
        let mut states = Vec::with_capacity(n);
        let mut quarantines = Vec::with_capacity(n);
        let mut conflicts = Vec::with_capacity(n);
        let mut reviews = Vec::with_capacity(n);
        let mut received = Vec::with_capacity(n);
        for c in &changed {
            ids.push(c.id.as_str());
            forms.push(c.form.as_str());
            versions.push(c.version.as_str());
            devices.push(c.device.as_str());
            enumerators.push(c.enumerator.as_str());
            states.push(c.state.as_str());
            quarantines.push(c.quarantine.as_str());
            conflicts.push(c.conflict);
            reviews.push(c.review_state.as_str());
            received.push(c.received_at.as_str());
        }
        // Validation and encoding happened above, so the serialized tail stays short.
        let first = take_feed_positions(&mut tx, project, n as i64)?;
        let positions: Vec<i64> = (first..first + n as i64).collect();
        tx.execute(
            "INSERT INTO responses (project, id, form, version, device, enumerator, state, quarantine,
                 conflict, review_state, received_at, updated_at, feed_seq)
             SELECT $1, r.id, r.form, r.version, r.device, r.enumerator, r.state, r.quarantine,
                 r.conflict, r.review_state, r.received_at, $2, r.feed_seq
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::text[], $10::bool[], $11::text[], $12::text[], $13::int8[])
                  AS r(id, form, version, device, enumerator, state, quarantine, conflict,
                       review_state, received_at, feed_seq)
             ON CONFLICT (project, id) DO UPDATE SET version = excluded.version, state = excluded.state,
                 quarantine = excluded.quarantine, conflict = excluded.conflict,
                 review_state = excluded.review_state,
                 updated_at = excluded.updated_at, feed_seq = excluded.feed_seq",
            &[
                &project,
                &now,
                &ids,
                &forms,
                &versions,
                &devices,
                &enumerators,
                &states,
                &quarantines,
                &conflicts,
                &reviews,
                &received,
                &positions,
            ],
        )?;
    }
    // After the feed row: ingests of the project reach the counts one at a time.
    console::write_projection(&mut tx, project, &changed, deltas, now)?;
    super::review::record_resubmissions(&mut tx, project, &changed, now)?;
    tx.commit()?;
    Ok(acks)
}
