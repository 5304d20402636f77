//! Revisions: built once, never changed or deleted, with what the server said of each.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use voices_core::sync::protocol::AckStatus;

use super::outbox::refresh_outbox;
use super::{reasons_from, Store};
use crate::error::{Error, Result};

/// A revision this device can still send: built under its current link (the server takes
/// a device's revisions only under its own id). An unsent revision of an earlier link is
/// superseded: the response is rebuilt whole under the new link, and the old revision is
/// kept but never sent (it could only come back `wrong_actor`). Unlinked, nothing is
/// superseded yet.
pub(super) const SENDABLE: &str =
    "(NOT EXISTS (SELECT 1 FROM device_link) OR actor = (SELECT device_id FROM device_link))";

/// An unsent revision of an earlier link (see [`SENDABLE`]).
pub(super) const SUPERSEDED: &str =
    "(ack IS NULL AND actor != COALESCE((SELECT device_id FROM device_link), actor))";

/// A revision as built on this device, with what the server said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRow {
    pub id: String,
    pub response_id: String,
    pub actor: String,
    pub seq: u64,
    /// The revision's JSON exactly as built; every upload sends these bytes.
    pub body: String,
    /// What the server said of it; `None` until acknowledged.
    pub ack: Option<AckStatus>,
    pub code: Option<String>,
    pub reasons: Vec<String>,
    pub attempts: u32,
}

/// The server's answer about one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionAck {
    pub revision_id: String,
    pub ack: AckStatus,
    pub code: Option<String>,
    pub reasons: Vec<String>,
}

impl Store {
    /// Responses whose current state may not be in a revision yet: finalized and
    /// queued ones, and refusals never built (or built only under an earlier link).
    pub fn responses_to_build(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id FROM responses WHERE withdrawn_at IS NULL AND purged_at IS NULL
                AND (status = 'queued'
                OR (status = 'refused' AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.response_id = responses.id
                    AND NOT {SUPERSEDED})))
             ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The clear text of a response's revisions whose answers were sealed, by revision id.
    pub fn clear_revisions(
        &self,
        response_id: &str,
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.revision_id, c.body FROM revision_clear c
             JOIN revisions v ON v.id = c.revision_id WHERE v.response_id = ?1",
        )?;
        let rows = stmt.query_map(params![response_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every revision built for a response, oldest first.
    pub fn revisions(&self, response_id: &str) -> Result<Vec<RevisionRow>> {
        self.revision_query(
            "SELECT id, response_id, actor, seq, body, ack, code, reasons, attempts FROM revisions
             WHERE response_id = ?1 ORDER BY seqno",
            params![response_id],
        )
    }

    /// Revisions the server has not acknowledged yet that this link can send, oldest
    /// first (superseded ones of an earlier link are kept but not sent).
    pub fn unacknowledged_revisions(&self, limit: u32) -> Result<Vec<RevisionRow>> {
        self.revision_query(
            &format!(
                "SELECT id, response_id, actor, seq, body, ack, code, reasons, attempts FROM revisions
                 WHERE ack IS NULL AND {SENDABLE} ORDER BY seqno LIMIT ?1"
            ),
            params![limit],
        )
    }

    /// [`Self::unacknowledged_revisions`] of every response but `held_back` ones, so a
    /// queue head of held-back responses cannot hide the revisions behind it.
    pub fn unacknowledged_revisions_except(
        &self,
        limit: u32,
        held_back: &[String],
    ) -> Result<Vec<RevisionRow>> {
        let held_back = serde_json::to_string(held_back).unwrap_or_else(|_| "[]".into());
        self.revision_query(
            &format!(
                "SELECT id, response_id, actor, seq, body, ack, code, reasons, attempts FROM revisions
                 WHERE ack IS NULL AND {SENDABLE} AND response_id NOT IN (SELECT value FROM json_each(?2))
                 ORDER BY seqno LIMIT ?1"
            ),
            params![limit, held_back],
        )
    }

    fn revision_query(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<RevisionRow>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            // The table's CHECK allows only the four wire names.
            let ack = match r.get::<_, Option<String>>(5)? {
                None => None,
                Some(name) => Some(AckStatus::from_name(&name).ok_or_else(|| {
                    Error::Corrupt(format!("revision {id}: unknown acknowledgement `{name}`"))
                })?),
            };
            out.push(RevisionRow {
                id,
                response_id: r.get(1)?,
                actor: r.get(2)?,
                seq: r.get::<_, i64>(3)? as u64,
                body: r.get(4)?,
                ack,
                code: r.get(6)?,
                reasons: reasons_from(&r.get::<_, String>(7)?),
                attempts: r.get(8)?,
            });
        }
        Ok(out)
    }

    /// Keep a newly built revision and put its response in the outbox as pending.
    /// Fails (and keeps nothing) when that edit number is taken already.
    pub fn add_revision(&mut self, revision: &RevisionRow, now: &str) -> Result<()> {
        self.add_revision_with_clear(revision, None, &[], now)
    }

    /// [`Store::add_revision`] of a revision with sealed answers, and its clear text.
    pub fn add_revision_with_clear(
        &mut self,
        revision: &RevisionRow,
        clear: Option<&str>,
        sealed_files: &[super::SealedFile],
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO revisions (id, response_id, actor, seq, body, built_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                revision.id,
                revision.response_id,
                revision.actor,
                revision.seq as i64,
                revision.body,
                now
            ],
        )?;
        if let Some(clear) = clear {
            tx.execute(
                "INSERT INTO revision_clear (revision_id, body) VALUES (?1, ?2)",
                params![revision.id, clear],
            )?;
        }
        for file in sealed_files {
            tx.execute(
                "INSERT INTO sealed_files (sha256, response_id, clear_sha256, size, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    file.sha256,
                    revision.response_id,
                    file.clear_sha256,
                    file.size as i64,
                    now
                ],
            )?;
        }
        tx.execute(
            "INSERT INTO outbox (record_kind, record_id, state, updated_at) VALUES ('response', ?1, 'pending', ?2)
             ON CONFLICT (record_kind, record_id) DO UPDATE SET state = 'pending', updated_at = ?2",
            params![revision.response_id, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Record the server's acknowledgements and bring each touched response's outbox
    /// entry up to date, in one transaction. Nothing is deleted whatever the answer.
    pub fn apply_acks(&mut self, acks: &[RevisionAck], now: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut touched = std::collections::BTreeSet::new();
        {
            let mut update = tx.prepare_cached(
                "UPDATE revisions SET ack = ?2, code = ?3, reasons = ?4, acked_at = ?5
                 WHERE id = ?1 RETURNING response_id",
            )?;
            for a in acks {
                let reasons = serde_json::to_string(&a.reasons).unwrap_or_else(|_| "[]".into());
                let response: Option<String> = update
                    .query_row(
                        params![a.revision_id, a.ack.as_str(), a.code, reasons, now],
                        |r| r.get(0),
                    )
                    .optional()?;
                touched.extend(response);
            }
        }
        for response in &touched {
            refresh_outbox(&tx, response, now)?;
        }
        tx.commit()?;
        Ok(())
    }
}
