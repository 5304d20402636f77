//! What a respondent said: one row per answer path of a draft.

use rusqlite::{params, TransactionBehavior};

use super::responses::{ensure_draft, touch};
use super::Store;
use crate::error::Result;

impl Store {
    /// Save one answer (or clear it with `None`) of a draft; committed when this returns.
    pub fn set_answer(
        &mut self,
        response_id: &str,
        path: &str,
        value: Option<&str>,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        match value {
            Some(v) => tx.execute(
                "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (response_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![response_id, path, v, now],
            )?,
            None => tx.execute(
                "DELETE FROM answers WHERE response_id = ?1 AND path = ?2",
                params![response_id, path],
            )?,
        };
        touch(&tx, response_id, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Save several answers of a draft in one transaction (an answer and the values
    /// it changed: calculations, answers cleared by skip logic). `None` clears.
    pub fn apply_answers(
        &mut self,
        response_id: &str,
        rows: &[(String, Option<String>)],
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (response_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )?;
            let mut delete =
                tx.prepare_cached("DELETE FROM answers WHERE response_id = ?1 AND path = ?2")?;
            for (path, value) in rows {
                match value {
                    Some(v) => upsert.execute(params![response_id, path, v, now])?,
                    None => delete.execute(params![response_id, path])?,
                };
            }
        }
        touch(&tx, response_id, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Replace every answer of a draft at once (repeat instances added or removed,
    /// recalculated values); one transaction, so a crash leaves the old or the new set.
    pub fn replace_answers(
        &mut self,
        response_id: &str,
        rows: &[(String, Option<String>)],
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "DELETE FROM answers WHERE response_id = ?1",
            params![response_id],
        )?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (path, value) in rows {
                insert.execute(params![response_id, path, value, now])?;
            }
        }
        touch(&tx, response_id, now)?;
        tx.commit()?;
        Ok(())
    }

    pub fn answers(&self, response_id: &str) -> Result<Vec<(String, Option<String>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, value FROM answers WHERE response_id = ?1")?;
        let rows = stmt.query_map(params![response_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
