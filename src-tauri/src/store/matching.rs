//! Enumerator–respondent matching records: one per section with a `match` rule; the
//! last record of a section (a hand-over after a skip, say) stands.

use std::collections::BTreeMap;

use rusqlite::params;
use rusqlite::TransactionBehavior;
use voices_core::answer::AnswerPath;
use voices_core::matching::MatchingRecord;

use super::responses::{ensure_draft, touch};
use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Record what happened at a section (replacing an earlier record of it).
    pub fn record_matching(
        &mut self,
        response_id: &str,
        group: &AnswerPath,
        record: &MatchingRecord,
    ) -> Result<()> {
        let json = serde_json::to_string(record)
            .map_err(|e| Error::Corrupt(format!("matching record: {e}")))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO matching (response_id, group_path, record) VALUES (?1, ?2, ?3)
             ON CONFLICT (response_id, group_path) DO UPDATE SET record = excluded.record",
            params![response_id, group.as_str(), json],
        )?;
        touch(&tx, response_id, &record.at)?;
        tx.commit()?;
        Ok(())
    }

    /// Every matching record of a response, by group path.
    pub fn matching(&self, response_id: &str) -> Result<BTreeMap<AnswerPath, MatchingRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT group_path, record FROM matching WHERE response_id = ?1")?;
        let mut rows = stmt.query(params![response_id])?;
        let mut records = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let (group, record): (String, String) = (row.get(0)?, row.get(1)?);
            let corrupt = |why: String| {
                Error::Corrupt(format!(
                    "matching record `{group}` of response {response_id}: {why}"
                ))
            };
            let path = AnswerPath::parse(&group).map_err(|e| corrupt(e.to_string()))?;
            let record: MatchingRecord =
                serde_json::from_str(&record).map_err(|e| corrupt(e.to_string()))?;
            records.insert(path, record);
        }
        Ok(records)
    }
}
