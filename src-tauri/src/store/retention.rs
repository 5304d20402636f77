//! Retention: a response the server acknowledged whole is purged from the device once
//! the project's retention period has passed. Its answers, consent, privacy checks,
//! paradata and attachment rows are deleted (`secure_delete` overwrites them) and its
//! revisions' bodies emptied; the response row (id, form, status, times), the revisions'
//! ids and acknowledgements and the SHA-256 of each body stay, so nothing is built or
//! sent again and the server's exactly-once still holds.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::revisions::SUPERSEDED;
use super::Store;
use crate::error::Result;

/// Sent, every revision of this link acknowledged, the outbox says `sent`, not purged yet,
/// and not sent back to the enumerator (kept until it is finalized again).
const PURGEABLE: &str = "r.status = 'sent' AND r.purged_at IS NULL
    AND EXISTS (SELECT 1 FROM outbox o WHERE o.record_kind = 'response' AND o.record_id = r.id AND o.state = 'sent')
    AND EXISTS (SELECT 1 FROM revisions v WHERE v.response_id = r.id)
    AND NOT EXISTS (SELECT 1 FROM returned t WHERE t.response_id = r.id AND t.review_state = 'sentBack')";

impl Store {
    /// Responses that may be purged, each with the time of its last acknowledgement.
    pub fn purgeable_responses(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT r.id, (SELECT MAX(v.acked_at) FROM revisions v WHERE v.response_id = r.id AND NOT {SUPERSEDED})
             FROM responses r WHERE {PURGEABLE}
               AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.response_id = r.id AND v.ack IS NULL AND NOT {SUPERSEDED})
             ORDER BY r.id"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            if let (id, Some(acked_at)) = row? {
                out.push((id, acked_at));
            }
        }
        Ok(out)
    }

    /// Purge one response (see the module's comment), if it is still purgeable: an
    /// edit begun meanwhile keeps it. The SHA-256s of attached files no other response
    /// uses, whose sealed files the caller removes; `None` when nothing was purged.
    pub fn purge_response(&mut self, id: &str, now: &str) -> Result<Option<Vec<String>>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let still: Option<i64> = tx
            .query_row(
                &format!("SELECT 1 FROM responses r WHERE r.id = ?1 AND {PURGEABLE}"),
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        if still.is_none() {
            return Ok(None);
        }
        tx.execute(
            "UPDATE responses SET purged_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        {
            let mut bodies = tx.prepare_cached(
                "SELECT id, body FROM revisions WHERE response_id = ?1 AND body != ''",
            )?;
            let kept: Vec<(String, String)> = bodies
                .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut empty = tx
                .prepare_cached("UPDATE revisions SET body_sha256 = ?2, body = '' WHERE id = ?1")?;
            for (revision, body) in kept {
                empty.execute(params![
                    revision,
                    hex::encode(Sha256::digest(body.as_bytes()))
                ])?;
            }
        }
        // The clear text kept beside a sealed revision (`sync::seal`) repeats the
        // answers: it goes with them.
        tx.execute(
            "DELETE FROM revision_clear
             WHERE revision_id IN (SELECT id FROM revisions WHERE response_id = ?1)",
            params![id],
        )?;
        let files: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT DISTINCT sha256 FROM response_attachments WHERE response_id = ?1",
            )?;
            let rows = stmt.query_map(params![id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        // The sealed files of its sealed answers are its own (each sealed for it alone).
        let sealed: Vec<String> = {
            let mut stmt =
                tx.prepare_cached("SELECT sha256 FROM sealed_files WHERE response_id = ?1")?;
            let rows = stmt.query_map(params![id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        // The answers both sides changed hold values; the review and comments stay, so
        // the app can say why the response cannot be fixed here.
        tx.execute(
            "UPDATE returned SET conflicts = '[]' WHERE response_id = ?1",
            params![id],
        )?;
        for table in [
            "answers",
            "consent",
            "privacy_checks",
            "paradata",
            "response_attachments",
            "selections",
            "outcomes",
            "matching",
            "sealed_files",
            // Its files leave the device: the same bytes attached again are checked with
            // the server, which may no longer have them.
            "response_file_uploads",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE response_id = ?1"),
                params![id],
            )?;
        }
        let mut unused = Vec::new();
        for sha in files {
            let n = tx.execute(
                "DELETE FROM attachments WHERE sha256 = ?1
                 AND NOT EXISTS (SELECT 1 FROM response_attachments WHERE sha256 = ?1)",
                params![sha],
            )?;
            if n > 0 {
                unused.push(sha);
            }
        }
        unused.extend(sealed);
        tx.commit()?;
        Ok(Some(unused))
    }
}
