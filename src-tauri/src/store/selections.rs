//! Respondent-selection draws: written once, when the draw is shown, and never changed.

use std::collections::BTreeMap;

use rusqlite::params;
use rusqlite::TransactionBehavior;
use voices_core::answer::AnswerPath;
use voices_core::response::SelectionRecord;

use super::responses::{ensure_draft, touch};
use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Record a draw. A second draw for the same field is refused (the key, and a
    /// trigger against updates), so the person shown is the person recorded.
    pub fn record_selection(
        &mut self,
        response_id: &str,
        field: &AnswerPath,
        record: &SelectionRecord,
    ) -> Result<()> {
        let json = serde_json::to_string(record)
            .map_err(|e| Error::Corrupt(format!("selection record: {e}")))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO selections (response_id, field_path, record) VALUES (?1, ?2, ?3)",
            params![response_id, field.as_str(), json],
        )?;
        touch(&tx, response_id, &record.at)?;
        tx.commit()?;
        Ok(())
    }

    /// Every draw of a response, by selection field path.
    pub fn selections(&self, response_id: &str) -> Result<BTreeMap<AnswerPath, SelectionRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT field_path, record FROM selections WHERE response_id = ?1")?;
        let mut rows = stmt.query(params![response_id])?;
        let mut draws = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let (field, record): (String, String) = (row.get(0)?, row.get(1)?);
            let corrupt = |why: String| {
                Error::Corrupt(format!(
                    "selection `{field}` of response {response_id}: {why}"
                ))
            };
            let path = AnswerPath::parse(&field).map_err(|e| corrupt(e.to_string()))?;
            let record: SelectionRecord =
                serde_json::from_str(&record).map_err(|e| corrupt(e.to_string()))?;
            draws.insert(path, record);
        }
        Ok(draws)
    }
}
