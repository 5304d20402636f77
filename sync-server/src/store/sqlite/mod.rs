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
//! Feed positions (the pull cursor) are counted per project, so that a cursor says
//! nothing about other projects, and taken inside the serialized write transaction as
//! the project's `MAX(feed_seq) + 1`. A position is therefore never visible before every
//! lower position is committed, and a reader can never skip a row that commits later.
//! Rows are never deleted, so the maximum never goes down.

mod access;
mod attachments;
mod console;
mod ingest;
mod migrations;
mod readers;
mod referrals;
mod review;
mod teams;
mod withdrawal;

use std::path::Path;
use std::sync::{Condvar, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use voices_core::sync::protocol::{DevicePolicy, FormVersionSummary, RecordAck};

use super::access::{AuditEntry, AuditQuery, AuditRecord, ProjectKey};
use super::plan::Ingest;
use super::projection::IndexCache;
use super::shared::{self, Chunk, ResponseRow, TokenRow, RESPONSE_COLUMNS};
use super::{
    AttachmentStatus, ChunkOutcome, DashboardCounts, Decision, Device, DeviceFeedRow, DeviceInfo,
    FormVersion, IncomingRevision, MapCell, Membership, Overview, Published, PublishedDirectory,
    ReviewEntry, Role, Scope, Store, StoredResponse, TablePage, TableQuery, Team, TeamChange,
    TokenInfo, TokenSubject, Uploader, User, UserChanges, Validator, Withdrawal,
    DEFAULT_WITHDRAWN_KEEP_DAYS,
};
use crate::{Backend, Error, Result};

/// The highest feed position of `project` (0 before its first response); a writer takes
/// the ones after it inside its write transaction.
fn last_feed_position(tx: &Connection, project: &str) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(MAX(feed_seq), 0) FROM responses WHERE project = ?1",
        [project],
        |r| r.get(0),
    )?)
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Backend {
            backend: Backend::Sqlite,
            source: Box::new(e),
        }
    }
}

/// Reader connections open at most ([`readers::ReaderPool`]).
const READERS: usize = 8;

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: readers::ReaderPool,
    /// Batches being planned at once (see `PLANNERS`).
    planning: Mutex<usize>,
    plan_slot_freed: Condvar,
    /// Form indexes for the console's projection.
    indexes: IndexCache,
}

/// At most this many batches are planned at once. Planning is CPU work: with 64 devices
/// uploading together, more planners than cores only add reader connections, memory and
/// thread switches, while the writer waits for plans all the same. Half the readers at
/// most, so that short reads (a token, a status) always find one.
fn planners() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, READERS / 2))
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // `synchronous = FULL`: every commit waits for the WAL's fsync, so an acknowledged
    // revision survives a power cut, not only a crash of the process (with NORMAL a WAL
    // commit may roll back after power loss — an ack would then have been a lie).
    // `secure_delete`: what a purge deletes (a withdrawn response's answers, their
    // ciphertexts, its files) is overwritten with zeros in the file, not left in free
    // space for anyone who copies it.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -32000;",
    )?;
    Ok(())
}

impl SqliteStore {
    /// Open (creating if needed) the database file and bring its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrations::migrate(&mut writer)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers: readers::ReaderPool::new(path, READERS),
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
        self.readers.read(f)
    }
}

/// A user's memberships; one without a role of its own has the user's role.
fn memberships_of(conn: &Connection, user: &str, role: Role) -> Result<Vec<Membership>> {
    let mut stmt = conn.prepare_cached(
        "SELECT project, role, read_pii, teams_only FROM memberships WHERE user_name = ?1
         ORDER BY project",
    )?;
    let rows = stmt.query_map([user], |r| {
        let own: Option<String> = r.get(1)?;
        Ok((
            r.get::<_, String>(0)?,
            own.as_deref().and_then(Role::parse).unwrap_or(role),
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut memberships = Vec::with_capacity(rows.len());
    for (project, role, read_pii, teams_only) in rows {
        let teams = match teams_only {
            true => Some(teams::limits_of(conn, user, &project)?),
            false => None,
        };
        memberships.push(Membership {
            project,
            role,
            read_pii,
            teams,
        });
    }
    Ok(memberships)
}

const USER_COLUMNS: &str = "name, role, password_hash, display_name, disabled_at";

fn user_row(conn: &Connection, r: &rusqlite::Row<'_>) -> Result<User> {
    let name: String = r.get(0)?;
    let role = shared::role(&r.get::<_, String>(1)?)?;
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
            "SELECT id, project, enumerator, revoked_at, wipe_requested_at FROM devices WHERE id = ?1",
            [id],
            |r| {
                Ok(Device {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    enumerator: r.get(2)?,
                    revoked_at: r.get(3)?,
                    wipe_requested_at: r.get(4)?,
                })
            },
        )
        .optional()?)
}

fn response_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ResponseRow> {
    Ok(ResponseRow {
        feed_seq: r.get(0)?,
        state: r.get(1)?,
        device: r.get(2)?,
        enumerator: r.get(3)?,
        received_at: r.get(4)?,
        updated_at: r.get(5)?,
        review_state: r.get(6)?,
        quarantine: r.get(7)?,
    })
}

fn project_exists(c: &Connection, id: &str) -> Result<bool> {
    Ok(
        c.query_row("SELECT 1 FROM projects WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

impl Store for SqliteStore {
    fn add_project(&self, id: &str, title: &str, now: &str) -> Result<()> {
        self.write(|c| {
            let n = c.execute(
                "INSERT INTO projects (id, title, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![id, title, now],
            )?;
            if n == 0 {
                return Err(shared::project_exists(id));
            }
            Ok(())
        })
    }

    fn project_exists(&self, id: &str) -> Result<bool> {
        self.read(|c| project_exists(c, id))
    }

    fn device_policy(&self, project: &str) -> Result<Option<DevicePolicy>> {
        self.read(|c| {
            let row: Option<(Option<u32>, Option<u32>)> = c
                .query_row(
                    "SELECT device_idle_lock_seconds, device_retention_days FROM projects WHERE id = ?1",
                    [project],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(row.map(|(idle, retention)| DevicePolicy {
                idle_lock_seconds: idle.unwrap_or(DevicePolicy::DEFAULT_IDLE_LOCK_SECONDS),
                retention_days: retention.unwrap_or(DevicePolicy::DEFAULT_RETENTION_DAYS),
            }))
        })
    }

    fn set_device_policy(&self, project: &str, policy: &DevicePolicy) -> Result<bool> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE projects SET device_idle_lock_seconds = ?2, device_retention_days = ?3 WHERE id = ?1",
                params![project, policy.idle_lock_seconds, policy.retention_days],
            )?;
            Ok(n > 0)
        })
    }

    fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()> {
        self.write(|c| {
            let n = c.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![name, role.as_str(), password_hash, now],
            )?;
            if n == 0 {
                return Err(shared::user_exists(name));
            }
            Ok(())
        })
    }

    fn add_membership(&self, user: &str, project: &str) -> Result<()> {
        self.write(|c| {
            if load_user(c, user)?.is_none() {
                return Err(shared::no_user(user));
            }
            if !project_exists(c, project)? {
                return Err(shared::no_project(project));
            }
            c.execute(
                "INSERT INTO memberships (user_name, project) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![user, project],
            )?;
            Ok(())
        })
    }

    fn remove_membership(&self, user: &str, project: &str) -> Result<bool> {
        self.write(|c| {
            let tx = c.transaction()?;
            // A member added again starts unlimited, as any new member.
            tx.execute(
                "DELETE FROM membership_teams WHERE user_name = ?1 AND project = ?2",
                params![user, project],
            )?;
            let removed = tx.execute(
                "DELETE FROM memberships WHERE user_name = ?1 AND project = ?2",
                params![user, project],
            )? > 0;
            tx.commit()?;
            Ok(removed)
        })
    }

    fn find_user(&self, name: &str) -> Result<Option<User>> {
        self.read(|c| load_user(c, name))
    }

    fn set_password(&self, user: &str, password_hash: &str, now: &str) -> Result<bool> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                params![user, password_hash],
            )?;
            tx.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE user_name = ?1 AND revoked_at IS NULL",
                params![user, now],
            )?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn revoke_user_tokens(&self, user: &str, now: &str) -> Result<u64> {
        self.write(|c| {
            Ok(c.execute(
                "UPDATE tokens SET revoked_at = ?2
                 WHERE user_name = ?1 AND revoked_at IS NULL AND expires_at > ?2",
                params![user, now],
            )? as u64)
        })
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
            if !project_exists(c, &device.project)? {
                return Err(shared::no_project(&device.project));
            }
            let n = c.execute(
                "INSERT INTO devices (id, project, enumerator, code_hash, code_expires_at, created_at, label)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                params![device.id, device.project, device.enumerator, code_hash, code_expires_at, now, label],
            )?;
            if n == 0 {
                return Err(shared::device_exists(&device.id));
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

    fn revoke_device_with_wipe(&self, device_id: &str, now: &str) -> Result<bool> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2), code_hash = NULL,
                    wipe_requested_at = COALESCE(wipe_requested_at, ?2) WHERE id = ?1",
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
        let (user, device) = shared::token_columns(subject);
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
                        Ok(TokenRow {
                            user: r.get(0)?,
                            device: r.get(1)?,
                            expires_at: r.get(2)?,
                            revoked_at: r.get(3)?,
                        })
                    },
                )
                .optional()?;
            match row {
                Some(row) => row.principal(&mut &*c, |c, u| load_user(c, u), |c, d| load_device(c, d)),
                None => Ok(None),
            }
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
            if let Some(sha) = existing {
                return shared::already_published(form, &sha);
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
                    recipients: Vec::new(),
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
        let ingest = Ingest {
            project,
            uploader,
            validator,
            now,
        };
        ingest::ingest(self, &ingest, batch)
    }

    fn known_revisions_in(
        &self,
        project: &str,
        scope: &Scope,
        ids: &[String],
    ) -> Result<Vec<String>> {
        self.read(|c| {
            // `?1` is the project, as `teams::seen` expects.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT 1 FROM revisions v WHERE v.project = ?1 AND v.id = ?2
                     AND (?3 IS NULL OR EXISTS (SELECT 1 FROM responses r
                         WHERE r.project = v.project AND r.id = v.response_id AND {}))",
                teams::seen("r.device", "?3")
            ))?;
            let mut known = Vec::new();
            for id in ids {
                if stmt
                    .query_row(params![project, id, scope.limited_to()], |_| Ok(()))
                    .optional()?
                    .is_some()
                {
                    known.push(id.clone());
                }
            }
            Ok(known)
        })
    }

    fn pull_in(
        &self,
        project: &str,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = ?1 AND feed_seq > ?2
                     AND withdrawn_at IS NULL AND {}
                 ORDER BY feed_seq LIMIT ?3",
                teams::seen("device", "?4")
            ))?;
            let rows = stmt.query_map(
                params![project, after, limit as i64, scope.limited_to()],
                response_row,
            )?;
            rows.map(|row| row?.decode()).collect()
        })
    }

    fn pull_form_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = ?1 AND form = ?2 AND feed_seq > ?3
                     AND withdrawn_at IS NULL AND {}
                 ORDER BY feed_seq LIMIT ?4",
                teams::seen("device", "?5")
            ))?;
            let rows = stmt.query_map(
                params![project, form, after, limit as i64, scope.limited_to()],
                response_row,
            )?;
            rows.map(|row| row?.decode()).collect()
        })
    }

    fn get_response_in(
        &self,
        project: &str,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<StoredResponse>> {
        self.read(|c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = ?1 AND id = ?2
                             AND {}",
                        teams::seen("device", "?3")
                    ),
                    params![project, id, scope.limited_to()],
                    response_row,
                )
                .optional()?;
            row.map(ResponseRow::decode).transpose()
        })
    }

    fn visible_responses(&self, project: &str, scope: &Scope, ids: &[String]) -> Result<Vec<bool>> {
        self.read(|c| teams::visible(c, project, scope, ids))
    }

    fn review(
        &self,
        project: &str,
        ids: &[String],
        decision: &Decision<'_>,
        now: &str,
    ) -> Result<Vec<bool>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = review::review(&tx, project, ids, decision, now)?;
            tx.commit()?;
            Ok(found)
        })
    }

    fn reviews_of(&self, project: &str, response: &str) -> Result<Vec<ReviewEntry>> {
        self.read(|c| review::reviews_of(c, project, response))
    }

    fn device_feed(
        &self,
        project: &str,
        device: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<DeviceFeedRow>> {
        self.read(|c| {
            // One snapshot for the rows and their reviews and edits.
            let snapshot = c.unchecked_transaction()?;
            review::device_feed(&snapshot, project, device, after, limit)
        })
    }

    fn publish_directory(
        &self,
        project: &str,
        document: &str,
        sha256: &str,
        by: &str,
        now: &str,
    ) -> Result<Option<(PublishedDirectory, Published)>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let done = referrals::publish(&tx, project, document, sha256, by, now)?;
            tx.commit()?;
            Ok(done)
        })
    }

    fn directory(&self, project: &str) -> Result<Option<PublishedDirectory>> {
        self.read(|c| referrals::latest(c, project))
    }

    fn withdraw(
        &self,
        project: &str,
        id: &str,
        reason: Option<&str>,
        by: &str,
        now: &str,
    ) -> Result<Option<Withdrawal>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let done = withdrawal::withdraw(&tx, &self.indexes, project, id, reason, by, now)?;
            tx.commit()?;
            Ok(done)
        })
    }

    fn withdrawal_of(&self, project: &str, id: &str) -> Result<Option<Withdrawal>> {
        self.read(|c| withdrawal::withdrawal_of(c, project, id))
    }

    fn withdrawn_keep_days(&self, project: &str) -> Result<Option<u32>> {
        let days = self.read(|c| withdrawal::keep_days(c, project))?;
        Ok(days.map(|d| {
            d.and_then(|d| u32::try_from(d).ok())
                .unwrap_or(DEFAULT_WITHDRAWN_KEEP_DAYS)
        }))
    }

    fn set_withdrawn_keep_days(&self, project: &str, days: u32) -> Result<bool> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE projects SET withdrawn_keep_days = ?2 WHERE id = ?1",
                params![project, days],
            )?;
            Ok(n > 0)
        })
    }

    fn purge_withdrawn(&self, project: &str, withdrawn_before: &str, now: &str) -> Result<u64> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = withdrawal::purge(&tx, project, withdrawn_before, now)?;
            tx.commit()?;
            if n > 0 {
                // The purged rows' earlier versions are still in the WAL: copy the
                // current pages back and empty it (readers in the way only delay it to
                // a later checkpoint, which is no error).
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Ok(n)
        })
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

    fn map_cells_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        precision: u32,
    ) -> Result<Vec<MapCell>> {
        self.read(|c| console::map_cells(c, project, scope, form, precision))
    }

    fn count_form_in(&self, project: &str, scope: &Scope, form: &str, after: i64) -> Result<u64> {
        self.read(|c| console::count_form(c, project, scope, form, after))
    }

    fn list_devices_in(&self, project: &str, scope: &Scope) -> Result<Vec<DeviceInfo>> {
        self.read(|c| console::list_devices(c, project, scope))
    }

    fn teams(&self, project: &str) -> Result<Vec<Team>> {
        self.read(|c| teams::list(c, project))
    }

    fn add_team(&self, project: &str, name: &str, now: &str) -> Result<Team> {
        self.write(|c| teams::add(c, project, name, now))
    }

    fn rename_team(&self, project: &str, team: i64, name: &str) -> Result<bool> {
        self.write(|c| teams::rename(c, project, team, name))
    }

    fn delete_team(&self, project: &str, team: i64) -> Result<bool> {
        self.write(|c| teams::delete(c, project, team))
    }

    fn set_team_device(
        &self,
        project: &str,
        team: i64,
        device: &str,
        member: bool,
    ) -> Result<TeamChange> {
        self.write(|c| teams::set_device(c, project, team, device, member))
    }

    fn limit_member(&self, user: &str, project: &str, teams: Option<&[i64]>) -> Result<TeamChange> {
        self.write(|c| teams::limit_member(c, user, project, teams))
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
        self.read(|c| attachments::status(c, project, sha256))
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
        let chunk = Chunk {
            project,
            sha256,
            size,
            offset,
            data,
            now,
        };
        self.write(|c| attachments::put_chunk(c, &chunk))
    }

    fn read_attachment(
        &self,
        project: &str,
        sha256: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Vec<u8>> {
        self.read(|c| attachments::read(c, project, sha256, offset, max_bytes))
    }

    fn complete_attachment(&self, project: &str, sha256: &str, now: &str) -> Result<()> {
        self.write(|c| attachments::complete(c, project, sha256, now))
    }

    fn discard_attachment(&self, project: &str, sha256: &str) -> Result<()> {
        self.write(|c| attachments::discard(c, project, sha256))
    }

    fn add_project_key(&self, project: &str, key: &ProjectKey) -> Result<bool> {
        self.write(|c| access::add_key(c, project, key))
    }

    fn project_keys(&self, project: &str) -> Result<Vec<ProjectKey>> {
        self.read(|c| access::keys(c, project))
    }

    fn retire_project_key(&self, project: &str, recipient: &str, now: &str) -> Result<bool> {
        self.write(|c| access::retire_key(c, project, recipient, now))
    }

    fn set_pii_grant(&self, user: &str, project: &str, allowed: bool) -> Result<bool> {
        self.write(|c| access::set_pii_grant(c, user, project, allowed))
    }

    fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        self.write(|c| access::append_audit(c, record))
    }

    fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        self.read(|c| access::audit(c, query))
    }
}
