//! What the server sends back about this device's responses (the device feed): review
//! states and comments, coordinators' edits merged into the response, and the conflicts
//! the enumerator must see. One transaction per feed item, with the feed's cursor.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use voices_core::answer::{AnswerValue, Sealed};
use voices_core::sync::protocol::{DeviceFeedItem, ReviewState, ReviewTransition};
use voices_core::sync::{merge_local, ResponseState, Revision};

use super::revisions::SUPERSEDED;
use super::Store;
use crate::error::{Error, Result};

/// An answer the enumerator and a coordinator both changed: the device's value is kept
/// and shown with the others until the enumerator finalizes again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRow {
    pub path: String,
    pub yours: Option<String>,
    /// The other values, each with who wrote it (`user:NAME`).
    pub theirs: Vec<(String, Option<String>)>,
    /// Who wrote a value sealed to the project's keys, which this device cannot open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sealed: Vec<String>,
}

/// A response the server says something about, as kept on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedRow {
    pub response_id: String,
    pub form_id: String,
    pub form_version: String,
    /// The interview's language.
    pub language: String,
    /// When retention removed its answers from the device (it cannot be fixed here).
    pub purged_at: Option<String>,
    pub review_state: ReviewState,
    /// Every review transition, oldest first.
    pub reviews: Vec<ReviewTransition>,
    pub conflicts: Vec<ConflictRow>,
    pub updated_at: String,
}

/// What applying a feed item did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Its respondent withdrew: the response was purged and left every list
    /// (`withdrawn.rs`); the SHA-256s of the files to remove from the folder.
    Withdrawn(Vec<String>),
    /// Merged and recorded.
    Merged,
    /// Retention removed the response's answers before the server's word arrived: the
    /// review and comments are recorded (the app says it cannot be fixed here), the
    /// coordinators' edits are not kept.
    Purged,
    /// The response is not on this device (removed, or started under an earlier install).
    NotHere,
}

/// The sealed values this device made, with the clear text each seals (kept in
/// `revision_clear`): the only sealed values it can read.
#[derive(Default)]
struct Opened(HashMap<(String, Sealed), String>);

impl Opened {
    /// Learn the clear text of each answer `sealed` seals, from the `clear` revision
    /// it was sealed from.
    fn learn(&mut self, sealed: &Revision, clear: &Revision) {
        for (path, value) in &sealed.set {
            if let (Some(AnswerValue::Sealed(s)), Some(Some(AnswerValue::Text(text)))) =
                (value, clear.set.get(path))
            {
                self.0.insert((path.clone(), s.clone()), text.clone());
            }
        }
    }

    /// `edit` with the sealed values this device made in clear; `None` if it holds none.
    fn open(&self, edit: &Revision) -> Option<Revision> {
        let mut clear = edit.clone();
        let mut any = false;
        for (path, value) in clear.set.iter_mut() {
            if let Some(AnswerValue::Sealed(s)) = value {
                if let Some(text) = self.0.get(&(path.clone(), s.clone())) {
                    *value = Some(AnswerValue::Text(text.clone()));
                    any = true;
                }
            }
        }
        any.then_some(clear)
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{what}: {e}"))
}

/// Keep the server's review state and comments of `item`, with `conflicts`.
fn record(
    tx: &rusqlite::Transaction<'_>,
    item: &DeviceFeedItem,
    conflicts: &[ConflictRow],
    now: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO returned (response_id, review_state, reviews, conflicts, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (response_id) DO UPDATE SET review_state = excluded.review_state,
             reviews = excluded.reviews, conflicts = excluded.conflicts,
             updated_at = excluded.updated_at",
        params![
            item.response,
            item.review_state.as_str(),
            serde_json::to_string(&item.reviews).map_err(|e| corrupt("reviews", e))?,
            serde_json::to_string(conflicts).map_err(|e| corrupt("conflicts", e))?,
            now
        ],
    )?;
    Ok(())
}

impl Store {
    /// Merge one feed item into the device's copy, in one transaction with the feed's
    /// new `cursor` (kept under `cursor_key`): the coordinators' revisions are stored as
    /// revisions the server holds, the answers take their changes (an answer the
    /// enumerator changed too keeps the enumerator's value and becomes a conflict), and
    /// the review state and comments are kept.
    pub fn apply_feed_item(
        &mut self,
        item: &DeviceFeedItem,
        me: &str,
        cursor_key: &str,
        now: &str,
    ) -> Result<Applied> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let set_cursor = |tx: &rusqlite::Transaction<'_>| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![cursor_key, item.cursor],
            )
        };
        let found: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT form_id, purged_at FROM responses WHERE id = ?1",
                [&item.response],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((form, purged_at)) = found else {
            set_cursor(&tx)?;
            tx.commit()?;
            return Ok(Applied::NotHere);
        };
        if item.withdrawn {
            // The withdrawal wins over anything the device holds of it, edits unsent
            // included (refused, never sent: `withdrawn.rs`).
            let files =
                super::withdrawn::withdraw_in(&tx, &item.response, now)?.unwrap_or_default();
            set_cursor(&tx)?;
            tx.commit()?;
            return Ok(Applied::Withdrawn(files));
        }
        if purged_at.is_some() {
            // Its revisions' bodies are gone: nothing to merge into, and nothing of its
            // answers is to come back to the device.
            record(&tx, item, &[], now)?;
            set_cursor(&tx)?;
            tx.commit()?;
            return Ok(Applied::Purged);
        }
        // What the server holds of the response as the device knows it: every revision
        // not rejected and not left unsent by an earlier link, in clear where the device
        // sealed it (`revision_clear`), as it builds its next revision.
        let mut before = ResponseState::new(item.response.clone(), form);
        let mut opened = Opened::default();
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT v.id, v.body, c.body FROM revisions v
                 LEFT JOIN revision_clear c ON c.revision_id = v.id
                 WHERE v.response_id = ?1
                 AND (v.ack IS NULL OR v.ack != 'rejected') AND NOT {SUPERSEDED} ORDER BY v.seqno"
            ))?;
            let rows = stmt.query_map([&item.response], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            for row in rows {
                let (id, body, clear) = row?;
                let parse = |body: &str| -> Result<Revision> {
                    serde_json::from_str(body).map_err(|e| corrupt(&format!("revision `{id}`"), e))
                };
                let revision = match clear {
                    Some(clear) => {
                        let clear = parse(&clear)?;
                        opened.learn(&parse(&body)?, &clear);
                        clear
                    }
                    None => parse(&body)?,
                };
                before
                    .apply(&revision)
                    .map_err(|e| corrupt(&format!("revision `{id}`"), e))?;
            }
        }
        let mut after = before.clone();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO revisions (id, response_id, actor, seq, body, built_at, ack, acked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'accepted', ?6) ON CONFLICT (id) DO NOTHING",
            )?;
            let mut insert_clear = tx.prepare_cached(
                "INSERT INTO revision_clear (revision_id, body) VALUES (?1, ?2)
                 ON CONFLICT (revision_id) DO NOTHING",
            )?;
            for edit in &item.edits {
                // Only coordinators' edits of this response; the server sends nothing else.
                if edit.response != item.response || !edit.actor.starts_with("user:") {
                    return Err(Error::ServerRefused(format!(
                        "the device feed sent revision `{}` of `{}` by `{}` as a coordinator's edit of `{}`",
                        edit.id, edit.response, edit.actor, item.response
                    )));
                }
                if after.contains(edit) {
                    continue;
                }
                // A sealed value this device made (a resolution keeping it) is one it knows.
                let clear = opened.open(edit);
                after.apply(clear.as_ref().unwrap_or(edit)).map_err(|e| {
                    Error::ServerRefused(format!("coordinator's edit `{}`: {e}", edit.id))
                })?;
                let body = serde_json::to_string(edit).map_err(|e| corrupt("revision", e))?;
                insert.execute(params![
                    edit.id,
                    item.response,
                    edit.actor,
                    edit.seq as i64,
                    body,
                    now
                ])?;
                if let Some(clear) = &clear {
                    let clear = serde_json::to_string(clear).map_err(|e| corrupt("revision", e))?;
                    insert_clear.execute(params![edit.id, clear])?;
                }
            }
        }
        let local = super::answers::read_answers(&tx, &item.response)?;
        let merged = merge_local(&local, &before, &after, me);
        if merged.answers != local {
            tx.execute(
                "DELETE FROM answers WHERE response_id = ?1",
                [&item.response],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (path, value) in merged.answers.iter() {
                insert.execute(params![item.response, path.as_str(), value, now])?;
            }
        }
        let conflicts: Vec<ConflictRow> = merged
            .conflicts
            .into_iter()
            .map(|c| ConflictRow {
                path: c.path.into_string(),
                yours: c.yours,
                theirs: c.theirs,
                sealed: c.sealed,
            })
            .collect();
        record(&tx, item, &conflicts, now)?;
        set_cursor(&tx)?;
        tx.commit()?;
        Ok(Applied::Merged)
    }

    /// The enumerator finalized a response sent back: it waits for the server as
    /// resubmitted, and its conflicts were settled by the values finalized.
    pub fn mark_resubmitted(&mut self, response_id: &str, now: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE returned SET review_state = ?2, conflicts = '[]', updated_at = ?3
             WHERE response_id = ?1 AND review_state = ?4",
            params![
                response_id,
                ReviewState::Resubmitted.as_str(),
                now,
                ReviewState::SentBack.as_str()
            ],
        )?;
        Ok(())
    }

    /// What the server said of a response, if anything.
    pub fn returned(&self, response_id: &str) -> Result<Option<ReturnedRow>> {
        Ok(self
            .returned_query("WHERE t.response_id = ?1", params![response_id])?
            .pop())
    }

    /// Responses sent back to the enumerator and not finalized again, oldest first.
    pub fn sent_back(&self) -> Result<Vec<ReturnedRow>> {
        self.returned_query(
            "WHERE t.review_state = ?1",
            params![ReviewState::SentBack.as_str()],
        )
    }

    /// The review state the server gave each response it said something about.
    pub fn review_states(&self) -> Result<std::collections::HashMap<String, ReviewState>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT response_id, review_state FROM returned")?;
        let mut rows = stmt.query([])?;
        let mut out = std::collections::HashMap::new();
        while let Some(r) = rows.next()? {
            let (id, state): (String, String) = (r.get(0)?, r.get(1)?);
            let parsed = ReviewState::parse(&state).ok_or_else(|| {
                corrupt(
                    &format!("returned response `{id}`"),
                    format!("unknown review state `{state}`"),
                )
            })?;
            out.insert(id, parsed);
        }
        Ok(out)
    }

    /// How many responses [`Store::sent_back`] lists.
    pub fn sent_back_count(&self) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM returned WHERE review_state = ?1",
            [ReviewState::SentBack.as_str()],
            |r| r.get(0),
        )?)
    }

    fn returned_query(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<ReturnedRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT t.response_id, t.review_state, t.reviews, t.conflicts, t.updated_at,
                    r.form_id, r.form_version, r.language, r.purged_at
             FROM returned t JOIN responses r ON r.id = t.response_id
             {filter} ORDER BY t.updated_at, t.response_id"
        ))?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let what = format!("returned response `{id}`");
            let state: String = r.get(1)?;
            out.push(ReturnedRow {
                review_state: ReviewState::parse(&state)
                    .ok_or_else(|| corrupt(&what, format!("unknown review state `{state}`")))?,
                reviews: serde_json::from_str(&r.get::<_, String>(2)?)
                    .map_err(|e| corrupt(&what, e))?,
                conflicts: serde_json::from_str(&r.get::<_, String>(3)?)
                    .map_err(|e| corrupt(&what, e))?,
                updated_at: r.get(4)?,
                form_id: r.get(5)?,
                form_version: r.get(6)?,
                language: r.get(7)?,
                purged_at: r.get(8)?,
                response_id: id,
            });
        }
        Ok(out)
    }
}
