//! The embedded SQLite backend: one file in the data directory, WAL mode.
//!
//! Writes go through one connection behind a mutex and `BEGIN IMMEDIATE`, so they are
//! serialized (SQLite allows one writer at a time anyway); reads use a small pool of
//! their own connections and never wait for a writer (WAL snapshots).
//!
//! An ingest is optimistic: it reads the stored revisions and response states it needs
//! on a reader's snapshot, merges, validates and encodes there — in parallel with other
//! batches — and takes the write lock only to check that none of those rows changed
//! (a response's feed position is its version; a revision id must still be free) and
//! write them. A stale plan is made again; after a few races the batch is planned under
//! the write lock itself, so it always finishes.
//!
//! Feed positions (the pull cursor) are taken inside the serialized write transaction
//! as `MAX(feed_seq) + 1`. A position is therefore never visible before every lower
//! position is committed, and a reader can never skip a row that commits later. Rows
//! are never deleted, so the maximum never goes down.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Condvar, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use voices_core::sync::protocol::{FormVersionSummary, RecordAck, ReviewState};

use super::codec;
use super::plan::{self, Loaded, Plan};
use super::projection::IndexCache;
use super::sqlite_console as console;

use super::{
    AttachmentStatus, ChunkOutcome, DashboardCounts, Device, DeviceInfo, FormVersion,
    IncomingRevision, MapCell, Membership, Overview, Principal, Published, ReviewEntry, Role,
    Store, StoredResponse, TablePage, TableQuery, TokenInfo, TokenSubject, Uploader, User,
    UserChanges, Validator,
};
use crate::{Error, Result};

/// Schema migrations, applied in order and recorded in `PRAGMA user_version`.
/// Append-only: never edit a migration that has shipped; add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE memberships (
    user_name TEXT NOT NULL REFERENCES users(name),
    project TEXT NOT NULL REFERENCES projects(id),
    PRIMARY KEY (user_name, project)
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects(id),
    enumerator TEXT NOT NULL,
    code_hash TEXT UNIQUE,
    code_expires_at TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    user_name TEXT REFERENCES users(name),
    device_id TEXT REFERENCES devices(id),
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((user_name IS NULL) <> (device_id IS NULL))
);
CREATE TABLE form_versions (
    project TEXT NOT NULL REFERENCES projects(id),
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    document TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (project, form, version)
);
CREATE TABLE revisions (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX revisions_by_response ON revisions (project, response_id);
CREATE TABLE responses (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    device TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    state TEXT NOT NULL,
    quarantine TEXT NOT NULL,
    conflict INTEGER NOT NULL,
    review_state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    feed_seq INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (project, id)
);
CREATE INDEX responses_feed ON responses (project, feed_seq);
"#,
    r#"
CREATE TABLE attachments (
    project TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    received INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (project, sha256)
);
CREATE TABLE attachment_chunks (
    project TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    offset INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (project, sha256, offset)
);
"#,
    // 3: exports read one form's responses in feed order.
    r#"
CREATE INDEX responses_form_feed ON responses (project, form, feed_seq);
"#,
    // 4: revision ids are unique per project, not across projects: a project is the
    // tenant boundary, so a device of one project must not be able to block or dedupe
    // another project's revision by choosing its id (PostgreSQL's migration 4 does the
    // same). SQLite cannot change a primary key, so the table is rebuilt; rowids are
    // copied because they are the arrival order `revisions_of` reads.
    r#"
CREATE TABLE revisions_by_project (
    id TEXT NOT NULL,
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
);
INSERT INTO revisions_by_project
    (rowid, id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
    SELECT rowid, id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at
    FROM revisions ORDER BY rowid;
DROP TABLE revisions;
ALTER TABLE revisions_by_project RENAME TO revisions;
CREATE INDEX revisions_by_response ON revisions (project, response_id);
"#,
    // 5: the coordinator console. People get a display name, can be disabled and have a
    // role per project; devices a label and their last contact; review decisions are
    // kept; and each response has a row in `response_index` (filters and sort keys, on
    // indexes for the table's keysets), its answers in the full-text index
    // `response_text` (same rowid; contentless, so the text is not stored twice) and its
    // share of the dashboard's counts. All of it is written by the ingest in the
    // transaction that writes the response; `backfill` fills it for existing responses.
    r#"
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE memberships ADD COLUMN role TEXT;
ALTER TABLE devices ADD COLUMN label TEXT;
ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN pending INTEGER;
CREATE INDEX devices_by_project ON devices (project, id);
CREATE INDEX tokens_by_user ON tokens (user_name);
CREATE TABLE reviews (
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    state TEXT NOT NULL,
    comment TEXT,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reviews_by_response ON reviews (project, response_id);
CREATE TABLE response_index (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    review TEXT NOT NULL,
    conflicts INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    enumerator TEXT NOT NULL,
    device TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    lat REAL,
    lon REAL,
    UNIQUE (project, id)
);
CREATE INDEX ri_received ON response_index (project, form, received_at, id);
CREATE INDEX ri_updated ON response_index (project, form, updated_at, id);
CREATE INDEX ri_review ON response_index (project, form, review, received_at, id);
CREATE INDEX ri_status ON response_index (project, form, status, received_at, id);
CREATE INDEX ri_enumerator ON response_index (project, form, enumerator, received_at, id);
CREATE INDEX ri_device ON response_index (project, form, device, received_at, id);
CREATE INDEX ri_project_received ON response_index (project, received_at, id);
CREATE INDEX ri_project_review ON response_index (project, review);
CREATE INDEX ri_conflicts ON response_index (project) WHERE conflicts > 0;
CREATE INDEX ri_quarantined ON response_index (project) WHERE quarantined = 1;
CREATE INDEX ri_points ON response_index (project, form, lat, lon) WHERE lat IS NOT NULL;
CREATE VIRTUAL TABLE response_text USING fts5(
    open, pii, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE response_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    day TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, form, version, day, enumerator)
) WITHOUT ROWID;
CREATE TABLE choice_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    question TEXT NOT NULL,
    choice TEXT NOT NULL,
    sex TEXT NOT NULL,
    age_band TEXT NOT NULL,
    disability TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, form, version, question, choice, sex, age_band, disability)
) WITHOUT ROWID;
"#,
];

/// The migration after which `backfill` writes the console's projection of the
/// responses already stored.
const CONSOLE_MIGRATION: usize = 5;

/// Reader connections kept open (each keeps its page cache): ingest plans on readers too,
/// one per concurrent upload.
const READERS: usize = 8;

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
    /// Batches being planned at once (see `PLANNERS`).
    planning: Mutex<usize>,
    plan_slot_freed: Condvar,
    /// Form indexes for the console's projection.
    indexes: IndexCache,
}

/// At most this many batches are planned at once. Planning is CPU work: with 64 devices
/// uploading together, more planners than cores only add reader connections, memory and
/// thread switches, while the writer waits for plans all the same.
fn planners() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, READERS))
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // `synchronous = FULL`: every commit waits for the WAL's fsync, so an acknowledged
    // revision survives a power cut, not only a crash of the process (with NORMAL a WAL
    // commit may roll back after power loss — an ack would then have been a lie).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -32000;",
    )?;
    Ok(())
}

impl SqliteStore {
    /// Open (creating if needed) the database file and bring its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            path: path.to_owned(),
            planning: Mutex::new(0),
            plan_slot_freed: Condvar::new(),
            indexes: IndexCache::default(),
        })
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().map_err(|_| Error::Poisoned)?;
        f(&mut conn)
    }

    /// Run `f` in one of the `planners()` planning slots, waiting for one if need be.
    fn planning<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        {
            let mut busy = self.planning.lock().map_err(|_| Error::Poisoned)?;
            while *busy >= planners() {
                busy = self
                    .plan_slot_freed
                    .wait(busy)
                    .map_err(|_| Error::Poisoned)?;
            }
            *busy += 1;
        }
        let result = f();
        let mut busy = self.planning.lock().map_err(|_| Error::Poisoned)?;
        *busy -= 1;
        self.plan_slot_freed.notify_one();
        result
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().map_err(|_| Error::Poisoned)?.pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&self.path)?;
                configure(&conn)?;
                conn
            }
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().map_err(|_| Error::Poisoned)?;
        if pool.len() < READERS {
            pool.push(conn);
        }
        result
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(Error::Schema(format!(
            "the database schema is at version {applied}, newer than this server knows ({}); upgrade voices-server",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        if i + 1 == CONSOLE_MIGRATION {
            console::backfill(&tx)?;
        }
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn role_of(text: String) -> rusqlite::Result<Role> {
    Role::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {text}").into(),
        )
    })
}

fn review_of(text: &str) -> ReviewState {
    match text {
        "hasIssues" => ReviewState::HasIssues,
        "approved" => ReviewState::Approved,
        "rejected" => ReviewState::Rejected,
        _ => ReviewState::Received,
    }
}

/// A user's memberships; one without a role of its own has the user's role.
fn memberships_of(conn: &Connection, user: &str, role: Role) -> Result<Vec<Membership>> {
    let mut stmt = conn.prepare_cached(
        "SELECT project, role FROM memberships WHERE user_name = ?1 ORDER BY project",
    )?;
    let rows = stmt.query_map([user], |r| {
        let own: Option<String> = r.get(1)?;
        Ok(Membership {
            project: r.get(0)?,
            role: own.as_deref().and_then(Role::parse).unwrap_or(role),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

const USER_COLUMNS: &str = "name, role, password_hash, display_name, disabled_at";

fn user_row(conn: &Connection, r: &rusqlite::Row<'_>) -> Result<User> {
    let name: String = r.get(0)?;
    let role = role_of(r.get(1)?)?;
    let memberships = memberships_of(conn, &name, role)?;
    Ok(User {
        projects: memberships.iter().map(|m| m.project.clone()).collect(),
        memberships,
        name,
        role,
        password_hash: r.get(2)?,
        display_name: r.get(3)?,
        disabled: r.get::<_, Option<String>>(4)?.is_some(),
    })
}

fn load_user(conn: &Connection, name: &str) -> Result<Option<User>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"))?;
    let mut rows = stmt.query([name])?;
    match rows.next()? {
        None => Ok(None),
        Some(r) => Ok(Some(user_row(conn, r)?)),
    }
}

fn load_device(conn: &Connection, id: &str) -> Result<Option<Device>> {
    Ok(conn
        .query_row(
            "SELECT id, project, enumerator, revoked_at FROM devices WHERE id = ?1",
            [id],
            |r| {
                Ok(Device {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    enumerator: r.get(2)?,
                    revoked_at: r.get(3)?,
                })
            },
        )
        .optional()?)
}

const RESPONSE_COLUMNS: &str =
    "feed_seq, state, device, enumerator, received_at, updated_at, review_state, quarantine";

/// A `responses` row as read: feed position, then the text columns in `RESPONSE_COLUMNS` order.
type ResponseRow = (i64, String, String, String, String, String, String, String);

fn response_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ResponseRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn stored_response(row: ResponseRow) -> Result<StoredResponse> {
    let (feed_seq, state, device, enumerator, received_at, updated_at, review, quarantine) = row;
    Ok(StoredResponse {
        feed_seq,
        state: codec::decode(&state)?,
        device,
        enumerator,
        received_at,
        updated_at,
        review_state: review_of(&review),
        quarantine: serde_json::from_str(&quarantine)?,
    })
}

/// Optimistic attempts before a batch is planned under the write lock.
const OPTIMISTIC_ATTEMPTS: usize = 4;

/// Read what the batch needs (its revision ids already stored, the current rows of the
/// responses it touches) and plan it.
#[allow(clippy::too_many_arguments)]
fn plan_batch<'a>(
    c: &Connection,
    project: &str,
    uploader: &Uploader,
    batch: &'a [IncomingRevision],
    valid: &[bool],
    validator: &dyn Validator,
    cache: &IndexCache,
    now: &str,
) -> Result<Plan<'a>> {
    let mut stored = HashMap::new();
    let mut loaded = HashMap::new();
    {
        let mut find_revision =
            c.prepare_cached("SELECT sha256 FROM revisions WHERE project = ?1 AND id = ?2")?;
        let mut load_response = c.prepare_cached(
            "SELECT state, device, enumerator, received_at, review_state, feed_seq FROM responses
             WHERE project = ?1 AND id = ?2",
        )?;
        for (incoming, _) in batch.iter().zip(valid).filter(|(_, ok)| **ok) {
            let rev = &incoming.revision;
            if let Some(found) = find_revision
                .query_row(params![project, rev.id], |r| r.get(0))
                .optional()?
            {
                stored.insert(rev.id.clone(), found);
                continue;
            }
            if loaded.contains_key(&rev.response) {
                continue;
            }
            let row = load_response
                .query_row(params![project, rev.response], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .optional()?;
            if let Some((state, device, enumerator, received_at, review_state, feed_seq)) = row {
                let row = Loaded {
                    state: codec::decode(&state)?,
                    device,
                    enumerator,
                    received_at,
                    review_state,
                    feed_seq,
                };
                loaded.insert(rev.response.clone(), row);
            }
        }
    }
    let pairs = plan::versions_needed(batch, loaded.values());
    let indexes = console::indexes(c, cache, project, pairs)?;
    let ingest = plan::Ingest {
        project,
        uploader,
        validator,
        now,
        indexes: &indexes,
    };
    plan::plan(&ingest, batch, valid, &stored, loaded)
}

/// Write a planned batch in one transaction, unless something it was planned from has
/// changed since (`None`: plan again). Takes feed positions as `MAX + 1` under the
/// write lock (see the module comment).
fn write_plan(
    c: &mut Connection,
    project: &str,
    uploader: &Uploader,
    planned: Plan<'_>,
    now: &str,
) -> Result<Option<Vec<RecordAck>>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut version =
            tx.prepare_cached("SELECT feed_seq FROM responses WHERE project = ?1 AND id = ?2")?;
        for changed in &planned.changed {
            let current: Option<i64> = version
                .query_row(params![project, changed.id], |r| r.get(0))
                .optional()?;
            if current != changed.read_at {
                return Ok(None);
            }
        }
        let mut insert_revision = tx.prepare_cached(
            "INSERT INTO revisions (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (project, id) DO NOTHING",
        )?;
        for incoming in &planned.accepted {
            let rev = &incoming.revision;
            let inserted = insert_revision.execute(params![
                rev.id,
                project,
                rev.response,
                rev.actor,
                rev.seq as i64,
                incoming.sha256,
                incoming.body,
                uploader.id,
                now
            ])?;
            if inserted == 0 {
                // Stored meanwhile by another batch (for another response): plan again
                // to acknowledge it as a duplicate or a conflict.
                return Ok(None);
            }
        }
        let mut next_seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(feed_seq), 0) FROM responses",
            [],
            |r| r.get(0),
        )?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO responses (project, id, form, version, device, enumerator, state, quarantine,
                 conflict, review_state, received_at, updated_at, feed_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (project, id) DO UPDATE SET version = excluded.version, state = excluded.state,
                 quarantine = excluded.quarantine, conflict = excluded.conflict,
                 updated_at = excluded.updated_at, feed_seq = excluded.feed_seq",
        )?;
        for changed in &planned.changed {
            next_seq += 1;
            upsert.execute(params![
                project,
                changed.id,
                changed.form,
                changed.version,
                changed.device,
                changed.enumerator,
                changed.state,
                changed.quarantine,
                changed.conflict,
                changed.review_state,
                changed.received_at,
                now,
                next_seq
            ])?;
        }
    }
    console::write_projection(&tx, project, &planned.changed, planned.deltas, now)?;
    tx.commit()?;
    Ok(Some(planned.acks))
}

impl Store for SqliteStore {
    fn add_project(&self, id: &str, title: &str, now: &str) -> Result<()> {
        self.write(|c| {
            let n = c.execute(
                "INSERT INTO projects (id, title, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![id, title, now],
            )?;
            if n == 0 {
                return Err(Error::Conflict(format!("project `{id}` already exists")));
            }
            Ok(())
        })
    }

    fn project_exists(&self, id: &str) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT 1 FROM projects WHERE id = ?1", [id], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
    }

    fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()> {
        self.write(|c| {
            let n = c.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![name, role.as_str(), password_hash, now],
            )?;
            if n == 0 {
                return Err(Error::Conflict(format!("user `{name}` already exists")));
            }
            Ok(())
        })
    }

    fn add_membership(&self, user: &str, project: &str) -> Result<()> {
        self.write(|c| {
            if load_user(c, user)?.is_none() {
                return Err(Error::NotFound(format!("no user `{user}`")));
            }
            let exists = c
                .query_row("SELECT 1 FROM projects WHERE id = ?1", [project], |_| Ok(()))
                .optional()?;
            if exists.is_none() {
                return Err(Error::NotFound(format!("no project `{project}`")));
            }
            c.execute(
                "INSERT INTO memberships (user_name, project) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![user, project],
            )?;
            Ok(())
        })
    }

    fn find_user(&self, name: &str) -> Result<Option<User>> {
        self.read(|c| load_user(c, name))
    }

    fn add_labelled_device(
        &self,
        device: &Device,
        label: Option<&str>,
        code_hash: &str,
        code_expires_at: &str,
        now: &str,
    ) -> Result<()> {
        self.write(|c| {
            let exists = c
                .query_row("SELECT 1 FROM projects WHERE id = ?1", [&device.project], |_| Ok(()))
                .optional()?;
            if exists.is_none() {
                return Err(Error::NotFound(format!("no project `{}`", device.project)));
            }
            let n = c.execute(
                "INSERT INTO devices (id, project, enumerator, code_hash, code_expires_at, created_at, label)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                params![device.id, device.project, device.enumerator, code_hash, code_expires_at, now, label],
            )?;
            if n == 0 {
                return Err(Error::Conflict(format!("device `{}` already exists", device.id)));
            }
            Ok(())
        })
    }

    fn redeem_code(
        &self,
        code_hash: &str,
        token_hash: &str,
        token_expires_at: &str,
        now: &str,
    ) -> Result<Option<Device>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id: Option<String> = tx
                .query_row(
                    "SELECT id FROM devices WHERE code_hash = ?1 AND code_expires_at > ?2 AND revoked_at IS NULL",
                    params![code_hash, now],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else { return Ok(None) };
            // One use only: the code is gone once redeemed.
            tx.execute(
                "UPDATE devices SET code_hash = NULL, code_expires_at = NULL WHERE id = ?1",
                [&id],
            )?;
            tx.execute(
                "INSERT INTO tokens (hash, device_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, id, token_expires_at, now],
            )?;
            let device = load_device(&tx, &id)?;
            tx.commit()?;
            Ok(device)
        })
    }

    fn revoke_device(&self, device_id: &str, now: &str) -> Result<bool> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2), code_hash = NULL WHERE id = ?1",
                params![device_id, now],
            )?;
            tx.execute(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE device_id = ?1",
                params![device_id, now],
            )?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn add_token(
        &self,
        token_hash: &str,
        subject: &TokenSubject,
        expires_at: &str,
        now: &str,
    ) -> Result<()> {
        let (user, device) = match subject {
            TokenSubject::User(u) => (Some(u.as_str()), None),
            TokenSubject::Device(d) => (None, Some(d.as_str())),
        };
        self.write(|c| {
            c.execute(
                "INSERT INTO tokens (hash, user_name, device_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, user, device, expires_at, now],
            )?;
            Ok(())
        })
    }

    fn find_token(&self, token_hash: &str) -> Result<Option<TokenInfo>> {
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT user_name, device_id, expires_at, revoked_at FROM tokens WHERE hash = ?1",
                    [token_hash],
                    |r| {
                        Ok((
                            r.get::<_, Option<String>>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                        ))
                    },
                )
                .optional()?;
            let Some((user, device, expires_at, revoked_at)) = row else {
                return Ok(None);
            };
            let principal = match (user, device) {
                (Some(u), _) => load_user(c, &u)?.map(Principal::User),
                (None, Some(d)) => load_device(c, &d)?.map(Principal::Device),
                (None, None) => None,
            };
            Ok(principal.map(|principal| TokenInfo {
                principal,
                expires_at,
                revoked_at,
            }))
        })
    }

    fn revoke_token(&self, token_hash: &str, now: &str) -> Result<bool> {
        self.write(|c| {
            Ok(c.execute(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE hash = ?1",
                params![token_hash, now],
            )? > 0)
        })
    }

    fn publish_form(&self, form: &FormVersion) -> Result<Published> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT sha256 FROM form_versions WHERE project = ?1 AND form = ?2 AND version = ?3",
                    params![form.project, form.form, form.version],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(sha) if sha == form.sha256 => return Ok(Published::AlreadyIdentical),
                Some(_) => {
                    return Err(Error::Conflict(format!(
                        "form `{}` version `{}` is already published with different content; every change needs a new version",
                        form.form, form.version
                    )))
                }
                None => {}
            }
            tx.execute(
                "INSERT INTO form_versions (project, form, version, title, sha256, document, published_at, published_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    form.project,
                    form.form,
                    form.version,
                    form.title,
                    form.sha256,
                    form.document,
                    form.published_at,
                    form.published_by
                ],
            )?;
            tx.commit()?;
            Ok(Published::New)
        })
    }

    fn list_forms(&self, project: &str) -> Result<Vec<FormVersionSummary>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT form, version, title, published_at, sha256 FROM form_versions
                 WHERE project = ?1 ORDER BY form, published_at, version",
            )?;
            let rows = stmt.query_map([project], |r| {
                Ok(FormVersionSummary {
                    form: r.get(0)?,
                    version: r.get(1)?,
                    title: r.get(2)?,
                    published_at: r.get(3)?,
                    sha256: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn get_form(&self, project: &str, form: &str, version: &str) -> Result<Option<FormVersion>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT title, sha256, document, published_at, published_by FROM form_versions
                 WHERE project = ?1 AND form = ?2 AND version = ?3",
                params![project, form, version],
                |r| {
                    Ok(FormVersion {
                        project: project.to_owned(),
                        form: form.to_owned(),
                        version: version.to_owned(),
                        title: r.get(0)?,
                        sha256: r.get(1)?,
                        document: r.get(2)?,
                        published_at: r.get(3)?,
                        published_by: r.get(4)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn ingest(
        &self,
        project: &str,
        uploader: &Uploader,
        batch: &[IncomingRevision],
        validator: &dyn Validator,
        now: &str,
    ) -> Result<Vec<RecordAck>> {
        let valid = plan::well_formed(batch);
        // Optimistic: read and merge on a reader's snapshot while other batches write,
        // then write only if nothing read has changed meanwhile.
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let planned = self.planning(|| {
                self.read(|c| {
                    let snapshot = c.unchecked_transaction()?;
                    plan_batch(
                        &snapshot,
                        project,
                        uploader,
                        batch,
                        &valid,
                        validator,
                        &self.indexes,
                        now,
                    )
                })
            })?;
            if let Some(acks) = self.write(|c| write_plan(c, project, uploader, planned, now))? {
                return Ok(acks);
            }
        }
        // Still racing (other batches keep editing the same responses): plan under the
        // write lock, where nothing can change what was read.
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let planned = plan_batch(
                &tx,
                project,
                uploader,
                batch,
                &valid,
                validator,
                &self.indexes,
                now,
            )?;
            drop(tx);
            write_plan(c, project, uploader, planned, now)?.ok_or_else(|| {
                Error::Backend("a batch planned under the write lock went stale".into())
            })
        })
    }

    fn known_revisions(&self, project: &str, ids: &[String]) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT 1 FROM revisions WHERE id = ?1 AND project = ?2")?;
            let mut known = Vec::new();
            for id in ids {
                if stmt
                    .query_row(params![id, project], |_| Ok(()))
                    .optional()?
                    .is_some()
                {
                    known.push(id.clone());
                }
            }
            Ok(known)
        })
    }

    fn pull(&self, project: &str, after: i64, limit: usize) -> Result<Vec<StoredResponse>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = ?1 AND feed_seq > ?2
                 ORDER BY feed_seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![project, after, limit as i64], response_row)?;
            rows.map(|row| stored_response(row?)).collect()
        })
    }

    fn pull_form(
        &self,
        project: &str,
        form: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = ?1 AND form = ?2 AND feed_seq > ?3
                 ORDER BY feed_seq LIMIT ?4"
            ))?;
            let rows =
                stmt.query_map(params![project, form, after, limit as i64], response_row)?;
            rows.map(|row| stored_response(row?)).collect()
        })
    }

    fn get_response(&self, project: &str, id: &str) -> Result<Option<StoredResponse>> {
        self.read(|c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = ?1 AND id = ?2"
                    ),
                    params![project, id],
                    response_row,
                )
                .optional()?;
            row.map(stored_response).transpose()
        })
    }

    fn review(
        &self,
        project: &str,
        ids: &[String],
        state: ReviewState,
        comment: Option<&str>,
        by: &str,
        now: &str,
    ) -> Result<Vec<bool>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = console::review(&tx, project, ids, state, comment, by, now)?;
            tx.commit()?;
            Ok(found)
        })
    }

    fn reviews_of(&self, project: &str, response: &str) -> Result<Vec<ReviewEntry>> {
        self.read(|c| console::reviews_of(c, project, response))
    }

    fn list_projects(&self) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, title FROM projects ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn table(&self, project: &str, query: &TableQuery) -> Result<TablePage> {
        self.read(|c| {
            // One snapshot for the page and its count.
            let snapshot = c.unchecked_transaction()?;
            console::table(&snapshot, project, query)
        })
    }

    fn overview(&self, project: &str, today: &str, week_start: &str) -> Result<Overview> {
        self.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            console::overview(&snapshot, project, today, week_start)
        })
    }

    fn dashboard_counts(
        &self,
        project: &str,
        form: &str,
        version: Option<&str>,
    ) -> Result<DashboardCounts> {
        self.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            console::dashboard_counts(&snapshot, project, form, version)
        })
    }

    fn map_cells(&self, project: &str, form: &str, precision: u32) -> Result<Vec<MapCell>> {
        self.read(|c| console::map_cells(c, project, form, precision))
    }

    fn count_form(&self, project: &str, form: &str, after: i64) -> Result<u64> {
        self.read(|c| console::count_form(c, project, form, after))
    }

    fn list_devices(&self, project: &str) -> Result<Vec<DeviceInfo>> {
        self.read(|c| console::list_devices(c, project))
    }

    fn touch_device(
        &self,
        id: &str,
        now: &str,
        app_version: Option<&str>,
        pending: Option<i64>,
    ) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE devices SET last_seen_at = ?2, app_version = COALESCE(?3, app_version),
                     pending = COALESCE(?4, pending) WHERE id = ?1",
                params![id, now, app_version, pending],
            )?;
            Ok(())
        })
    }

    fn list_users(&self) -> Result<Vec<User>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
            let mut rows = stmt.query([])?;
            let mut users = Vec::new();
            while let Some(r) = rows.next()? {
                users.push(user_row(c, r)?);
            }
            Ok(users)
        })
    }

    fn update_user(&self, name: &str, changes: &UserChanges, now: &str) -> Result<Option<User>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if load_user(&tx, name)?.is_none() {
                return Ok(None);
            }
            if let Some(display) = &changes.display_name {
                tx.execute(
                    "UPDATE users SET display_name = ?2 WHERE name = ?1",
                    params![name, display],
                )?;
            }
            if let Some(hash) = &changes.password_hash {
                tx.execute(
                    "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                    params![name, hash],
                )?;
            }
            if let Some(disabled) = changes.disabled {
                tx.execute(
                    "UPDATE users SET disabled_at = CASE WHEN ?2 THEN COALESCE(disabled_at, ?3) END
                     WHERE name = ?1",
                    params![name, disabled, now],
                )?;
            }
            if changes.password_hash.is_some() || changes.disabled == Some(true) {
                tx.execute(
                    "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE user_name = ?1",
                    params![name, now],
                )?;
            }
            let user = load_user(&tx, name)?;
            tx.commit()?;
            Ok(user)
        })
    }

    fn set_membership(&self, user: &str, project: &str, role: Role) -> Result<()> {
        self.write(|c| {
            if load_user(c, user)?.is_none() {
                return Err(Error::NotFound(format!("no user `{user}`")));
            }
            let exists = c
                .query_row(
                    "SELECT 1 FROM projects WHERE id = ?1",
                    [project],
                    |_| Ok(()),
                )
                .optional()?;
            if exists.is_none() {
                return Err(Error::NotFound(format!("no project `{project}`")));
            }
            c.execute(
                "INSERT INTO memberships (user_name, project, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_name, project) DO UPDATE SET role = excluded.role",
                params![user, project, role.as_str()],
            )?;
            Ok(())
        })
    }

    fn remove_membership(&self, user: &str, project: &str) -> Result<bool> {
        self.write(|c| {
            Ok(c.execute(
                "DELETE FROM memberships WHERE user_name = ?1 AND project = ?2",
                params![user, project],
            )? > 0)
        })
    }

    fn revisions_of(&self, project: &str, response: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT body FROM revisions WHERE project = ?1 AND response_id = ?2 ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![project, response], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    fn attachment_status(&self, project: &str, sha256: &str) -> Result<Option<AttachmentStatus>> {
        self.read(|c| attachment_row(c, project, sha256))
    }

    fn put_attachment_chunk(
        &self,
        project: &str,
        sha256: &str,
        size: u64,
        offset: u64,
        data: &[u8],
        now: &str,
    ) -> Result<ChunkOutcome> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let status = match attachment_row(&tx, project, sha256)? {
                Some(status) => status,
                None => {
                    tx.execute(
                        "INSERT INTO attachments (project, sha256, size, received, complete, created_at)
                         VALUES (?1, ?2, ?3, 0, 0, ?4)",
                        params![project, sha256, size as i64, now],
                    )?;
                    AttachmentStatus {
                        sha256: sha256.to_owned(),
                        size,
                        received: 0,
                        complete: false,
                    }
                }
            };
            if status.size != size {
                return Err(Error::Conflict(format!(
                    "attachment {sha256} was started with size {}, not {size}",
                    status.size
                )));
            }
            if status.complete || offset != status.received {
                return Ok(ChunkOutcome::OffsetMismatch(status));
            }
            if offset + data.len() as u64 > size {
                return Err(Error::Invalid(format!(
                    "the chunk ends at byte {}, past the declared size {size}",
                    offset + data.len() as u64
                )));
            }
            if !data.is_empty() {
                tx.execute(
                    "INSERT INTO attachment_chunks (project, sha256, offset, data) VALUES (?1, ?2, ?3, ?4)",
                    params![project, sha256, offset as i64, data],
                )?;
                tx.execute(
                    "UPDATE attachments SET received = ?3 WHERE project = ?1 AND sha256 = ?2",
                    params![project, sha256, (offset + data.len() as u64) as i64],
                )?;
            }
            tx.commit()?;
            Ok(ChunkOutcome::Stored(AttachmentStatus {
                received: offset + data.len() as u64,
                ..status
            }))
        })
    }

    fn read_attachment(
        &self,
        project: &str,
        sha256: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Vec<u8>> {
        self.read(|c| {
            // The chunk holding `offset` starts at or before it.
            let mut stmt = c.prepare_cached(
                "SELECT offset, data FROM attachment_chunks
                 WHERE project = ?1 AND sha256 = ?2 AND offset + length(data) > ?3 ORDER BY offset",
            )?;
            let mut rows = stmt.query(params![project, sha256, offset as i64])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let start: i64 = row.get(0)?;
                let data: Vec<u8> = row.get(1)?;
                let skip = (offset as i64 - start).max(0) as usize;
                out.extend_from_slice(&data[skip.min(data.len())..]);
                if out.len() as u64 >= max_bytes {
                    break;
                }
            }
            Ok(out)
        })
    }

    fn complete_attachment(&self, project: &str, sha256: &str, now: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE attachments SET complete = 1, completed_at = ?3 WHERE project = ?1 AND sha256 = ?2",
                params![project, sha256, now],
            )?;
            Ok(())
        })
    }

    fn discard_attachment(&self, project: &str, sha256: &str) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // A complete (verified) attachment is never discarded.
            tx.execute(
                "DELETE FROM attachment_chunks WHERE project = ?1 AND sha256 = ?2
                 AND EXISTS (SELECT 1 FROM attachments WHERE project = ?1 AND sha256 = ?2 AND complete = 0)",
                params![project, sha256],
            )?;
            tx.execute(
                "DELETE FROM attachments WHERE project = ?1 AND sha256 = ?2 AND complete = 0",
                params![project, sha256],
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}

fn attachment_row(c: &Connection, project: &str, sha256: &str) -> Result<Option<AttachmentStatus>> {
    Ok(c.query_row(
        "SELECT size, received, complete FROM attachments WHERE project = ?1 AND sha256 = ?2",
        params![project, sha256],
        |r| {
            Ok(AttachmentStatus {
                sha256: sha256.to_owned(),
                size: r.get::<_, i64>(0)? as u64,
                received: r.get::<_, i64>(1)? as u64,
                complete: r.get(2)?,
            })
        },
    )
    .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 4 rebuilds `revisions`: a database written before it keeps every
    /// revision, in arrival order, and then accepts an id again in another project.
    #[test]
    fn scoping_revision_ids_per_project_keeps_stored_revisions_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let insert = "INSERT INTO revisions
            (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
            VALUES (?1, 'p1', 'r1', 'a', ?2, 'sha', ?3, 'dev', 'now')";
        // Ids that sort the other way round than they arrived.
        for (seq, id) in ["z", "m", "a"].iter().enumerate() {
            conn.execute(insert, params![id, seq as i64, format!("body {id}")])
                .unwrap();
        }

        migrate(&mut conn).unwrap();

        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let bodies: Vec<String> = conn
            .prepare("SELECT body FROM revisions WHERE project = 'p1' AND response_id = 'r1' ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(bodies, ["body z", "body m", "body a"]);
        let same_id_elsewhere = "INSERT INTO revisions
            (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
            VALUES ('z', ?1, 'r1', 'a', 0, 'sha', 'body', 'dev', 'now') ON CONFLICT (project, id) DO NOTHING";
        assert_eq!(conn.execute(same_id_elsewhere, ["p2"]).unwrap(), 1);
        assert_eq!(conn.execute(same_id_elsewhere, ["p1"]).unwrap(), 0);
    }
}
