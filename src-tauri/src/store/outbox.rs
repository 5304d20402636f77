//! The outbox: each finalized response's sync state, driven by its revisions' acknowledgements.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::revisions::SUPERSEDED;
use super::{reasons_from, Store};
use crate::error::Result;

/// One response's place in the outbox, with the facts lists may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntryRow {
    pub response_id: String,
    pub form_id: String,
    pub form_version: String,
    pub state: String,
    pub reasons: Vec<String>,
    pub last_error: Option<String>,
    pub attempts: u32,
    pub updated_at: String,
    pub revisions: u32,
    /// Unsent revisions of an earlier link, kept but never sent (rebuilt under this one).
    pub superseded: u32,
}

impl Store {
    /// A send attempt of these revisions failed before any answer (network, server
    /// error): count it and show why on their responses; they stay due.
    pub fn note_send_failure(
        &mut self,
        revision_ids: &[String],
        error: &str,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update = tx.prepare_cached(
                "SELECT response_id FROM revisions WHERE id = ?1 AND ack IS NULL",
            )?;
            let mut outbox = tx.prepare_cached(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2, updated_at = ?3
                 WHERE record_kind = 'response' AND record_id = ?1 AND state IN ('pending','sending','failed')",
            )?;
            let mut seen = std::collections::BTreeSet::new();
            for id in revision_ids {
                let response: Option<String> =
                    update.query_row(params![id], |r| r.get(0)).optional()?;
                if let Some(response) = response {
                    if seen.insert(response.clone()) {
                        outbox.execute(params![response, error, now])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// These revisions are about to go on the wire: count the attempt first, so after a
    /// crash or a kill mid-upload the next sync knows to ask the server what it kept.
    pub fn count_attempt(&mut self, revision_ids: &[String]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update =
                tx.prepare_cached("UPDATE revisions SET attempts = attempts + 1 WHERE id = ?1")?;
            for id in revision_ids {
                update.execute(params![id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Show these responses as being sent (or, with `false`, back to pending).
    pub fn mark_sending(
        &mut self,
        response_ids: &[String],
        sending: bool,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let sql = if sending {
                "UPDATE outbox SET state = 'sending', updated_at = ?2 WHERE record_kind = 'response' AND record_id = ?1 AND state IN ('pending','failed')"
            } else {
                "UPDATE outbox SET state = 'pending', updated_at = ?2 WHERE record_kind = 'response' AND record_id = ?1 AND state = 'sending'"
            };
            let mut stmt = tx.prepare_cached(sql)?;
            for id in response_ids {
                stmt.execute(params![id, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A sync that was cut off (the app killed) leaves entries `sending`: due again.
    pub fn reset_sending(&mut self) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE state = 'sending'",
            [],
        )?;
        Ok(())
    }

    /// Every response in the outbox with its sync state, most recently changed first.
    /// `revisions` leaves out superseded ones of an earlier link (their content is in the
    /// rebuilt revision), which `superseded` counts.
    pub fn outbox_entries(&self) -> Result<Vec<OutboxEntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT o.record_id, r.form_id, r.form_version, o.state, o.reasons, o.last_error, o.attempts, o.updated_at,
                    (SELECT COUNT(*) FROM revisions v WHERE v.response_id = o.record_id AND NOT {SUPERSEDED}),
                    (SELECT COUNT(*) FROM revisions v WHERE v.response_id = o.record_id AND {SUPERSEDED})
             FROM outbox o JOIN responses r ON r.id = o.record_id
             WHERE o.record_kind = 'response' AND r.purged_at IS NULL ORDER BY o.updated_at DESC, o.id DESC"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxEntryRow {
                response_id: r.get(0)?,
                form_id: r.get(1)?,
                form_version: r.get(2)?,
                state: r.get(3)?,
                reasons: reasons_from(&r.get::<_, String>(4)?),
                last_error: r.get(5)?,
                attempts: r.get(6)?,
                updated_at: r.get(7)?,
                revisions: r.get(8)?,
                superseded: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Outbox entries per state.
    pub fn outbox_counts(&self) -> Result<Vec<(String, u32)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT state, COUNT(*) FROM outbox WHERE record_kind = 'response' GROUP BY state",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Bring a response's outbox entry in line with its revisions' acknowledgements:
/// any rejected → `rejected`; any unanswered → still due; otherwise the latest
/// answer decides (`quarantined` with its reasons, or `sent`). A response whose every
/// revision the server holds is marked sent.
pub(super) fn refresh_outbox(conn: &Connection, response_id: &str, now: &str) -> Result<()> {
    // Superseded revisions of an earlier link are never answered: they do not keep the
    // response pending.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ack, code, reasons FROM revisions WHERE response_id = ?1 AND NOT {SUPERSEDED} ORDER BY seqno"
    ))?;
    let acks: Vec<(Option<String>, Option<String>, String)> = stmt
        .query_map(params![response_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if acks.is_empty() {
        return Ok(());
    }
    // A rejection stands until a later revision (which carries its content again)
    // is held by the server or on its way.
    let last_rejected = acks
        .iter()
        .rposition(|(ack, ..)| ack.as_deref() == Some("rejected"));
    let after = last_rejected.map_or(&acks[..], |i| &acks[i + 1..]);
    let unanswered = after.iter().any(|(ack, ..)| ack.is_none());
    let (state, reasons) = match (last_rejected, after.last()) {
        (Some(i), None) => {
            let (_, code, reasons) = &acks[i];
            let reasons = reasons_from(reasons);
            let shown = match (code, reasons.is_empty()) {
                (Some(code), true) => vec![code.clone()],
                (Some(code), false) => reasons
                    .into_iter()
                    .map(|r| format!("{code}: {r}"))
                    .collect(),
                (None, _) => reasons,
            };
            ("rejected", shown)
        }
        _ if unanswered => ("pending", Vec::new()),
        (_, Some((Some(ack), _, reasons))) if ack == "quarantined" => {
            ("quarantined", reasons_from(reasons))
        }
        _ => ("sent", Vec::new()),
    };
    let reasons = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO outbox (record_kind, record_id, state, reasons, updated_at) VALUES ('response', ?1, ?2, ?3, ?4)
         ON CONFLICT (record_kind, record_id) DO UPDATE SET state = excluded.state, reasons = excluded.reasons,
            last_error = CASE WHEN excluded.state = 'pending' THEN last_error ELSE NULL END,
            attempts = attempts + 1, updated_at = excluded.updated_at",
        params![response_id, state, reasons, now],
    )?;
    if matches!(state, "sent" | "quarantined") {
        conn.execute(
            "UPDATE responses SET status = 'sent' WHERE id = ?1 AND status = 'queued'",
            params![response_id],
        )?;
    }
    Ok(())
}
