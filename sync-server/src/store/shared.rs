//! The rules both backends follow that are not SQL: how a token's row becomes a
//! principal, how an attachment chunk is judged, how a stored response row becomes a
//! [`StoredResponse`], how stored text maps to roles and review states, and the words of
//! the errors they give. Each backend reads and writes its own way; what the rows mean
//! is decided once, here.

use voices_core::sync::protocol::ReviewState;

use super::codec;
use super::{
    AttachmentStatus, ChunkOutcome, Decision, Device, FormVersion, Principal, Published,
    ReviewEntry, Role, StoredResponse, TokenInfo, TokenSubject, User,
};
use crate::{Error, Result};

/// The columns of `responses` a [`StoredResponse`] is read from, in [`ResponseRow`] order.
pub(super) const RESPONSE_COLUMNS: &str =
    "feed_seq, state, device, enumerator, received_at, updated_at, review_state, quarantine";

/// A `responses` row as read (see [`RESPONSE_COLUMNS`]).
pub(super) struct ResponseRow {
    pub feed_seq: i64,
    pub state: String,
    pub device: String,
    pub enumerator: String,
    pub received_at: String,
    pub updated_at: String,
    pub review_state: String,
    pub quarantine: String,
}

impl ResponseRow {
    /// The response the row holds: its merged state decoded, review state and
    /// quarantine reasons read.
    pub fn decode(self) -> Result<StoredResponse> {
        Ok(StoredResponse {
            feed_seq: self.feed_seq,
            state: codec::decode(&self.state)?,
            device: self.device,
            enumerator: self.enumerator,
            received_at: self.received_at,
            updated_at: self.updated_at,
            review_state: review_state(&self.review_state),
            quarantine: serde_json::from_str(&self.quarantine)?,
        })
    }
}

/// A stored review state; anything unknown reads as `received`, the state every
/// response starts in.
pub(super) fn review_state(text: &str) -> ReviewState {
    ReviewState::parse(text).unwrap_or(ReviewState::Received)
}

/// A review decision from its stored columns: `fields` and `context` are JSON (or NULL).
pub(super) fn review_entry(
    state: String,
    comment: Option<String>,
    by: String,
    at: String,
    fields: Option<String>,
    context: Option<String>,
) -> Result<ReviewEntry> {
    Ok(ReviewEntry {
        state,
        comment,
        by,
        at,
        fields: fields
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?
            .unwrap_or_default(),
        context: context.as_deref().map(serde_json::from_str).transpose()?,
    })
}

/// What a decision records with each response: its field comments as JSON (NULL when
/// none) and, for a send-back, the response's context then (what the resubmission's
/// diff starts from), from the stored state.
pub(super) fn decision_columns(
    decision: &Decision<'_>,
    stored_state: Option<&str>,
) -> Result<(Option<String>, Option<String>)> {
    let fields = (!decision.fields.is_empty())
        .then(|| serde_json::to_string(decision.fields))
        .transpose()?;
    let context = match (decision.state, stored_state) {
        (ReviewState::SentBack, Some(text)) => Some(serde_json::to_string(
            &super::codec::decode(text)?.context(),
        )?),
        _ => None,
    };
    Ok((fields, context))
}

/// A stored role; an unknown one is a damaged database, not a person without rights.
pub(super) fn role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| Error::Schema(format!("unknown role `{text}` in users")))
}

/// The `tokens` columns (`user_name`, `device_id`) of a token's subject.
pub(super) fn token_columns(subject: &TokenSubject) -> (Option<&str>, Option<&str>) {
    match subject {
        TokenSubject::User(u) => (Some(u.as_str()), None),
        TokenSubject::Device(d) => (None, Some(d.as_str())),
    }
}

/// A `tokens` row as read.
pub(super) struct TokenRow {
    pub user: Option<String>,
    pub device: Option<String>,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

impl TokenRow {
    /// Who the token speaks for: the user it names, else the device, loaded through the
    /// backend's connection `c`. A token whose owner no longer exists is no token
    /// (`None`).
    pub fn principal<C: ?Sized, E>(
        self,
        c: &mut C,
        load_user: impl FnOnce(&mut C, &str) -> std::result::Result<Option<User>, E>,
        load_device: impl FnOnce(&mut C, &str) -> std::result::Result<Option<Device>, E>,
    ) -> std::result::Result<Option<TokenInfo>, E> {
        let principal = match (&self.user, &self.device) {
            (Some(u), _) => load_user(c, u)?.map(Principal::User),
            (None, Some(d)) => load_device(c, d)?.map(Principal::Device),
            (None, None) => None,
        };
        Ok(principal.map(|principal| TokenInfo {
            principal,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        }))
    }
}

/// The answer to publishing `form` where a version of that name is stored with
/// `stored_sha256`: the same document again is no change; other content is refused.
pub(super) fn already_published(form: &FormVersion, stored_sha256: &str) -> Result<Published> {
    if stored_sha256 == form.sha256 {
        Ok(Published::AlreadyIdentical)
    } else {
        Err(Error::Conflict(format!(
            "form `{}` version `{}` is already published with different content; every change needs a new version",
            form.form, form.version
        )))
    }
}

pub(super) fn project_exists(id: &str) -> Error {
    Error::Conflict(format!("project `{id}` already exists"))
}

pub(super) fn user_exists(name: &str) -> Error {
    Error::Conflict(format!("user `{name}` already exists"))
}

pub(super) fn device_exists(id: &str) -> Error {
    Error::Conflict(format!("device `{id}` already exists"))
}

pub(super) fn no_project(id: &str) -> Error {
    Error::NotFound(format!("no project `{id}`"))
}

pub(super) fn no_user(name: &str) -> Error {
    Error::NotFound(format!("no user `{name}`"))
}

/// Refuse a database whose schema is newer than this build's `known` migrations.
pub(super) fn check_schema_version(applied: usize, known: usize) -> Result<()> {
    if applied > known {
        return Err(Error::Schema(format!(
            "the database schema is at version {applied}, newer than this server knows ({known}); upgrade voices-server"
        )));
    }
    Ok(())
}

/// A new attachment's status, before its first byte.
pub(super) fn new_attachment(sha256: &str, size: u64) -> AttachmentStatus {
    AttachmentStatus {
        sha256: sha256.to_owned(),
        size,
        received: 0,
        complete: false,
    }
}

/// What to do with a chunk, given where its attachment stands.
pub(super) enum ChunkStep {
    /// Write nothing; answer this.
    Answer(ChunkOutcome),
    /// Append the bytes (if any); the attachment then has `end` bytes.
    Append { end: u64 },
    /// The chunk starts a new claim of another size: discard the stored bytes and the
    /// old size, then append as to a new attachment of the chunk's size.
    Restart { end: u64 },
}

/// A chunk to store: the arguments of `Store::put_attachment_chunk`.
pub(super) struct Chunk<'a> {
    pub project: &'a str,
    pub sha256: &'a str,
    /// The attachment's declared total size.
    pub size: u64,
    pub offset: u64,
    pub data: &'a [u8],
    pub now: &'a str,
}

/// The chunk rules: the size of a complete file never changes; an incomplete file's
/// size is only a claim, replaced by a chunk from offset 0 that claims another (the
/// bytes decide, when the last one arrives); chunks continue exactly where the received
/// bytes end (a complete file takes no more); nothing goes past the size.
pub(super) fn chunk_step(status: &AttachmentStatus, chunk: &Chunk<'_>) -> Result<ChunkStep> {
    let size = chunk.size;
    let end = chunk.offset + chunk.data.len() as u64;
    if status.size != size {
        if status.complete || chunk.offset != 0 {
            return Err(Error::Conflict(format!(
                "attachment {} {} size {}, not {size}{}",
                status.sha256,
                if status.complete {
                    "is complete with"
                } else {
                    "was started with"
                },
                status.size,
                if status.complete {
                    ""
                } else {
                    "; send it from offset 0 to start it again with this size"
                }
            )));
        }
        if end > size {
            return Err(Error::Invalid(format!(
                "the chunk ends at byte {end}, past the declared size {size}"
            )));
        }
        return Ok(ChunkStep::Restart { end });
    }
    if status.complete || chunk.offset != status.received {
        return Ok(ChunkStep::Answer(ChunkOutcome::OffsetMismatch(
            status.clone(),
        )));
    }
    if end > size {
        return Err(Error::Invalid(format!(
            "the chunk ends at byte {end}, past the declared size {size}"
        )));
    }
    Ok(ChunkStep::Append { end })
}

/// The SHA-256 (hex) of a file's stored chunks, in order, followed by `last`: whether
/// the file's last chunk completes it with the content it is addressed by.
pub(super) fn completes(
    sha256: &str,
    stored: impl Iterator<Item = Result<Vec<u8>>>,
    last: &[u8],
) -> Result<bool> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for chunk in stored {
        hasher.update(chunk?);
    }
    hasher.update(last);
    Ok(hex::encode(hasher.finalize()) == sha256)
}

/// The part of a stored chunk starting at byte `start` that lies at or after `offset`.
pub(super) fn chunk_from(start: i64, data: &[u8], offset: i64) -> &[u8] {
    let skip = (offset - start).max(0) as usize;
    &data[skip.min(data.len())..]
}
