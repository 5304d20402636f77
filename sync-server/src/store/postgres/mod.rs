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

mod access;
mod accounts;
mod attachments;
mod connection;
mod console;
mod forms;
mod ingest;
mod migrations;
mod profile;
mod referrals;
mod review;
mod rows;
mod teams;
pub mod tls;
mod withdrawal;

pub use connection::{DEFAULT_POOL_SIZE, POOL_WAIT};
pub use migrations::SCHEMA_VERSION;

use std::collections::HashSet;

use voices_core::matching::EnumeratorProfile;
use voices_core::sync::protocol::{DevicePolicy, FormVersionSummary, Presentation, RecordAck};

use super::access::{AuditEntry, AuditQuery, AuditRecord, ProjectKey};
use super::plan::Ingest;
use super::projection::IndexCache;
use super::shared::{self, Chunk, RESPONSE_COLUMNS};
use super::{
    AttachmentStatus, ChunkOutcome, DashboardCounts, Decision, Device, DeviceFeedRow, DeviceInfo,
    FormVersion, IncomingRevision, MapCell, Overview, Published, PublishedDirectory, ReviewEntry,
    Role, Scope, Store, StoredResponse, TablePage, TableQuery, Team, TeamChange, TokenInfo,
    TokenSubject, Uploader, User, UserChanges, Validator, Withdrawal, DEFAULT_WITHDRAWN_KEEP_DAYS,
};
use crate::Result;

use connection::{Attempt, Fail, Pool};
use rows::{load_user, project_exists, stored_response};

pub struct PostgresStore {
    pool: Pool,
    /// Form indexes for the console's projection.
    indexes: IndexCache,
}

impl Store for PostgresStore {
    fn add_project(&self, id: &str, title: &str, now: &str) -> Result<()> {
        self.run(|c| {
            let n = c.execute(
                "INSERT INTO projects (id, title, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&id, &title, &now],
            )?;
            if n == 0 {
                return Err(shared::project_exists(id).into());
            }
            Ok(())
        })
    }

    fn project_exists(&self, id: &str) -> Result<bool> {
        self.run(|c| project_exists(c, id))
    }

    fn device_policy(&self, project: &str) -> Result<Option<DevicePolicy>> {
        self.run(|c| {
            let Some(row) = c.query_opt(
                "SELECT device_idle_lock_seconds, device_retention_days FROM projects WHERE id = $1",
                &[&project],
            )?
            else {
                return Ok(None);
            };
            let idle: Option<i32> = row.try_get(0)?;
            let retention: Option<i32> = row.try_get(1)?;
            Ok(Some(DevicePolicy {
                idle_lock_seconds: idle
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(DevicePolicy::DEFAULT_IDLE_LOCK_SECONDS),
                retention_days: retention
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(DevicePolicy::DEFAULT_RETENTION_DAYS),
            }))
        })
    }

    fn set_device_policy(&self, project: &str, policy: &DevicePolicy) -> Result<bool> {
        // Checked ranges fit an INTEGER; a value that does not would be a caller's bug.
        let idle = i32::try_from(policy.idle_lock_seconds).unwrap_or(i32::MAX);
        let retention = i32::try_from(policy.retention_days).unwrap_or(i32::MAX);
        self.run(|c| {
            let n = c.execute(
                "UPDATE projects SET device_idle_lock_seconds = $2, device_retention_days = $3 WHERE id = $1",
                &[&project, &idle, &retention],
            )?;
            Ok(n > 0)
        })
    }

    fn presentation(&self, project: &str) -> Result<Option<Presentation>> {
        self.run(|c| profile::presentation(c, project))
    }

    fn set_presentation(&self, project: &str, presentation: &Presentation) -> Result<bool> {
        self.run(|c| profile::set_presentation(c, project, presentation))
    }

    fn device_profile(
        &self,
        project: Option<&str>,
        device_id: &str,
    ) -> Result<Option<EnumeratorProfile>> {
        self.run(|c| profile::device_profile(c, project, device_id))
    }

    fn set_device_profile(
        &self,
        project: Option<&str>,
        device_id: &str,
        enumerator: &EnumeratorProfile,
    ) -> Result<bool> {
        self.run(|c| profile::set_device_profile(c, project, device_id, enumerator))
    }

    fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()> {
        self.run(|c| accounts::add_user(c, name, role, password_hash, now))
    }

    fn add_membership(&self, user: &str, project: &str) -> Result<()> {
        self.run(|c| accounts::add_membership(c, user, project))
    }

    fn remove_membership(&self, user: &str, project: &str) -> Result<bool> {
        self.run(|c| accounts::remove_membership(c, user, project))
    }

    fn find_user(&self, name: &str) -> Result<Option<User>> {
        self.run(|c| load_user(c, name))
    }

    fn set_password(&self, user: &str, password_hash: &str, now: &str) -> Result<bool> {
        self.run(|c| accounts::set_password(c, user, password_hash, now))
    }

    fn revoke_user_tokens(&self, user: &str, now: &str) -> Result<u64> {
        self.run(|c| accounts::revoke_user_tokens(c, user, now))
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
        self.run(|c| accounts::redeem_code(c, code_hash, token_hash, token_expires_at, now))
    }

    fn revoke_device(&self, device_id: &str, now: &str) -> Result<bool> {
        self.run(|c| accounts::revoke_device(c, device_id, now))
    }

    fn revoke_device_with_wipe(&self, device_id: &str, now: &str) -> Result<bool> {
        self.run(|c| accounts::revoke_device_with_wipe(c, device_id, now))
    }

    fn add_token(
        &self,
        token_hash: &str,
        subject: &TokenSubject,
        expires_at: &str,
        now: &str,
    ) -> Result<()> {
        let (user, device) = shared::token_columns(subject);
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
        self.run(|c| accounts::find_token(c, token_hash))
    }

    fn revoke_token(&self, token_hash: &str, now: &str) -> Result<bool> {
        self.run(|c| accounts::revoke_token(c, token_hash, now))
    }

    fn publish_form(&self, form: &FormVersion) -> Result<Published> {
        self.run(|c| forms::publish_form(c, form))
    }

    fn list_forms(&self, project: &str) -> Result<Vec<FormVersionSummary>> {
        self.run(|c| forms::list_forms(c, project))
    }

    fn get_form(&self, project: &str, form: &str, version: &str) -> Result<Option<FormVersion>> {
        self.run(|c| forms::get_form(c, project, form, version))
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
        self.run(|c| ingest::ingest_once(c, &self.indexes, &ingest, batch))
    }

    fn known_revisions_in(
        &self,
        project: &str,
        scope: &Scope,
        ids: &[String],
    ) -> Result<Vec<String>> {
        let user = scope.limited_to();
        self.run(|c| {
            let found: HashSet<String> = c
                .query(
                    &format!(
                        "SELECT v.id FROM revisions v WHERE v.project = $1 AND v.id = ANY($2)
                             AND ($3::TEXT IS NULL OR EXISTS (SELECT 1 FROM responses r
                                 WHERE r.project = v.project AND r.id = v.response_id
                                     AND {}))",
                        teams::seen("r.device", "$3")
                    ),
                    &[&project, &ids, &user],
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

    fn pull_in(
        &self,
        project: &str,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let user = scope.limited_to();
        self.run(|c| {
            c.query(
                &format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = $1 AND feed_seq > $2
                         AND withdrawn_at IS NULL AND {}
                     ORDER BY feed_seq LIMIT $3",
                    teams::seen("device", "$4")
                ),
                &[&project, &after, &limit, &user],
            )?
            .iter()
            .map(stored_response)
            .collect()
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
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let user = scope.limited_to();
        self.run(|c| {
            c.query(
                &format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = $1 AND form = $2 AND feed_seq > $3
                         AND withdrawn_at IS NULL AND {}
                     ORDER BY feed_seq LIMIT $4",
                    teams::seen("device", "$5")
                ),
                &[&project, &form, &after, &limit, &user],
            )?
            .iter()
            .map(stored_response)
            .collect()
        })
    }

    fn get_response_in(
        &self,
        project: &str,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<StoredResponse>> {
        let user = scope.limited_to();
        self.run(|c| {
            c.query_opt(
                &format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE project = $1 AND id = $2 AND {}",
                    teams::seen("device", "$3")
                ),
                &[&project, &id, &user],
            )?
            .as_ref()
            .map(stored_response)
            .transpose()
        })
    }

    fn visible_responses(&self, project: &str, scope: &Scope, ids: &[String]) -> Result<Vec<bool>> {
        self.run(|c| teams::visible(c, project, scope, ids))
    }

    fn review(
        &self,
        project: &str,
        ids: &[String],
        decision: &Decision<'_>,
        now: &str,
    ) -> Result<Vec<bool>> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            let found = review::review(&mut tx, project, ids, decision, now)?;
            tx.commit()?;
            Ok(found)
        })
    }

    fn reviews_of(&self, project: &str, response: &str) -> Result<Vec<ReviewEntry>> {
        self.run(|c| review::reviews_of(c, project, response))
    }

    fn device_feed(
        &self,
        project: &str,
        device: &str,
        after: i64,
        limit: usize,
        withdrawn: bool,
    ) -> Result<Vec<DeviceFeedRow>> {
        self.run(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let rows = review::device_feed(&mut tx, project, device, after, limit, withdrawn)?;
            tx.commit()?;
            Ok(rows)
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
        self.run(|c| referrals::publish(c, project, document, sha256, by, now))
    }

    fn directory(&self, project: &str) -> Result<Option<PublishedDirectory>> {
        self.run(|c| referrals::latest(c, project))
    }

    fn withdraw(
        &self,
        project: &str,
        id: &str,
        reason: Option<&str>,
        by: &str,
        now: &str,
    ) -> Result<Option<Withdrawal>> {
        self.run(|c| withdrawal::withdraw(c, &self.indexes, project, id, reason, by, now))
    }

    fn withdrawal_of(&self, project: &str, id: &str) -> Result<Option<Withdrawal>> {
        self.run(|c| withdrawal::withdrawal_of(c, project, id))
    }

    fn withdrawn_keep_days(&self, project: &str) -> Result<Option<u32>> {
        let days = self.run(|c| withdrawal::keep_days(c, project))?;
        Ok(days.map(|d| {
            d.and_then(|d| u32::try_from(d).ok())
                .unwrap_or(DEFAULT_WITHDRAWN_KEEP_DAYS)
        }))
    }

    fn set_withdrawn_keep_days(&self, project: &str, days: u32) -> Result<bool> {
        // Checked by the caller to fit an INTEGER.
        let days = i32::try_from(days).unwrap_or(i32::MAX);
        self.run(|c| {
            let n = c.execute(
                "UPDATE projects SET withdrawn_keep_days = $2 WHERE id = $1",
                &[&project, &days],
            )?;
            Ok(n > 0)
        })
    }

    fn purge_withdrawn(&self, project: &str, withdrawn_before: &str, now: &str) -> Result<u64> {
        let purged = self.run(|c| withdrawal::purge(c, project, withdrawn_before, now))?;
        if purged > 0 {
            self.run(withdrawal::vacuum)?;
        }
        Ok(purged)
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

    fn overview_in(
        &self,
        project: &str,
        scope: &Scope,
        today: &str,
        week_start: &str,
    ) -> Result<Overview> {
        self.run(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let overview = console::overview(&mut tx, project, scope, today, week_start)?;
            tx.commit()?;
            Ok(overview)
        })
    }

    fn dashboard_counts_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        version: Option<&str>,
    ) -> Result<DashboardCounts> {
        self.run(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let counts = console::dashboard_counts(&mut tx, project, scope, form, version)?;
            tx.commit()?;
            Ok(counts)
        })
    }

    fn map_cells_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        precision: u32,
    ) -> Result<Vec<MapCell>> {
        self.run(|c| Ok(console::map_cells(c, project, scope, form, precision)?))
    }

    fn count_form_in(&self, project: &str, scope: &Scope, form: &str, after: i64) -> Result<u64> {
        self.run(|c| Ok(console::count_form(c, project, scope, form, after)?))
    }

    fn list_devices_in(&self, project: &str, scope: &Scope) -> Result<Vec<DeviceInfo>> {
        self.run(|c| Ok(console::list_devices(c, project, scope)?))
    }

    fn teams(&self, project: &str) -> Result<Vec<Team>> {
        self.run(|c| teams::list(c, project))
    }

    fn add_team(&self, project: &str, name: &str, now: &str) -> Result<Team> {
        self.run(|c| teams::add(c, project, name, now))
    }

    fn rename_team(&self, project: &str, team: i64, name: &str) -> Result<bool> {
        self.run(|c| teams::rename(c, project, team, name))
    }

    fn delete_team(&self, project: &str, team: i64) -> Result<bool> {
        self.run(|c| teams::delete(c, project, team))
    }

    fn set_team_device(
        &self,
        project: &str,
        team: i64,
        device: &str,
        member: bool,
    ) -> Result<TeamChange> {
        self.run(|c| teams::set_device(c, project, team, device, member))
    }

    fn limit_member(&self, user: &str, project: &str, teams: Option<&[i64]>) -> Result<TeamChange> {
        self.run(|c| teams::limit_member(c, user, project, teams))
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
        self.run(accounts::list_users)
    }

    fn update_user(&self, name: &str, changes: &UserChanges, now: &str) -> Result<Option<User>> {
        self.run(|c| accounts::update_user(c, name, changes, now))
    }

    fn set_membership(&self, user: &str, project: &str, role: Role) -> Result<()> {
        self.run(|c| accounts::set_membership(c, user, project, role))
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
        self.run(|c| attachments::status(c, project, sha256, false))
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
        self.run(|c| attachments::put_chunk(c, &chunk))
    }

    fn read_attachment(
        &self,
        project: &str,
        sha256: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Vec<u8>> {
        self.run(|c| attachments::read(c, project, sha256, offset, max_bytes))
    }

    fn complete_attachment(&self, project: &str, sha256: &str, now: &str) -> Result<()> {
        self.run(|c| attachments::complete(c, project, sha256, now))
    }

    fn discard_attachment(&self, project: &str, sha256: &str) -> Result<()> {
        self.run(|c| attachments::discard(c, project, sha256))
    }

    fn add_project_key(&self, project: &str, key: &ProjectKey) -> Result<bool> {
        self.run(|c| access::add_key(c, project, key))
    }

    fn project_keys(&self, project: &str) -> Result<Vec<ProjectKey>> {
        self.run(|c| access::keys(c, project))
    }

    fn retire_project_key(&self, project: &str, recipient: &str, now: &str) -> Result<bool> {
        self.run(|c| access::retire_key(c, project, recipient, now))
    }

    fn set_pii_grant(&self, user: &str, project: &str, allowed: bool) -> Result<bool> {
        self.run(|c| access::set_pii_grant(c, user, project, allowed))
    }

    fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        self.run(|c| access::append_audit(c, record))
    }

    fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        self.run(|c| access::audit(c, query))
    }
}
