//! How each interview ended: the last outcome recorded stands.

use rusqlite::{params, OptionalExtension};
use voices_core::response::OutcomeRecord;

use super::responses::{row_to_response, ResponseRow, RESPONSE_COLUMNS};
use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Record how an interview ended, replacing an earlier outcome (a return visit that
    /// completed it).
    pub fn record_outcome(&mut self, response_id: &str, record: &OutcomeRecord) -> Result<()> {
        let json = serde_json::to_string(record)
            .map_err(|e| Error::Corrupt(format!("outcome record: {e}")))?;
        self.conn.execute(
            "INSERT INTO outcomes (response_id, record) VALUES (?1, ?2)
             ON CONFLICT (response_id) DO UPDATE SET record = excluded.record",
            params![response_id, json],
        )?;
        Ok(())
    }

    /// How the interview ended, if it has.
    pub fn outcome(&self, response_id: &str) -> Result<Option<OutcomeRecord>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT record FROM outcomes WHERE response_id = ?1",
                params![response_id],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j)
                .map_err(|e| Error::Corrupt(format!("outcome of response {response_id}: {e}")))
        })
        .transpose()
    }

    /// Every interview whose last outcome agreed a return visit not yet made, with its
    /// response (declined interviews never come back).
    pub fn pending_visits(&self) -> Result<Vec<(ResponseRow, OutcomeRecord)>> {
        let columns = RESPONSE_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, o.record FROM outcomes o JOIN responses r ON r.id = o.response_id
             WHERE r.status <> 'refused' AND r.purged_at IS NULL ORDER BY r.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            let record: String = r.get(9)?;
            Ok((row_to_response(r)?, record))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (response, json) = row?;
            let response = response?;
            let record: OutcomeRecord = serde_json::from_str(&json)
                .map_err(|e| Error::Corrupt(format!("outcome of response {}: {e}", response.id)))?;
            if record.visit_pending() {
                out.push((response, record));
            }
        }
        Ok(out)
    }
}
