//! What happened during an interview (pages and questions entered, safe exits...).

use rusqlite::params;

use super::Store;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParadataRow {
    pub event: String,
    pub path: Option<String>,
    pub at: String,
}

impl Store {
    pub fn add_paradata(
        &mut self,
        response_id: &str,
        event: &str,
        path: Option<&str>,
        at: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO paradata (response_id, event, path, at) VALUES (?1, ?2, ?3, ?4)",
            params![response_id, event, path, at],
        )?;
        Ok(())
    }

    /// The path of the response's latest `event` (e.g. the last page entered), if any.
    pub fn last_paradata_path(&self, response_id: &str, event: &str) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path FROM paradata WHERE response_id = ?1 AND event = ?2 \
             ORDER BY id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![response_id, event])?;
        Ok(match rows.next()? {
            Some(row) => row.get(0)?,
            None => None,
        })
    }

    pub fn paradata(&self, response_id: &str) -> Result<Vec<ParadataRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT event, path, at FROM paradata WHERE response_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![response_id], |r| {
            Ok(ParadataRow {
                event: r.get(0)?,
                path: r.get(1)?,
                at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
