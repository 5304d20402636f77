//! Review decisions on PostgreSQL: recording them (a send-back with its field comments
//! and the response's context then), the resubmissions an ingest records, reading them
//! back, and the feed a device pulls its own responses' reviews and coordinators' edits
//! from.

use std::collections::{HashMap, HashSet};

use postgres::GenericClient;
use voices_core::sync::protocol::ReviewState;

use super::super::shared::{decision_columns, review_entry, review_state};
use super::super::{Decision, DeviceFeedRow, ReviewEntry, COORDINATOR_ACTOR_PREFIX};
use super::connection::Attempt;
use super::ingest;
use crate::store::plan::Changed;

/// `Store::review` in one transaction: the responses locked as an ingest locks them, each
/// found one moved in the feed, its index row following, the decision recorded.
pub(super) fn review(
    tx: &mut postgres::Transaction<'_>,
    project: &str,
    ids: &[String],
    decision: &Decision<'_>,
    now: &str,
) -> Attempt<Vec<bool>> {
    ingest::lock_responses(tx, project, ids.iter().map(String::as_str))?;
    let stored: HashMap<String, String> = tx
        .query(
            "SELECT id, state FROM responses WHERE project = $1 AND id = ANY($2)
                 AND withdrawn_at IS NULL",
            &[&project, &ids],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, postgres::Error>>()?;
    // In the order given, each once.
    let mut seen = HashSet::new();
    let to_set: Vec<&str> = ids
        .iter()
        .filter(|id| stored.contains_key(*id) && seen.insert(id.as_str()))
        .map(String::as_str)
        .collect();
    if !to_set.is_empty() {
        let first = ingest::take_feed_positions(tx, project, to_set.len() as i64)?;
        let positions: Vec<i64> = (first..first + to_set.len() as i64).collect();
        let state = decision.state.as_str();
        tx.execute(
            "UPDATE responses r SET review_state = $3, updated_at = $4, feed_seq = u.position
             FROM unnest($2::text[], $5::int8[]) AS u(id, position)
             WHERE r.project = $1 AND r.id = u.id",
            &[&project, &to_set, &state, &now, &positions],
        )?;
        tx.execute(
            "UPDATE response_index SET review = $3, updated_at = $4
             WHERE project = $1 AND id = ANY($2)",
            &[&project, &to_set, &state, &now],
        )?;
        let mut fields = Vec::with_capacity(to_set.len());
        let mut contexts = Vec::with_capacity(to_set.len());
        for id in &to_set {
            let (f, c) = decision_columns(decision, stored.get(*id).map(String::as_str))?;
            fields.push(f);
            contexts.push(c);
        }
        tx.execute(
            "INSERT INTO reviews (project, response_id, state, comment, by_user, at, fields, context)
             SELECT $1, u.id, $3, $4, $5, $6, u.fields, u.context
             FROM unnest($2::text[], $7::text[], $8::text[]) WITH ORDINALITY
                  AS u(id, fields, context, n)
             ORDER BY n",
            &[
                &project,
                &to_set,
                &state,
                &decision.comment,
                &decision.by,
                &now,
                &fields,
                &contexts,
            ],
        )?;
    }
    Ok(ids.iter().map(|id| stored.contains_key(id)).collect())
}

/// Record the resubmissions an ingest made (responses sent back that their device edited
/// again), in the ingest's transaction.
pub(super) fn record_resubmissions(
    tx: &mut impl GenericClient,
    project: &str,
    changed: &[Changed],
    now: &str,
) -> Attempt<()> {
    let (ids, devices): (Vec<&str>, Vec<&str>) = changed
        .iter()
        .filter(|c| c.resubmitted)
        .map(|c| (c.id.as_str(), c.device.as_str()))
        .unzip();
    if !ids.is_empty() {
        tx.execute(
            "INSERT INTO reviews (project, response_id, state, comment, by_user, at)
             SELECT $1, u.id, $2, NULL, u.device, $3
             FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS u(id, device, n)
             ORDER BY n",
            &[
                &project,
                &ReviewState::Resubmitted.as_str(),
                &now,
                &ids,
                &devices,
            ],
        )?;
    }
    Ok(())
}

pub(super) fn reviews_of(
    c: &mut impl GenericClient,
    project: &str,
    response: &str,
) -> Attempt<Vec<ReviewEntry>> {
    c.query(
        "SELECT state, comment, by_user, at, fields, context FROM reviews
         WHERE project = $1 AND response_id = $2 ORDER BY arrival",
        &[&project, &response],
    )?
    .iter()
    .map(|r| {
        Ok(review_entry(
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
        )?)
    })
    .collect()
}

/// `Store::device_feed`: on the index of project, device and feed position, read in one
/// transaction so rows, reviews and edits agree.
pub(super) fn device_feed(
    c: &mut impl GenericClient,
    project: &str,
    device: &str,
    after: i64,
    limit: usize,
    withdrawn: bool,
) -> Attempt<Vec<DeviceFeedRow>> {
    let rows = c.query(
        "SELECT feed_seq, id, form, version, review_state, withdrawn_at IS NOT NULL
         FROM responses
         WHERE project = $1 AND device = $2 AND feed_seq > $3 AND ($5 OR withdrawn_at IS NULL)
         ORDER BY feed_seq LIMIT $4",
        &[&project, &device, &after, &(limit as i64), &withdrawn],
    )?;
    let pattern = format!("{COORDINATOR_ACTOR_PREFIX}%");
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(1)?;
        let review: String = row.try_get(4)?;
        if row.try_get::<_, bool>(5)? {
            // Its respondent withdrew: the device learns only that.
            out.push(DeviceFeedRow {
                feed_seq: row.try_get(0)?,
                form: row.try_get(2)?,
                version: row.try_get(3)?,
                review_state: review_state(&review),
                reviews: Vec::new(),
                coordinator_revisions: Vec::new(),
                withdrawn: true,
                id,
            });
            continue;
        }
        let coordinator_revisions = c
            .query(
                "SELECT body FROM revisions WHERE project = $1 AND response_id = $2
                 AND actor LIKE $3 ORDER BY arrival",
                &[&project, &id, &pattern],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, postgres::Error>>()?;
        out.push(DeviceFeedRow {
            feed_seq: row.try_get(0)?,
            reviews: reviews_of(c, project, &id)?,
            form: row.try_get(2)?,
            version: row.try_get(3)?,
            review_state: review_state(&review),
            coordinator_revisions,
            withdrawn: false,
            id,
        });
    }
    Ok(out)
}
