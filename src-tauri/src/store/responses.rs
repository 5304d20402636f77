//! Responses and their life: draft → finalized → queued → sent (or refused).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::error::{Error, Result};

/// Where a response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    Draft,
    Finalized,
    Queued,
    Sent,
    /// Consent was declined: only the refusal is kept.
    Refused,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Draft => "draft",
            ResponseStatus::Finalized => "finalized",
            ResponseStatus::Queued => "queued",
            ResponseStatus::Sent => "sent",
            ResponseStatus::Refused => "refused",
        }
    }

    pub(super) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "draft" => ResponseStatus::Draft,
            "finalized" => ResponseStatus::Finalized,
            "queued" => ResponseStatus::Queued,
            "sent" => ResponseStatus::Sent,
            "refused" => ResponseStatus::Refused,
            other => return Err(Error::Corrupt(format!("unknown response status `{other}`"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRow {
    pub id: String,
    pub form_id: String,
    pub form_version: String,
    pub status: ResponseStatus,
    pub language: String,
    pub created_at: String,
    pub updated_at: String,
    pub finalized_at: Option<String>,
    pub edit_count: u32,
}

pub(super) const RESPONSE_COLUMNS: &str =
    "id, form_id, form_version, status, language, created_at, updated_at, finalized_at, edit_count";

impl Store {
    pub fn create_response(
        &mut self,
        id: &str,
        form_id: &str,
        version: &str,
        language: &str,
        now: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO responses (id, form_id, form_version, status, language, created_at, updated_at) VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?5)",
            params![id, form_id, version, language, now],
        )?;
        Ok(())
    }

    pub fn response(&self, id: &str) -> Result<ResponseRow> {
        let sql =
            format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE id = ?1 AND purged_at IS NULL");
        match self
            .conn
            .query_row(&sql, params![id], row_to_response)
            .optional()?
        {
            Some(row) => row,
            None => Err(not_on_device(&self.conn, id)?),
        }
    }

    /// Every response still on the device (purged ones are not), most recently touched first.
    pub fn responses(&self) -> Result<Vec<ResponseRow>> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS} FROM responses WHERE purged_at IS NULL ORDER BY updated_at DESC, id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], row_to_response)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    pub fn set_language(&mut self, id: &str, language: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE responses SET language = ?2 WHERE id = ?1",
            params![id, language],
        )?;
        Ok(())
    }

    /// Move a response to `to` if it is in one of `from`; otherwise a conflict naming its state.
    pub fn transition(
        &mut self,
        id: &str,
        from: &[ResponseStatus],
        to: ResponseStatus,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = status_in(&tx, id)?;
        if !from.contains(&current) {
            return Err(Error::Conflict(format!(
                "response `{id}` is {}, so it cannot become {}",
                current.as_str(),
                to.as_str()
            )));
        }
        let reopening = current != ResponseStatus::Draft && to == ResponseStatus::Draft;
        // Only a sent response can have been purged (its answers are gone: nothing to edit).
        if reopening && current == ResponseStatus::Sent {
            let purged: Option<String> = tx.query_row(
                "SELECT purged_at FROM responses WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            if purged.is_some() {
                return Err(not_on_device(&tx, id)?);
            }
        }
        tx.execute(
            "UPDATE responses SET status = ?2, updated_at = ?3,
                finalized_at = CASE WHEN ?2 = 'finalized' THEN ?3 ELSE finalized_at END,
                edit_count = edit_count + ?4
             WHERE id = ?1",
            params![id, to.as_str(), now, reopening as i64],
        )?;
        match to {
            ResponseStatus::Queued => {
                tx.execute(
                    "INSERT INTO outbox (record_kind, record_id, state, updated_at) VALUES ('response', ?1, 'pending', ?2)
                     ON CONFLICT (record_kind, record_id) DO UPDATE SET state = 'pending', updated_at = ?2",
                    params![id, now],
                )?;
            }
            ResponseStatus::Draft => {
                // An edit takes the response out of the queue until it is finalized again.
                tx.execute(
                    "DELETE FROM outbox WHERE record_kind = 'response' AND record_id = ?1 AND state IN ('pending','failed')
                     AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.response_id = ?1)",
                    params![id],
                )?;
            }
            _ => {}
        }
        tx.commit()?;
        Ok(())
    }
}

pub(super) fn row_to_response(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ResponseRow>> {
    let status: String = r.get(3)?;
    let row = ResponseRow {
        id: r.get(0)?,
        form_id: r.get(1)?,
        form_version: r.get(2)?,
        status: ResponseStatus::Draft,
        language: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        finalized_at: r.get(7)?,
        edit_count: r.get(8)?,
    };
    Ok(ResponseStatus::parse(&status).map(|status| ResponseRow { status, ..row }))
}

pub(super) fn status_in(conn: &Connection, id: &str) -> Result<ResponseStatus> {
    let status: String = conn
        .query_row(
            "SELECT status FROM responses WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("response `{id}` is not on this device")))?;
    if is_withdrawn(conn, id)? {
        // Nothing is written for a response whose respondent withdrew.
        return Err(withdrawn_error());
    }
    ResponseStatus::parse(&status)
}

/// Whether response `id` was withdrawn. A store held at a schema from before
/// withdrawals (only the upgrade tests write through one) has none.
fn is_withdrawn(conn: &Connection, id: &str) -> Result<bool> {
    match conn.query_row(
        "SELECT withdrawn_at IS NOT NULL FROM responses WHERE id = ?1",
        params![id],
        |r| r.get(0),
    ) {
        Ok(withdrawn) => Ok(withdrawn),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(false),
        Err(rusqlite::Error::SqlInputError { ref msg, .. })
            if msg.contains("no such column: withdrawn_at") =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// The error of anything asked of a withdrawn response: neutral, no respondent detail.
pub(crate) fn withdrawn_error() -> Error {
    Error::Withdrawn(
        "this response was withdrawn by the coordinator and removed from this device".into(),
    )
}

/// Why response `id` cannot be read: never here, withdrawn, or purged after it was
/// acknowledged.
fn not_on_device(conn: &Connection, id: &str) -> Result<Error> {
    let found: Option<(Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT purged_at, withdrawn_at FROM responses WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match found {
        Some((_, Some(_))) => withdrawn_error(),
        Some((Some(at), None)) => Error::NotFound(format!(
            "response `{id}` was removed from this device at {at}, after the server kept it (the project's retention)"
        )),
        _ => Error::NotFound(format!("response `{id}` is not on this device")),
    })
}

pub(super) fn ensure_draft(conn: &Connection, id: &str) -> Result<()> {
    match status_in(conn, id)? {
        ResponseStatus::Draft => Ok(()),
        other => Err(Error::Conflict(format!(
            "response `{id}` is {}; reopen it for editing first",
            other.as_str()
        ))),
    }
}

pub(super) fn touch(conn: &Connection, id: &str, now: &str) -> Result<()> {
    conn.execute(
        "UPDATE responses SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}
