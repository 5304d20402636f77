//! The server this device is linked to (one at a time).

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::Result;

/// The server this device is linked to (one at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub server_url: String,
    pub project: String,
    pub device_id: String,
    pub enumerator: String,
    pub token: String,
    pub expires_at: String,
    pub linked_at: String,
    /// The server's certificate as pinned by the provisioning code (SHA-256, hex).
    pub certificate_sha256: Option<String>,
}

impl Store {
    pub fn link(&self) -> Result<Option<LinkRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT server_url, project, device_id, enumerator, token, expires_at, linked_at, certificate_sha256 FROM device_link",
                [],
                |r| {
                    Ok(LinkRow {
                        server_url: r.get(0)?,
                        project: r.get(1)?,
                        device_id: r.get(2)?,
                        enumerator: r.get(3)?,
                        token: r.get(4)?,
                        expires_at: r.get(5)?,
                        linked_at: r.get(6)?,
                        certificate_sha256: r.get(7)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn set_link(&mut self, link: &LinkRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO device_link (singleton, server_url, project, device_id, enumerator, token, expires_at, linked_at, certificate_sha256)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (singleton) DO UPDATE SET server_url = excluded.server_url, project = excluded.project,
                device_id = excluded.device_id, enumerator = excluded.enumerator, token = excluded.token,
                expires_at = excluded.expires_at, linked_at = excluded.linked_at,
                certificate_sha256 = excluded.certificate_sha256",
            params![
                link.server_url,
                link.project,
                link.device_id,
                link.enumerator,
                link.token,
                link.expires_at,
                link.linked_at,
                link.certificate_sha256
            ],
        )?;
        Ok(())
    }

    /// Forget the link (the token); every response, revision and form stays.
    pub fn clear_link(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM device_link", [])?;
        Ok(())
    }
}
