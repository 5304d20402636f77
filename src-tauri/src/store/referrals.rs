//! The project's referral directory, kept for referral steps offline: one row, the
//! latest version a sync found.

use rusqlite::{params, OptionalExtension};
use voices_core::referral::Directory;

use super::Store;
use crate::error::{Error, Result};

/// The directory the device holds, with the version the server gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptDirectory {
    pub version: u32,
    pub published_at: String,
    pub fetched_at: String,
    pub directory: Directory,
}

impl Store {
    /// Keep `directory` as the project's, replacing what the device held.
    pub fn keep_directory(
        &mut self,
        version: u32,
        published_at: &str,
        directory: &Directory,
        fetched_at: &str,
    ) -> Result<()> {
        let document = serde_json::to_string(directory)
            .map_err(|e| Error::Corrupt(format!("referral directory: {e}")))?;
        self.conn.execute(
            "INSERT INTO referral_directory (id, version, published_at, document, fetched_at)
             VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                 published_at = excluded.published_at, document = excluded.document,
                 fetched_at = excluded.fetched_at",
            params![version, published_at, document, fetched_at],
        )?;
        Ok(())
    }

    /// Forget the directory (the project has none).
    pub fn forget_directory(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM referral_directory", [])?;
        Ok(())
    }

    /// The directory the device holds, if a sync brought one.
    pub fn directory(&self) -> Result<Option<KeptDirectory>> {
        let row: Option<(u32, String, String, String)> = self
            .conn
            .query_row(
                "SELECT version, published_at, document, fetched_at FROM referral_directory WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(version, published_at, document, fetched_at)| {
            let directory = Directory::from_json(&document).map_err(|problems| {
                Error::Corrupt(format!(
                    "the kept referral directory (version {version}): {}",
                    problems.join("; ")
                ))
            })?;
            Ok(KeptDirectory {
                version,
                published_at,
                fetched_at,
                directory,
            })
        })
        .transpose()
    }
}
