//! The merge: a response's current state from the set of its revisions.
//!
//! Every answer (and the consent record, each privacy outcome, the status and the form
//! version) is a *register*. A revision that writes a register replaces exactly the
//! values it had seen there. Values written concurrently — neither editor saw the
//! other's edit — are all kept, and the register is a conflict until someone who has
//! seen every one of them writes it again (a coordinator's resolution is simply such a
//! revision). Concurrent writes of the *same* value are not a conflict. Wall clocks play
//! no part: ODK entities apply updates in arrival order and ODK edits are whole-record
//! replacements (getodk/central#669, #698, #805, #815); here arrival order does not
//! matter at all and nothing is silently replaced.
//!
//! [`ResponseState::apply`] is incremental and its result does not depend on the order
//! or repetition of the revisions applied (property-tested in `core/tests/sync_merge.rs`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::clock::{ActorId, Dot, VersionVector};
use super::hlc::Hlc;
pub use super::register::{
    Register, Value, CONSENT_KEY, FORM_VERSION_KEY, PRIVACY_PREFIX, STATUS_KEY,
};
use super::revision::{Edits, ResponseStatus, Revision, RevisionError};
use crate::answer::{AnswerPath, AnswerValue, FlatAnswers, Sealed};
use crate::response::{
    ConsentRecord, MatchingRecord, OutcomeRecord, PrivacyRecord, Response, SelectionRecord,
};

/// One value held by a register, with the edit that wrote it (its revision id is in
/// [`ResponseState::revisions`], so it is not repeated here: states stay small).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub dot: Dot,
    pub hlc: Hlc,
    pub value: Value,
}

/// One of the values of a conflict, with the revision that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictValue {
    pub dot: Dot,
    pub revision: String,
    pub hlc: Hlc,
    pub value: Value,
}

/// Why a revision cannot be merged into a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("revision belongs to response {got}, not {expected}")]
    WrongResponse { expected: String, got: String },
    #[error("response {response} is of form `{expected}`; this revision says form `{got}`")]
    WrongForm {
        response: String,
        expected: String,
        got: String,
    },
    #[error("edit {dot} of this response is already revision {existing}; revision {got} reuses its number")]
    DotReused {
        dot: Dot,
        existing: String,
        got: String,
    },
    #[error(transparent)]
    Invalid(#[from] RevisionError),
}

/// What applying a revision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// New to this response.
    New,
    /// Already applied (same revision id at the same dot): nothing changed.
    Duplicate,
}

/// The merged state of one response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseState {
    pub response: String,
    pub form: String,
    /// Every revision applied, by actor and counter: the revision ids.
    pub revisions: BTreeMap<ActorId, BTreeMap<u64, String>>,
    /// Live values of each register; more than one distinct value is a conflict.
    pub registers: BTreeMap<Register, Vec<Entry>>,
    /// Causal contexts of the revisions that still hold a live value (needed to tell
    /// whether a late-arriving revision was already superseded).
    #[serde(with = "dot_pairs")]
    pub contexts: BTreeMap<Dot, VersionVector>,
    /// Earliest and latest HLC stamps among the revisions applied.
    pub first_hlc: Hlc,
    pub last_hlc: Hlc,
}

/// A register with more than one distinct live value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub key: Register,
    pub values: Vec<ConflictValue>,
}

impl ResponseState {
    pub fn new(response: impl Into<String>, form: impl Into<String>) -> ResponseState {
        ResponseState {
            response: response.into(),
            form: form.into(),
            revisions: BTreeMap::new(),
            registers: BTreeMap::new(),
            contexts: BTreeMap::new(),
            first_hlc: Hlc::ZERO,
            last_hlc: Hlc::ZERO,
        }
    }

    /// A fresh state for the response `revision` belongs to.
    pub fn for_revision(revision: &Revision) -> ResponseState {
        ResponseState::new(revision.response.clone(), revision.form.clone())
    }

    /// Whether this exact revision is already applied.
    pub fn contains(&self, revision: &Revision) -> bool {
        self.revision_at(&revision.dot()) == Some(revision.id.as_str())
    }

    /// The id of the revision applied at `dot`, if any.
    pub fn revision_at(&self, dot: &Dot) -> Option<&str> {
        self.revisions
            .get(&dot.actor)
            .and_then(|by_seq| by_seq.get(&dot.seq))
            .map(String::as_str)
    }

    /// Merge one revision in. Idempotent; commutes with every other revision.
    pub fn apply(&mut self, revision: &Revision) -> Result<Applied, MergeError> {
        let edits = revision.edits()?;
        if revision.response != self.response {
            return Err(MergeError::WrongResponse {
                expected: self.response.clone(),
                got: revision.response.clone(),
            });
        }
        if revision.form != self.form {
            return Err(MergeError::WrongForm {
                response: self.response.clone(),
                expected: self.form.clone(),
                got: revision.form.clone(),
            });
        }
        let dot = revision.dot();
        if let Some(existing) = self.revision_at(&dot) {
            if existing == revision.id {
                return Ok(Applied::Duplicate);
            }
            return Err(MergeError::DotReused {
                existing: existing.to_owned(),
                got: revision.id.clone(),
                dot,
            });
        }
        self.revisions
            .entry(revision.actor.clone())
            .or_default()
            .insert(revision.seq, revision.id.clone());
        self.first_hlc = if self.revision_count() == 1 {
            revision.hlc
        } else {
            self.first_hlc.min(revision.hlc)
        };
        self.last_hlc = self.last_hlc.max(revision.hlc);

        let context = revision.context();
        let mut live = false;
        let mut removed = false;
        for (key, value) in writes_of(revision, edits) {
            let entries = self.registers.entry(key).or_default();
            let superseded = entries
                .iter()
                .any(|e| self.contexts.get(&e.dot).is_some_and(|c| c.covers(&dot)));
            if superseded {
                continue;
            }
            let before = entries.len();
            entries.retain(|e| !context.covers(&e.dot));
            removed |= entries.len() != before;
            entries.push(Entry {
                dot: dot.clone(),
                hlc: revision.hlc,
                value,
            });
            if entries.len() > 1 {
                entries.sort_by(|a, b| a.dot.cmp(&b.dot));
            }
            live = true;
        }
        if live {
            self.contexts.insert(dot, context);
        }
        // Only a replaced value can leave a context unreferenced.
        if removed {
            self.collect_contexts();
        }
        Ok(Applied::New)
    }

    /// Drop contexts of revisions that no longer hold any live value.
    fn collect_contexts(&mut self) {
        let referenced: BTreeSet<&Dot> =
            self.registers.values().flatten().map(|e| &e.dot).collect();
        self.contexts.retain(|dot, _| referenced.contains(dot));
    }

    /// What an editor of this state has seen: per actor, the edits applied without a gap.
    /// A new revision made on top of this state carries it as `seen`.
    pub fn context(&self) -> VersionVector {
        let mut vv = VersionVector::new();
        for (actor, by_seq) in &self.revisions {
            let contiguous = by_seq
                .keys()
                .zip(1u64..)
                .take_while(|(seq, expected)| *seq == expected)
                .count() as u64;
            vv.observe(actor, contiguous);
        }
        vv
    }

    /// Number of revisions applied.
    pub fn revision_count(&self) -> usize {
        self.revisions.values().map(BTreeMap::len).sum()
    }

    /// Registers holding more than one distinct value.
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.registers
            .iter()
            .filter(|(_, entries)| distinct_values(entries) > 1)
            .map(|(key, entries)| Conflict {
                key: key.clone(),
                values: entries
                    .iter()
                    .map(|e| ConflictValue {
                        dot: e.dot.clone(),
                        revision: self.revision_at(&e.dot).unwrap_or_default().to_owned(),
                        hlc: e.hlc,
                        value: e.value.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn has_conflicts(&self) -> bool {
        self.registers.values().any(|e| distinct_values(e) > 1)
    }

    /// The value shown for a register: its only value, or for a conflict the one with the
    /// latest stamp (ties by dot) — a display choice only; the conflict stays flagged.
    pub fn current(&self, key: &Register) -> Option<&Value> {
        shown(self.registers.get(key)?)
    }

    /// The value shown for the answer at `path`, a path made as text (iterating
    /// [`ResponseState::registers`] needs no parse).
    pub fn answer(&self, path: &str) -> Option<&Value> {
        let path = AnswerPath::parse_stored(path).ok()?;
        self.current(&Register::Answer(path))
    }

    /// The form version the response is on.
    pub fn form_version(&self) -> Option<&str> {
        match self.current(&Register::Version) {
            Some(Value::Text(Some(v))) => Some(v),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<ResponseStatus> {
        match self.current(&Register::Status) {
            Some(Value::Status(s)) => Some(*s),
            _ => None,
        }
    }

    pub fn consent(&self) -> Option<&ConsentRecord> {
        match self.current(&Register::Consent) {
            Some(Value::Consent(c)) => Some(c),
            _ => None,
        }
    }

    /// How the interview ended, as last recorded.
    pub fn outcome(&self) -> Option<&OutcomeRecord> {
        match self.current(&Register::Outcome) {
            Some(Value::Outcome(o)) => Some(o),
            _ => None,
        }
    }

    /// The privacy outcome recorded for a group.
    pub fn privacy(&self, group: &AnswerPath) -> Option<&PrivacyRecord> {
        match self.current(&Register::Privacy(group.clone())) {
            Some(Value::Privacy(p)) => Some(p),
            _ => None,
        }
    }

    /// The sealed answers as shown (conflicts by their display value), by flat key.
    pub fn sealed(&self) -> impl Iterator<Item = (&AnswerPath, &Sealed)> + '_ {
        self.registers
            .iter()
            .filter_map(|(key, entries)| match (key, shown(entries)) {
                (Register::Answer(path), Some(Value::Sealed(s))) => Some((path, s)),
                _ => None,
            })
    }

    /// Whether an answer at `path` is sealed (any of its values, in a conflict).
    pub fn is_sealed(&self, path: &AnswerPath) -> bool {
        self.registers
            .get(&Register::Answer(path.clone()))
            .is_some_and(|entries| entries.iter().any(|e| matches!(e.value, Value::Sealed(_))))
    }

    /// The matching record of a group with a `match` rule.
    pub fn matching(&self, group: &AnswerPath) -> Option<&MatchingRecord> {
        match self.current(&Register::Matching(group.clone())) {
            Some(Value::Matching(m)) => Some(m),
            _ => None,
        }
    }

    /// The draw recorded for a respondent-selection field.
    pub fn selection(&self, field: &AnswerPath) -> Option<&SelectionRecord> {
        match self.current(&Register::Selection(field.clone())) {
            Some(Value::Selection(s)) => Some(s),
            _ => None,
        }
    }

    /// The clear answers as shown (conflicts by their display value), flat; sealed
    /// answers are not among them (see [`ResponseState::sealed`]).
    pub fn answers(&self) -> FlatAnswers {
        let mut flat = FlatAnswers::new();
        for (key, entries) in &self.registers {
            if let (Register::Answer(path), Some(Value::Text(Some(v)))) = (key, shown(entries)) {
                // Every answer register was checked to be a field or count key.
                let _ = flat.insert(path.clone(), v.clone());
            }
        }
        flat
    }

    /// The response as the engine sees it (conflicts shown by their display value), with
    /// sealed answers in their fields' places.
    pub fn to_response(&self) -> Response {
        let mut values = Vec::new();
        let mut sealed = Vec::new();
        let mut privacy = BTreeMap::new();
        let mut selections = BTreeMap::new();
        let mut matching = BTreeMap::new();
        let mut consent = None;
        let mut outcome = None;
        // One walk over the registers (no lookup per key: exports call this per row).
        for (key, entries) in &self.registers {
            match (key, shown(entries)) {
                (Register::Answer(path), Some(Value::Text(Some(v)))) => {
                    values.push((path, v.as_str()))
                }
                (Register::Answer(path), Some(Value::Sealed(s))) => sealed.push((path, s)),
                (Register::Privacy(group), Some(Value::Privacy(p))) => {
                    privacy.insert(group.clone(), p.clone());
                }
                (Register::Selection(field), Some(Value::Selection(d))) => {
                    selections.insert(field.clone(), d.clone());
                }
                (Register::Matching(group), Some(Value::Matching(m))) => {
                    matching.insert(group.clone(), m.clone());
                }
                (Register::Consent, Some(Value::Consent(c))) => consent = Some(c.clone()),
                (Register::Outcome, Some(Value::Outcome(o))) => outcome = Some(o.clone()),
                _ => {}
            }
        }
        Response {
            id: self.response.clone(),
            form_id: self.form.clone(),
            form_version: self.form_version().unwrap_or_default().to_owned(),
            answers: crate::answer::tree_with_sealed(values, sealed),
            consent,
            privacy,
            matching,
            selections,
            outcome,
        }
    }
}

/// The registers a revision writes, with their values, once it passes its check.
pub fn writes(
    revision: &Revision,
) -> Result<impl Iterator<Item = (Register, Value)> + '_, RevisionError> {
    Ok(writes_of(revision, revision.edits()?))
}

fn writes_of<'r>(
    revision: &'r Revision,
    edits: Edits<'r>,
) -> impl Iterator<Item = (Register, Value)> + 'r {
    let version = std::iter::once((
        Register::Version,
        Value::Text(Some(revision.version.clone())),
    ));
    let answers = edits.answers.into_iter().map(|(path, value)| {
        let value = match value {
            Some(AnswerValue::Text(text)) => Value::Text(Some(text.clone())),
            Some(AnswerValue::Sealed(sealed)) => Value::Sealed(sealed.clone()),
            None => Value::Text(None),
        };
        (Register::Answer(path), value)
    });
    let consent = revision
        .consent
        .iter()
        .map(|c| (Register::Consent, Value::Consent(c.clone())));
    let privacy = edits
        .privacy
        .into_iter()
        .map(|(group, p)| (Register::Privacy(group), Value::Privacy(p.clone())));
    let outcome = revision
        .outcome
        .iter()
        .map(|o| (Register::Outcome, Value::Outcome(o.clone())));
    let selections = edits
        .selections
        .into_iter()
        .map(|(field, d)| (Register::Selection(field), Value::Selection(d.clone())));
    let matching = edits
        .matching
        .into_iter()
        .map(|(group, m)| (Register::Matching(group), Value::Matching(m.clone())));
    let status = revision
        .status
        .iter()
        .map(|s| (Register::Status, Value::Status(*s)));
    version
        .chain(answers)
        .chain(consent)
        .chain(outcome)
        .chain(privacy)
        .chain(selections)
        .chain(matching)
        .chain(status)
}

/// The value shown for a register's entries (see [`ResponseState::current`]).
fn shown(entries: &[Entry]) -> Option<&Value> {
    match entries {
        [only] => Some(&only.value),
        _ => entries
            .iter()
            .max_by(|a, b| a.hlc.cmp(&b.hlc).then_with(|| a.dot.cmp(&b.dot)))
            .map(|e| &e.value),
    }
}

fn distinct_values(entries: &[Entry]) -> usize {
    let mut distinct: Vec<&Value> = Vec::with_capacity(entries.len());
    for e in entries {
        if !distinct.contains(&&e.value) {
            distinct.push(&e.value);
        }
    }
    distinct.len()
}

/// Serde for maps keyed by [`Dot`]: JSON object keys must be strings, so a list of pairs.
mod dot_pairs {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<Dot, VersionVector>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Dot, VersionVector>, D::Error> {
        let pairs = Vec::<(Dot, VersionVector)>::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(
        id: &str,
        actor: &str,
        seq: u64,
        seen: &[(&str, u64)],
        set: &[(&str, &str)],
    ) -> Revision {
        Revision {
            id: id.into(),
            response: "r1".into(),
            form: "hh".into(),
            version: "1".into(),
            actor: actor.into(),
            seq,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(1_000 + seq, 0),
            seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), Some((*v).into())))
                .collect(),
            consent: None,
            privacy: BTreeMap::new(),
            selections: BTreeMap::new(),
            matching: BTreeMap::new(),
            outcome: None,
            status: None,
        }
    }

    fn text(state: &ResponseState, key: &str) -> Vec<String> {
        state.registers[&key.parse::<Register>().unwrap()]
            .iter()
            .map(|e| match &e.value {
                Value::Text(v) => v.clone().unwrap_or_default(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn causally_later_edit_wins_even_with_an_earlier_wall_clock() {
        let mut s = ResponseState::new("r1", "hh");
        let first = rev("a1", "tab-a", 1, &[], &[("/age", "34")]);
        let mut second = rev("b1", "tab-b", 1, &[("tab-a", 1)], &[("/age", "43")]);
        second.hlc = Hlc::new(1, 0); // device clock years behind
        s.apply(&first).unwrap();
        s.apply(&second).unwrap();
        assert_eq!(text(&s, "/age"), ["43"]);
        assert!(!s.has_conflicts());
    }

    #[test]
    fn concurrent_edits_keep_both_values_until_resolved() {
        let mut s = ResponseState::new("r1", "hh");
        s.apply(&rev(
            "a1",
            "tab-a",
            1,
            &[],
            &[("/age", "34"), ("/name", "Achieng")],
        ))
        .unwrap();
        s.apply(&rev("a2", "tab-a", 2, &[], &[("/age", "35")]))
            .unwrap();
        s.apply(&rev("b1", "tab-b", 1, &[("tab-a", 1)], &[("/age", "36")]))
            .unwrap();
        assert_eq!(text(&s, "/age"), ["35", "36"]);
        let conflicts = s.conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].key, "/age");
        // The other field had no concurrent change.
        assert_eq!(text(&s, "/name"), ["Achieng"]);

        let resolution = rev(
            "c1",
            "coord",
            1,
            &[("tab-a", 2), ("tab-b", 1)],
            &[("/age", "35")],
        );
        s.apply(&resolution).unwrap();
        assert_eq!(text(&s, "/age"), ["35"]);
        assert!(!s.has_conflicts());
    }

    #[test]
    fn a_late_arriving_superseded_edit_stays_superseded() {
        let old = rev("a1", "tab-a", 1, &[], &[("/age", "34")]);
        let newer = rev("b1", "tab-b", 1, &[("tab-a", 1)], &[("/age", "43")]);
        let mut s = ResponseState::new("r1", "hh");
        s.apply(&newer).unwrap();
        s.apply(&old).unwrap();
        assert_eq!(text(&s, "/age"), ["43"]);
    }

    #[test]
    fn same_value_written_concurrently_is_not_a_conflict() {
        let mut s = ResponseState::new("r1", "hh");
        s.apply(&rev("a1", "tab-a", 1, &[], &[("/age", "34")]))
            .unwrap();
        s.apply(&rev("b1", "tab-b", 1, &[], &[("/age", "34")]))
            .unwrap();
        assert!(!s.has_conflicts());
        assert_eq!(s.registers[&"/age".parse::<Register>().unwrap()].len(), 2);
    }

    #[test]
    fn duplicates_are_recognised_and_reused_dots_refused() {
        let mut s = ResponseState::new("r1", "hh");
        let r = rev("a1", "tab-a", 1, &[], &[("/age", "34")]);
        assert_eq!(s.apply(&r).unwrap(), Applied::New);
        assert_eq!(s.apply(&r).unwrap(), Applied::Duplicate);
        let impostor = rev("other", "tab-a", 1, &[], &[("/age", "99")]);
        assert!(matches!(
            s.apply(&impostor),
            Err(MergeError::DotReused { .. })
        ));
        assert_eq!(text(&s, "/age"), ["34"]);
    }

    #[test]
    fn context_counts_only_gapless_edits() {
        let mut s = ResponseState::new("r1", "hh");
        s.apply(&rev("a1", "tab-a", 1, &[], &[])).unwrap();
        s.apply(&rev("a3", "tab-a", 3, &[], &[])).unwrap();
        assert_eq!(s.context().get("tab-a"), 1);
    }

    #[test]
    fn to_response_rebuilds_answers_and_version() {
        let mut s = ResponseState::new("r1", "hh");
        s.apply(&rev(
            "a1",
            "tab-a",
            1,
            &[],
            &[
                ("/members[]", "2"),
                ("/members[2]/age", "7"),
                ("/village", "X"),
            ],
        ))
        .unwrap();
        let response = s.to_response();
        assert_eq!(response.form_version, "1");
        let json = serde_json::to_value(&response.answers).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"members": [{}, {"age": "7"}], "village": "X"})
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut s = ResponseState::new("r1", "hh");
        s.apply(&rev("a1", "tab-a", 1, &[], &[("/age", "34")]))
            .unwrap();
        s.apply(&rev("b1", "tab-b", 1, &[], &[("/age", "35")]))
            .unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ResponseState>(&json).unwrap(), s);
    }
}
