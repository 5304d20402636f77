//! A revision: one edit of one response, as made on a device or by a coordinator.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::clock::{ActorId, Dot, VersionVector};
use super::hlc::Hlc;
use crate::answer::{
    parse_count, AnswerPath, AnswerValue, InstanceTally, PathError, PathKind, Sealed, Step,
    MAX_INSTANCES, MAX_RESPONSE_INSTANCES,
};
use crate::response::{
    ConsentRecord, MatchingRecord, OutcomeRecord, PrivacyRecord, SelectionRecord,
};

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
    /// Respondent-selection draws by the selection field's path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selections: BTreeMap<String, SelectionRecord>,
    /// Matching records of groups with a `match` rule, by group path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matching: BTreeMap<String, MatchingRecord>,
    /// How the interview ended (sent when it changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResponseStatus>,
    /// The files this revision's answers name: a file question's answer (the file's name)
    /// → the SHA-256 it is uploaded under, so the server knows which of the project's
    /// attachments belong to this response. A sealed answer's file is listed sealed, under
    /// the sealed answer's [`Sealed::file_name`] and the SHA-256 of the sealed file
    /// ([`Revision::seal_with_files`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
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
    #[error("`seq` may be at most {}", i64::MAX)]
    SeqTooLarge,
    #[error("`{field}` holds a control character; ids are printable text")]
    ControlInId { field: &'static str },
    #[error("the answer at `{path}` holds a NUL character, which no answer may contain")]
    NulInAnswer { path: String },
    #[error("`seen` claims {actor}:{seen}, but this is that actor's edit number {seq}: an edit cannot have seen itself")]
    SeenItself { actor: String, seen: u64, seq: u64 },
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("`{path}`: the number of instances of repeat `{repeat}` must be a whole number from 0 to {limit}", limit = MAX_INSTANCES)]
    BadCount { path: String, repeat: String },
    #[error("privacy key `{0}` is not a group path such as `/safety` or `/members[2]/safety`")]
    PrivacyKey(String),
    #[error(
        "selection key `{0}` is not a field path such as `/selected` or `/households[2]/selected`"
    )]
    SelectionKey(String),
    #[error(
        "matching key `{0}` is not a group path such as `/violence` or `/members[2]/violence`"
    )]
    MatchingKey(String),
    #[error("matching record of `{0}`: {1}")]
    BadMatching(String, String),
    #[error("too many changes in one revision ({0}; the limit is {limit})", limit = Revision::MAX_CHANGES)]
    TooManyChanges(usize),
    #[error("`seen` names {0} actors; the limit is {limit}", limit = Revision::MAX_SEEN_ACTORS)]
    TooManySeen(usize),
    #[error("the answer paths name {0} repeat instances in all; a response may hold at most {limit}", limit = MAX_RESPONSE_INSTANCES)]
    TooManyInstances(usize),
    #[error("`{0}`: a repeat count is never sealed")]
    SealedCount(String),
    #[error(
        "`{0}` is sealed, but the revision does not say the device validated it (`validated`)"
    )]
    SealedUnvalidated(String),
    #[error("file name `{0}` in `files` must be 1 to {limit} bytes without `/`, `\\` or control characters", limit = MAX_FILE_NAME)]
    BadFileName(String),
    #[error("`files`: `{name}` must name the SHA-256 of the file as 64 hex digits")]
    BadFileHash { name: String },
}

/// Identifier, name and value length limits, so one bad record cannot bloat storage.
const MAX_ID: usize = 128;
const MAX_VALUE: usize = 64 * 1024;
/// Longest file name in `files`, in bytes (what file systems allow).
const MAX_FILE_NAME: usize = 255;

impl Revision {
    /// Most answers one revision may change.
    pub const MAX_CHANGES: usize = 10_000;
    /// Most actors `seen` may name (every one is kept with the revision's context).
    pub const MAX_SEEN_ACTORS: usize = 1_000;

    pub fn dot(&self) -> Dot {
        Dot::new(self.actor.clone(), self.seq)
    }

    /// What this revision had seen, its own actor's earlier edits included. Actors
    /// named with 0 (nothing seen) are left out: the merge keeps this context while the
    /// revision holds a value, so those names would only take room (up to
    /// [`Revision::MAX_SEEN_ACTORS`] of them, never checked against what the server
    /// holds, since claiming nothing claims no edit it lacks).
    pub fn context(&self) -> VersionVector {
        let mut context = VersionVector::new();
        context.join(&self.seen);
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
    /// were sealed. A sealed answer's file is left out of `files` (its name is not left
    /// in clear beside it); [`Revision::seal_with_files`] seals the file too.
    pub fn seal<E>(
        &mut self,
        seals: impl Fn(&AnswerPath) -> bool,
        seal: impl FnMut(&str) -> Result<Sealed, E>,
    ) -> Result<usize, E> {
        self.seal_with_files(seals, seal, |_| Ok(None))
    }

    /// [`Revision::seal`], and the file each sealed file answer names in `files` sealed
    /// by `seal_file` (given the clear file's SHA-256, it answers the SHA-256 of the
    /// sealed file the shell keeps and uploads, or `None` to list no file): the entry
    /// `clear name → clear SHA-256` becomes `Sealed::file_name() → sealed SHA-256`, so
    /// neither the file's name nor its clear hash leaves the device. A name a clear
    /// answer still uses stays listed for it. A clear answer whose file has the SHA-256
    /// of a sealed answer's file (the same photo given to a `sensitive` question and to
    /// another) is sealed as well, with its own sealed file: the bytes never leave the
    /// device in clear, and a reader opens that answer as any sealed one.
    pub fn seal_with_files<E>(
        &mut self,
        seals: impl Fn(&AnswerPath) -> bool,
        mut seal: impl FnMut(&str) -> Result<Sealed, E>,
        mut seal_file: impl FnMut(&str) -> Result<Option<String>, E>,
    ) -> Result<usize, E> {
        let mut sealed = 0;
        // (the clear file's SHA-256, the sealed answer's file name)
        let mut sealed_files = Vec::new();
        // A clear answer naming the very bytes a sealed answer's file holds is sealed
        // too: otherwise the photo would leave unsealed under the other question.
        let flagged: BTreeSet<&String> = self
            .set
            .iter()
            .filter(|(text, value)| {
                matches!(value, Some(AnswerValue::Text(_)))
                    && AnswerPath::parse(text).is_ok_and(|path| seals(&path))
            })
            .map(|(text, _)| text)
            .collect();
        let sensitive_files: BTreeSet<&String> = flagged
            .iter()
            .filter_map(|text| self.set[*text].as_ref()?.text())
            .filter_map(|name| self.files.get(name))
            .collect();
        let to_seal: BTreeSet<String> = self
            .set
            .iter()
            .filter(|(text, value)| {
                flagged.contains(text)
                    || value
                        .as_ref()
                        .and_then(AnswerValue::text)
                        .and_then(|name| self.files.get(name))
                        .is_some_and(|sha| sensitive_files.contains(sha))
            })
            .map(|(text, _)| text.clone())
            .collect();
        for (text, value) in &mut self.set {
            let Some(AnswerValue::Text(clear)) = value else {
                continue;
            };
            if to_seal.contains(text) {
                let closed = seal(clear)?;
                if let Some(sha) = self.files.get(clear.as_str()) {
                    sealed_files.push((sha.clone(), closed.file_name()));
                }
                *value = Some(AnswerValue::Sealed(closed));
                sealed += 1;
            }
        }
        if sealed > 0 {
            self.validated = true;
            let clear: std::collections::BTreeSet<&str> = self
                .set
                .values()
                .flatten()
                .filter_map(AnswerValue::text)
                .collect();
            self.files.retain(|name, _| clear.contains(name.as_str()));
            for (sha, name) in sealed_files {
                if let Some(sealed_sha) = seal_file(&sha)? {
                    self.files.insert(name, sealed_sha);
                }
            }
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
            if value.chars().any(char::is_control) {
                return Err(RevisionError::ControlInId { field });
            }
        }
        if self.seq == 0 {
            return Err(RevisionError::ZeroSeq);
        }
        // Stores keep edit numbers as 64-bit signed integers.
        if i64::try_from(self.seq).is_err() {
            return Err(RevisionError::SeqTooLarge);
        }
        let seen_self = self.seen.get(&self.actor);
        if seen_self >= self.seq {
            return Err(RevisionError::SeenItself {
                actor: self.actor.clone(),
                seen: seen_self,
                seq: self.seq,
            });
        }
        if self.seen.0.len() > Self::MAX_SEEN_ACTORS {
            return Err(RevisionError::TooManySeen(self.seen.0.len()));
        }
        let changes = self.set.len()
            + self.privacy.len()
            + self.selections.len()
            + self.matching.len()
            + self.files.len();
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
                // PostgreSQL text cannot hold NUL: refused on every backend alike.
                Some(AnswerValue::Text(v)) if v.contains('\0') => {
                    return Err(RevisionError::NulInAnswer {
                        path: text.chars().take(200).collect(),
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
        // A sealed value is never a count, so its text is not needed to tally instances.
        let instances = InstanceTally::of(
            answers
                .iter()
                .map(|(p, v)| (p, v.and_then(AnswerValue::text))),
        )
        .total();
        if instances > MAX_RESPONSE_INSTANCES {
            return Err(RevisionError::TooManyInstances(instances));
        }
        let mut privacy = Vec::with_capacity(self.privacy.len());
        for (group, record) in &self.privacy {
            match AnswerPath::parse(group) {
                Ok(path) if path.kind() == PathKind::Name => privacy.push((path, record)),
                _ => return Err(RevisionError::PrivacyKey(group.chars().take(200).collect())),
            }
        }
        let mut selections = Vec::with_capacity(self.selections.len());
        for (field, record) in &self.selections {
            match AnswerPath::parse(field) {
                Ok(path) if path.kind() == PathKind::Name => selections.push((path, record)),
                _ => {
                    return Err(RevisionError::SelectionKey(
                        field.chars().take(200).collect(),
                    ))
                }
            }
        }
        let mut matching = Vec::with_capacity(self.matching.len());
        for (group, record) in &self.matching {
            match AnswerPath::parse(group) {
                Ok(path) if path.kind() == PathKind::Name => {
                    record.check().map_err(|why| {
                        RevisionError::BadMatching(group.chars().take(200).collect(), why)
                    })?;
                    matching.push((path, record))
                }
                _ => {
                    return Err(RevisionError::MatchingKey(
                        group.chars().take(200).collect(),
                    ))
                }
            }
        }
        for (name, sha256) in &self.files {
            if name.is_empty()
                || name.len() > MAX_FILE_NAME
                || name
                    .chars()
                    .any(|c| c.is_control() || c == '/' || c == '\\')
            {
                return Err(RevisionError::BadFileName(name.chars().take(200).collect()));
            }
            if sha256.len() != 64
                || !sha256
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                return Err(RevisionError::BadFileHash { name: name.clone() });
            }
        }
        Ok(Edits {
            answers,
            privacy,
            selections,
            matching,
        })
    }
}

/// A checked revision's changes, paths parsed (see [`Revision::edits`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Edits<'a> {
    /// New values by flat key; `None` clears.
    pub answers: Vec<(AnswerPath, Option<&'a AnswerValue>)>,
    /// Privacy outcomes by group path.
    pub privacy: Vec<(AnswerPath, &'a PrivacyRecord)>,
    /// Respondent-selection draws by field path.
    pub selections: Vec<(AnswerPath, &'a SelectionRecord)>,
    /// Matching records by group path.
    pub matching: Vec<(AnswerPath, &'a MatchingRecord)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision() -> Revision {
        Revision {
            id: "r1".into(),
            response: "resp".into(),
            form: "f".into(),
            version: "1".into(),
            actor: "tab-a".into(),
            seq: 1,
            hlc: Hlc::new(1, 0),
            seen: VersionVector::new(),
            set: BTreeMap::new(),
            consent: None,
            privacy: BTreeMap::new(),
            selections: BTreeMap::new(),
            matching: BTreeMap::new(),
            outcome: None,
            status: None,
            validated: false,
            files: Default::default(),
        }
    }

    #[test]
    fn matching_records_are_keyed_by_group_and_checked() {
        use crate::matching::{MatchingOutcome, MatchingRecord};
        let handed = MatchingRecord {
            outcome: MatchingOutcome::HandedOver,
            at: "2026-01-05T10:01:00+03:00".into(),
            by: Some("Amal".into()),
            sex: Some("female".into()),
            languages: Vec::new(),
            area: None,
            refused: Vec::new(),
        };
        let mut r = revision();
        r.matching.insert("/violence".into(), handed.clone());
        assert_eq!(r.edits().unwrap().matching.len(), 1);
        let mut bad_key = revision();
        bad_key.matching.insert("violence".into(), handed.clone());
        assert!(matches!(
            bad_key.edits(),
            Err(RevisionError::MatchingKey(_))
        ));
        let mut no_sex = revision();
        no_sex.matching.insert(
            "/violence".into(),
            MatchingRecord {
                sex: None,
                languages: Vec::new(),
                area: None,
                refused: Vec::new(),
                ..handed
            },
        );
        let err = no_sex.edits().unwrap_err();
        assert!(
            err.to_string().contains("the sex of who took over"),
            "{err}"
        );
    }

    /// What the stores cannot keep as sent is refused here, the same on every backend:
    /// NUL in text (PostgreSQL), edit numbers beyond 64-bit signed integers; and ids are
    /// printable, so they show and log as one line.
    #[test]
    fn what_no_store_can_keep_is_refused_with_the_field() {
        assert_eq!(revision().check(), Ok(()));
        let nul = Revision {
            set: [("/village".to_owned(), Some("a\0b".into()))].into(),
            ..revision()
        };
        let e = nul.check().unwrap_err();
        assert!(
            matches!(&e, RevisionError::NulInAnswer { path } if path == "/village"),
            "{e}"
        );
        for (field, edit) in [
            (
                "id",
                (|r: &mut Revision| r.id.push('\0')) as fn(&mut Revision),
            ),
            ("response", |r| r.response.push('\n')),
            ("actor", |r| r.actor.push('\u{1b}')),
        ] {
            let mut bad = revision();
            edit(&mut bad);
            let e = bad.check().unwrap_err();
            assert_eq!(e, RevisionError::ControlInId { field }, "{e}");
        }
        let largest = Revision {
            seq: i64::MAX as u64,
            ..revision()
        };
        assert_eq!(largest.check(), Ok(()));
        let beyond = Revision {
            seq: i64::MAX as u64 + 1,
            ..revision()
        };
        assert_eq!(beyond.check(), Err(RevisionError::SeqTooLarge));
        let unicode = Revision {
            id: "ревизия-🙂".into(),
            ..revision()
        };
        assert_eq!(unicode.check(), Ok(()));
    }

    #[test]
    fn files_name_a_hash_under_a_plain_file_name() {
        let sha = "0f".repeat(32);
        let mut r = revision();
        r.files.insert("house photo.jpg".into(), sha.clone());
        r.check().unwrap();
        for bad in ["", "../etc/passwd", "a\\b.jpg", "line\nbreak.jpg"] {
            let mut r = revision();
            r.files.insert(bad.into(), sha.clone());
            assert!(
                matches!(r.check(), Err(RevisionError::BadFileName(_))),
                "{bad:?}"
            );
        }
        let mut r = revision();
        r.files.insert("x".repeat(256), sha.clone());
        assert!(matches!(r.check(), Err(RevisionError::BadFileName(_))));
        for bad in ["0F".repeat(32), "0f".repeat(31), "zz".repeat(32)] {
            let mut r = revision();
            r.files.insert("a.jpg".into(), bad);
            let e = r.check().unwrap_err();
            assert_eq!(
                e,
                RevisionError::BadFileHash {
                    name: "a.jpg".into()
                }
            );
            assert!(e.to_string().contains("a.jpg"), "{e}");
        }
        // The wire leaves an empty map out and reads a revision without one.
        let json = serde_json::to_string(&revision()).unwrap();
        assert!(!json.contains("files"), "{json}");
        let mut r = revision();
        r.files.insert("a.jpg".into(), sha);
        let back: Revision = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn seen_names_a_bounded_number_of_actors() {
        let mut r = revision();
        r.seen = VersionVector(
            (0..=Revision::MAX_SEEN_ACTORS)
                .map(|i| (format!("tab-{i}"), 1))
                .collect(),
        );
        let err = r.check().unwrap_err();
        assert_eq!(
            err,
            RevisionError::TooManySeen(Revision::MAX_SEEN_ACTORS + 1)
        );
        assert!(err.to_string().contains("1000"), "{err}");
        r.seen.0.pop_last();
        r.check().unwrap();
    }

    #[test]
    fn the_context_names_only_actors_seen_at_all() {
        let mut r = revision();
        r.seen = VersionVector(
            (0..Revision::MAX_SEEN_ACTORS - 1)
                .map(|i| (format!("ghost-{i}"), 0))
                .chain([("tab-b".to_string(), 2)])
                .collect(),
        );
        r.check().unwrap();
        let context = r.context();
        assert_eq!(
            context.0.keys().collect::<Vec<_>>(),
            [&"tab-b".to_string()],
            "{context:?}"
        );
        assert_eq!(context.get("tab-b"), 2);
    }

    #[test]
    fn nested_instances_past_the_response_limit_are_refused() {
        let mut r = revision();
        // Each path is within the per-repeat limit; together they name 11 × 1,000.
        for k in 1..=11 {
            r.set.insert(format!("/a[{k}]/b[1000]/x"), Some("1".into()));
        }
        let err = r.check().unwrap_err();
        assert_eq!(err, RevisionError::TooManyInstances(11 + 11_000));
        assert!(err.to_string().contains("10000"), "{err}");
        // Ten of them are 10,010: still too many; nine fit.
        r.set.remove("/a[11]/b[1000]/x");
        assert!(r.check().is_err());
        r.set.remove("/a[10]/b[1000]/x");
        r.check().unwrap();
    }
}
