//! Form versions on the device, the versions the server offered, and the server's own
//! bytes of each form document.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::responses::ResponseStatus;
use super::Store;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormVersionRow {
    pub form_id: String,
    pub version: String,
    pub definition: String,
    pub source: String,
    pub added_at: String,
}

/// A form version the server offered and this device installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOfferRow {
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub published_at: String,
}

/// Whether storing a form version added it or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Added,
    AlreadyPresent,
}

impl Store {
    /// Keep a form version. The same id and version with different content is refused:
    /// a form's version must change whenever the form does.
    pub fn put_form_version(
        &mut self,
        form_id: &str,
        version: &str,
        definition: &str,
        source: &str,
        now: &str,
    ) -> Result<Stored> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT definition FROM form_versions WHERE form_id = ?1 AND version = ?2",
                params![form_id, version],
                |r| r.get(0),
            )
            .optional()?;
        let stored = match existing {
            Some(def) if def == definition => Stored::AlreadyPresent,
            Some(_) => {
                return Err(Error::Conflict(format!(
                    "form `{form_id}` version `{version}` is already on this device with different content; change the form's version"
                )))
            }
            None => {
                tx.execute(
                    "INSERT INTO form_versions (form_id, version, definition, source, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![form_id, version, definition, source, now],
                )?;
                Stored::Added
            }
        };
        tx.commit()?;
        Ok(stored)
    }

    pub fn form_versions(&self) -> Result<Vec<FormVersionRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT form_id, version, definition, source, added_at FROM form_versions ORDER BY form_id, added_at, version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FormVersionRow {
                form_id: r.get(0)?,
                version: r.get(1)?,
                definition: r.get(2)?,
                source: r.get(3)?,
                added_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn form_definition(&self, form_id: &str, version: &str) -> Result<String> {
        self.conn
            .query_row(
                "SELECT definition FROM form_versions WHERE form_id = ?1 AND version = ?2",
                params![form_id, version],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "form `{form_id}` version `{version}` is not on this device"
                ))
            })
    }

    /// Responses per form version and status: `(form_id, version, status, count)`.
    pub fn response_counts(&self) -> Result<Vec<(String, String, ResponseStatus, u32)>> {
        let mut stmt = self.conn.prepare_cached(
            // A withdrawn response leaves every count too.
            "SELECT form_id, form_version, status, COUNT(*) FROM responses WHERE withdrawn_at IS NULL
             GROUP BY form_id, form_version, status",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (f, v, s, n) = row?;
            out.push((f, v, ResponseStatus::parse(&s)?, n));
        }
        Ok(out)
    }

    /// Remember a form version pulled from the server, to offer it to the user once.
    pub fn add_form_offer(&mut self, offer: &FormOfferRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO form_offers (form_id, version, title, published_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (form_id, version) DO NOTHING",
            params![offer.form_id, offer.version, offer.title, offer.published_at],
        )?;
        Ok(())
    }

    /// The server's bytes of a form version and their SHA-256, when kept.
    pub fn server_form_document(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT sha256, document FROM server_form_documents WHERE form_id = ?1 AND version = ?2",
                params![form_id, version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn put_server_form_document(
        &mut self,
        form_id: &str,
        version: &str,
        sha256: &str,
        document: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO server_form_documents (form_id, version, sha256, document) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (form_id, version) DO UPDATE SET sha256 = excluded.sha256, document = excluded.document",
            params![form_id, version, sha256, document],
        )?;
        Ok(())
    }

    pub fn unseen_form_offers(&self) -> Result<Vec<FormOfferRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT form_id, version, title, published_at FROM form_offers WHERE seen = 0 ORDER BY published_at, form_id, version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FormOfferRow {
                form_id: r.get(0)?,
                version: r.get(1)?,
                title: r.get(2)?,
                published_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn acknowledge_form_offers(&mut self) -> Result<()> {
        self.conn
            .execute("UPDATE form_offers SET seen = 1 WHERE seen = 0", [])?;
        Ok(())
    }
}
