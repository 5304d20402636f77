//! A respondent's withdrawal, as the device feed brings it: the coordinator marked the
//! response withdrawn, so the device keeps nothing of what the respondent said. The
//! response is purged as retention purges (`retention.rs`: answers, files, revision
//! bodies go; ids, acknowledgements and each body's SHA-256 stay for exactly-once), its
//! revisions not yet sent are refused (`rejected` / `withdrawn`: never sent, nor lost
//! without a record), and it leaves every list (drafts, Returned, outbox). Only its id,
//! form and times stay, with `withdrawn_at`, so the app can say, neutrally, that a
//! response was withdrawn by the coordinator.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::Store;
use crate::error::Result;

/// The code and reason an unsent revision of a withdrawn response is refused with.
pub const WITHDRAWN_CODE: &str = "withdrawn";
const WITHDRAWN_REASON: &str = "withdrawn by the coordinator: never sent";

/// Withdraw response `id` in `tx` (see the module's comment). `None` when it is not on
/// this device; otherwise the SHA-256s of the files to remove from the folder (none
/// when it was withdrawn already).
pub(super) fn withdraw_in(
    tx: &Transaction<'_>,
    id: &str,
    now: &str,
) -> Result<Option<Vec<String>>> {
    let found: Option<(Option<String>, Option<String>)> = tx
        .query_row(
            "SELECT withdrawn_at, purged_at FROM responses WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((withdrawn_at, purged_at)) = found else {
        return Ok(None);
    };
    if withdrawn_at.is_some() {
        return Ok(Some(Vec::new()));
    }
    tx.execute(
        "UPDATE revisions SET ack = 'rejected', code = ?2, reasons = ?3, acked_at = ?4
         WHERE response_id = ?1 AND ack IS NULL",
        params![
            id,
            WITHDRAWN_CODE,
            serde_json::to_string(&[WITHDRAWN_REASON]).unwrap_or_else(|_| "[]".into()),
            now
        ],
    )?;
    // Retention may have purged it already: its rows are gone, its files too.
    let files = match purged_at {
        None => super::retention::purge_rows(tx, id, now)?,
        Some(_) => Vec::new(),
    };
    tx.execute(
        "UPDATE responses SET withdrawn_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    // Out of every list: Returned (its comments may quote answers) and the outbox.
    tx.execute("DELETE FROM returned WHERE response_id = ?1", params![id])?;
    tx.execute(
        "DELETE FROM outbox WHERE record_kind = 'response' AND record_id = ?1",
        params![id],
    )?;
    Ok(Some(files))
}

impl Store {
    /// Withdraw response `id` (see the module's comment) in its own transaction; the
    /// files to remove, or `None` when it is not on this device.
    pub fn withdraw_response(&mut self, id: &str, now: &str) -> Result<Option<Vec<String>>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let files = withdraw_in(&tx, id, now)?;
        tx.commit()?;
        Ok(files)
    }

    /// When response `id` was withdrawn, if it was.
    pub fn withdrawn_at(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT withdrawn_at FROM responses WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// How many responses of this device were withdrawn (what the app shows of them).
    pub fn withdrawn_count(&self) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM responses WHERE withdrawn_at IS NOT NULL",
            [],
            |r| r.get(0),
        )?)
    }
}
