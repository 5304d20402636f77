//! A revision: one edit of one response, as made on a device or by a coordinator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::clock::{ActorId, Dot, VersionVector};
use super::hlc::Hlc;
use crate::answer::{
    parse_count, AnswerPath, AnswerValue, PathError, PathKind, Sealed, Step, MAX_INSTANCES,
};
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
    /// Changed answers by flat key (see [`crate::answer::FlatAnswers`]); `null` clears a
    /// value, `{"sealed": …}` is a sealed answer. Keys are text on the wire, so a bad key
    /// is this revision's rejection, with its reason, rather than an unreadable line;
    /// [`Revision::edits`] parses them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, Option<AnswerValue>>,
    /// The device checked the answers it sealed against the form (required, type,
    /// constraints) before sealing them: the server cannot, so a revision carrying a
    /// sealed value must say so, and the server keeps the revision with this flag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validated: bool,
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
    Path(#[from] PathError),
    #[error("`{path}`: the number of instances of repeat `{repeat}` must be a whole number from 0 to {limit}", limit = MAX_INSTANCES)]
    BadCount { path: String, repeat: String },
    #[error("privacy key `{0}` is not a group path such as `/safety` or `/members[2]/safety`")]
    PrivacyKey(String),
    #[error("too many changes in one revision ({0}; the limit is {limit})", limit = Revision::MAX_CHANGES)]
    TooManyChanges(usize),
    #[error("`{0}`: a repeat count is never sealed")]
    SealedCount(String),
    #[error(
        "`{0}` is sealed, but the revision does not say the device validated it (`validated`)"
    )]
    SealedUnvalidated(String),
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

    /// The clear text this revision sets at `path` (`None` when it clears or seals it,
    /// or does not change it).
    pub fn text(&self, path: &str) -> Option<&str> {
        self.set.get(path)?.as_ref()?.text()
    }

    /// Seal the clear values at the paths `seals` names with `seal` (the shell's
    /// encryption: the core never encrypts), and mark the revision `validated`: the
    /// device seals only what it has checked against the form. Returns how many values
    /// were sealed.
    pub fn seal<E>(
        &mut self,
        seals: impl Fn(&AnswerPath) -> bool,
        mut seal: impl FnMut(&str) -> Result<Sealed, E>,
    ) -> Result<usize, E> {
        let mut sealed = 0;
        for (text, value) in &mut self.set {
            let Some(AnswerValue::Text(clear)) = value else {
                continue;
            };
            if AnswerPath::parse(text).is_ok_and(|path| seals(&path)) {
                *value = Some(AnswerValue::Sealed(seal(clear)?));
                sealed += 1;
            }
        }
        if sealed > 0 {
            self.validated = true;
        }
        Ok(sealed)
    }

    /// Check the shape of the revision: ids present and bounded, paths well formed,
    /// and a causal context that does not include the revision itself.
    pub fn check(&self) -> Result<(), RevisionError> {
        self.edits().map(|_| ())
    }

    /// [`Revision::check`], and its changes with their paths parsed: what the merge
    /// writes.
    pub fn edits(&self) -> Result<Edits<'_>, RevisionError> {
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
        let mut answers = Vec::with_capacity(self.set.len());
        for (text, value) in &self.set {
            let path = AnswerPath::parse(text)?;
            match path.last() {
                Some(Step::Name(_)) => {}
                Some(Step::Count(repeat)) => {
                    if let Some(value) = value {
                        let Some(count) = value.text() else {
                            return Err(RevisionError::SealedCount(text.clone()));
                        };
                        if parse_count(count).is_none_or(|n| n > MAX_INSTANCES) {
                            return Err(RevisionError::BadCount {
                                path: text.clone(),
                                repeat: repeat.to_owned(),
                            });
                        }
                    }
                }
                None => {
                    return Err(
                        PathError::new(text, "each step must be a field or repeat name").into(),
                    )
                }
                Some(Step::Instance(..)) => {
                    return Err(PathError::new(
                        text,
                        "it must end with a field name or a repeat count `name[]`",
                    )
                    .into())
                }
            }
            match value {
                Some(AnswerValue::Text(v)) if v.len() > MAX_VALUE => {
                    return Err(RevisionError::TooLong {
                        field: "set",
                        len: v.len(),
                        limit: MAX_VALUE,
                    });
                }
                // A sealed value's length and alphabet were checked as it was read.
                Some(AnswerValue::Sealed(_)) if !self.validated => {
                    return Err(RevisionError::SealedUnvalidated(text.clone()));
                }
                _ => {}
            }
            answers.push((path, value.as_ref()));
        }
        let mut privacy = Vec::with_capacity(self.privacy.len());
        for (group, record) in &self.privacy {
            match AnswerPath::parse(group) {
                Ok(path) if path.kind() == PathKind::Name => privacy.push((path, record)),
                _ => return Err(RevisionError::PrivacyKey(group.chars().take(200).collect())),
            }
        }
        Ok(Edits { answers, privacy })
    }
}

/// A checked revision's changes, paths parsed (see [`Revision::edits`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Edits<'a> {
    /// New values by flat key; `None` clears.
    pub answers: Vec<(AnswerPath, Option<&'a AnswerValue>)>,
    /// Privacy outcomes by group path.
    pub privacy: Vec<(AnswerPath, &'a PrivacyRecord)>,
}
