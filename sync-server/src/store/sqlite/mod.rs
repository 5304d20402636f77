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
mod accounts;
mod attachments;
mod console;
mod forms;
mod ingest;
mod migrations;
mod profile;
mod readers;
mod referrals;
mod review;
mod teams;
mod withdrawal;

use std::path::Path;
use std::sync::{Condvar, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use voices_core::matching::EnumeratorProfile;
use voices_core::sync::protocol::{DevicePolicy, FormVersionSummary, Presentation, RecordAck};

use super::access::{AuditEntry, AuditQuery, AuditRecord, ProjectKey};
use super::plan::Ingest;
use super::projection::IndexCache;
use super::shared::{self, Chunk, ResponseRow, RESPONSE_COLUMNS};
use super::{
    AttachmentStatus, ChunkOutcome, DashboardCounts, Decision, Device, DeviceFeedRow, DeviceInfo,
    FormVersion, IncomingRevision, MapCell, Overview, Published, PublishedDirectory, ReviewEntry,
    Role, Scope, Store, StoredResponse, TablePage, TableQuery, Team, TeamChange, TokenInfo,
    TokenSubject, Uploader, User, UserChanges, Validator, Withdrawal, DEFAULT_WITHDRAWN_KEEP_DAYS,
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

    fn presentation(&self, project: &str) -> Result<Option<Presentation>> {
        self.read(|c| profile::presentation(c, project))
    }

    fn set_presentation(&self, project: &str, presentation: &Presentation) -> Result<bool> {
        self.write(|c| profile::set_presentation(c, project, presentation))
    }

    fn device_profile(
        &self,
        project: Option<&str>,
        device_id: &str,
    ) -> Result<Option<EnumeratorProfile>> {
        self.read(|c| profile::device_profile(c, project, device_id))
    }

    fn set_device_profile(
        &self,
        project: Option<&str>,
        device_id: &str,
        enumerator: &EnumeratorProfile,
    ) -> Result<bool> {
        self.write(|c| profile::set_device_profile(c, project, device_id, enumerator))
    }

    fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()> {
        self.write(|c| accounts::add_user(c, name, role, password_hash, now))
    }

    fn add_membership(&self, user: &str, project: &str) -> Result<()> {
        self.write(|c| accounts::add_membership(c, user, project))
    }

    fn remove_membership(&self, user: &str, project: &str) -> Result<bool> {
        self.write(|c| accounts::remove_membership(c, user, project))
    }

    fn find_user(&self, name: &str) -> Result<Option<User>> {
        self.read(|c| accounts::load_user(c, name))
    }

    fn set_password(&self, user: &str, password_hash: &str, now: &str) -> Result<bool> {
        self.write(|c| accounts::set_password(c, user, password_hash, now))
    }

    fn revoke_user_tokens(&self, user: &str, now: &str) -> Result<u64> {
        self.write(|c| accounts::revoke_user_tokens(c, user, now))
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
            accounts::add_labelled_device(c, device, label, code_hash, code_expires_at, now)
        })
    }

    fn redeem_code(
        &self,
        code_hash: &str,
        token_hash: &str,
        token_expires_at: &str,
        now: &str,
    ) -> Result<Option<Device>> {
        self.write(|c| accounts::redeem_code(c, code_hash, token_hash, token_expires_at, now))
    }

    fn revoke_device(&self, device_id: &str, now: &str) -> Result<bool> {
        self.write(|c| accounts::revoke_device(c, device_id, now))
    }

    fn revoke_device_with_wipe(&self, device_id: &str, now: &str) -> Result<bool> {
        self.write(|c| accounts::revoke_device_with_wipe(c, device_id, now))
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
        self.read(|c| accounts::find_token(c, token_hash))
    }

    fn revoke_token(&self, token_hash: &str, now: &str) -> Result<bool> {
        self.write(|c| accounts::revoke_token(c, token_hash, now))
    }

    fn publish_form(&self, form: &FormVersion) -> Result<Published> {
        self.write(|c| forms::publish_form(c, form))
    }

    fn list_forms(&self, project: &str) -> Result<Vec<FormVersionSummary>> {
        self.read(|c| forms::list_forms(c, project))
    }

    fn get_form(&self, project: &str, form: &str, version: &str) -> Result<Option<FormVersion>> {
        self.read(|c| forms::get_form(c, project, form, version))
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
        withdrawn: bool,
    ) -> Result<Vec<DeviceFeedRow>> {
        self.read(|c| {
            // One snapshot for the rows and their reviews and edits.
            let snapshot = c.unchecked_transaction()?;
            review::device_feed(&snapshot, project, device, after, limit, withdrawn)
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

    fn overview_in(
        &self,
        project: &str,
        scope: &Scope,
        today: &str,
        week_start: &str,
    ) -> Result<Overview> {
        self.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            console::overview(&snapshot, project, scope, today, week_start)
        })
    }

    fn dashboard_counts_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        version: Option<&str>,
    ) -> Result<DashboardCounts> {
        self.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            console::dashboard_counts(&snapshot, project, scope, form, version)
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
        self.read(accounts::list_users)
    }

    fn update_user(&self, name: &str, changes: &UserChanges, now: &str) -> Result<Option<User>> {
        self.write(|c| accounts::update_user(c, name, changes, now))
    }

    fn set_membership(&self, user: &str, project: &str, role: Role) -> Result<()> {
        self.write(|c| accounts::set_membership(c, user, project, role))
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
