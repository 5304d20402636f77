//! Review decisions on SQLite: recording them (a send-back with its field comments and
//! the response's context then), the resubmissions an ingest records, reading them back,
//! and the feed a device pulls its own responses' reviews and coordinators' edits from.

use rusqlite::{params, Connection, OptionalExtension};
use voices_core::sync::protocol::ReviewState;

use super::super::shared::{decision_columns, review_entry, review_state};
use super::super::{Decision, DeviceFeedRow, ReviewEntry, COORDINATOR_ACTOR_PREFIX};
use crate::store::plan::Changed;
use crate::Result;

/// Set the review state of responses in one transaction (the caller's): each found one
/// moves to the end of the feed, its index row follows, the decision is recorded.
pub(super) fn review(
    tx: &Connection,
    project: &str,
    ids: &[String],
    decision: &Decision<'_>,
    now: &str,
) -> Result<Vec<bool>> {
    let state = decision.state.as_str();
    let mut next = super::last_feed_position(tx, project)?;
    let mut read = tx.prepare_cached(
        "SELECT state FROM responses WHERE project = ?1 AND id = ?2 AND withdrawn_at IS NULL",
    )?;
    let mut set = tx.prepare_cached(
        "UPDATE responses SET review_state = ?3, updated_at = ?4, feed_seq = ?5
         WHERE project = ?1 AND id = ?2",
    )?;
    let mut index = tx.prepare_cached(
        "UPDATE response_index SET review = ?3, updated_at = ?4 WHERE project = ?1 AND id = ?2",
    )?;
    let mut record = tx.prepare_cached(
        "INSERT INTO reviews (project, response_id, state, comment, by_user, at, fields, context)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let stored: Option<String> = read
            .query_row(params![project, id], |r| r.get(0))
            .optional()?;
        let Some(stored) = stored else {
            found.push(false);
            continue;
        };
        next += 1;
        set.execute(params![project, id, state, now, next])?;
        index.execute(params![project, id, state, now])?;
        let (fields, context) = decision_columns(decision, Some(&stored))?;
        record.execute(params![
            project,
            id,
            state,
            decision.comment,
            decision.by,
            now,
            fields,
            context
        ])?;
        found.push(true);
    }
    Ok(found)
}

/// Record the resubmissions an ingest made (responses sent back that their device edited
/// again), in the ingest's transaction.
pub(super) fn record_resubmissions(
    tx: &Connection,
    project: &str,
    changed: &[Changed],
    now: &str,
) -> Result<()> {
    let mut record = tx.prepare_cached(
        "INSERT INTO reviews (project, response_id, state, comment, by_user, at)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
    )?;
    for c in changed.iter().filter(|c| c.resubmitted) {
        record.execute(params![
            project,
            c.id,
            ReviewState::Resubmitted.as_str(),
            c.device,
            now
        ])?;
    }
    Ok(())
}

pub(super) fn reviews_of(
    c: &Connection,
    project: &str,
    response: &str,
) -> Result<Vec<ReviewEntry>> {
    let mut stmt = c.prepare_cached(
        "SELECT state, comment, by_user, at, fields, context FROM reviews
         WHERE project = ?1 AND response_id = ?2 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![project, response], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    rows.map(|row| {
        let (state, comment, by, at, fields, context) = row?;
        review_entry(state, comment, by, at, fields, context)
    })
    .collect()
}

/// `Store::device_feed`: on the index of project, device and feed position.
pub(super) fn device_feed(
    c: &Connection,
    project: &str,
    device: &str,
    after: i64,
    limit: usize,
    withdrawn: bool,
) -> Result<Vec<DeviceFeedRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT feed_seq, id, form, version, review_state, withdrawn_at IS NOT NULL
         FROM responses
         WHERE project = ?1 AND device = ?2 AND feed_seq > ?3 AND (?5 OR withdrawn_at IS NULL)
         ORDER BY feed_seq LIMIT ?4",
    )?;
    let rows: Vec<(i64, String, String, String, String, bool)> = stmt
        .query_map(
            params![project, device, after, limit as i64, withdrawn],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut edits = c.prepare_cached(
        "SELECT body FROM revisions WHERE project = ?1 AND response_id = ?2
         AND substr(actor, 1, ?3) = ?4 ORDER BY rowid",
    )?;
    let prefix_len = COORDINATOR_ACTOR_PREFIX.len() as i64;
    let mut out = Vec::with_capacity(rows.len());
    for (feed_seq, id, form, version, review, withdrawn) in rows {
        if withdrawn {
            // Its respondent withdrew: the device learns only that.
            out.push(DeviceFeedRow {
                feed_seq,
                id,
                form,
                version,
                review_state: review_state(&review),
                reviews: Vec::new(),
                coordinator_revisions: Vec::new(),
                withdrawn,
            });
            continue;
        }
        let coordinator_revisions = edits
            .query_map(
                params![project, id, prefix_len, COORDINATOR_ACTOR_PREFIX],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        out.push(DeviceFeedRow {
            feed_seq,
            reviews: reviews_of(c, project, &id)?,
            id,
            form,
            version,
            review_state: review_state(&review),
            coordinator_revisions,
            withdrawn,
        });
    }
    Ok(out)
}
