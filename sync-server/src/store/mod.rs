//! Storage behind one trait, so SQLite (embedded, zero configuration) and PostgreSQL
//! (several server processes on one database) are interchangeable. Every backend must
//! pass the generic suite in `tests/suite/mod.rs`; the rules they share that are not SQL
//! are in `shared.rs`, the ingest's plan in `plan.rs`.
//!
//! Methods are blocking; the HTTP layer calls them from `spawn_blocking`. Times are
//! RFC 3339 UTC text with millisecond precision (`2026-11-26T04:12:00.000Z`), which sorts
//! as text, and are passed in so tests can control them.

pub mod access;
pub mod codec;
pub mod console;
mod plan;
pub mod postgres;
pub mod profile;
pub mod projection;
mod shared;
pub mod sqlite;
pub mod teams;

use serde::{Deserialize, Serialize};
use voices_core::matching::EnumeratorProfile;
use voices_core::response::Response;
use voices_core::sync::protocol::{
    DevicePolicy, FieldComments, FormVersionSummary, Presentation, RecordAck, ReviewState,
};
use voices_core::sync::{Edits, ResponseState, Revision};

use crate::Result;
pub use console::{
    DashboardCounts, DeviceInfo, MapCell, Overview, ReviewEntry, TablePage, TableQuery, UserChanges,
};
pub use teams::{Scope, Team, TeamChange, TeamRef};

/// A person's role. Devices are not people: they have their own records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, in every project.
    Admin,
    /// Publishes forms in their projects.
    Designer,
    /// Reads, reviews, resolves conflicts and exports in their projects.
    Coordinator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Designer => "designer",
            Role::Coordinator => "coordinator",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "designer" => Some(Role::Designer),
            "coordinator" => Some(Role::Coordinator),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// `Admin` for admins; otherwise the role of memberships that name none.
    pub role: Role,
    pub password_hash: String,
    pub projects: Vec<String>,
    pub display_name: Option<String>,
    /// Disabled by an admin: none of the user's tokens or sessions work.
    pub disabled: bool,
    /// The user's projects with the role in each, by project id.
    pub memberships: Vec<Membership>,
}

impl User {
    /// What the user may do in `project`: `Admin` everywhere for admins, else the
    /// membership's role, `None` for a project the user is not a member of.
    pub fn role_in(&self, project: &str) -> Option<Role> {
        if self.role == Role::Admin {
            return Some(Role::Admin);
        }
        self.memberships
            .iter()
            .find(|m| m.project == project)
            .map(|m| m.role)
    }

    /// Whether the user may read pii answers in `project`: admins may; anyone else only
    /// with the grant (`voices-server user grant-pii`), whatever their role.
    pub fn may_read_pii(&self, project: &str) -> bool {
        self.role == Role::Admin
            || self
                .memberships
                .iter()
                .any(|m| m.project == project && m.read_pii)
    }

    /// Whose responses the user reads in `project`: all of them for admins and for
    /// members not limited to teams, else those of their teams' devices.
    pub fn scope_in(&self, project: &str) -> Scope {
        let limited = self.role != Role::Admin
            && self
                .memberships
                .iter()
                .any(|m| m.project == project && m.teams.is_some());
        if limited {
            Scope::TeamsOf(self.name.clone())
        } else {
            Scope::Project
        }
    }
}

/// A user's membership of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub project: String,
    pub role: Role,
    /// May read pii answers in this project: a grant of its own, off unless given (and
    /// then left out of the JSON).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_pii: bool,
    /// The teams the member is limited to (`None`: not limited; empty: limited to
    /// teams that were all deleted, so nothing). Admins are never limited.
    pub teams: Option<Vec<TeamRef>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub project: String,
    pub enumerator: String,
    pub revoked_at: Option<String>,
    /// When a coordinator revoked it with wipe: the app erases its data on its next call.
    pub wipe_requested_at: Option<String>,
}

/// Who a bearer token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(User),
    Device(Device),
}

/// A token looked up by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub principal: Principal,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// A new token: only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSubject {
    User(String),
    Device(String),
}

/// A form version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormVersion {
    pub project: String,
    pub form: String,
    pub version: String,
    pub title: String,
    pub sha256: String,
    pub document: String,
    pub published_at: String,
    pub published_by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    New,
    /// The same document was already published under this version.
    AlreadyIdentical,
}

/// What the validator says about a merged response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    Valid,
    /// The response fails its form version's rules (reasons given) or names an unknown
    /// version: kept, flagged for a coordinator.
    Quarantine(Vec<String>),
    /// The response could not be checked now (its form version could not be read from
    /// the database): the batch is refused as busy and the client sends it again, rather
    /// than flagging a good response.
    Unavailable(String),
}

/// Checks merged responses against their form version. Called while a batch is planned
/// (SQLite: on a read snapshot, possibly again if the plan goes stale, and under the write
/// lock as a last resort; PostgreSQL: inside the ingest transaction), so it must not
/// write to the store.
pub trait Validator: Send + Sync {
    fn validate(&self, project: &str, state: &ResponseState, response: &Response) -> Validation;

    /// Called before a batch is ingested with the (form, version) pairs its revisions
    /// name, outside any transaction: a validator that reads form versions from the store
    /// loads them here, so validating inside the ingest transaction needs no second
    /// database connection (with every pooled connection held by an ingest waiting for
    /// one, that would deadlock).
    fn prepare(&self, _project: &str, _versions: &[(&str, &str)]) {}

    /// Why a revision cannot come from its form version at all (an instance number past
    /// a repeat's bound), judged before it is merged; `None` when it may be merged. Only
    /// versions [`Validator::prepare`] loaded are judged (an unknown version is a matter
    /// for validation), so this reads nothing from the store.
    fn refuse(&self, _project: &str, _revision: &Revision, _edits: &Edits<'_>) -> Option<String> {
        None
    }
}

/// One revision of an upload, decoded, with the hash of its canonical JSON.
#[derive(Debug, Clone)]
pub struct IncomingRevision {
    pub revision: Revision,
    /// Canonical JSON of the revision (what is stored).
    pub body: String,
    pub sha256: String,
}

/// The actor of a person's edits: `user:NAME` (a coordinator's, or an admin's). Device ids
/// never start with it (registering one that does is refused).
pub const COORDINATOR_ACTOR_PREFIX: &str = "user:";

/// Who uploads, for the ingest's bookkeeping.
#[derive(Debug, Clone)]
pub struct Uploader {
    /// Device id, or `user:NAME` for a coordinator.
    pub id: String,
    pub enumerator: String,
    /// A coordinator limited to teams edits only the responses their teams' devices
    /// started (these ids); `None`: no such limit.
    pub devices: Option<Vec<String>>,
}

/// A response row as the coordinator pull and export see it.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub feed_seq: i64,
    pub state: ResponseState,
    pub device: String,
    pub enumerator: String,
    pub received_at: String,
    pub updated_at: String,
    pub review_state: ReviewState,
    pub quarantine: Vec<String>,
}

pub use voices_core::sync::protocol::AttachmentStatus;

/// A review decision: the state, why, and who decided (a person's name).
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    pub state: ReviewState,
    pub comment: Option<&'a str>,
    /// Comments on single answers (a send-back's), by flat path.
    pub fields: &'a FieldComments,
    pub by: &'a str,
}

/// A response as the device that started it pulls it back (`Store::device_feed`).
#[derive(Debug, Clone)]
pub struct DeviceFeedRow {
    pub feed_seq: i64,
    pub id: String,
    pub form: String,
    pub version: String,
    pub review_state: ReviewState,
    /// Its review decisions, oldest first.
    pub reviews: Vec<ReviewEntry>,
    /// Coordinators' revisions of it (canonical JSON), in arrival order.
    pub coordinator_revisions: Vec<String>,
    /// Its respondent withdrew: nothing of it is sent but this (no reviews, no edits).
    pub withdrawn: bool,
}

/// A response state from its stored text (what the table query returns with each row).
pub fn decode_state(text: &str) -> Result<ResponseState> {
    codec::decode(text)
}

/// Days a withdrawn response is kept (for the audit) before its answers are purged,
/// unless the project says otherwise.
pub const DEFAULT_WITHDRAWN_KEEP_DAYS: u32 = 30;
/// The longest a project may keep withdrawn responses.
pub const MAX_WITHDRAWN_KEEP_DAYS: u32 = 3_650;

/// A respondent's withdrawal, as a coordinator recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub at: String,
    /// The coordinator (user name) who marked it.
    pub by: String,
    pub reason: Option<String>,
    /// When its answers and revision bodies were emptied; `None` while they are kept.
    pub purged_at: Option<String>,
}

/// A version of a project's referral directory, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedDirectory {
    pub version: i64,
    /// The directory's JSON (`voices_core::referral::Directory`), as published.
    pub document: String,
    pub sha256: String,
    pub published_at: String,
    pub published_by: String,
}

/// What happened to an attachment chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// Stored; the status after it.
    Stored(AttachmentStatus),
    /// Not stored: the chunk does not start where the received bytes end (or the file is
    /// already complete). The status says where to continue.
    OffsetMismatch(AttachmentStatus),
    /// It was the last chunk, and the bytes do not have the hash they were sent under:
    /// everything received of the file is discarded, so it can be sent again.
    Discarded,
}

/// Storage for everything the server keeps.
pub trait Store: Send + Sync + 'static {
    // Accounts and projects.
    fn add_project(&self, id: &str, title: &str, now: &str) -> Result<()>;
    fn project_exists(&self, id: &str) -> Result<bool>;
    /// What the project asks of its devices (the default for a value never set);
    /// `None` when there is no such project.
    fn device_policy(&self, project: &str) -> Result<Option<DevicePolicy>>;
    /// Set the project's device policy (checked by the caller). `false` when there is
    /// no such project.
    fn set_device_policy(&self, project: &str, policy: &DevicePolicy) -> Result<bool>;
    /// How the app presents the project (its neutral name); `None` when there is no
    /// such project.
    fn presentation(&self, project: &str) -> Result<Option<Presentation>>;
    /// Set the project's presentation (normalized by the caller). `false` when there is
    /// no such project.
    fn set_presentation(&self, project: &str, presentation: &Presentation) -> Result<bool>;
    fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()>;
    fn add_membership(&self, user: &str, project: &str) -> Result<()>;
    /// `false` when the user was not a member. The user's sessions stay; the next
    /// request into that project is refused (`wrong_project`), since every request
    /// reads the memberships afresh.
    fn remove_membership(&self, user: &str, project: &str) -> Result<bool>;
    fn find_user(&self, name: &str) -> Result<Option<User>>;
    /// Give the user a new password hash and revoke every session and token they hold,
    /// in one transaction. `false` when there is no such user.
    fn set_password(&self, user: &str, password_hash: &str, now: &str) -> Result<bool>;
    /// Revoke every session and token the user holds; how many were still valid.
    fn revoke_user_tokens(&self, user: &str, now: &str) -> Result<u64>;

    // Devices and tokens.
    /// Register a device with a one-time provisioning code (stored hashed).
    fn add_device(
        &self,
        device: &Device,
        code_hash: &str,
        code_expires_at: &str,
        now: &str,
    ) -> Result<()> {
        self.add_labelled_device(device, None, code_hash, code_expires_at, now)
    }
    /// Exchange a provisioning code for a device token: the code works once, before it
    /// expires, for a device not revoked. `None` when any of that fails.
    fn redeem_code(
        &self,
        code_hash: &str,
        token_hash: &str,
        token_expires_at: &str,
        now: &str,
    ) -> Result<Option<Device>>;
    /// Revoke a device and every token it holds. `false` if there is no such device.
    fn revoke_device(&self, device_id: &str, now: &str) -> Result<bool>;
    /// [`Store::revoke_device`], and the device is told to erase its data on its next
    /// call (also for a device revoked before). `false` when there is no such device.
    fn revoke_device_with_wipe(&self, device_id: &str, now: &str) -> Result<bool>;
    /// The enumerator profile of a device (parts never given are unknown); `None` when
    /// there is no such device (in `project`, when given).
    fn device_profile(
        &self,
        project: Option<&str>,
        device_id: &str,
    ) -> Result<Option<EnumeratorProfile>>;
    /// Replace the enumerator profile of a device (normalized by the caller). `false`
    /// when there is no such device (in `project`, when given).
    fn set_device_profile(
        &self,
        project: Option<&str>,
        device_id: &str,
        profile: &EnumeratorProfile,
    ) -> Result<bool>;
    fn add_token(
        &self,
        token_hash: &str,
        subject: &TokenSubject,
        expires_at: &str,
        now: &str,
    ) -> Result<()>;
    fn find_token(&self, token_hash: &str) -> Result<Option<TokenInfo>>;
    fn revoke_token(&self, token_hash: &str, now: &str) -> Result<bool>;

    // Forms.
    fn publish_form(&self, form: &FormVersion) -> Result<Published>;
    fn list_forms(&self, project: &str) -> Result<Vec<FormVersionSummary>>;
    fn get_form(&self, project: &str, form: &str, version: &str) -> Result<Option<FormVersion>>;

    // The referral directory.
    /// Publish a directory (checked by the caller) as the project's next version, unless
    /// it is the latest's document again: the version it has (new or not), `None` when
    /// there is no such project.
    fn publish_directory(
        &self,
        project: &str,
        document: &str,
        sha256: &str,
        by: &str,
        now: &str,
    ) -> Result<Option<(PublishedDirectory, Published)>>;
    /// The project's latest directory; `None` before the first is published.
    fn directory(&self, project: &str) -> Result<Option<PublishedDirectory>>;

    // Responses.
    /// Store and merge a batch in one transaction; one ack per revision, in order.
    /// Exactly once: a revision id already stored with the same content is a duplicate,
    /// with different content it is rejected.
    fn ingest(
        &self,
        project: &str,
        uploader: &Uploader,
        batch: &[IncomingRevision],
        validator: &dyn Validator,
        now: &str,
    ) -> Result<Vec<RecordAck>>;
    /// Which of these revision ids are stored in the project.
    fn known_revisions(&self, project: &str, ids: &[String]) -> Result<Vec<String>> {
        self.known_revisions_in(project, &Scope::Project, ids)
    }
    /// [`Store::known_revisions`] of the responses `scope` sees.
    fn known_revisions_in(
        &self,
        project: &str,
        scope: &Scope,
        ids: &[String],
    ) -> Result<Vec<String>>;
    /// Responses changed after feed position `after`, oldest change first. A response
    /// appears at the position of its latest change only.
    fn pull(&self, project: &str, after: i64, limit: usize) -> Result<Vec<StoredResponse>> {
        self.pull_in(project, &Scope::Project, after, limit)
    }
    /// [`Store::pull`] of the responses `scope` sees.
    fn pull_in(
        &self,
        project: &str,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>>;
    /// [`Store::pull`] of one form's responses only, filtered in the database (an index
    /// on project, form and feed position), so an export of one form never reads the
    /// project's other forms.
    fn pull_form(
        &self,
        project: &str,
        form: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>> {
        self.pull_form_in(project, &Scope::Project, form, after, limit)
    }
    /// [`Store::pull_form`] of the responses `scope` sees.
    fn pull_form_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredResponse>>;
    fn get_response(&self, project: &str, id: &str) -> Result<Option<StoredResponse>> {
        self.get_response_in(project, &Scope::Project, id)
    }
    /// A response if `scope` sees it: one outside it is `None`, as a missing one.
    fn get_response_in(
        &self,
        project: &str,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<StoredResponse>>;
    /// Which of these response ids `scope` sees in the project (withdrawn ones
    /// included), in the order given.
    fn visible_responses(&self, project: &str, scope: &Scope, ids: &[String]) -> Result<Vec<bool>>;
    fn set_review_state(
        &self,
        project: &str,
        id: &str,
        state: ReviewState,
        now: &str,
    ) -> Result<bool> {
        let decision = Decision {
            state,
            comment: None,
            fields: &FieldComments::new(),
            by: "",
        };
        Ok(self.review(project, &[id.to_owned()], &decision, now)?[0])
    }
    /// Set the review state of responses (one transaction), recording who decided it,
    /// when and why (a send-back also records the response's context then); `true` per
    /// id found. Each found response moves in the feed.
    fn review(
        &self,
        project: &str,
        ids: &[String],
        decision: &Decision<'_>,
        now: &str,
    ) -> Result<Vec<bool>>;
    /// Mark a response withdrawn (its respondent withdrew): it leaves the console's index
    /// and counts, the pull and exports, later revisions of it are refused (`withdrawn`),
    /// and a review of it finds nothing. Records who, when and why; a response already
    /// withdrawn keeps its first withdrawal. `None` when there is no such response.
    fn withdraw(
        &self,
        project: &str,
        id: &str,
        reason: Option<&str>,
        by: &str,
        now: &str,
    ) -> Result<Option<Withdrawal>>;
    /// The withdrawal of a response, if it was withdrawn.
    fn withdrawal_of(&self, project: &str, id: &str) -> Result<Option<Withdrawal>>;
    /// Days a withdrawn response is kept before its answers are purged
    /// ([`DEFAULT_WITHDRAWN_KEEP_DAYS`] when never set); `None` when there is no such project.
    fn withdrawn_keep_days(&self, project: &str) -> Result<Option<u32>>;
    /// Set the days a withdrawn response is kept. `false` when there is no such project.
    fn set_withdrawn_keep_days(&self, project: &str, days: u32) -> Result<bool>;
    /// Purge the responses withdrawn before `withdrawn_before` and not yet purged: the
    /// merged state emptied, revision bodies emptied (ids and hashes kept, so a device
    /// sending one again is still answered `duplicate`). How many were purged.
    fn purge_withdrawn(&self, project: &str, withdrawn_before: &str, now: &str) -> Result<u64>;
    /// The responses device `device` started, changed after feed position `after`, oldest
    /// change first, at most `limit`: what the device pulls back (its responses only).
    /// Withdrawn ones only with `withdrawn` (feed version 2), and then without their
    /// reviews or edits.
    fn device_feed(
        &self,
        project: &str,
        device: &str,
        after: i64,
        limit: usize,
        withdrawn: bool,
    ) -> Result<Vec<DeviceFeedRow>>;
    /// The review decisions recorded for a response, oldest first.
    fn reviews_of(&self, project: &str, response: &str) -> Result<Vec<ReviewEntry>>;
    /// Stored revisions of a response (canonical JSON), in arrival order.
    fn revisions_of(&self, project: &str, response: &str) -> Result<Vec<String>>;

    // The console's queries (docs/console.md), over the projection the ingest writes.
    /// Every project: (id, title), by id.
    fn list_projects(&self) -> Result<Vec<(String, String)>>;
    /// One page of the responses table.
    fn table(&self, project: &str, query: &TableQuery) -> Result<TablePage>;
    /// Counts of the project overview; `today` and `week_start` are UTC days.
    fn overview(&self, project: &str, today: &str, week_start: &str) -> Result<Overview> {
        self.overview_in(project, &Scope::Project, today, week_start)
    }
    /// [`Store::overview`] of the responses `scope` sees.
    fn overview_in(
        &self,
        project: &str,
        scope: &Scope,
        today: &str,
        week_start: &str,
    ) -> Result<Overview>;
    /// The counts behind a form's dashboard (one version, or all).
    fn dashboard_counts(
        &self,
        project: &str,
        form: &str,
        version: Option<&str>,
    ) -> Result<DashboardCounts> {
        self.dashboard_counts_in(project, &Scope::Project, form, version)
    }
    /// [`Store::dashboard_counts`] of the responses `scope` sees.
    fn dashboard_counts_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        version: Option<&str>,
    ) -> Result<DashboardCounts>;
    /// The form's points rounded to `precision` decimals, counted per rounded point.
    fn map_cells(&self, project: &str, form: &str, precision: u32) -> Result<Vec<MapCell>> {
        self.map_cells_in(project, &Scope::Project, form, precision)
    }
    /// [`Store::map_cells`] of the responses `scope` sees.
    fn map_cells_in(
        &self,
        project: &str,
        scope: &Scope,
        form: &str,
        precision: u32,
    ) -> Result<Vec<MapCell>>;
    /// Responses of a form changed after feed position `after` (what an export sends).
    fn count_form(&self, project: &str, form: &str, after: i64) -> Result<u64> {
        self.count_form_in(project, &Scope::Project, form, after)
    }
    /// [`Store::count_form`] of the responses `scope` sees.
    fn count_form_in(&self, project: &str, scope: &Scope, form: &str, after: i64) -> Result<u64>;

    // Devices as the console manages them.
    /// [`Store::add_device`] with a label people recognise the device by.
    fn add_labelled_device(
        &self,
        device: &Device,
        label: Option<&str>,
        code_hash: &str,
        code_expires_at: &str,
        now: &str,
    ) -> Result<()>;
    fn list_devices(&self, project: &str) -> Result<Vec<DeviceInfo>> {
        self.list_devices_in(project, &Scope::Project)
    }
    /// The devices `scope` sees: a limited coordinator's teams' devices only.
    fn list_devices_in(&self, project: &str, scope: &Scope) -> Result<Vec<DeviceInfo>>;
    /// Record a device's contact: when, and the app version and outbox count it reports
    /// (kept when not reported).
    fn touch_device(
        &self,
        id: &str,
        now: &str,
        app_version: Option<&str>,
        pending: Option<i64>,
    ) -> Result<()>;

    // People.
    fn list_users(&self) -> Result<Vec<User>>;
    /// Change a user; a new password or disabling revokes every token the user holds.
    /// `None` when there is no such user.
    fn update_user(&self, name: &str, changes: &UserChanges, now: &str) -> Result<Option<User>>;
    /// Make `user` a member of `project` with `role` (or change the role).
    fn set_membership(&self, user: &str, project: &str, role: Role) -> Result<()>;

    // Teams (`teams.rs`, docs/console.md).
    /// The project's teams, by name, with their devices and limited coordinators.
    fn teams(&self, project: &str) -> Result<Vec<Team>>;
    /// A new team of no devices, named `name` (checked by the caller); `Error::Conflict`
    /// when the project has a team of that name.
    fn add_team(&self, project: &str, name: &str, now: &str) -> Result<Team>;
    /// Rename a team (`Error::Conflict` on a name taken); `false` when there is no such team.
    fn rename_team(&self, project: &str, team: i64, name: &str) -> Result<bool>;
    /// Delete a team: its devices leave it and coordinators limited to it lose it (and
    /// stay limited, to their other teams or to nothing). `false` when there is no such team.
    fn delete_team(&self, project: &str, team: i64) -> Result<bool>;
    /// Put a device of the project in the team (`member`) or take it out; either is
    /// done when it is so already.
    fn set_team_device(
        &self,
        project: &str,
        team: i64,
        device: &str,
        member: bool,
    ) -> Result<TeamChange>;
    /// Limit a member of the project to these teams of it (`None`: lift the limit), in
    /// one transaction. `UnknownTeam` when one is not the project's.
    fn limit_member(&self, user: &str, project: &str, teams: Option<&[i64]>) -> Result<TeamChange>;

    // Attachments (content-addressed, uploaded in chunks, resumable).
    fn attachment_status(&self, project: &str, sha256: &str) -> Result<Option<AttachmentStatus>>;
    /// Append `data` at `offset` of the attachment of declared `size`, creating it on the
    /// first chunk. The chunk that brings the last byte also checks the content against
    /// its hash, in the same transaction: the file is then complete, or discarded. A
    /// declared size different from an incomplete file's is a new claim when the chunk
    /// starts at 0 (the unverified one is discarded: a wrong first claim cannot block
    /// the real file) and `Error::Conflict` otherwise, as for a complete file.
    fn put_attachment_chunk(
        &self,
        project: &str,
        sha256: &str,
        size: u64,
        offset: u64,
        data: &[u8],
        now: &str,
    ) -> Result<ChunkOutcome>;
    /// The stored chunks of an attachment from `offset` on, at most `max_bytes` of them
    /// (at least one chunk), in order; empty past the end.
    fn read_attachment(
        &self,
        project: &str,
        sha256: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Vec<u8>>;
    /// Mark an attachment whose bytes were verified as complete (the recovery of a file
    /// left with every byte but not complete by an earlier version).
    fn complete_attachment(&self, project: &str, sha256: &str, now: &str) -> Result<()>;
    /// Forget an attachment whose bytes did not match its hash, so it can be sent again.
    fn discard_attachment(&self, project: &str, sha256: &str) -> Result<()>;

    // Sealed answers' keys, the pii grant and the access audit (`access.rs`).
    /// `false` when the project already has this recipient.
    fn add_project_key(&self, project: &str, key: &access::ProjectKey) -> Result<bool>;
    /// Every key of the project, retired ones too, oldest first.
    fn project_keys(&self, project: &str) -> Result<Vec<access::ProjectKey>>;
    /// `false` when the project has no such current key.
    fn retire_project_key(&self, project: &str, recipient: &str, now: &str) -> Result<bool>;
    /// Give or take the pii grant; `false` when the user is not a member of the project.
    fn set_pii_grant(&self, user: &str, project: &str, allowed: bool) -> Result<bool>;
    fn append_audit(&self, record: &access::AuditRecord) -> Result<()>;
    fn audit(&self, query: &access::AuditQuery) -> Result<Vec<access::AuditEntry>>;
}
