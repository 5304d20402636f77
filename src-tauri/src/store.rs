//! The local store: every SQL statement the app runs lives in this module.
//!
//! One SQLite file in the app data directory, WAL mode, `synchronous=FULL` so an
//! answer the UI shows as saved survives a crash or a pulled battery. Migrations are
//! embedded and append-only; `PRAGMA user_version` counts how many have run.
//! Opening (and, later, keying for SQLCipher) happens only in [`Store::open`].

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// Schema changes in order. Never edit or reorder an entry once released: add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: forms, responses and what a respondent said.
    r#"
    CREATE TABLE form_versions (
        form_id     TEXT NOT NULL,
        version     TEXT NOT NULL,
        definition  TEXT NOT NULL,
        source      TEXT NOT NULL,
        added_at    TEXT NOT NULL,
        PRIMARY KEY (form_id, version)
    );
    CREATE TABLE responses (
        id            TEXT PRIMARY KEY,
        form_id       TEXT NOT NULL,
        form_version  TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('draft','finalized','queued','sent','refused')),
        language      TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        finalized_at  TEXT,
        edit_count    INTEGER NOT NULL DEFAULT 0,
        FOREIGN KEY (form_id, form_version) REFERENCES form_versions (form_id, version)
    );
    CREATE INDEX responses_by_form ON responses (form_id, form_version, status);
    CREATE TABLE answers (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        value        TEXT,
        updated_at   TEXT NOT NULL,
        PRIMARY KEY (response_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE consent (
        response_id   TEXT PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
        given         INTEGER NOT NULL,
        at            TEXT NOT NULL,
        text_version  TEXT NOT NULL
    );
    CREATE TABLE privacy_checks (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        group_path   TEXT NOT NULL,
        outcome      TEXT NOT NULL CHECK (outcome IN ('private','not_private','interrupted')),
        at           TEXT NOT NULL,
        PRIMARY KEY (response_id, group_path)
    );
    CREATE TABLE attachments (
        sha256      TEXT PRIMARY KEY,
        media_type  TEXT NOT NULL,
        size        INTEGER NOT NULL,
        added_at    TEXT NOT NULL
    );
    CREATE TABLE response_attachments (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        sha256       TEXT NOT NULL REFERENCES attachments (sha256),
        file_name    TEXT NOT NULL,
        PRIMARY KEY (response_id, path)
    );
    "#,
    // 2: what happened during an interview, what waits to be sent, and settings.
    r#"
    CREATE TABLE paradata (
        id           INTEGER PRIMARY KEY,
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        event        TEXT NOT NULL,
        path         TEXT,
        at           TEXT NOT NULL
    );
    CREATE INDEX paradata_by_response ON paradata (response_id, id);
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        record_kind  TEXT NOT NULL,
        record_id    TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending','sending','sent','failed')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        updated_at   TEXT NOT NULL,
        UNIQUE (record_kind, record_id)
    );
    CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    "#,
    // 3: sync. Revisions are built once and never changed or deleted (triggers hold
    // that); the outbox gains the acknowledgement states; the server link; form versions
    // the server offered; which attachments a server already has complete.
    r#"
    CREATE TABLE outbox_v3 (
        id           INTEGER PRIMARY KEY,
        record_kind  TEXT NOT NULL,
        record_id    TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending','sending','sent','quarantined','rejected','failed')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        reasons      TEXT NOT NULL DEFAULT '[]',
        updated_at   TEXT NOT NULL,
        UNIQUE (record_kind, record_id)
    );
    INSERT INTO outbox_v3 (id, record_kind, record_id, state, attempts, last_error, updated_at)
        SELECT id, record_kind, record_id, state, attempts, last_error, updated_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v3 RENAME TO outbox;
    CREATE TABLE revisions (
        seqno        INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        response_id  TEXT NOT NULL REFERENCES responses (id),
        actor        TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        body         TEXT NOT NULL,
        built_at     TEXT NOT NULL,
        ack          TEXT CHECK (ack IN ('accepted','duplicate','quarantined','rejected')),
        code         TEXT,
        reasons      TEXT NOT NULL DEFAULT '[]',
        attempts     INTEGER NOT NULL DEFAULT 0,
        acked_at     TEXT,
        UNIQUE (response_id, actor, seq)
    );
    CREATE INDEX revisions_by_response ON revisions (response_id, seqno);
    CREATE TRIGGER revisions_are_immutable
        BEFORE UPDATE OF id, response_id, actor, seq, body, built_at ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are immutable once built'); END;
    CREATE TRIGGER revisions_are_never_deleted
        BEFORE DELETE ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are never deleted'); END;
    CREATE TABLE device_link (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        server_url  TEXT NOT NULL,
        project     TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        enumerator  TEXT NOT NULL,
        token       TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        linked_at   TEXT NOT NULL
    );
    CREATE TABLE form_offers (
        form_id       TEXT NOT NULL,
        version       TEXT NOT NULL,
        title         TEXT NOT NULL,
        published_at  TEXT NOT NULL,
        seen          INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (form_id, version)
    );
    CREATE TABLE attachment_uploads (
        sha256       TEXT NOT NULL,
        destination  TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        PRIMARY KEY (sha256, destination)
    );
    "#,
    // 4: form documents exactly as the server publishes them (the bytes its SHA-256 names),
    // used as zstd dictionaries for uploads.
    r#"
    CREATE TABLE server_form_documents (
        form_id   TEXT NOT NULL,
        version   TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        document  TEXT NOT NULL,
        PRIMARY KEY (form_id, version)
    );
    "#,
];

/// A revision this device can still send: built under its current link (the server takes
/// a device's revisions only under its own id). An unsent revision of an earlier link is
/// superseded: the response is rebuilt whole under the new link, and the old revision is
/// kept but never sent (it could only come back `wrong_actor`). Unlinked, nothing is
/// superseded yet.
const SENDABLE: &str =
    "(NOT EXISTS (SELECT 1 FROM device_link) OR actor = (SELECT device_id FROM device_link))";

/// An unsent revision of an earlier link (see [`SENDABLE`]).
const SUPERSEDED: &str =
    "(ack IS NULL AND actor != COALESCE((SELECT device_id FROM device_link), actor))";

/// Where a response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    Draft,
    Finalized,
    Queued,
    Sent,
    /// Consent was declined: only the refusal is kept.
    Refused,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Draft => "draft",
            ResponseStatus::Finalized => "finalized",
            ResponseStatus::Queued => "queued",
            ResponseStatus::Sent => "sent",
            ResponseStatus::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "draft" => ResponseStatus::Draft,
            "finalized" => ResponseStatus::Finalized,
            "queued" => ResponseStatus::Queued,
            "sent" => ResponseStatus::Sent,
            "refused" => ResponseStatus::Refused,
            other => return Err(Error::Corrupt(format!("unknown response status `{other}`"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormVersionRow {
    pub form_id: String,
    pub version: String,
    pub definition: String,
    pub source: String,
    pub added_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRow {
    pub id: String,
    pub form_id: String,
    pub form_version: String,
    pub status: ResponseStatus,
    pub language: String,
    pub created_at: String,
    pub updated_at: String,
    pub finalized_at: Option<String>,
    pub edit_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub given: bool,
    pub at: String,
    pub text_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParadataRow {
    pub event: String,
    pub path: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub record_kind: String,
    pub record_id: String,
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

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
}

/// A revision as built on this device, with what the server said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRow {
    pub id: String,
    pub response_id: String,
    pub actor: String,
    pub seq: u64,
    /// The revision's JSON exactly as built; every upload sends these bytes.
    pub body: String,
    /// `accepted`, `duplicate`, `quarantined`, `rejected`; `None` until acknowledged.
    pub ack: Option<String>,
    pub code: Option<String>,
    pub reasons: Vec<String>,
    pub attempts: u32,
}

/// The server's answer about one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionAck {
    pub revision_id: String,
    /// `accepted`, `duplicate`, `quarantined` or `rejected`.
    pub ack: String,
    pub code: Option<String>,
    pub reasons: Vec<String>,
}

/// One response's place in the outbox, with the facts lists may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntryRow {
    pub response_id: String,
    pub form_id: String,
    pub form_version: String,
    pub state: String,
    pub reasons: Vec<String>,
    pub last_error: Option<String>,
    pub attempts: u32,
    pub updated_at: String,
    pub revisions: u32,
    /// Unsent revisions of an earlier link, kept but never sent (rebuilt under this one).
    pub superseded: u32,
}

/// A form version the server offered and this device installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOfferRow {
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub published_at: String,
}

/// A file kept under its SHA-256, as attached to one answer.
#[derive(Debug, Clone, Copy)]
pub struct AttachedFile<'a> {
    pub sha256: &'a str,
    pub media_type: &'a str,
    pub size: u64,
    pub file_name: &'a str,
}

/// Whether storing a form version added it or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Added,
    AlreadyPresent,
}

pub struct Store {
    conn: Connection,
}

const RESPONSE_COLUMNS: &str =
    "id, form_id, form_version, status, language, created_at, updated_at, finalized_at, edit_count";

impl Store {
    /// Open (creating if needed) and upgrade the database at `path`.
    ///
    /// The only place a connection is made: encryption at rest (SQLCipher through
    /// rusqlite's `bundled-sqlcipher` feature) will key the connection right here,
    /// before any other statement.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Store::configure(conn)
    }

    /// A private in-memory store (tests and previews).
    pub fn open_in_memory() -> Result<Store> {
        Store::configure(Connection::open_in_memory()?)
    }

    fn configure(conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn };
        store.migrate(MIGRATIONS.len())?;
        Ok(store)
    }

    /// Number of migrations applied to this database.
    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(v as usize)
    }

    /// Apply migrations up to `target` (exclusive count), each in its own transaction.
    pub fn migrate(&mut self, target: usize) -> Result<()> {
        let current = self.schema_version()?;
        if current > MIGRATIONS.len() {
            return Err(Error::Corrupt(format!(
                "the database was written by a newer Voices (schema {current}, this app knows {})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Open without running migrations past `target` (used to test upgrades).
    pub fn open_at_version(path: &Path, target: usize) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        store.migrate(target)?;
        Ok(store)
    }

    /// `PRAGMA integrity_check`: `ok` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    // ---- form versions -------------------------------------------------------

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
            "SELECT form_id, form_version, status, COUNT(*) FROM responses GROUP BY form_id, form_version, status",
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

    // ---- responses -----------------------------------------------------------

    pub fn create_response(
        &mut self,
        id: &str,
        form_id: &str,
        version: &str,
        language: &str,
        now: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO responses (id, form_id, form_version, status, language, created_at, updated_at) VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?5)",
            params![id, form_id, version, language, now],
        )?;
        Ok(())
    }

    pub fn response(&self, id: &str) -> Result<ResponseRow> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE id = ?1");
        self.conn
            .query_row(&sql, params![id], row_to_response)
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("response `{id}` is not on this device")))?
    }

    /// Every response, most recently touched first.
    pub fn responses(&self) -> Result<Vec<ResponseRow>> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM responses ORDER BY updated_at DESC, id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], row_to_response)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    pub fn set_language(&mut self, id: &str, language: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE responses SET language = ?2 WHERE id = ?1",
            params![id, language],
        )?;
        Ok(())
    }

    /// Move a response to `to` if it is in one of `from`; otherwise a conflict naming its state.
    pub fn transition(
        &mut self,
        id: &str,
        from: &[ResponseStatus],
        to: ResponseStatus,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = status_in(&tx, id)?;
        if !from.contains(&current) {
            return Err(Error::Conflict(format!(
                "response `{id}` is {}, so it cannot become {}",
                current.as_str(),
                to.as_str()
            )));
        }
        let reopening = current != ResponseStatus::Draft && to == ResponseStatus::Draft;
        tx.execute(
            "UPDATE responses SET status = ?2, updated_at = ?3,
                finalized_at = CASE WHEN ?2 = 'finalized' THEN ?3 ELSE finalized_at END,
                edit_count = edit_count + ?4
             WHERE id = ?1",
            params![id, to.as_str(), now, reopening as i64],
        )?;
        match to {
            ResponseStatus::Queued => {
                tx.execute(
                    "INSERT INTO outbox (record_kind, record_id, state, updated_at) VALUES ('response', ?1, 'pending', ?2)
                     ON CONFLICT (record_kind, record_id) DO UPDATE SET state = 'pending', updated_at = ?2",
                    params![id, now],
                )?;
            }
            ResponseStatus::Draft => {
                // An edit takes the response out of the queue until it is finalized again.
                tx.execute(
                    "DELETE FROM outbox WHERE record_kind = 'response' AND record_id = ?1 AND state IN ('pending','failed')
                     AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.response_id = ?1)",
                    params![id],
                )?;
            }
            _ => {}
        }
        tx.commit()?;
        Ok(())
    }

    // ---- answers -------------------------------------------------------------

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

    // ---- consent and privacy -------------------------------------------------

    /// Record the consent answer. A refusal deletes every other answer and marks the
    /// response refused, so nothing but the refusal is kept.
    pub fn record_consent(
        &mut self,
        response_id: &str,
        given: bool,
        at: &str,
        text_version: &str,
    ) -> Result<()> {
        self.record_consent_answer(response_id, given, at, text_version, None)
    }

    /// [`Store::record_consent`], keeping the consent question's own answer (`"no"` at
    /// `consent_path`) with a refusal, so the refusal validates as a complete record
    /// wherever it is checked.
    pub fn record_consent_answer(
        &mut self,
        response_id: &str,
        given: bool,
        at: &str,
        text_version: &str,
        consent_path: Option<&str>,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO consent (response_id, given, at, text_version) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id) DO UPDATE SET given = excluded.given, at = excluded.at, text_version = excluded.text_version",
            params![response_id, given, at, text_version],
        )?;
        if given {
            touch(&tx, response_id, at)?;
        } else {
            for sql in [
                "DELETE FROM answers WHERE response_id = ?1",
                "DELETE FROM privacy_checks WHERE response_id = ?1",
                "DELETE FROM response_attachments WHERE response_id = ?1",
                "DELETE FROM paradata WHERE response_id = ?1",
            ] {
                tx.execute(sql, params![response_id])?;
            }
            if let Some(path) = consent_path {
                tx.execute(
                    "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, 'no', ?3)",
                    params![response_id, path, at],
                )?;
            }
            tx.execute(
                "UPDATE responses SET status = 'refused', updated_at = ?2, finalized_at = ?2 WHERE id = ?1",
                params![response_id, at],
            )?;
            tx.execute(
                "INSERT INTO outbox (record_kind, record_id, state, updated_at) VALUES ('response', ?1, 'pending', ?2)
                 ON CONFLICT (record_kind, record_id) DO NOTHING",
                params![response_id, at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn consent(&self, response_id: &str) -> Result<Option<ConsentRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT given, at, text_version FROM consent WHERE response_id = ?1",
                params![response_id],
                |r| {
                    Ok(ConsentRow {
                        given: r.get(0)?,
                        at: r.get(1)?,
                        text_version: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn record_privacy(
        &mut self,
        response_id: &str,
        group_path: &str,
        outcome: &str,
        at: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_draft(&tx, response_id)?;
        tx.execute(
            "INSERT INTO privacy_checks (response_id, group_path, outcome, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id, group_path) DO UPDATE SET outcome = excluded.outcome, at = excluded.at",
            params![response_id, group_path, outcome, at],
        )?;
        touch(&tx, response_id, at)?;
        tx.commit()?;
        Ok(())
    }

    /// `(group_path, outcome, at)` for every privacy check of a response.
    pub fn privacy_checks(&self, response_id: &str) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT group_path, outcome, at FROM privacy_checks WHERE response_id = ?1 ORDER BY group_path",
        )?;
        let rows = stmt.query_map(params![response_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- attachments ---------------------------------------------------------

    /// Record an attachment file (already written under its hash) as the answer at `path`.
    pub fn attach(
        &mut self,
        response_id: &str,
        path: &str,
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
            params![response_id, path, sha256, file_name],
        )?;
        tx.execute(
            "INSERT INTO answers (response_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (response_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![response_id, path, file_name, now],
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

    // ---- paradata ------------------------------------------------------------

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

    // ---- outbox (the sync client plugs in here) -----------------------------

    /// Records waiting to be sent (or that failed and should be retried), oldest first.
    pub fn outbox_due(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record_kind, record_id, state, attempts, last_error FROM outbox
             WHERE state IN ('pending','failed') ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| {
            Ok(OutboxRow {
                record_kind: r.get(0)?,
                record_id: r.get(1)?,
                state: r.get(2)?,
                attempts: r.get(3)?,
                last_error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record the result of one send attempt; a sent response is marked sent.
    pub fn outbox_result(
        &mut self,
        record_kind: &str,
        record_id: &str,
        error: Option<&str>,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = if error.is_some() { "failed" } else { "sent" };
        let changed = tx.execute(
            "UPDATE outbox SET state = ?3, attempts = attempts + 1, last_error = ?4, updated_at = ?5
             WHERE record_kind = ?1 AND record_id = ?2",
            params![record_kind, record_id, state, error, now],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(format!(
                "{record_kind} `{record_id}` is not in the outbox"
            )));
        }
        if error.is_none() && record_kind == "response" {
            tx.execute(
                "UPDATE responses SET status = 'sent', updated_at = ?2 WHERE id = ?1 AND status = 'queued'",
                params![record_id, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    // ---- sync: the server link -----------------------------------------------

    pub fn link(&self) -> Result<Option<LinkRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT server_url, project, device_id, enumerator, token, expires_at, linked_at FROM device_link",
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
                    })
                },
            )
            .optional()?)
    }

    pub fn set_link(&mut self, link: &LinkRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO device_link (singleton, server_url, project, device_id, enumerator, token, expires_at, linked_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (singleton) DO UPDATE SET server_url = excluded.server_url, project = excluded.project,
                device_id = excluded.device_id, enumerator = excluded.enumerator, token = excluded.token,
                expires_at = excluded.expires_at, linked_at = excluded.linked_at",
            params![
                link.server_url,
                link.project,
                link.device_id,
                link.enumerator,
                link.token,
                link.expires_at,
                link.linked_at
            ],
        )?;
        Ok(())
    }

    /// Forget the link (the token); every response, revision and form stays.
    pub fn clear_link(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM device_link", [])?;
        Ok(())
    }

    // ---- sync: revisions -----------------------------------------------------

    /// Responses whose current state may not be in a revision yet: finalized and
    /// queued ones, and refusals never built (or built only under an earlier link).
    pub fn responses_to_build(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id FROM responses WHERE status = 'queued'
                OR (status = 'refused' AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.response_id = responses.id
                    AND NOT {SUPERSEDED}))
             ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every revision built for a response, oldest first.
    pub fn revisions(&self, response_id: &str) -> Result<Vec<RevisionRow>> {
        self.revision_query(
            "SELECT id, response_id, actor, seq, body, ack, code, reasons, attempts FROM revisions
             WHERE response_id = ?1 ORDER BY seqno",
            params![response_id],
        )
    }

    /// Revisions the server has not acknowledged yet that this link can send, oldest
    /// first (superseded ones of an earlier link are kept but not sent).
    pub fn unacknowledged_revisions(&self, limit: u32) -> Result<Vec<RevisionRow>> {
        self.revision_query(
            &format!(
                "SELECT id, response_id, actor, seq, body, ack, code, reasons, attempts FROM revisions
                 WHERE ack IS NULL AND {SENDABLE} ORDER BY seqno LIMIT ?1"
            ),
            params![limit],
        )
    }

    /// [`Self::unacknowledged_revisions`] of every response but `held_back` ones, so a
    /// queue head of held-back responses cannot hide the revisions behind it.
    pub fn unacknowledged_revisions_except(
        &self,
        limit: u32,
        held_back: &[String],
    ) -> Result<Vec<RevisionRow>> {
        let held_back = serde_json::to_string(held_back).unwrap_or_else(|_| "[]".into());
        self.revision_query(
            &format!(
                "SELECT id, response_id, actor, seq, body, ack, code, reasons, attempts FROM revisions
                 WHERE ack IS NULL AND {SENDABLE} AND response_id NOT IN (SELECT value FROM json_each(?2))
                 ORDER BY seqno LIMIT ?1"
            ),
            params![limit, held_back],
        )
    }

    fn revision_query(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<RevisionRow>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, |r| {
            Ok(RevisionRow {
                id: r.get(0)?,
                response_id: r.get(1)?,
                actor: r.get(2)?,
                seq: r.get::<_, i64>(3)? as u64,
                body: r.get(4)?,
                ack: r.get(5)?,
                code: r.get(6)?,
                reasons: reasons_from(&r.get::<_, String>(7)?),
                attempts: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keep a newly built revision and put its response in the outbox as pending.
    /// Fails (and keeps nothing) when that edit number is taken already.
    pub fn add_revision(&mut self, revision: &RevisionRow, now: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO revisions (id, response_id, actor, seq, body, built_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                revision.id,
                revision.response_id,
                revision.actor,
                revision.seq as i64,
                revision.body,
                now
            ],
        )?;
        tx.execute(
            "INSERT INTO outbox (record_kind, record_id, state, updated_at) VALUES ('response', ?1, 'pending', ?2)
             ON CONFLICT (record_kind, record_id) DO UPDATE SET state = 'pending', updated_at = ?2",
            params![revision.response_id, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Record the server's acknowledgements and bring each touched response's outbox
    /// entry up to date, in one transaction. Nothing is deleted whatever the answer.
    pub fn apply_acks(&mut self, acks: &[RevisionAck], now: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut touched = std::collections::BTreeSet::new();
        {
            let mut update = tx.prepare_cached(
                "UPDATE revisions SET ack = ?2, code = ?3, reasons = ?4, acked_at = ?5
                 WHERE id = ?1 RETURNING response_id",
            )?;
            for a in acks {
                let reasons = serde_json::to_string(&a.reasons).unwrap_or_else(|_| "[]".into());
                let response: Option<String> = update
                    .query_row(params![a.revision_id, a.ack, a.code, reasons, now], |r| {
                        r.get(0)
                    })
                    .optional()?;
                touched.extend(response);
            }
        }
        for response in &touched {
            refresh_outbox(&tx, response, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A send attempt of these revisions failed before any answer (network, server
    /// error): count it and show why on their responses; they stay due.
    pub fn note_send_failure(
        &mut self,
        revision_ids: &[String],
        error: &str,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update = tx.prepare_cached(
                "SELECT response_id FROM revisions WHERE id = ?1 AND ack IS NULL",
            )?;
            let mut outbox = tx.prepare_cached(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2, updated_at = ?3
                 WHERE record_kind = 'response' AND record_id = ?1 AND state IN ('pending','sending','failed')",
            )?;
            let mut seen = std::collections::BTreeSet::new();
            for id in revision_ids {
                let response: Option<String> =
                    update.query_row(params![id], |r| r.get(0)).optional()?;
                if let Some(response) = response {
                    if seen.insert(response.clone()) {
                        outbox.execute(params![response, error, now])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// These revisions are about to go on the wire: count the attempt first, so after a
    /// crash or a kill mid-upload the next sync knows to ask the server what it kept.
    pub fn count_attempt(&mut self, revision_ids: &[String]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update =
                tx.prepare_cached("UPDATE revisions SET attempts = attempts + 1 WHERE id = ?1")?;
            for id in revision_ids {
                update.execute(params![id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Show these responses as being sent (or, with `false`, back to pending).
    pub fn mark_sending(
        &mut self,
        response_ids: &[String],
        sending: bool,
        now: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let sql = if sending {
                "UPDATE outbox SET state = 'sending', updated_at = ?2 WHERE record_kind = 'response' AND record_id = ?1 AND state IN ('pending','failed')"
            } else {
                "UPDATE outbox SET state = 'pending', updated_at = ?2 WHERE record_kind = 'response' AND record_id = ?1 AND state = 'sending'"
            };
            let mut stmt = tx.prepare_cached(sql)?;
            for id in response_ids {
                stmt.execute(params![id, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A sync that was cut off (the app killed) leaves entries `sending`: due again.
    pub fn reset_sending(&mut self) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE state = 'sending'",
            [],
        )?;
        Ok(())
    }

    /// Every response in the outbox with its sync state, most recently changed first.
    /// `revisions` leaves out superseded ones of an earlier link (their content is in the
    /// rebuilt revision), which `superseded` counts.
    pub fn outbox_entries(&self) -> Result<Vec<OutboxEntryRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT o.record_id, r.form_id, r.form_version, o.state, o.reasons, o.last_error, o.attempts, o.updated_at,
                    (SELECT COUNT(*) FROM revisions v WHERE v.response_id = o.record_id AND NOT {SUPERSEDED}),
                    (SELECT COUNT(*) FROM revisions v WHERE v.response_id = o.record_id AND {SUPERSEDED})
             FROM outbox o JOIN responses r ON r.id = o.record_id
             WHERE o.record_kind = 'response' ORDER BY o.updated_at DESC, o.id DESC"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxEntryRow {
                response_id: r.get(0)?,
                form_id: r.get(1)?,
                form_version: r.get(2)?,
                state: r.get(3)?,
                reasons: reasons_from(&r.get::<_, String>(4)?),
                last_error: r.get(5)?,
                attempts: r.get(6)?,
                updated_at: r.get(7)?,
                revisions: r.get(8)?,
                superseded: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Outbox entries per state.
    pub fn outbox_counts(&self) -> Result<Vec<(String, u32)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT state, COUNT(*) FROM outbox WHERE record_kind = 'response' GROUP BY state",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- sync: attachments and form offers -----------------------------------

    /// `(sha256, size)` of every file a response refers to.
    pub fn attachment_files(&self, response_id: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT a.sha256, a.size FROM response_attachments ra JOIN attachments a ON a.sha256 = ra.sha256
             WHERE ra.response_id = ?1 ORDER BY a.sha256",
        )?;
        let rows = stmt.query_map(params![response_id], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn attachment_uploaded(&self, sha256: &str, destination: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM attachment_uploads WHERE sha256 = ?1 AND destination = ?2",
                params![sha256, destination],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn mark_attachment_uploaded(
        &mut self,
        sha256: &str,
        destination: &str,
        now: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO attachment_uploads (sha256, destination, completed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (sha256, destination) DO NOTHING",
            params![sha256, destination, now],
        )?;
        Ok(())
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

    // ---- settings ------------------------------------------------------------

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn delete_setting(&mut self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM settings WHERE key = ?1", params![key])?;
        Ok(())
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

fn reasons_from(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|_| vec![text.to_owned()])
}

/// Bring a response's outbox entry in line with its revisions' acknowledgements:
/// any rejected → `rejected`; any unanswered → still due; otherwise the latest
/// answer decides (`quarantined` with its reasons, or `sent`). A response whose every
/// revision the server holds is marked sent.
fn refresh_outbox(conn: &Connection, response_id: &str, now: &str) -> Result<()> {
    // Superseded revisions of an earlier link are never answered: they do not keep the
    // response pending.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ack, code, reasons FROM revisions WHERE response_id = ?1 AND NOT {SUPERSEDED} ORDER BY seqno"
    ))?;
    let acks: Vec<(Option<String>, Option<String>, String)> = stmt
        .query_map(params![response_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if acks.is_empty() {
        return Ok(());
    }
    // A rejection stands until a later revision (which carries its content again)
    // is held by the server or on its way.
    let last_rejected = acks
        .iter()
        .rposition(|(ack, ..)| ack.as_deref() == Some("rejected"));
    let after = last_rejected.map_or(&acks[..], |i| &acks[i + 1..]);
    let unanswered = after.iter().any(|(ack, ..)| ack.is_none());
    let (state, reasons) = match (last_rejected, after.last()) {
        (Some(i), None) => {
            let (_, code, reasons) = &acks[i];
            let reasons = reasons_from(reasons);
            let shown = match (code, reasons.is_empty()) {
                (Some(code), true) => vec![code.clone()],
                (Some(code), false) => reasons
                    .into_iter()
                    .map(|r| format!("{code}: {r}"))
                    .collect(),
                (None, _) => reasons,
            };
            ("rejected", shown)
        }
        _ if unanswered => ("pending", Vec::new()),
        (_, Some((Some(ack), _, reasons))) if ack == "quarantined" => {
            ("quarantined", reasons_from(reasons))
        }
        _ => ("sent", Vec::new()),
    };
    let reasons = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO outbox (record_kind, record_id, state, reasons, updated_at) VALUES ('response', ?1, ?2, ?3, ?4)
         ON CONFLICT (record_kind, record_id) DO UPDATE SET state = excluded.state, reasons = excluded.reasons,
            last_error = CASE WHEN excluded.state = 'pending' THEN last_error ELSE NULL END,
            attempts = attempts + 1, updated_at = excluded.updated_at",
        params![response_id, state, reasons, now],
    )?;
    if matches!(state, "sent" | "quarantined") {
        conn.execute(
            "UPDATE responses SET status = 'sent' WHERE id = ?1 AND status = 'queued'",
            params![response_id],
        )?;
    }
    Ok(())
}

fn row_to_response(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ResponseRow>> {
    let status: String = r.get(3)?;
    let row = ResponseRow {
        id: r.get(0)?,
        form_id: r.get(1)?,
        form_version: r.get(2)?,
        status: ResponseStatus::Draft,
        language: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        finalized_at: r.get(7)?,
        edit_count: r.get(8)?,
    };
    Ok(ResponseStatus::parse(&status).map(|status| ResponseRow { status, ..row }))
}

fn status_in(conn: &Connection, id: &str) -> Result<ResponseStatus> {
    let status: String = conn
        .query_row(
            "SELECT status FROM responses WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("response `{id}` is not on this device")))?;
    ResponseStatus::parse(&status)
}

fn ensure_draft(conn: &Connection, id: &str) -> Result<()> {
    match status_in(conn, id)? {
        ResponseStatus::Draft => Ok(()),
        other => Err(Error::Conflict(format!(
            "response `{id}` is {}; reopen it for editing first",
            other.as_str()
        ))),
    }
}

fn touch(conn: &Connection, id: &str, now: &str) -> Result<()> {
    conn.execute(
        "UPDATE responses SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-05T10:00:00.000+03:00";

    fn store_with_draft() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        s.create_response("r1", "f", "1", "en", NOW).unwrap();
        s
    }

    /// `r1` finalized and queued in the outbox.
    fn store_with_queued_response() -> Store {
        let mut s = store_with_draft();
        s.transition(
            "r1",
            &[ResponseStatus::Draft],
            ResponseStatus::Finalized,
            NOW,
        )
        .unwrap();
        s.transition(
            "r1",
            &[ResponseStatus::Finalized],
            ResponseStatus::Queued,
            NOW,
        )
        .unwrap();
        s
    }

    #[test]
    fn a_new_database_has_every_migration() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn a_first_version_database_upgrades_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite");
        {
            let mut v1 = Store::open_at_version(&path, 1).unwrap();
            assert_eq!(v1.schema_version().unwrap(), 1);
            v1.put_form_version("f", "1", "{}", "test", NOW).unwrap();
            v1.create_response("r1", "f", "1", "en", NOW).unwrap();
            v1.set_answer("r1", "/age", Some("41"), NOW).unwrap();
            // Tables of later migrations do not exist yet.
            assert!(v1.setting("x").is_err());
        }
        let mut upgraded = Store::open(&path).unwrap();
        assert_eq!(upgraded.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(
            upgraded.answers("r1").unwrap(),
            vec![("/age".to_owned(), Some("41".to_owned()))]
        );
        upgraded.set_setting("x", "y").unwrap();
        upgraded.add_paradata("r1", "opened", None, NOW).unwrap();
        assert_eq!(upgraded.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn an_outbox_from_before_sync_survives_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.sqlite");
        {
            let mut v2 = Store::open_at_version(&path, 2).unwrap();
            v2.put_form_version("f", "1", "{}", "test", NOW).unwrap();
            v2.create_response("r1", "f", "1", "en", NOW).unwrap();
            for (from, to) in [
                (ResponseStatus::Draft, ResponseStatus::Finalized),
                (ResponseStatus::Finalized, ResponseStatus::Queued),
            ] {
                v2.transition("r1", &[from], to, NOW).unwrap();
            }
            v2.outbox_result("response", "r1", Some("timeout"), NOW)
                .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        let entries = s.outbox_entries().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].state, "failed");
        assert_eq!(entries[0].last_error.as_deref(), Some("timeout"));
        assert_eq!(entries[0].attempts, 1);
        // The new states are allowed now.
        s.add_revision(&revision("v1", "r1", 1), NOW).unwrap();
        s.apply_acks(&[ack("v1", "quarantined", &["why"])], NOW)
            .unwrap();
        assert_eq!(outbox_state(&s, "r1").0, "quarantined");
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("newer Voices"), "{err}");
    }

    #[test]
    fn the_database_is_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("w.sqlite")).unwrap();
        let mode: String = s
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_reused_form_version_with_new_content_is_refused() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(
            s.put_form_version("f", "1", "{\"a\":1}", "t", NOW).unwrap(),
            Stored::Added
        );
        assert_eq!(
            s.put_form_version("f", "1", "{\"a\":1}", "t", NOW).unwrap(),
            Stored::AlreadyPresent
        );
        let err = s
            .put_form_version("f", "1", "{\"a\":2}", "t", NOW)
            .unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Conflict);
        s.put_form_version("f", "2", "{\"a\":2}", "t", NOW).unwrap();
        assert_eq!(s.form_versions().unwrap().len(), 2);
    }

    #[test]
    fn answers_are_upserted_and_cleared() {
        let mut s = store_with_draft();
        s.set_answer("r1", "/a", Some("1"), NOW).unwrap();
        s.set_answer("r1", "/a", Some("2"), NOW).unwrap();
        s.set_answer("r1", "/b", Some("x"), NOW).unwrap();
        s.set_answer("r1", "/b", None, NOW).unwrap();
        assert_eq!(
            s.answers("r1").unwrap(),
            vec![("/a".to_owned(), Some("2".to_owned()))]
        );
    }

    #[test]
    fn only_drafts_take_answers_and_reopening_counts_an_edit() {
        let mut s = store_with_draft();
        s.transition(
            "r1",
            &[ResponseStatus::Draft],
            ResponseStatus::Finalized,
            NOW,
        )
        .unwrap();
        let err = s.set_answer("r1", "/a", Some("1"), NOW).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Conflict);
        s.transition(
            "r1",
            &[ResponseStatus::Finalized],
            ResponseStatus::Queued,
            NOW,
        )
        .unwrap();
        assert_eq!(s.outbox_due(10).unwrap().len(), 1);
        s.transition(
            "r1",
            &[ResponseStatus::Finalized, ResponseStatus::Queued],
            ResponseStatus::Draft,
            NOW,
        )
        .unwrap();
        assert!(
            s.outbox_due(10).unwrap().is_empty(),
            "an edited response leaves the queue"
        );
        let row = s.response("r1").unwrap();
        assert_eq!(row.status, ResponseStatus::Draft);
        assert_eq!(row.edit_count, 1);
        s.set_answer("r1", "/a", Some("1"), NOW).unwrap();
    }

    #[test]
    fn a_sent_response_cannot_be_reopened() {
        let mut s = store_with_queued_response();
        s.outbox_result("response", "r1", None, NOW).unwrap();
        assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Sent);
        let err = s
            .transition(
                "r1",
                &[ResponseStatus::Finalized, ResponseStatus::Queued],
                ResponseStatus::Draft,
                NOW,
            )
            .unwrap_err();
        assert!(err.to_string().contains("is sent"), "{err}");
    }

    #[test]
    fn a_failed_send_stays_due_with_its_error() {
        let mut s = store_with_queued_response();
        s.outbox_result("response", "r1", Some("timeout"), NOW)
            .unwrap();
        let due = s.outbox_due(10).unwrap();
        assert_eq!(due[0].state, "failed");
        assert_eq!(due[0].attempts, 1);
        assert_eq!(due[0].last_error.as_deref(), Some("timeout"));
        assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Queued);
    }

    #[test]
    fn declining_consent_keeps_only_the_refusal() {
        let mut s = store_with_draft();
        s.set_answer("r1", "/name", Some("Amal"), NOW).unwrap();
        s.record_privacy("r1", "/safety", "private", NOW).unwrap();
        s.add_paradata("r1", "opened", None, NOW).unwrap();
        s.record_consent("r1", false, NOW, "v1").unwrap();
        assert!(s.answers("r1").unwrap().is_empty());
        assert!(s.privacy_checks("r1").unwrap().is_empty());
        assert!(s.paradata("r1").unwrap().is_empty());
        let consent = s.consent("r1").unwrap().unwrap();
        assert!(!consent.given);
        assert_eq!(consent.text_version, "v1");
        assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Refused);
        assert_eq!(s.outbox_due(10).unwrap().len(), 1);
    }

    #[test]
    fn replacing_answers_is_all_or_nothing() {
        let mut s = store_with_draft();
        s.set_answer("r1", "/old", Some("1"), NOW).unwrap();
        let rows = vec![
            ("/m[1]".to_owned(), None),
            ("/m[1]/age".to_owned(), Some("3".to_owned())),
        ];
        s.replace_answers("r1", &rows, NOW).unwrap();
        let mut got = s.answers("r1").unwrap();
        got.sort();
        assert_eq!(got, rows);
        // A duplicate path makes the insert fail: the old rows must survive.
        let bad = vec![
            ("/x".to_owned(), Some("1".to_owned())),
            ("/x".to_owned(), Some("2".to_owned())),
        ];
        assert!(s.replace_answers("r1", &bad, NOW).is_err());
        let mut again = s.answers("r1").unwrap();
        again.sort();
        assert_eq!(again, rows);
    }

    #[test]
    fn attachments_are_shared_by_hash_and_become_the_answer() {
        let mut s = store_with_draft();
        s.create_response("r2", "f", "1", "en", NOW).unwrap();
        let file = |name| AttachedFile {
            sha256: "abc",
            media_type: "image/png",
            size: 3,
            file_name: name,
        };
        s.attach("r1", "/photo", &file("a.png"), NOW).unwrap();
        s.attach("r2", "/photo", &file("b.png"), NOW).unwrap();
        assert_eq!(
            s.attachments("r2").unwrap(),
            vec![(
                "/photo".to_owned(),
                "abc".to_owned(),
                "b.png".to_owned(),
                "image/png".to_owned()
            )]
        );
        assert_eq!(
            s.answers("r1").unwrap(),
            vec![("/photo".to_owned(), Some("a.png".to_owned()))]
        );
    }

    #[test]
    fn the_last_page_entered_is_found() {
        let mut s = store_with_draft();
        assert_eq!(s.last_paradata_path("r1", "page_enter").unwrap(), None);
        s.add_paradata("r1", "page_enter", Some("/a"), NOW).unwrap();
        s.add_paradata("r1", "page_enter", Some("/b"), NOW).unwrap();
        s.add_paradata("r1", "question_enter", Some("/c"), NOW)
            .unwrap();
        assert_eq!(
            s.last_paradata_path("r1", "page_enter").unwrap().as_deref(),
            Some("/b")
        );
    }

    #[test]
    fn paradata_keeps_order_and_settings_round_trip() {
        let mut s = store_with_draft();
        s.add_paradata("r1", "opened", None, NOW).unwrap();
        s.add_paradata("r1", "question_enter", Some("/a"), NOW)
            .unwrap();
        let events: Vec<_> = s
            .paradata("r1")
            .unwrap()
            .into_iter()
            .map(|p| p.event)
            .collect();
        assert_eq!(events, ["opened", "question_enter"]);
        assert_eq!(s.setting("k").unwrap(), None);
        s.set_setting("k", "v").unwrap();
        s.set_setting("k", "w").unwrap();
        assert_eq!(s.setting("k").unwrap().as_deref(), Some("w"));
    }

    fn revision(id: &str, response: &str, seq: u64) -> RevisionRow {
        RevisionRow {
            id: id.to_owned(),
            response_id: response.to_owned(),
            actor: "tab-a".to_owned(),
            seq,
            body: format!(r#"{{"id":"{id}","response":"{response}","seq":{seq}}}"#),
            ack: None,
            code: None,
            reasons: Vec::new(),
            attempts: 0,
        }
    }

    fn ack(id: &str, ack: &str, reasons: &[&str]) -> RevisionAck {
        RevisionAck {
            revision_id: id.to_owned(),
            ack: ack.to_owned(),
            code: (ack == "rejected").then(|| "revision_id_conflict".to_owned()),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn outbox_state(s: &Store, response: &str) -> (String, Vec<String>) {
        let e = s
            .outbox_entries()
            .unwrap()
            .into_iter()
            .find(|e| e.response_id == response)
            .unwrap();
        (e.state, e.reasons)
    }

    #[test]
    fn revisions_are_immutable_and_never_deleted() {
        let mut s = store_with_queued_response();
        s.add_revision(&revision("v1", "r1", 1), NOW).unwrap();
        let err = s
            .conn
            .execute("UPDATE revisions SET body = '{}' WHERE id = 'v1'", [])
            .unwrap_err();
        assert!(err.to_string().contains("immutable"), "{err}");
        let err = s
            .conn
            .execute("DELETE FROM revisions WHERE id = 'v1'", [])
            .unwrap_err();
        assert!(err.to_string().contains("never deleted"), "{err}");
        // The same edit number cannot be built twice.
        assert!(s.add_revision(&revision("v2", "r1", 1), NOW).is_err());
        let kept = s.revisions("r1").unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].body, revision("v1", "r1", 1).body);
    }

    #[test]
    fn acknowledgements_drive_the_outbox_and_nothing_is_deleted() {
        let mut s = store_with_queued_response();
        for id in ["r2", "r3"] {
            s.create_response(id, "f", "1", "en", NOW).unwrap();
            s.transition(id, &[ResponseStatus::Draft], ResponseStatus::Finalized, NOW)
                .unwrap();
            s.transition(
                id,
                &[ResponseStatus::Finalized],
                ResponseStatus::Queued,
                NOW,
            )
            .unwrap();
        }
        s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
        s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
        s.add_revision(&revision("c1", "r3", 1), NOW).unwrap();
        assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 3);
        s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
        assert_eq!(outbox_state(&s, "r1").0, "sending");
        s.apply_acks(
            &[
                ack("a1", "accepted", &[]),
                ack("b1", "quarantined", &["/age: must be 0 or more"]),
                ack(
                    "c1",
                    "rejected",
                    &["the same id was sent with other content"],
                ),
            ],
            NOW,
        )
        .unwrap();
        assert_eq!(outbox_state(&s, "r1"), ("sent".to_owned(), vec![]));
        assert_eq!(
            outbox_state(&s, "r2"),
            (
                "quarantined".to_owned(),
                vec!["/age: must be 0 or more".to_owned()]
            )
        );
        let (state, reasons) = outbox_state(&s, "r3");
        assert_eq!(state, "rejected");
        assert_eq!(
            reasons,
            ["revision_id_conflict: the same id was sent with other content"]
        );
        assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Sent);
        assert_eq!(s.response("r2").unwrap().status, ResponseStatus::Sent);
        assert_eq!(s.response("r3").unwrap().status, ResponseStatus::Queued);
        // Nothing is due again (a rejected revision is not resent blindly), nothing deleted.
        assert!(s.unacknowledged_revisions(10).unwrap().is_empty());
        assert_eq!(s.revisions("r3").unwrap().len(), 1);
        assert_eq!(s.answers("r3").unwrap().len(), 0);
        // A later edit that passes clears the quarantine.
        s.add_revision(&revision("b2", "r2", 2), NOW).unwrap();
        assert_eq!(outbox_state(&s, "r2").0, "pending");
        s.apply_acks(&[ack("b2", "accepted", &[])], NOW).unwrap();
        assert_eq!(outbox_state(&s, "r2"), ("sent".to_owned(), vec![]));
    }

    #[test]
    fn a_send_failure_keeps_revisions_due_and_says_why() {
        let mut s = store_with_queued_response();
        s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
        s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
        s.count_attempt(&["a1".to_owned()]).unwrap();
        s.note_send_failure(&["a1".to_owned()], "connection refused", NOW)
            .unwrap();
        let entry = &s.outbox_entries().unwrap()[0];
        assert_eq!(entry.state, "failed");
        assert_eq!(entry.last_error.as_deref(), Some("connection refused"));
        let due = s.unacknowledged_revisions(10).unwrap();
        assert_eq!(due[0].attempts, 1);
        // A killed sync leaves `sending` behind; opening resets it to pending.
        s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
        s.reset_sending().unwrap();
        assert_eq!(outbox_state(&s, "r1").0, "pending");
    }

    #[test]
    fn held_back_responses_do_not_hide_the_queue_behind_them() {
        let mut s = store_with_queued_response();
        s.create_response("r2", "f", "1", "en", NOW).unwrap();
        // r1 heads the queue with more revisions than the window holds.
        for seq in 1..=4 {
            s.add_revision(&revision(&format!("a{seq}"), "r1", seq), NOW)
                .unwrap();
        }
        s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
        let ids = |rows: Vec<RevisionRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.unacknowledged_revisions_except(2, &[]).unwrap()),
            ["a1", "a2"]
        );
        assert_eq!(
            ids(s
                .unacknowledged_revisions_except(2, &["r1".to_owned()])
                .unwrap()),
            ["b1"]
        );
        // Held back is not forgotten: every revision is still due and kept.
        assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 5);
    }

    #[test]
    fn the_link_and_form_offers_round_trip() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.link().unwrap(), None);
        let link = LinkRow {
            server_url: "http://10.0.0.2:8470".into(),
            project: "p".into(),
            device_id: "tab-a".into(),
            enumerator: "Achieng".into(),
            token: "secret".into(),
            expires_at: NOW.into(),
            linked_at: NOW.into(),
        };
        s.set_link(&link).unwrap();
        s.set_link(&link).unwrap();
        assert_eq!(s.link().unwrap(), Some(link));
        s.clear_link().unwrap();
        assert_eq!(s.link().unwrap(), None);
        let offer = FormOfferRow {
            form_id: "f".into(),
            version: "2".into(),
            title: "F".into(),
            published_at: NOW.into(),
        };
        s.add_form_offer(&offer).unwrap();
        s.add_form_offer(&offer).unwrap();
        assert_eq!(s.unseen_form_offers().unwrap(), vec![offer]);
        s.acknowledge_form_offers().unwrap();
        assert!(s.unseen_form_offers().unwrap().is_empty());
        assert!(!s.attachment_uploaded("abc", "srv").unwrap());
        s.mark_attachment_uploaded("abc", "srv", NOW).unwrap();
        assert!(s.attachment_uploaded("abc", "srv").unwrap());
    }

    #[test]
    fn an_unknown_response_is_not_found() {
        let mut s = Store::open_in_memory().unwrap();
        let err = s.set_answer("nope", "/a", Some("1"), NOW).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::NotFound);
    }
}
