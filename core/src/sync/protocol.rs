//! Wire types of the sync protocol (`/api/v1`), shared by the app and the server.
//!
//! docs/protocol.md describes the endpoints; these are their bodies.

use serde::{Deserialize, Serialize};

use super::clock::VersionVector;
use super::merge::Conflict;
use super::revision::ResponseStatus;
use crate::matching::EnumeratorProfile;
use crate::response::Response;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Request header naming the protocol version the client speaks. Optional; when given
/// and unsupported the server answers 400 `unsupported_protocol` with the versions it has.
pub const PROTOCOL_HEADER: &str = "voices-protocol";
/// Media type of an upload batch: one [`super::Revision`] as JSON per line. Lines make a
/// cut-off upload useful: every complete line that arrived is kept.
pub const NDJSON: &str = "application/x-ndjson";

/// Request header of a zstd upload compressed with a form version's document as the
/// dictionary: the SHA-256 (hex) of that document, as in [`FormVersionSummary::sha256`].
/// Field and choice names then cost almost nothing on the wire.
pub const DICTIONARY_HEADER: &str = "voices-dictionary";

/// `GET /api/v1/info`: what the server speaks and accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub server_version: String,
    pub protocol_versions: Vec<u32>,
    /// Optional features: `zstd`, `gzip`, `ndjson`, `attachments`, `export`.
    pub capabilities: Vec<String>,
    pub limits: Limits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest request body as sent (compressed), in bytes.
    pub max_body_bytes: u64,
    /// Largest request body after decompression, in bytes.
    pub max_decompressed_bytes: u64,
    /// Most revisions in one upload batch.
    pub max_batch_records: u64,
    /// Largest attachment chunk, in bytes.
    pub max_chunk_bytes: u64,
    /// Longest line of an upload batch (one revision), in bytes after decompression.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: u64,
    /// Largest attachment a device may declare, in bytes (the server's
    /// `--max-attachment-bytes`).
    #[serde(default = "default_max_attachment_bytes")]
    pub max_attachment_bytes: u64,
}

/// [`Limits::max_line_bytes`] of a server that does not say (older than the limit).
pub const DEFAULT_MAX_LINE_BYTES: u64 = 4 << 20;

fn default_max_line_bytes() -> u64 {
    DEFAULT_MAX_LINE_BYTES
}

/// [`Limits::max_attachment_bytes`] of a server that does not say.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 1 << 30;

fn default_max_attachment_bytes() -> u64 {
    DEFAULT_MAX_ATTACHMENT_BYTES
}

/// What `voices-server device add` prints (as text and as a QR code) for the app to
/// accept: where the server is and the one-time code to exchange for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningCode {
    pub server: String,
    pub project: String,
    pub code: String,
    /// SHA-256 (hex) of the server's self-signed TLS certificate: the app then trusts
    /// exactly that certificate for this server instead of the public authorities.
    /// Absent for plain loopback servers and publicly trusted certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_sha256: Option<String>,
}

impl ProvisioningCode {
    const PREFIX: &'static str = "voices1:";

    /// The printable form: `voices1:` followed by the JSON, base64url without padding.
    pub fn to_text(&self) -> String {
        use base64::Engine;
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "{}{}",
            Self::PREFIX,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    pub fn from_text(text: &str) -> Result<ProvisioningCode, String> {
        use base64::Engine;
        let body = text
            .trim()
            .strip_prefix(Self::PREFIX)
            .ok_or("a provisioning code starts with `voices1:`")?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| format!("the provisioning code is damaged ({e})"))?;
        serde_json::from_slice(&json).map_err(|e| format!("the provisioning code is damaged ({e})"))
    }
}

/// `POST /api/v1/provision` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRequest {
    pub code: String,
}

/// Answer to a provisioning: the device's identity and bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCredentials {
    pub project: String,
    pub device_id: String,
    pub enumerator: String,
    pub token: String,
    /// RFC 3339; the device must be provisioned again after this.
    pub expires_at: String,
}

/// How the app presents a project (`GET/PUT /api/v1/projects/{p}/presentation`): a
/// neutral name the app shows instead of its own (window title, the name on screen,
/// reminders), so that a bystander reading the screen learns nothing about the survey.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presentation {
    /// `None`: the app's own name ("Voices").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neutral_name: Option<String>,
}

impl Presentation {
    /// Longest neutral name, in characters (a window title).
    pub const MAX_NAME: usize = 60;

    /// The presentation with the name trimmed (empty: none), or what is wrong with it.
    pub fn normalized(&self) -> Result<Presentation, String> {
        let name = self
            .neutral_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(n) = name {
            if n.chars().count() > Self::MAX_NAME || n.chars().any(char::is_control) {
                return Err(format!(
                    "the neutral name is at most {} characters on one line",
                    Self::MAX_NAME
                ));
            }
        }
        Ok(Presentation {
            neutral_name: name.map(str::to_owned),
        })
    }
}

/// What a device presents (`GET /api/v1/projects/{p}/device-profile`, with the device's
/// token; read at each sync): its enumerator's profile, which matching rules read, and
/// the project's neutral name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceProfile {
    #[serde(default)]
    pub enumerator: EnumeratorProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neutral_name: Option<String>,
}

/// What a project asks of its devices (`GET /api/v1/projects/{p}/device-policy`): the
/// app locks itself after `idle_lock_seconds` without use, and removes a response's
/// answers, files and revision bodies `retention_days` after the server acknowledged it
/// (0: at once), keeping its ids and hashes so nothing is sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePolicy {
    pub idle_lock_seconds: u32,
    pub retention_days: u32,
}

impl DevicePolicy {
    /// Five minutes without use: the app locks.
    pub const DEFAULT_IDLE_LOCK_SECONDS: u32 = 300;
    /// Thirty days after acknowledgement: the answers leave the device.
    pub const DEFAULT_RETENTION_DAYS: u32 = 30;
    /// Shorter would lock the app while an enumerator reads a long question.
    pub const MIN_IDLE_LOCK_SECONDS: u32 = 30;
    /// A working day.
    pub const MAX_IDLE_LOCK_SECONDS: u32 = 12 * 3600;
    /// Ten years.
    pub const MAX_RETENTION_DAYS: u32 = 3650;

    /// What the project's policy is until someone sets it.
    pub const DEFAULT: DevicePolicy = DevicePolicy {
        idle_lock_seconds: Self::DEFAULT_IDLE_LOCK_SECONDS,
        retention_days: Self::DEFAULT_RETENTION_DAYS,
    };

    /// `Err` says which value is outside its range.
    pub fn check(&self) -> Result<(), String> {
        if !(Self::MIN_IDLE_LOCK_SECONDS..=Self::MAX_IDLE_LOCK_SECONDS)
            .contains(&self.idle_lock_seconds)
        {
            return Err(format!(
                "idle_lock_seconds is {}, it must be from {} to {}",
                self.idle_lock_seconds,
                Self::MIN_IDLE_LOCK_SECONDS,
                Self::MAX_IDLE_LOCK_SECONDS
            ));
        }
        if self.retention_days > Self::MAX_RETENTION_DAYS {
            return Err(format!(
                "retention_days is {}, it must be from 0 to {}",
                self.retention_days,
                Self::MAX_RETENTION_DAYS
            ));
        }
        Ok(())
    }
}

impl Default for DevicePolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// `POST /api/v1/login` body (people: admins, designers, coordinators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToken {
    pub token: String,
    pub expires_at: String,
    pub role: String,
}

/// One published form version, as listed to devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormVersionSummary {
    pub form: String,
    pub version: String,
    pub title: String,
    pub published_at: String,
    /// SHA-256 of the form document, hex; devices re-download when it changes.
    pub sha256: String,
    /// The project's current recipient keys (age X25519, `age1…`): a device seals the
    /// answers of this form's `sensitive` and `pii` fields to every one of them. Empty
    /// when the project has no key (then nothing is sealed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
}

/// How the server took one revision of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Stored and merged.
    Accepted,
    /// Already stored earlier (same id, same content): nothing to do.
    Duplicate,
    /// Stored and merged, but the response is flagged for a coordinator (reasons given).
    Quarantined,
    /// Not stored (reason given); sending it again unchanged will not help.
    Rejected,
}

impl AckStatus {
    /// The wire name (as serde writes it), for storing it as text.
    pub fn as_str(self) -> &'static str {
        match self {
            AckStatus::Accepted => "accepted",
            AckStatus::Duplicate => "duplicate",
            AckStatus::Quarantined => "quarantined",
            AckStatus::Rejected => "rejected",
        }
    }

    /// The status a wire name names.
    pub fn from_name(name: &str) -> Option<AckStatus> {
        [
            AckStatus::Accepted,
            AckStatus::Duplicate,
            AckStatus::Quarantined,
            AckStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The acknowledgement of one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordAck {
    /// The revision id (or `line N` when the line was not a readable revision).
    pub id: String,
    pub status: AckStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// `POST /api/v1/projects/{p}/revisions` answer: one ack per line, in order, plus tallies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadAck {
    pub accepted: u64,
    pub duplicate: u64,
    pub quarantined: u64,
    pub rejected: u64,
    pub records: Vec<RecordAck>,
    /// The body was cut off: only the complete lines before the cut were taken. Ask
    /// `revisions/known` and send the rest again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// `POST /api/v1/projects/{p}/revisions/known`: which of these revision ids the server
/// has, so a client whose upload was cut off resends only the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownRequest {
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownResponse {
    pub known: Vec<String>,
}

/// Where an attachment upload stands. Attachments are addressed by the SHA-256 of their
/// content within a project, so a file shared by many responses is stored once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentStatus {
    pub sha256: String,
    /// Declared total size in bytes.
    pub size: u64,
    /// Bytes received so far, from the start: the next chunk goes at this offset.
    pub received: u64,
    /// All bytes received and their SHA-256 verified.
    pub complete: bool,
}

/// A coordinator's judgement of a response (ODK Central's review states), and the
/// send-back loop: `sent_back` to its enumerator with comments, `resubmitted` when the
/// device that started it sends a finalized edit after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Received,
    HasIssues,
    Approved,
    Rejected,
    SentBack,
    Resubmitted,
}

impl ReviewState {
    /// The stored text (ODK Central's spelling for its own states).
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Received => "received",
            ReviewState::HasIssues => "hasIssues",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
            ReviewState::SentBack => "sentBack",
            ReviewState::Resubmitted => "resubmitted",
        }
    }

    /// The JSON name (`sent_back`).
    pub fn wire_name(self) -> &'static str {
        match self {
            ReviewState::Received => "received",
            ReviewState::HasIssues => "has_issues",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
            ReviewState::SentBack => "sent_back",
            ReviewState::Resubmitted => "resubmitted",
        }
    }

    /// From the stored text or the JSON name.
    pub fn parse(text: &str) -> Option<ReviewState> {
        Some(match text {
            "received" => ReviewState::Received,
            "has_issues" | "hasIssues" => ReviewState::HasIssues,
            "approved" => ReviewState::Approved,
            "rejected" => ReviewState::Rejected,
            "sent_back" | "sentBack" => ReviewState::SentBack,
            "resubmitted" => ReviewState::Resubmitted,
            _ => return None,
        })
    }
}

/// Comments on single answers of a response sent back, by flat answer path
/// (`/member[2]/age`).
pub type FieldComments = std::collections::BTreeMap<String, String>;

/// One transition of a response's review state, as kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTransition {
    pub state: ReviewState,
    /// The comment on the response as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Comments on single answers (a send-back's).
    #[serde(default, skip_serializing_if = "FieldComments::is_empty")]
    pub fields: FieldComments,
    /// Who decided: `user:NAME` for a person, the device id for a resubmission.
    pub by: String,
    /// When the server recorded it (RFC 3339, server clock).
    pub at: String,
}

/// Newest version of the device feed's body ([`DeviceFeedPage::feed_version`]). A
/// change a client could misread gets a new number; added optional fields do not.
/// Version 2 adds withdrawn responses ([`DeviceFeedItem::withdrawn`]): a client asks for
/// it (`?version=2`), and a server answers version 1, without them, to one that does not.
pub const DEVICE_FEED_VERSION: u32 = 2;

/// Every device feed version a server answers, oldest first.
pub const DEVICE_FEED_VERSIONS: [u32; 2] = [1, 2];

/// A device feed page a client must not apply: a version it does not read, or an item
/// that breaks its version's rules. Nothing of the page is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("the server sends device feed version {got}; this app reads {DEVICE_FEED_VERSIONS:?}: update the app")]
    Version { got: u32 },
    #[error("the server sent version {asked} of the device feed when version {got} was asked for")]
    NotAsked { asked: u32, got: u32 },
    #[error("device feed item {cursor} (response `{response}`) is marked withdrawn in a version 1 page, which has no withdrawals")]
    WithdrawnInVersion1 { cursor: String, response: String },
    #[error("device feed item {cursor}: withdrawn response `{response}` carries {what}; a withdrawal carries no answers or comments")]
    WithdrawnWithContent {
        cursor: String,
        response: String,
        what: &'static str,
    },
}

/// One response a device started, as `GET /api/v1/projects/{p}/device/feed` sends it
/// back: its review state and history, and coordinators' edits of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceFeedItem {
    /// Position of this change in the project's feed; pass the page's `next` as `after`.
    pub cursor: String,
    /// The response's id.
    pub response: String,
    pub form: String,
    pub version: String,
    pub review_state: ReviewState,
    /// Every review transition, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviews: Vec<ReviewTransition>,
    /// Every revision of the response by a coordinator (`user:NAME`), as stored, in
    /// arrival order. The device merges them with the same merge as the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<super::Revision>,
    /// Since version 2: its respondent withdrew (a coordinator marked it). The device
    /// purges the response, keeping only what exactly-once needs. Such an item carries
    /// no reviews and no edits.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
}

/// `GET /api/v1/projects/{p}/device/feed?after=CURSOR&limit=N` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceFeedPage {
    /// [`DEVICE_FEED_VERSION`] of this body.
    pub feed_version: u32,
    pub items: Vec<DeviceFeedItem>,
    /// Cursor to pass as `after` next time (unchanged when the page is empty).
    pub next: String,
    /// Whether more changes were already waiting when this page was read.
    pub more: bool,
}

impl DeviceFeedPage {
    /// Whether a client that asked for version `asked` may apply this page: a version
    /// it reads, no newer than it asked for (an older server answers 1), and items that
    /// keep their version's rules.
    pub fn check(&self, asked: u32) -> Result<(), FeedError> {
        let got = self.feed_version;
        if !DEVICE_FEED_VERSIONS.contains(&got) {
            return Err(FeedError::Version { got });
        }
        if got > asked {
            return Err(FeedError::NotAsked { asked, got });
        }
        for item in self.items.iter().filter(|i| i.withdrawn) {
            let (cursor, response) = (item.cursor.clone(), item.response.clone());
            if got < 2 {
                return Err(FeedError::WithdrawnInVersion1 { cursor, response });
            }
            let what = if !item.edits.is_empty() {
                "edits"
            } else if !item.reviews.is_empty() {
                "reviews"
            } else {
                continue;
            };
            return Err(FeedError::WithdrawnWithContent {
                cursor,
                response,
                what,
            });
        }
        Ok(())
    }
}

/// One response in a coordinator pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledResponse {
    /// Position of this change in the project's feed; pass the last one as `after`.
    pub cursor: String,
    pub response: Response,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResponseStatus>,
    /// Device that started the response, and its enumerator.
    pub device: String,
    pub enumerator: String,
    /// When the server first received the response (RFC 3339, server clock).
    pub received_at: String,
    /// When the server last merged a revision into it (RFC 3339, server clock).
    pub updated_at: String,
    pub review_state: ReviewState,
    /// Why the response is quarantined (empty when it is not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantine: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// The causal context to put in `seen` when editing on top of this state.
    pub context: VersionVector,
    pub revisions: u64,
    /// Flat paths of the pii answers (and pii conflicts) left out because pii was not
    /// asked for (`GET /responses/{id}` without `pii=true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked: Vec<String>,
    /// The comment of the last review decision (`GET /responses/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_comment: Option<String>,
}

/// `GET /api/v1/projects/{p}/responses?after=CURSOR&limit=N` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub items: Vec<PulledResponse>,
    /// Cursor to pass as `after` for the next page (unchanged when the page is empty).
    pub next: String,
    /// Whether more changes were already available when this page was read.
    pub more: bool,
}

/// An error answer (RFC 9457 Problem Details) with a machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    /// The limit that was exceeded, for `payload_too_large` and similar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Where a refused form is wrong (`invalid_form`), one entry per problem.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// One problem found in a form: where (a JSON form's pointer, line and column, or a
/// workbook's sheet, row and cell) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// 1-based row of the sheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    /// The cell as a spreadsheet names it (`survey!C12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_status_names_are_the_wire_names() {
        for status in [
            AckStatus::Accepted,
            AckStatus::Duplicate,
            AckStatus::Quarantined,
            AckStatus::Rejected,
        ] {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(AckStatus::from_name(status.as_str()), Some(status));
        }
        assert_eq!(AckStatus::from_name("Accepted"), None);
    }

    #[test]
    fn review_states_parse_from_their_stored_text_and_wire_name() {
        for state in [
            ReviewState::Received,
            ReviewState::HasIssues,
            ReviewState::Approved,
            ReviewState::Rejected,
            ReviewState::SentBack,
            ReviewState::Resubmitted,
        ] {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.wire_name()));
            assert_eq!(ReviewState::parse(state.as_str()), Some(state));
            assert_eq!(ReviewState::parse(state.wire_name()), Some(state));
        }
        assert_eq!(ReviewState::parse("sent back"), None);
    }

    fn feed(version: u32, items: serde_json::Value) -> DeviceFeedPage {
        serde_json::from_value(serde_json::json!({
            "feed_version": version, "next": "9", "more": false, "items": items
        }))
        .unwrap()
    }

    #[test]
    fn a_withdrawn_feed_item_decodes_and_round_trips_and_an_old_one_is_not_withdrawn() {
        let old = feed(
            1,
            serde_json::json!([{"cursor": "7", "response": "r1", "form": "f", "version": "1",
                "review_state": "sent_back"}]),
        );
        assert!(!old.items[0].withdrawn);
        assert_eq!(old.check(2), Ok(()));
        assert_eq!(old.check(1), Ok(()));
        let page = feed(
            2,
            serde_json::json!([{"cursor": "8", "response": "r2", "form": "f", "version": "1",
                "review_state": "received", "withdrawn": true}]),
        );
        assert!(page.items[0].withdrawn);
        assert_eq!(page.check(2), Ok(()));
        let text = serde_json::to_string(&page).unwrap();
        assert!(text.contains("\"withdrawn\":true"), "{text}");
        assert_eq!(serde_json::from_str::<DeviceFeedPage>(&text).unwrap(), page);
        // Not withdrawn: the field is left out, as version 1 has it.
        assert!(!serde_json::to_string(&old).unwrap().contains("withdrawn"));
        // A value of the wrong type is no page at all.
        let bad = serde_json::from_value::<DeviceFeedPage>(serde_json::json!({
            "feed_version": 2, "next": "9", "more": false,
            "items": [{"cursor": "8", "response": "r2", "form": "f", "version": "1",
                "review_state": "received", "withdrawn": "yes"}]
        }));
        assert!(bad.is_err());
    }

    #[test]
    fn a_feed_page_breaking_its_versions_rules_is_refused_whole() {
        let withdrawn = |extra: serde_json::Value| {
            let mut item = serde_json::json!({"cursor": "8", "response": "r2", "form": "f",
                "version": "1", "review_state": "received", "withdrawn": true});
            item.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::json!([item])
        };
        assert_eq!(
            feed(3, serde_json::json!([])).check(2),
            Err(FeedError::Version { got: 3 })
        );
        assert_eq!(
            feed(2, serde_json::json!([])).check(1),
            Err(FeedError::NotAsked { asked: 1, got: 2 })
        );
        let v1 = feed(1, withdrawn(serde_json::json!({})))
            .check(2)
            .unwrap_err();
        assert!(matches!(v1, FeedError::WithdrawnInVersion1 { .. }));
        assert!(v1.to_string().contains("`r2`"), "{v1}");
        let reviews = serde_json::json!({"reviews": [{"state": "sent_back", "by": "user:c",
            "at": "2026-12-01T00:00:00Z", "comment": "x"}]});
        let e = feed(2, withdrawn(reviews)).check(2).unwrap_err();
        assert!(e.to_string().contains("carries reviews"), "{e}");
        let edit = serde_json::json!({"edits": [{"id": "e1", "response": "r2", "form": "f",
            "version": "1", "actor": "user:c", "seq": 1, "hlc": "1767596497512.0",
            "set": {"/a": "secret"}}]});
        let e = feed(2, withdrawn(edit)).check(2).unwrap_err();
        assert!(e.to_string().contains("carries edits"), "{e}");
    }

    #[test]
    fn a_device_policy_outside_its_ranges_says_which_value() {
        assert_eq!(DevicePolicy::default().check(), Ok(()));
        let zero = DevicePolicy {
            retention_days: 0,
            ..DevicePolicy::DEFAULT
        };
        assert_eq!(zero.check(), Ok(()));
        let quick = DevicePolicy {
            idle_lock_seconds: 29,
            ..DevicePolicy::DEFAULT
        };
        assert!(quick
            .check()
            .unwrap_err()
            .contains("idle_lock_seconds is 29"));
        let long = DevicePolicy {
            retention_days: 3651,
            ..DevicePolicy::DEFAULT
        };
        assert!(long.check().unwrap_err().contains("retention_days is 3651"));
    }

    #[test]
    fn provisioning_code_round_trips_and_rejects_damage() {
        let code = ProvisioningCode {
            server: "http://10.0.0.2:8470".into(),
            project: "kisumu".into(),
            code: "abc".into(),
            certificate_sha256: None,
        };
        let text = code.to_text();
        assert!(text.starts_with("voices1:"));
        assert_eq!(ProvisioningCode::from_text(&text).unwrap(), code);
        assert!(ProvisioningCode::from_text("voices1:!!!").is_err());
        assert!(ProvisioningCode::from_text("hello").is_err());
    }
}
