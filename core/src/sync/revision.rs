//! A revision: one edit of one response, as made on a device or by a coordinator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::clock::{ActorId, Dot, VersionVector};
use super::hlc::Hlc;
use super::paths;
use crate::response::{ConsentRecord, PrivacyRecord};

/// Where a response stands in its life on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Being filled in; may be incomplete.
    Draft,
    /// Marked complete by the enumerator (or a coordinator's edit of a complete one).
    Finalized,
}

/// One edit of a response. The wire form is compact JSON: names are short but whole
/// words, and empty parts are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// This revision's own UUID, made where the edit was made. Sending it again is harmless.
    pub id: String,
    /// The response's UUID, made on the device that started the interview.
    pub response: String,
    /// The form's id.
    pub form: String,
    /// The form version the edit was made on.
    pub version: String,
    /// The device (or coordinator) that made the edit.
    pub actor: ActorId,
    /// The actor's counter of edits to this response: 1 for its first, then 2, 3, …
    pub seq: u64,
    /// Hybrid-logical-clock stamp, for display order only (never used by the merge).
    pub hlc: Hlc,
    /// What the editor had seen of this response, besides its own earlier edits.
    #[serde(default, skip_serializing_if = "VersionVector::is_empty")]
    pub seen: VersionVector,
    /// Changed answers by flat path (see [`paths`]); `null` clears a value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
    /// Privacy-check outcomes by group path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub privacy: BTreeMap<String, PrivacyRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResponseStatus>,
}

/// What is wrong with a revision, before any merge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    #[error("`{field}` is empty")]
    Empty { field: &'static str },
    #[error("`{field}` is too long ({len} characters; the limit is {limit})")]
    TooLong {
        field: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("`seq` must be 1 or more")]
    ZeroSeq,
    #[error("`seen` claims {actor}:{seen}, but this is that actor's edit number {seq}: an edit cannot have seen itself")]
    SeenItself { actor: String, seen: u64, seq: u64 },
    #[error(transparent)]
    Path(#[from] paths::PathError),
    #[error("`{path}`: the number of instances of repeat `{repeat}` must be a whole number from 0 to {limit}", limit = paths::MAX_INSTANCES)]
    BadCount { path: String, repeat: String },
    #[error("privacy key `{0}` is not a group path such as `/safety` or `/members[2]/safety`")]
    PrivacyKey(String),
    #[error("too many changes in one revision ({0}; the limit is {limit})", limit = Revision::MAX_CHANGES)]
    TooManyChanges(usize),
}

/// Identifier, name and value length limits, so one bad record cannot bloat storage.
const MAX_ID: usize = 128;
const MAX_VALUE: usize = 64 * 1024;

impl Revision {
    /// Most answers one revision may change.
    pub const MAX_CHANGES: usize = 10_000;

    pub fn dot(&self) -> Dot {
        Dot::new(self.actor.clone(), self.seq)
    }

    /// What this revision had seen, its own actor's earlier edits included.
    pub fn context(&self) -> VersionVector {
        let mut context = self.seen.clone();
        context.observe(&self.actor, self.seq.saturating_sub(1));
        context
    }

    /// Check the shape of the revision: ids present and bounded, paths well formed,
    /// and a causal context that does not include the revision itself.
    pub fn check(&self) -> Result<(), RevisionError> {
        for (field, value) in [
            ("id", &self.id),
            ("response", &self.response),
            ("form", &self.form),
            ("version", &self.version),
            ("actor", &self.actor),
        ] {
            if value.trim().is_empty() {
                return Err(RevisionError::Empty { field });
            }
            if value.len() > MAX_ID {
                return Err(RevisionError::TooLong {
                    field,
                    len: value.len(),
                    limit: MAX_ID,
                });
            }
        }
        if self.seq == 0 {
            return Err(RevisionError::ZeroSeq);
        }
        let seen_self = self.seen.get(&self.actor);
        if seen_self >= self.seq {
            return Err(RevisionError::SeenItself {
                actor: self.actor.clone(),
                seen: seen_self,
                seq: self.seq,
            });
        }
        let changes = self.set.len() + self.privacy.len();
        if changes > Self::MAX_CHANGES {
            return Err(RevisionError::TooManyChanges(changes));
        }
        for (path, value) in &self.set {
            let steps = paths::parse(path)?;
            if let (Some(paths::Step::Count(name)), Some(count)) = (steps.last(), value) {
                match paths::parse_count(count) {
                    Some(n) if n <= paths::MAX_INSTANCES => {}
                    _ => {
                        return Err(RevisionError::BadCount {
                            path: path.clone(),
                            repeat: (*name).to_owned(),
                        })
                    }
                }
            }
            if let Some(v) = value {
                if v.len() > MAX_VALUE {
                    return Err(RevisionError::TooLong {
                        field: "set",
                        len: v.len(),
                        limit: MAX_VALUE,
                    });
                }
            }
        }
        for group in self.privacy.keys() {
            match paths::parse(group) {
                Ok(steps) if matches!(steps.last(), Some(paths::Step::Value(_))) => {}
                _ => return Err(RevisionError::PrivacyKey(group.chars().take(200).collect())),
            }
        }
        Ok(())
    }

    /// The registers this revision writes, in the merge's terms.
    pub fn writes(&self) -> impl Iterator<Item = (String, super::merge::Value)> + '_ {
        use super::merge::{Value, CONSENT_KEY, FORM_VERSION_KEY, PRIVACY_PREFIX, STATUS_KEY};
        let version = std::iter::once((
            FORM_VERSION_KEY.to_owned(),
            Value::Text(Some(self.version.clone())),
        ));
        let answers = self
            .set
            .iter()
            .map(|(path, value)| (path.clone(), Value::Text(value.clone())));
        let consent = self
            .consent
            .iter()
            .map(|c| (CONSENT_KEY.to_owned(), Value::Consent(c.clone())));
        let privacy = self.privacy.iter().map(|(group, p)| {
            (
                format!("{PRIVACY_PREFIX}{group}"),
                Value::Privacy(p.clone()),
            )
        });
        let status = self
            .status
            .iter()
            .map(|s| (STATUS_KEY.to_owned(), Value::Status(*s)));
        version
            .chain(answers)
            .chain(consent)
            .chain(privacy)
            .chain(status)
    }
}
