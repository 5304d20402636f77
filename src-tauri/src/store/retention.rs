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
        let unused = purge_rows(&tx, id, now)?;
        tx.commit()?;
        Ok(Some(unused))
    }
}

/// Purge response `id` in transaction `tx` (see the module's comment); retention and a
/// withdrawal both end here. Every file of the response goes: those its answers use, the
/// sealed files of its sealed answers, and any other file one of its revisions lists in
/// `files` (an answer's earlier file, a legacy file of a sealed answer), unless another
/// response still uses it. The SHA-256s of the files to remove from the folder.
pub(super) fn purge_rows(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    now: &str,
) -> Result<Vec<String>> {
    // The files its revisions list, read before their bodies go (the clear text kept
    // beside a sealed revision lists the clear files of its sealed answers).
    let mut listed = std::collections::BTreeSet::new();
    {
        let mut bodies = tx.prepare_cached(
            "SELECT v.body FROM revisions v WHERE v.response_id = ?1 AND v.body != ''
             UNION ALL SELECT c.body FROM revision_clear c
                 JOIN revisions v ON v.id = c.revision_id WHERE v.response_id = ?1",
        )?;
        let rows = bodies.query_map(params![id], |r| r.get::<_, String>(0))?;
        for body in rows {
            // A body this app did not write names nothing it can find.
            if let Ok(revision) = serde_json::from_str::<voices_core::sync::Revision>(&body?) {
                listed.extend(revision.files.into_values());
            }
        }
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
        let mut empty =
            tx.prepare_cached("UPDATE revisions SET body_sha256 = ?2, body = '' WHERE id = ?1")?;
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
    // Every file of the response, unless another response (not purged) still uses it:
    // as an answer's file, as a sealed file or its clear file, or in a revision not sent.
    listed.extend(files);
    listed.extend(sealed);
    let mut used = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM response_attachments WHERE sha256 = ?1)
             OR EXISTS (SELECT 1 FROM sealed_files WHERE sha256 = ?1 OR clear_sha256 = ?1)
             OR EXISTS (SELECT 1 FROM revisions v JOIN responses r ON r.id = v.response_id
                 WHERE r.purged_at IS NULL AND v.ack IS NULL AND instr(v.body, ?1) > 0)",
    )?;
    let mut unused = Vec::new();
    for sha in listed {
        if !used.query_row(params![sha], |r| r.get::<_, bool>(0))? {
            tx.execute("DELETE FROM attachments WHERE sha256 = ?1", params![sha])?;
            unused.push(sha);
        }
    }
    Ok(unused)
}
