//! What a respondent said, in the core's flat encoding: one row per value of a draft,
//! keyed by its path (`/members[2]/age`), repeat counts as values at `/members[]`.
//! Autosave writes one row; reading gives the [`FlatAnswers`] the engine and the
//! revision builder take.

use rusqlite::{params, Connection, TransactionBehavior};
use voices_core::answer::{AnswerPath, FlatAnswers};

use super::responses::{ensure_draft, touch};
use super::Store;
use crate::error::{Error, Result};

const UPSERT: &str = "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (response_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
const DELETE: &str = "DELETE FROM answers WHERE response_id = ?1 AND path = ?2";

impl Store {
    /// Save one answer (or clear it with `None`) of a draft; committed when this returns.
    pub fn set_answer(
        &mut self,
        response_id: &str,
        path: &AnswerPath,
        value: Option<&str>,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        match value {
            Some(v) => tx.execute(UPSERT, params![response_id, path.as_str(), v, now])?,
            None => tx.execute(DELETE, params![response_id, path.as_str()])?,
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
        changes: &[(&AnswerPath, Option<&str>)],
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        {
            let mut upsert = tx.prepare_cached(UPSERT)?;
            let mut delete = tx.prepare_cached(DELETE)?;
            for (path, value) in changes {
                match value {
                    Some(v) => upsert.execute(params![response_id, path.as_str(), v, now])?,
                    None => delete.execute(params![response_id, path.as_str()])?,
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
        answers: &FlatAnswers,
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
            for (path, value) in answers.iter() {
                insert.execute(params![response_id, path.as_str(), value, now])?;
            }
        }
        touch(&tx, response_id, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Every answer of a response. A stored path that does not parse is an error, not
    /// a value silently left out.
    pub fn answers(&self, response_id: &str) -> Result<FlatAnswers> {
        read_answers(&self.conn, response_id)
    }
}

/// [`Store::answers`] on a connection or transaction.
pub(super) fn read_answers(conn: &Connection, response_id: &str) -> Result<FlatAnswers> {
    let mut stmt = conn.prepare_cached("SELECT path, value FROM answers WHERE response_id = ?1")?;
    let mut rows = stmt.query(params![response_id])?;
    let mut answers = FlatAnswers::new();
    while let Some(row) = rows.next()? {
        let (path, value): (String, Option<String>) = (row.get(0)?, row.get(1)?);
        let corrupt = |why: String| {
            Error::Corrupt(format!("answer `{path}` of response {response_id}: {why}"))
        };
        let value = value.ok_or_else(|| corrupt("it has no value".into()))?;
        let parsed = AnswerPath::try_from(path.clone()).map_err(|e| corrupt(e.to_string()))?;
        answers
            .insert(parsed, value)
            .map_err(|e| corrupt(e.to_string()))?;
    }
    Ok(answers)
}
