//! The consent answer (a refusal keeps nothing else) and the privacy checks.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use voices_core::answer::AnswerPath;
use voices_core::response::{AssentRecord, ConsentRecord, PrivacyOutcome, PrivacyRecord};

use super::responses::{ensure_draft, touch};
use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Record the consent answer. A refusal deletes every other answer and marks the
    /// response refused, so nothing but the refusal is kept.
    pub fn record_consent(
        &mut self,
        response_id: &str,
        given: bool,
        at: &str,
        text_version: &str,
    ) -> Result<()> {
        self.record_consent_answer(response_id, given, at, text_version, None)
    }

    /// [`Store::record_consent`], keeping the consent question's own answer (`"no"` at
    /// `consent_path`) with a refusal, so the refusal validates as a complete record
    /// wherever it is checked.
    pub fn record_consent_answer(
        &mut self,
        response_id: &str,
        given: bool,
        at: &str,
        text_version: &str,
        consent_path: Option<&AnswerPath>,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO consent (response_id, given, at, text_version) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id) DO UPDATE SET given = excluded.given, at = excluded.at, text_version = excluded.text_version,
               assent = CASE WHEN excluded.given THEN consent.assent END",
            params![response_id, given, at, text_version],
        )?;
        if given {
            touch(&tx, response_id, at)?;
        } else {
            tx.execute(
                "DELETE FROM answers WHERE response_id = ?1",
                params![response_id],
            )?;
            if let Some(path) = consent_path {
                tx.execute(
                    "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, 'no', ?3)",
                    params![response_id, path.as_str(), at],
                )?;
            }
            refuse(&tx, response_id, at)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Record a minor's assent with the consent it follows (which must be recorded).
    /// A refusal ends the interview as a consent refusal does: the response is marked
    /// refused and queued, and nothing recorded after the screening is kept. The answers
    /// the session kept (the guardian's consent, what was asked before the assent, the
    /// minor's `no`) are the caller's to write first.
    pub fn record_assent(&mut self, response_id: &str, record: &AssentRecord) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        let json = serde_json::to_string(record)
            .map_err(|e| Error::Corrupt(format!("the assent record does not serialize: {e}")))?;
        let updated = tx.execute(
            "UPDATE consent SET assent = ?2 WHERE response_id = ?1 AND given",
            params![response_id, json],
        )?;
        if updated == 0 {
            return Err(Error::Corrupt(format!(
                "response {response_id} has no consent given for the assent to follow"
            )));
        }
        if record.given {
            touch(&tx, response_id, &record.at)?;
        } else {
            refuse(&tx, response_id, &record.at)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn consent(&self, response_id: &str) -> Result<Option<ConsentRecord>> {
        self.conn
            .query_row(
                "SELECT given, at, text_version, assent FROM consent WHERE response_id = ?1",
                params![response_id],
                |r| {
                    Ok((
                        ConsentRecord {
                            given: r.get(0)?,
                            at: r.get(1)?,
                            text_version: r.get(2)?,
                            assent: None,
                        },
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?
            .map(|(mut record, assent)| {
                record.assent = assent
                    .map(|text| serde_json::from_str(&text))
                    .transpose()
                    .map_err(|e| {
                        Error::Corrupt(format!("the assent of response {response_id}: {e}"))
                    })?;
                Ok::<_, Error>(record)
            })
            .transpose()
    }

    pub fn record_privacy(
        &mut self,
        response_id: &str,
        group: &AnswerPath,
        record: &PrivacyRecord,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO privacy_checks (response_id, group_path, outcome, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id, group_path) DO UPDATE SET outcome = excluded.outcome, at = excluded.at",
            params![response_id, group.as_str(), record.outcome.as_str(), record.at],
        )?;
        touch(&tx, response_id, &record.at)?;
        tx.commit()?;
        Ok(())
    }

    /// Every privacy check of a response, by group path.
    pub fn privacy_checks(&self, response_id: &str) -> Result<BTreeMap<AnswerPath, PrivacyRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT group_path, outcome, at FROM privacy_checks WHERE response_id = ?1",
        )?;
        let mut rows = stmt.query(params![response_id])?;
        let mut checks = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let (group, outcome, at): (String, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            let corrupt = |why: String| {
                Error::Corrupt(format!(
                    "privacy check `{group}` of response {response_id}: {why}"
                ))
            };
            // The table's CHECK allows only the three names.
            let outcome = PrivacyOutcome::from_name(&outcome)
                .ok_or_else(|| corrupt(format!("unknown outcome `{outcome}`")))?;
            let group = AnswerPath::parse(&group).map_err(|e| corrupt(e.to_string()))?;
            checks.insert(group, PrivacyRecord { outcome, at });
        }
        Ok(checks)
    }
}

/// A refusal (the consent, or a minor's assent): what the interview recorded besides the
/// answers goes, and the response is marked refused and queued for sending.
fn refuse(tx: &rusqlite::Transaction<'_>, response_id: &str, at: &str) -> Result<()> {
    for sql in [
        "DELETE FROM privacy_checks WHERE response_id = ?1",
        "DELETE FROM selections WHERE response_id = ?1",
        "DELETE FROM matching WHERE response_id = ?1",
        "DELETE FROM response_attachments WHERE response_id = ?1",
        "DELETE FROM paradata WHERE response_id = ?1",
    ] {
        tx.execute(sql, params![response_id])?;
    }
    tx.execute(
        "UPDATE responses SET status = 'refused', updated_at = ?2, finalized_at = ?2 WHERE id = ?1",
        params![response_id, at],
    )?;
    tx.execute(
        "INSERT INTO outbox (record_kind, record_id, state, updated_at) VALUES ('response', ?1, 'pending', ?2)
         ON CONFLICT (record_kind, record_id) DO NOTHING",
        params![response_id, at],
    )?;
    Ok(())
}
