//! Attached files, kept once under their SHA-256, and which server already has each for
//! which response.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use voices_core::answer::AnswerPath;

use super::responses::{ensure_draft, touch};
use super::Store;
use crate::error::Result;

/// A response's file sealed to the project's recipients (`sync::seal`), kept under the
/// SHA-256 of the sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFile {
    pub sha256: String,
    pub clear_sha256: String,
    pub size: u64,
}

/// A file kept under its SHA-256, as attached to one answer.
#[derive(Debug, Clone, Copy)]
pub struct AttachedFile<'a> {
    pub sha256: &'a str,
    pub media_type: &'a str,
    pub size: u64,
    pub file_name: &'a str,
}

impl Store {
    /// Record an attachment file (already written under its hash) as the answer at `path`.
    pub fn attach(
        &mut self,
        response_id: &str,
        path: &AnswerPath,
        file: &AttachedFile<'_>,
        now: &str,
    ) -> Result<()> {
        let AttachedFile {
            sha256,
            media_type,
            size,
            file_name,
        } = *file;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO attachments (sha256, media_type, size, added_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sha256) DO NOTHING",
            params![sha256, media_type, size as i64, now],
        )?;
        tx.execute(
            "INSERT INTO response_attachments (response_id, path, sha256, file_name) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id, path) DO UPDATE SET sha256 = excluded.sha256, file_name = excluded.file_name",
            params![response_id, path.as_str(), sha256, file_name],
        )?;
        tx.execute(
            "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![response_id, path.as_str(), file_name, now],
        )?;
        touch(&tx, response_id, now)?;
        tx.commit()?;
        Ok(())
    }

    /// `(path, sha256, file_name, media_type)` of a response's attachments.
    pub fn attachments(&self, response_id: &str) -> Result<Vec<(String, String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ra.path, ra.sha256, ra.file_name, a.media_type FROM response_attachments ra
             JOIN attachments a ON a.sha256 = ra.sha256 WHERE ra.response_id = ?1 ORDER BY ra.path",
        )?;
        let rows = stmt.query_map(params![response_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `(sha256, size)` of every file a response sends: its attached files, except those
    /// only its sealed answers use (their sealed files go in their place).
    pub fn attachment_files(&self, response_id: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.sha256, a.size FROM response_attachments ra JOIN attachments a ON a.sha256 = ra.sha256
             WHERE ra.response_id = ?1
                 AND ra.sha256 NOT IN (SELECT clear_sha256 FROM sealed_files WHERE response_id = ?1)
             UNION SELECT sha256, size FROM sealed_files WHERE response_id = ?1
             ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![response_id], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether `destination` (`server|project`) said file `sha256` is complete since it
    /// was attached to `response_id`. Per response: the server may have deleted it with a
    /// withdrawn response, and a response purged here forgets its files.
    pub fn attachment_uploaded(
        &self,
        response_id: &str,
        sha256: &str,
        destination: &str,
    ) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM response_file_uploads
                 WHERE response_id = ?1 AND sha256 = ?2 AND destination = ?3",
                params![response_id, sha256, destination],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn mark_attachment_uploaded(
        &mut self,
        response_id: &str,
        sha256: &str,
        destination: &str,
        now: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO response_file_uploads (response_id, sha256, destination, completed_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id, sha256, destination) DO NOTHING",
            params![response_id, sha256, destination, now],
        )?;
        Ok(())
    }
}
