//! The PostgreSQL backend, for deployments that outgrow one machine: any number of
//! `voices-server` processes may share one database. Nothing here keeps state between
//! calls except the connection pool, so correctness rests on the database alone:
//!
//! - **Exactly once.** `revisions (project, id)` is the primary key (revision ids are
//!   scoped to their project) and every insert is `ON CONFLICT DO NOTHING`. An ingest first takes a transaction-scoped advisory lock
//!   per response it touches (sorted, so two batches cannot deadlock on them), so the
//!   read-merge-write of a response's state is serialized across processes. If a
//!   revision id still collides (a concurrent batch used the same id for another
//!   response), the insert reports fewer rows and the whole transaction is retried; the
//!   retry sees the committed row and acknowledges it as a duplicate or a conflict.
//! - **Pull cursor without gaps or repeats.** Feed positions are not taken from a
//!   sequence (sequence values commit out of order under concurrent writers, so a
//!   reader could pass position 7 before position 6 becomes visible and never see it).
//!   Instead each project has one row in `feeds`; a writer bumps it at the very end of
//!   its transaction and holds that row lock until it commits. The next writer of the
//!   project waits for the lock, so positions commit in increasing order: whenever a
//!   reader's snapshot shows position n, every position below n is committed and
//!   visible too. Only the short tail (response upsert and commit) is serialized.
//! - Lock order is always: response advisory locks, then the feed row, then response
//!   rows, which rules out deadlocks between ingests and review changes. Deadlocks and
//!   serialization failures that PostgreSQL reports anyway are retried.

pub mod tls;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Row};
use r2d2_postgres::PostgresConnectionManager;
use sha2::{Digest, Sha256};
use tokio_postgres_rustls::MakeRustlsConnect;
use voices_core::sync::protocol::{FormVersionSummary, RecordAck, ReviewState};

use super::codec;
use super::plan::{self, Loaded, Plan};
use super::postgres_console as console;
use super::projection::IndexCache;

use super::{
    AttachmentStatus, ChunkOutcome, DashboardCounts, Device, DeviceInfo, FormVersion,
    IncomingRevision, MapCell, Membership, Overview, Principal, Published, ReviewEntry, Role,
    Store, StoredResponse, TablePage, TableQuery, TokenInfo, TokenSubject, Uploader, User,
    UserChanges, Validator,
};
use crate::{Error, Result};

/// Schema migrations, applied in order and recorded in `voices_schema_migrations`.
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
CREATE INDEX tokens_by_device ON tokens (device_id);
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
    arrival BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX revisions_by_response ON revisions (project, response_id, arrival);
CREATE TABLE feeds (
    project TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE responses (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    device TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    state TEXT NOT NULL,
    quarantine TEXT NOT NULL,
    conflict BOOLEAN NOT NULL,
    review_state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    feed_seq BIGINT NOT NULL,
    PRIMARY KEY (project, id),
    UNIQUE (project, feed_seq)
);
"#,
    r#"
CREATE TABLE attachments (
    project TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL,
    complete BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (project, sha256)
);
CREATE TABLE attachment_chunks (
    project TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (project, sha256, "offset")
);
"#,
    // 3: exports read one form's responses in feed order.
    r#"
CREATE INDEX responses_form_feed ON responses (project, form, feed_seq);
"#,
    // 4: revision ids are unique per project, not across projects: a project is the
    // tenant boundary, so a device of one project must not be able to block or dedupe
    // another project's revision by choosing its id (SQLite's migration 4 does the same).
    // Ids stored so far were unique globally, so they stay unique per project.
    r#"
ALTER TABLE revisions DROP CONSTRAINT revisions_pkey;
ALTER TABLE revisions ADD PRIMARY KEY (project, id);
"#,
    // 5: the coordinator console (as SQLite's migration 5). The table index's text
    // columns sort byte-wise (`COLLATE "C"`), as SQLite's do, so both backends page in
    // the same order; free text is one tsvector per response, pii words weighted `A` and
    // the others `D`, so one GIN index answers searches with and without pii.
    r#"
ALTER TABLE users ADD COLUMN display_name TEXT, ADD COLUMN disabled_at TEXT;
ALTER TABLE memberships ADD COLUMN role TEXT;
ALTER TABLE devices ADD COLUMN label TEXT, ADD COLUMN last_seen_at TEXT,
    ADD COLUMN app_version TEXT, ADD COLUMN pending BIGINT;
CREATE INDEX devices_by_project ON devices (project, id);
CREATE INDEX tokens_by_user ON tokens (user_name);
CREATE TABLE reviews (
    arrival BIGINT GENERATED ALWAYS AS IDENTITY,
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    state TEXT NOT NULL,
    comment TEXT,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reviews_by_response ON reviews (project, response_id, arrival);
CREATE TABLE response_index (
    project TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    form TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    review TEXT COLLATE "C" NOT NULL,
    conflicts INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    enumerator TEXT COLLATE "C" NOT NULL,
    device TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    search TSVECTOR NOT NULL,
    PRIMARY KEY (project, id)
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
CREATE INDEX ri_search ON response_index USING GIN (search);
CREATE TABLE response_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    day TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (project, form, version, day, enumerator)
);
CREATE TABLE choice_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    question TEXT NOT NULL,
    choice TEXT NOT NULL,
    sex TEXT NOT NULL,
    age_band TEXT NOT NULL,
    disability TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (project, form, version, question, choice, sex, age_band, disability)
);
"#,
];

/// The migration after which `backfill` writes the console's projection of the
/// responses already stored.
const CONSOLE_MIGRATION: usize = 5;

/// The schema version this build migrates to (the number of migrations).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Advisory lock key serializing migrations across server processes starting at once.
const MIGRATION_LOCK: i64 = 0x766f_6963_6573_6d31; // "voicesm1"

/// How often a transaction that PostgreSQL aborted for a deadlock or a serialization
/// failure (or that lost a revision-id race) is tried again before giving up.
const ATTEMPTS: usize = 8;

/// Connections per server process unless the URL's caller asks otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// How long a request waits for a pooled connection before the answer is 503.
pub const POOL_WAIT: Duration = Duration::from_secs(5);

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

pub struct PostgresStore {
    pool: Pool,
    /// Form indexes for the console's projection.
    indexes: IndexCache,
}

/// Why one attempt at a transaction failed.
pub(super) enum Fail {
    Db(postgres::Error),
    /// Lost a race that a fresh attempt resolves.
    Retry,
    Other(Error),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Fail {
        Fail::Db(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Other(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Fail {
        Fail::Other(Error::Json(e))
    }
}

pub(super) type Attempt<T> = std::result::Result<T, Fail>;

/// PostgreSQL's own words where there are some (`source` holds the server's message or
/// the I/O error; the top-level text alone is often just "db error").
fn describe(e: &postgres::Error) -> String {
    let text = e.to_string();
    match std::error::Error::source(e) {
        Some(source) if !text.contains(&source.to_string()) => format!("{text}: {source}"),
        _ => text,
    }
}

pub(super) fn db_error(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::Backend(format!(
            "PostgreSQL {}: {}{}",
            db.code().code(),
            db.message(),
            db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
        )),
        None => Error::Backend(format!("PostgreSQL: {}", describe(&e))),
    }
}

fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(&SqlState::T_R_DEADLOCK_DETECTED) | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
    )
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host:port/db?…`) with the default pool size and
    /// bring the schema up to date. `sslmode` and `sslrootcert` in the URL choose TLS
    /// (see [`tls`]).
    pub fn open(url: &str) -> Result<PostgresStore> {
        PostgresStore::open_with_pool_size(url, DEFAULT_POOL_SIZE)
    }

    pub fn open_with_pool_size(url: &str, pool_size: u32) -> Result<PostgresStore> {
        PostgresStore::open_with_pool(url, pool_size, POOL_WAIT)
    }

    /// `pool_wait`: how long a request waits for a free connection before it is told
    /// the server is busy (`Error::Busy`, a 503 with `Retry-After`).
    pub fn open_with_pool(url: &str, pool_size: u32, pool_wait: Duration) -> Result<PostgresStore> {
        let mut connection = tls::connection(url)?;
        if connection.config.get_connect_timeout().is_none() {
            connection.config.connect_timeout(Duration::from_secs(10));
        }
        // One direct connection first: an unreachable server, a wrong password or a
        // refused certificate fails now with the reason, not after the pool's timeout.
        let fail = |e: postgres::Error, connection: &tls::Connection| {
            let hint = tls::certificate_hint(&e, connection)
                .map(|h| format!(": {h}"))
                .unwrap_or_default();
            Error::Backend(format!(
                "cannot connect to PostgreSQL: {}{hint}",
                describe(&e)
            ))
        };
        let mut first = match connection.config.connect(connection.tls.clone()) {
            Ok(client) => client,
            // `prefer` with no CA named (the default): a server whose certificate the
            // system's CAs cannot verify (Debian's PostgreSQL ships a self-signed one) is
            // used without TLS, as libpq's `prefer` would on a failed handshake, rather
            // than with a certificate nobody checked; loudly, so it can be fixed.
            Err(e)
                if connection.falls_back_to_plain()
                    && tls::certificate_hint(&e, &connection).is_some() =>
            {
                tracing::warn!(
                    "PostgreSQL offered TLS with a certificate the system's CAs do not verify ({}); \
                     connecting without TLS (sslmode=prefer). To encrypt, name its CA: \
                     ?sslmode=verify-full&sslrootcert=/path/to/ca.pem; to silence this, sslmode=disable",
                    describe(&e)
                );
                connection
                    .config
                    .ssl_mode(postgres::config::SslMode::Disable);
                connection
                    .config
                    .connect(connection.tls.clone())
                    .map_err(|e| fail(e, &connection))?
            }
            Err(e) => return Err(fail(e, &connection)),
        };
        migrate(&mut first).map_err(|fail| match fail {
            Fail::Db(e) => db_error(e),
            Fail::Other(e) => e,
            Fail::Retry => Error::Backend("migrating the schema raced another server".into()),
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            // Under a burst (64 devices each sending 500 records) requests queue here
            // while earlier batches commit. Past `pool_wait` the client is told to come
            // back later (503, Retry-After) rather than held for minutes.
            .connection_timeout(pool_wait)
            .build_unchecked(PostgresConnectionManager::new(
                connection.config,
                connection.tls,
            ));
        Ok(PostgresStore {
            pool,
            indexes: IndexCache::default(),
        })
    }

    /// Run `f` on a pooled connection, again after retryable failures.
    fn run<T>(&self, mut f: impl FnMut(&mut Client) -> Attempt<T>) -> Result<T> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| {
                Error::Busy(format!(
                    "the server is busy: all {} database connections stayed in use ({e}); try again shortly",
                    self.pool.max_size()
                ))
            })?;
        let mut attempt = 1;
        loop {
            match f(&mut conn) {
                Ok(value) => return Ok(value),
                Err(Fail::Other(e)) => return Err(e),
                Err(Fail::Db(e)) if !(retryable(&e) && attempt < ATTEMPTS) => {
                    return Err(db_error(e))
                }
                Err(Fail::Retry) if attempt >= ATTEMPTS => {
                    return Err(Error::Backend(
                        "gave up after repeated races with concurrent writers".into(),
                    ))
                }
                Err(_) => {
                    // Back off a little, more each time, so racing writers spread out.
                    std::thread::sleep(Duration::from_millis(2 << attempt));
                    attempt += 1;
                }
            }
        }
    }
}

fn migrate(c: &mut Client) -> Attempt<()> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS voices_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let applied: i64 = tx
        .query_one("SELECT count(*) FROM voices_schema_migrations", &[])?
        .try_get(0)?;
    let applied = applied as usize;
    if applied > MIGRATIONS.len() {
        return Err(Fail::Other(Error::Schema(format!(
            "the database schema is at version {applied}, newer than this server knows ({}); upgrade voices-server",
            MIGRATIONS.len()
        ))));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.batch_execute(sql)?;
        if i + 1 == CONSOLE_MIGRATION {
            console::backfill(&mut tx)?;
        }
        tx.execute(
            "INSERT INTO voices_schema_migrations (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The advisory lock key of a response: 64 bits of a hash, the same in every process.
/// A collision between two responses only makes them wait for each other.
fn response_key(project: &str, response: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(project.as_bytes());
    h.update([0]);
    h.update(response.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

fn lock_responses<'a>(
    tx: &mut postgres::Transaction<'_>,
    project: &str,
    responses: impl IntoIterator<Item = &'a str>,
) -> Attempt<()> {
    let mut keys: Vec<i64> = responses
        .into_iter()
        .map(|r| response_key(project, r))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    // unnest yields the (sorted) array in order, so locks are taken in key order.
    tx.execute(
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k",
        &[&keys],
    )?;
    Ok(())
}

/// Take `n` consecutive feed positions of `project`; the first is returned. The row
/// lock taken here is held until the transaction ends (see the module comment).
fn take_feed_positions(tx: &mut postgres::Transaction<'_>, project: &str, n: i64) -> Attempt<i64> {
    let last: i64 = tx
        .query_one(
            "INSERT INTO feeds (project, last) VALUES ($1, $2)
             ON CONFLICT (project) DO UPDATE SET last = feeds.last + excluded.last
             RETURNING last",
            &[&project, &n],
        )?
        .try_get(0)?;
    Ok(last - n + 1)
}

fn role_of(text: &str) -> Attempt<Role> {
    Role::parse(text)
        .ok_or_else(|| Fail::Other(Error::Schema(format!("unknown role `{text}` in users"))))
}

fn review_of(text: &str) -> ReviewState {
    match text {
        "hasIssues" => ReviewState::HasIssues,
        "approved" => ReviewState::Approved,
        "rejected" => ReviewState::Rejected,
        _ => ReviewState::Received,
    }
}

const USER_COLUMNS: &str = "name, role, password_hash, display_name, disabled_at";

/// A user from a row of `USER_COLUMNS`, with memberships (one without a role of its own
/// has the user's role).
fn user_row(c: &mut impl postgres::GenericClient, row: &Row) -> Attempt<User> {
    let name: String = row.try_get(0)?;
    let role = role_of(row.try_get(1)?)?;
    let mut memberships = Vec::new();
    for r in c.query(
        "SELECT project, role FROM memberships WHERE user_name = $1 ORDER BY project",
        &[&name],
    )? {
        let own: Option<&str> = r.try_get(1)?;
        memberships.push(Membership {
            project: r.try_get(0)?,
            role: own.and_then(Role::parse).unwrap_or(role),
        });
    }
    Ok(User {
        projects: memberships.iter().map(|m| m.project.clone()).collect(),
        memberships,
        name,
        role,
        password_hash: row.try_get(2)?,
        display_name: row.try_get(3)?,
        disabled: row.try_get::<_, Option<String>>(4)?.is_some(),
    })
}

fn load_user(c: &mut impl postgres::GenericClient, name: &str) -> Attempt<Option<User>> {
    let Some(row) = c.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"),
        &[&name],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(user_row(c, &row)?))
}

fn load_device(c: &mut impl postgres::GenericClient, id: &str) -> Attempt<Option<Device>> {
    let Some(row) = c.query_opt(
        "SELECT id, project, enumerator, revoked_at FROM devices WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Device {
        id: row.try_get(0)?,
        project: row.try_get(1)?,
        enumerator: row.try_get(2)?,
        revoked_at: row.try_get(3)?,
    }))
}

fn project_exists(c: &mut impl postgres::GenericClient, id: &str) -> Attempt<bool> {
    Ok(c.query_opt("SELECT 1 FROM projects WHERE id = $1", &[&id])?
        .is_some())
}

const RESPONSE_COLUMNS: &str =
    "feed_seq, state, device, enumerator, received_at, updated_at, review_state, quarantine";

fn stored_response(row: &Row) -> Attempt<StoredResponse> {
    let state: String = row.try_get(1)?;
    let review: String = row.try_get(6)?;
    let quarantine: String = row.try_get(7)?;
    Ok(StoredResponse {
        feed_seq: row.try_get(0)?,
        state: codec::decode(&state)?,
        device: row.try_get(2)?,
        enumerator: row.try_get(3)?,
        received_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
        review_state: review_of(&review),
        quarantine: serde_json::from_str(&quarantine)?,
    })
}

/// One attempt at ingesting a batch, in one transaction.
fn ingest_once(
    c: &mut Client,
    project: &str,
    uploader: &Uploader,
    batch: &[IncomingRevision],
    validator: &dyn Validator,
    indexes: &IndexCache,
    now: &str,
) -> Attempt<Vec<RecordAck>> {
    let mut tx = c.transaction()?;
    let valid = plan::well_formed(batch);
    let candidates = batch.iter().zip(&valid).filter(|(_, ok)| **ok);
    lock_responses(
        &mut tx,
        project,
        candidates
            .clone()
            .map(|(i, _)| i.revision.response.as_str()),
    )?;

    let ids: Vec<&str> = candidates
        .clone()
        .map(|(i, _)| i.revision.id.as_str())
        .collect();
    let mut stored: HashMap<String, String> = HashMap::new();
    for row in tx.query(
        "SELECT id, sha256 FROM revisions WHERE project = $1 AND id = ANY($2)",
        &[&project, &ids],
    )? {
        stored.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut response_ids: Vec<&str> = candidates
        .map(|(i, _)| i.revision.response.as_str())
        .collect();
    response_ids.sort_unstable();
    response_ids.dedup();
    let mut loaded: HashMap<String, Loaded> = HashMap::new();
    for row in tx.query(
        "SELECT id, state, device, enumerator, received_at, review_state, feed_seq FROM responses
         WHERE project = $1 AND id = ANY($2)",
        &[&project, &response_ids],
    )? {
        let state: String = row.try_get(1)?;
        loaded.insert(
            row.try_get(0)?,
            Loaded {
                state: codec::decode(&state)?,
                device: row.try_get(2)?,
                enumerator: row.try_get(3)?,
                received_at: row.try_get(4)?,
                review_state: row.try_get(5)?,
                feed_seq: row.try_get(6)?,
            },
        );
    }

    let pairs = plan::versions_needed(batch, loaded.values());
    let indexes = console::indexes(&mut tx, indexes, project, pairs)?;
    // The advisory locks keep these rows as read until the transaction ends, so the
    // plan cannot go stale (unlike SQLite's optimistic plan).
    let Plan {
        acks,
        accepted,
        changed,
        deltas,
    } = plan::plan(
        &plan::Ingest {
            project,
            uploader,
            validator,
            now,
            indexes: &indexes,
        },
        batch,
        &valid,
        &stored,
        loaded,
    )?;

    if !accepted.is_empty() {
        let mut ids = Vec::with_capacity(accepted.len());
        let mut responses = Vec::with_capacity(accepted.len());
        let mut actors = Vec::with_capacity(accepted.len());
        let mut seqs = Vec::with_capacity(accepted.len());
        let mut shas = Vec::with_capacity(accepted.len());
        let mut bodies = Vec::with_capacity(accepted.len());
        for incoming in &accepted {
            let rev = &incoming.revision;
            ids.push(rev.id.as_str());
            responses.push(rev.response.as_str());
            actors.push(rev.actor.as_str());
            seqs.push(i64::try_from(rev.seq).map_err(|_| {
                Fail::Other(Error::Invalid(format!(
                    "revision {}: edit number {} is out of range",
                    rev.id, rev.seq
                )))
            })?);
            shas.push(incoming.sha256.as_str());
            bodies.push(incoming.body.as_str());
        }
        let inserted = tx.execute(
            "INSERT INTO revisions (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
             SELECT r.id, $1, r.response_id, r.actor, r.seq, r.sha256, r.body, $2, $3
             FROM unnest($4::text[], $5::text[], $6::text[], $7::int8[], $8::text[], $9::text[])
                  WITH ORDINALITY AS r(id, response_id, actor, seq, sha256, body, n)
             ORDER BY r.n
             ON CONFLICT (project, id) DO NOTHING",
            &[&project, &uploader.id, &now, &ids, &responses, &actors, &seqs, &shas, &bodies],
        )?;
        if inserted != accepted.len() as u64 {
            // Another transaction committed one of these ids meanwhile (for a response
            // we did not lock). A fresh attempt sees it and acknowledges accordingly.
            return Err(Fail::Retry);
        }
    }

    if !changed.is_empty() {
        let n = changed.len();
        let mut ids = Vec::with_capacity(n);
        let mut forms = Vec::with_capacity(n);
        let mut versions = Vec::with_capacity(n);
        let mut devices = Vec::with_capacity(n);
        let mut enumerators = Vec::with_capacity(n);
        let mut states = Vec::with_capacity(n);
        let mut quarantines = Vec::with_capacity(n);
        let mut conflicts = Vec::with_capacity(n);
        let mut reviews = Vec::with_capacity(n);
        let mut received = Vec::with_capacity(n);
        for c in &changed {
            ids.push(c.id.as_str());
            forms.push(c.form.as_str());
            versions.push(c.version.as_str());
            devices.push(c.device.as_str());
            enumerators.push(c.enumerator.as_str());
            states.push(c.state.as_str());
            quarantines.push(c.quarantine.as_str());
            conflicts.push(c.conflict);
            reviews.push(c.review_state.as_str());
            received.push(c.received_at.as_str());
        }
        // Validation and encoding happened above, so the serialized tail stays short.
        let first = take_feed_positions(&mut tx, project, n as i64)?;
        let positions: Vec<i64> = (first..first + n as i64).collect();
        tx.execute(
            "INSERT INTO responses (project, id, form, version, device, enumerator, state, quarantine,
                 conflict, review_state, received_at, updated_at, feed_seq)
             SELECT $1, r.id, r.form, r.version, r.device, r.enumerator, r.state, r.quarantine,
                 r.conflict, r.review_state, r.received_at, $2, r.feed_seq
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::text[], $10::bool[], $11::text[], $12::text[], $13::int8[])
                  AS r(id, form, version, device, enumerator, state, quarantine, conflict,
                       review_state, received_at, feed_seq)
             ON CONFLICT (project, id) DO UPDATE SET version = excluded.version, state = excluded.state,
                 quarantine = excluded.quarantine, conflict = excluded.conflict,
                 updated_at = excluded.updated_at, feed_seq = excluded.feed_seq",
            &[
                &project,
                &now,
                &ids,
                &forms,
                &versions,
                &devices,
                &enumerators,
                &states,
                &quarantines,
                &conflicts,
                &reviews,
                &received,
                &positions,
            ],
        )?;
    }
    // After the feed row: ingests of the project reach the counts one at a time.
    console::write_projection(&mut tx, project, &changed, deltas, now)?;
    tx.commit()?;
    Ok(acks)
}

impl Store for PostgresStore {
    fn add_project(&self, id: &str, title: &str, now: &str) -> Result<()> {
        self.run(|c| {
            let n = c.execute(
                "INSERT INTO projects (id, title, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&id, &title, &now],
            )?;
            if n == 0 {
                return Err(Fail::Other(Error::Conflict(format!(
                    "project `{id}` already exists"
                ))));
            }
            Ok(())
        })
    }

    fn project_exists(&self, id: &str) -> Result<bool> {
        self.run(|c| project_exists(c, id))
    }

    fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()> {
        self.run(|c| {
            let n = c.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&name, &role.as_str(), &password_hash, &now],
            )?;
            if n == 0 {
                return Err(Fail::Other(Error::Conflict(format!(
                    "user `{name}` already exists"
                ))));
            }
            Ok(())
        })
    }

    fn add_membership(&self, user: &str, project: &str) -> Result<()> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            if tx
                .query_opt("SELECT 1 FROM users WHERE name = $1", &[&user])?
                .is_none()
            {
                return Err(Fail::Other(Error::NotFound(format!("no user `{user}`"))));
            }
            if !project_exists(&mut tx, project)? {
                return Err(Fail::Other(Error::NotFound(format!(
                    "no project `{project}`"
                ))));
            }
            tx.execute(
                "INSERT INTO memberships (user_name, project) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&user, &project],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn find_user(&self, name: &str) -> Result<Option<User>> {
        self.run(|c| load_user(c, name))
    }

    fn add_labelled_device(
        &self,
        device: &Device,
        label: Option<&str>,
        code_hash: &str,
        code_expires_at: &str,
        now: &str,
    ) -> Result<()> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            if !project_exists(&mut tx, &device.project)? {
                return Err(Fail::Other(Error::NotFound(format!(
                    "no project `{}`",
                    device.project
                ))));
            }
            let n = tx.execute(
                "INSERT INTO devices (id, project, enumerator, code_hash, code_expires_at, created_at, label)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &device.id,
                    &device.project,
                    &device.enumerator,
                    &code_hash,
                    &code_expires_at,
                    &now,
                    &label,
                ],
            )?;
            if n == 0 {
                return Err(Fail::Other(Error::Conflict(format!(
                    "device `{}` already exists",
                    device.id
                ))));
            }
            tx.commit()?;
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
        self.run(|c| {
            let mut tx = c.transaction()?;
            // One use only: clearing the code in the same statement that finds it means
            // two servers redeeming the same code at once cannot both succeed.
            let Some(row) = tx.query_opt(
                "UPDATE devices SET code_hash = NULL, code_expires_at = NULL
                 WHERE code_hash = $1 AND code_expires_at > $2 AND revoked_at IS NULL
                 RETURNING id",
                &[&code_hash, &now],
            )?
            else {
                return Ok(None);
            };
            let id: String = row.try_get(0)?;
            tx.execute(
                "INSERT INTO tokens (hash, device_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
                &[&token_hash, &id, &token_expires_at, &now],
            )?;
            let device = load_device(&mut tx, &id)?;
            tx.commit()?;
            Ok(device)
        })
    }

    fn revoke_device(&self, device_id: &str, now: &str) -> Result<bool> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2), code_hash = NULL WHERE id = $1",
                &[&device_id, &now],
            )?;
            tx.execute(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE device_id = $1",
                &[&device_id, &now],
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
        self.run(|c| {
            c.execute(
                "INSERT INTO tokens (hash, user_name, device_id, expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&token_hash, &user, &device, &expires_at, &now],
            )?;
            Ok(())
        })
    }

    fn find_token(&self, token_hash: &str) -> Result<Option<TokenInfo>> {
        self.run(|c| {
            let Some(row) = c.query_opt(
                "SELECT user_name, device_id, expires_at, revoked_at FROM tokens WHERE hash = $1",
                &[&token_hash],
            )?
            else {
                return Ok(None);
            };
            let user: Option<String> = row.try_get(0)?;
            let device: Option<String> = row.try_get(1)?;
            let principal = match (user, device) {
                (Some(u), _) => load_user(c, &u)?.map(Principal::User),
                (None, Some(d)) => load_device(c, &d)?.map(Principal::Device),
                (None, None) => None,
            };
            Ok(match principal {
                Some(principal) => Some(TokenInfo {
                    principal,
                    expires_at: row.try_get(2)?,
                    revoked_at: row.try_get(3)?,
                }),
                None => None,
            })
        })
    }

    fn revoke_token(&self, token_hash: &str, now: &str) -> Result<bool> {
        self.run(|c| {
            Ok(c.execute(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE hash = $1",
                &[&token_hash, &now],
            )? > 0)
        })
    }

    fn publish_form(&self, form: &FormVersion) -> Result<Published> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            let inserted = tx.execute(
                "INSERT INTO form_versions (project, form, version, title, sha256, document, published_at, published_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                &[
                    &form.project,
                    &form.form,
                    &form.version,
                    &form.title,
                    &form.sha256,
                    &form.document,
                    &form.published_at,
                    &form.published_by,
                ],
            )?;
            if inserted == 1 {
                tx.commit()?;
                return Ok(Published::New);
            }
            let sha: String = tx
                .query_one(
                    "SELECT sha256 FROM form_versions WHERE project = $1 AND form = $2 AND version = $3",
                    &[&form.project, &form.form, &form.version],
                )?
                .try_get(0)?;
            if sha == form.sha256 {
                Ok(Published::AlreadyIdentical)
            } else {
                Err(Fail::Other(Error::Conflict(format!(
                    "form `{}` version `{}` is already published with different content; every change needs a new version",
                    form.form, form.version
                ))))
            }
        })
    }

    fn list_forms(&self, project: &str) -> Result<Vec<FormVersionSummary>> {
        self.run(|c| {
            c.query(
                "SELECT form, version, title, published_at, sha256 FROM form_versions
                 WHERE project = $1 ORDER BY form, published_at, version",
                &[&project],
            )?
            .iter()
            .map(|r| {
                Ok(FormVersionSummary {
                    form: r.try_get(0)?,
                    version: r.try_get(1)?,
                    title: r.try_get(2)?,
                    published_at: r.try_get(3)?,
                    sha256: r.try_get(4)?,
                })
            })
            .collect()
        })
    }

    fn get_form(&self, project: &str, form: &str, version: &str) -> Result<Option<FormVersion>> {
        self.run(|c| {
            let Some(r) = c.query_opt(
                "SELECT title, sha256, document, published_at, published_by FROM form_versions
                 WHERE project = $1 AND form = $2 AND version = $3",
                &[&project, &form, &version],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(FormVersion {
                project: project.to_owned(),
                form: form.to_owned(),
                version: version.to_owned(),
                title: r.try_get(0)?,
                sha256: r.try_get(1)?,
                document: r.try_get(2)?,
                published_at: r.try_get(3)?,
                published_by: r.try_get(4)?,
            }))
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
        self.run(|c| ingest_once(c, project, uploader, batch, validator, &self.indexes, now))
    }

    fn known_revisions(&self, project: &str, ids: &[String]) -> Result<Vec<String>> {
        self.run(|c| {
            let found: HashSet<String> = c
                .query(
                    "SELECT id FROM revisions WHERE project = $1 AND id = ANY($2)",
                    &[&project, &ids],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            Ok(ids
                .iter()
                .filter(|id| found.contains(*id))
                .cloned()
                .collect())
        })
    }

    fn pull(&self, project: &str, after: i64, limit: usize) -> Result<Vec<StoredResponse>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|c| {
            c.query(
                &format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = $1 AND feed_seq > $2
                     ORDER BY feed_seq LIMIT $3"
                ),
                &[&project, &after, &limit],
            )?
            .iter()
            .map(stored_response)
            .collect()
        })
    }

    fn pull_form(
        &self,
        project: &str,
        form: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|c| {
            c.query(
                &format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = $1 AND form = $2 AND feed_seq > $3
                     ORDER BY feed_seq LIMIT $4"
                ),
                &[&project, &form, &after, &limit],
            )?
            .iter()
            .map(stored_response)
            .collect()
        })
    }

    fn get_response(&self, project: &str, id: &str) -> Result<Option<StoredResponse>> {
        self.run(|c| {
            c.query_opt(
                &format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = $1 AND id = $2"),
                &[&project, &id],
            )?
            .as_ref()
            .map(stored_response)
            .transpose()
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
        self.run(|c| {
            let mut tx = c.transaction()?;
            lock_responses(&mut tx, project, ids.iter().map(String::as_str))?;
            let found: HashSet<String> = tx
                .query(
                    "SELECT id FROM responses WHERE project = $1 AND id = ANY($2)",
                    &[&project, &ids],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            // In the order given, each once.
            let mut seen = HashSet::new();
            let to_set: Vec<&str> = ids
                .iter()
                .filter(|id| found.contains(*id) && seen.insert(id.as_str()))
                .map(String::as_str)
                .collect();
            if !to_set.is_empty() {
                let first = take_feed_positions(&mut tx, project, to_set.len() as i64)?;
                console::record_reviews(&mut tx, project, &to_set, first, state, comment, by, now)?;
            }
            tx.commit()?;
            Ok(ids.iter().map(|id| found.contains(id)).collect())
        })
    }

    fn reviews_of(&self, project: &str, response: &str) -> Result<Vec<ReviewEntry>> {
        self.run(|c| Ok(console::reviews_of(c, project, response)?))
    }

    fn list_projects(&self) -> Result<Vec<(String, String)>> {
        self.run(|c| {
            c.query("SELECT id, title FROM projects ORDER BY id", &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }

    fn table(&self, project: &str, query: &TableQuery) -> Result<TablePage> {
        self.run(|c| {
            // One snapshot for the page and its count.
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let page = console::table(&mut tx, project, query)?;
            tx.commit()?;
            Ok(page)
        })
    }

    fn overview(&self, project: &str, today: &str, week_start: &str) -> Result<Overview> {
        self.run(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let overview = console::overview(&mut tx, project, today, week_start)?;
            tx.commit()?;
            Ok(overview)
        })
    }

    fn dashboard_counts(
        &self,
        project: &str,
        form: &str,
        version: Option<&str>,
    ) -> Result<DashboardCounts> {
        self.run(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let counts = console::dashboard_counts(&mut tx, project, form, version)?;
            tx.commit()?;
            Ok(counts)
        })
    }

    fn map_cells(&self, project: &str, form: &str, precision: u32) -> Result<Vec<MapCell>> {
        self.run(|c| Ok(console::map_cells(c, project, form, precision)?))
    }

    fn count_form(&self, project: &str, form: &str, after: i64) -> Result<u64> {
        self.run(|c| Ok(console::count_form(c, project, form, after)?))
    }

    fn list_devices(&self, project: &str) -> Result<Vec<DeviceInfo>> {
        self.run(|c| Ok(console::list_devices(c, project)?))
    }

    fn touch_device(
        &self,
        id: &str,
        now: &str,
        app_version: Option<&str>,
        pending: Option<i64>,
    ) -> Result<()> {
        self.run(|c| {
            c.execute(
                "UPDATE devices SET last_seen_at = $2, app_version = COALESCE($3, app_version),
                     pending = COALESCE($4, pending) WHERE id = $1",
                &[&id, &now, &app_version, &pending],
            )?;
            Ok(())
        })
    }

    fn list_users(&self) -> Result<Vec<User>> {
        self.run(|c| {
            let rows = c.query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
                &[],
            )?;
            rows.iter().map(|row| user_row(c, row)).collect()
        })
    }

    fn update_user(&self, name: &str, changes: &UserChanges, now: &str) -> Result<Option<User>> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            if tx
                .query_opt("SELECT 1 FROM users WHERE name = $1 FOR UPDATE", &[&name])?
                .is_none()
            {
                return Ok(None);
            }
            if let Some(display) = &changes.display_name {
                tx.execute(
                    "UPDATE users SET display_name = $2 WHERE name = $1",
                    &[&name, display],
                )?;
            }
            if let Some(hash) = &changes.password_hash {
                tx.execute(
                    "UPDATE users SET password_hash = $2 WHERE name = $1",
                    &[&name, hash],
                )?;
            }
            if let Some(disabled) = changes.disabled {
                tx.execute(
                    "UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) END
                     WHERE name = $1",
                    &[&name, &disabled, &now],
                )?;
            }
            if changes.password_hash.is_some() || changes.disabled == Some(true) {
                tx.execute(
                    "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE user_name = $1",
                    &[&name, &now],
                )?;
            }
            let user = load_user(&mut tx, name)?;
            tx.commit()?;
            Ok(user)
        })
    }

    fn set_membership(&self, user: &str, project: &str, role: Role) -> Result<()> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            if tx
                .query_opt("SELECT 1 FROM users WHERE name = $1", &[&user])?
                .is_none()
            {
                return Err(Fail::Other(Error::NotFound(format!("no user `{user}`"))));
            }
            if !project_exists(&mut tx, project)? {
                return Err(Fail::Other(Error::NotFound(format!(
                    "no project `{project}`"
                ))));
            }
            tx.execute(
                "INSERT INTO memberships (user_name, project, role) VALUES ($1, $2, $3)
                 ON CONFLICT (user_name, project) DO UPDATE SET role = excluded.role",
                &[&user, &project, &role.as_str()],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn remove_membership(&self, user: &str, project: &str) -> Result<bool> {
        self.run(|c| {
            Ok(c.execute(
                "DELETE FROM memberships WHERE user_name = $1 AND project = $2",
                &[&user, &project],
            )? > 0)
        })
    }

    fn revisions_of(&self, project: &str, response: &str) -> Result<Vec<String>> {
        self.run(|c| {
            c.query(
                "SELECT body FROM revisions WHERE project = $1 AND response_id = $2 ORDER BY arrival",
                &[&project, &response],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
        })
    }

    fn attachment_status(&self, project: &str, sha256: &str) -> Result<Option<AttachmentStatus>> {
        self.run(|c| attachment_row(c, project, sha256, false))
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
        self.run(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO attachments (project, sha256, size, received, complete, created_at)
                 VALUES ($1, $2, $3, 0, FALSE, $4) ON CONFLICT DO NOTHING",
                &[&project, &sha256, &(size as i64), &now],
            )?;
            // The row lock serializes chunks of one file across server processes.
            let status = attachment_row(&mut tx, project, sha256, true)?.ok_or_else(|| {
                Fail::Other(Error::NotFound(format!("attachment {sha256} vanished")))
            })?;
            if status.size != size {
                return Err(Fail::Other(Error::Conflict(format!(
                    "attachment {sha256} was started with size {}, not {size}",
                    status.size
                ))));
            }
            if status.complete || offset != status.received {
                tx.commit()?;
                return Ok(ChunkOutcome::OffsetMismatch(status));
            }
            let end = offset + data.len() as u64;
            if end > size {
                return Err(Fail::Other(Error::Invalid(format!(
                    "the chunk ends at byte {end}, past the declared size {size}"
                ))));
            }
            if !data.is_empty() {
                tx.execute(
                    "INSERT INTO attachment_chunks (project, sha256, \"offset\", data) VALUES ($1, $2, $3, $4)",
                    &[&project, &sha256, &(offset as i64), &data],
                )?;
                tx.execute(
                    "UPDATE attachments SET received = $3 WHERE project = $1 AND sha256 = $2",
                    &[&project, &sha256, &(end as i64)],
                )?;
            }
            tx.commit()?;
            Ok(ChunkOutcome::Stored(AttachmentStatus {
                received: end,
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
        self.run(|c| {
            let mut out = Vec::new();
            let mut at = offset as i64;
            // One chunk at a time, so a large file is never loaded at once.
            while (out.len() as u64) < max_bytes {
                let row = c.query_opt(
                    "SELECT \"offset\", data FROM attachment_chunks
                     WHERE project = $1 AND sha256 = $2 AND \"offset\" + length(data) > $3
                     ORDER BY \"offset\" LIMIT 1",
                    &[&project, &sha256, &at],
                )?;
                let Some(row) = row else { break };
                let start: i64 = row.try_get(0)?;
                let data: Vec<u8> = row.try_get(1)?;
                let skip = (at - start).max(0) as usize;
                out.extend_from_slice(&data[skip.min(data.len())..]);
                at = start + data.len() as i64;
            }
            Ok(out)
        })
    }

    fn complete_attachment(&self, project: &str, sha256: &str, now: &str) -> Result<()> {
        self.run(|c| {
            c.execute(
                "UPDATE attachments SET complete = TRUE, completed_at = $3 WHERE project = $1 AND sha256 = $2",
                &[&project, &sha256, &now],
            )?;
            Ok(())
        })
    }

    fn discard_attachment(&self, project: &str, sha256: &str) -> Result<()> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            // A complete (verified) attachment is never discarded.
            let pending = tx.execute(
                "DELETE FROM attachments WHERE project = $1 AND sha256 = $2 AND NOT complete",
                &[&project, &sha256],
            )?;
            if pending > 0 {
                tx.execute(
                    "DELETE FROM attachment_chunks WHERE project = $1 AND sha256 = $2",
                    &[&project, &sha256],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

fn attachment_row(
    c: &mut impl postgres::GenericClient,
    project: &str,
    sha256: &str,
    lock: bool,
) -> Attempt<Option<AttachmentStatus>> {
    let sql = if lock {
        "SELECT size, received, complete FROM attachments WHERE project = $1 AND sha256 = $2 FOR UPDATE"
    } else {
        "SELECT size, received, complete FROM attachments WHERE project = $1 AND sha256 = $2"
    };
    let row = c.query_opt(sql, &[&project, &sha256])?;
    row.map(|r| {
        Ok(AttachmentStatus {
            sha256: sha256.to_owned(),
            size: r.try_get::<_, i64>(0)? as u64,
            received: r.try_get::<_, i64>(1)? as u64,
            complete: r.try_get(2)?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 4 moves the primary key of `revisions` to (project, id): a database
    /// written at schema 3 keeps every revision in arrival order and then takes an id
    /// again in another project, not twice in the same one.
    #[test]
    fn scoping_revision_ids_per_project_keeps_stored_revisions_in_order() {
        let admin = std::env::var("VOICES_TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "VOICES_TEST_DATABASE_URL is not set: run `scripts/with-postgres.sh cargo test -p voices-server`"
                )
            });
        let (server, _) = admin
            .split('?')
            .next()
            .and_then(|base| base.rsplit_once('/'))
            .expect("VOICES_TEST_DATABASE_URL names a database");
        let name = format!("voices_upgrade_{}", std::process::id());
        let url = format!("{server}/{name}");
        let mut admin_client = Client::connect(&admin, postgres::NoTls).unwrap();
        // A leftover of an interrupted run is dropped first (one statement each: neither
        // may run inside a multi-statement transaction).
        admin_client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin_client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();

        let mut old = Client::connect(&url, postgres::NoTls).unwrap();
        old.batch_execute(
            "CREATE TABLE voices_schema_migrations (
                 version INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .unwrap();
        for (i, sql) in MIGRATIONS[..3].iter().enumerate() {
            old.batch_execute(sql).unwrap();
            old.execute(
                "INSERT INTO voices_schema_migrations (version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .unwrap();
        }
        let insert = "INSERT INTO revisions
            (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
            VALUES ($1, $2, 'r1', 'a', 1, 'sha', $3, 'dev', 'now') ON CONFLICT DO NOTHING";
        // Ids that sort the other way round than they arrived.
        for id in ["z", "m", "a"] {
            old.execute(insert, &[&id, &"p1", &format!("body {id}")])
                .unwrap();
        }
        drop(old);

        let store = PostgresStore::open_with_pool_size(&url, 2).unwrap();
        assert_eq!(
            store.revisions_of("p1", "r1").unwrap(),
            ["body z", "body m", "body a"]
        );
        drop(store);
        let mut upgraded = Client::connect(&url, postgres::NoTls).unwrap();
        let applied: i64 = upgraded
            .query_one("SELECT count(*) FROM voices_schema_migrations", &[])
            .unwrap()
            .get(0);
        assert_eq!(applied as usize, SCHEMA_VERSION);
        assert_eq!(
            upgraded
                .execute(insert, &[&"z", &"p2", &"elsewhere"])
                .unwrap(),
            1
        );
        assert_eq!(
            upgraded.execute(insert, &[&"z", &"p1", &"again"]).unwrap(),
            0
        );
        drop(upgraded);
        let _ = admin_client.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"));
    }
}
