//! Who may read sealed and pii answers, and who did what: the project's recipient keys
//! (public only: the server never holds a key that opens anything), the pii grant per
//! membership, and the append-only access audit. The types both backends share.

use serde::Serialize;

/// A public key (an age X25519 recipient, `age1…`) a project's devices seal sensitive
/// and pii answers to. Current until retired; a retired key stays listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectKey {
    pub recipient: String,
    /// Whose key it is, for people (never used by the code).
    pub label: String,
    pub added_by: String,
    pub added_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
}

/// One line of the access audit, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its position: records are numbered in the order they were written.
    pub id: i64,
    pub at: String,
    /// A person's name, `device:ID`, or `-` when nobody was identified (a failed sign-in
    /// names the account it tried in `target`).
    pub actor: String,
    /// What was done (see [`AuditAction`]).
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// What it was done to: a response, a form, a device, a key, an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// More, such as `pii=true` or the search words' count (never answers).
    pub detail: String,
    /// `ok`, or `refused` / `failed`.
    pub outcome: String,
}

/// What the audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    ReadResponse,
    Search,
    Export,
    Review,
    Edit,
    AddDevice,
    RevokeDevice,
    AddKey,
    RetireKey,
    GrantPii,
    OpenSealed,
    AddTeam,
    RenameTeam,
    DeleteTeam,
    /// A device put in a team or taken out (the detail says which).
    TeamDevice,
    /// A member limited to teams, or the limit lifted (the detail says which).
    LimitTeams,
}

impl AuditAction {
    pub const ALL: [AuditAction; 18] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::ReadResponse,
        AuditAction::Search,
        AuditAction::Export,
        AuditAction::Review,
        AuditAction::Edit,
        AuditAction::AddDevice,
        AuditAction::RevokeDevice,
        AuditAction::AddKey,
        AuditAction::RetireKey,
        AuditAction::GrantPii,
        AuditAction::OpenSealed,
        AuditAction::AddTeam,
        AuditAction::RenameTeam,
        AuditAction::DeleteTeam,
        AuditAction::TeamDevice,
        AuditAction::LimitTeams,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::ReadResponse => "read_response",
            AuditAction::Search => "search",
            AuditAction::Export => "export",
            AuditAction::Review => "review",
            AuditAction::Edit => "edit",
            AuditAction::AddDevice => "add_device",
            AuditAction::RevokeDevice => "revoke_device",
            AuditAction::AddKey => "add_key",
            AuditAction::RetireKey => "retire_key",
            AuditAction::GrantPii => "grant_pii",
            AuditAction::OpenSealed => "open_sealed",
            AuditAction::AddTeam => "add_team",
            AuditAction::RenameTeam => "rename_team",
            AuditAction::DeleteTeam => "delete_team",
            AuditAction::TeamDevice => "team_device",
            AuditAction::LimitTeams => "limit_teams",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// A record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: String,
    pub actor: String,
    pub action: AuditAction,
    pub project: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub ok: bool,
}

impl AuditRecord {
    pub fn outcome(&self) -> &'static str {
        if self.ok {
            "ok"
        } else {
            "refused"
        }
    }
}

/// Which records to read: every filter given must match; records after `after` (an id),
/// oldest first, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub project: Option<String>,
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    /// From this time on (RFC 3339 text, compared as text).
    pub since: Option<String>,
    /// Before this time.
    pub until: Option<String>,
    pub after: i64,
    pub limit: usize,
}
