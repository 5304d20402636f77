//! A device's next revision of a response: the first holds everything (edit number
//! 1), each later one only what changed since what the server holds.
//!
//! Pure: the device folds the revisions it stored into [`ResponseState`]s (the same
//! merge the server runs) and hands in what it holds now; ids and time come in.

use std::collections::BTreeMap;

use super::clock::ActorId;
use super::hlc::Hlc;
use super::merge::ResponseState;
use super::register::Register;
use super::revision::{ResponseStatus, Revision, RevisionError};
use crate::answer::{AnswerPath, AnswerValue, FlatAnswers};
use crate::response::{
    ConsentRecord, MatchingRecord, OutcomeRecord, PrivacyRecord, SelectionRecord,
};

/// A finalized response as the device holds it now.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub answers: &'a FlatAnswers,
    pub consent: Option<&'a ConsentRecord>,
    pub privacy: &'a BTreeMap<AnswerPath, PrivacyRecord>,
    pub selections: &'a BTreeMap<AnswerPath, SelectionRecord>,
    pub matching: &'a BTreeMap<AnswerPath, MatchingRecord>,
    pub outcome: Option<&'a OutcomeRecord>,
    /// The files attached to this response: the file's name (a file question's answer) →
    /// its SHA-256.
    pub files: &'a BTreeMap<String, String>,
}

/// What the device's stored revisions of the response say.
#[derive(Debug, Clone, Copy)]
pub struct Built<'a> {
    /// Every revision built on the device, rejected ones too: the edit numbers used,
    /// the stamps given, and whether anything changed since.
    pub all: &'a ResponseState,
    /// The revisions the server holds or will hold (acknowledged and not rejected, or
    /// waiting under the current link): what the next revision is a change of.
    pub held: &'a ResponseState,
    /// Some built revision will never be sent (made under an earlier link): build one
    /// under this link even if nothing changed.
    pub orphaned: bool,
}

/// Who makes the next revision, and when.
#[derive(Debug, Clone)]
pub struct Author {
    /// The new revision's id (a fresh UUID).
    pub revision_id: String,
    pub actor: ActorId,
    pub form_version: String,
    /// Wall clock, milliseconds since the epoch (only stamps the revision for display).
    pub now_ms: u64,
}

/// The next revision, or `None` when the server holds (or will hold) everything the
/// device has. A rejected revision is not built again unless something changed: its
/// content then goes again with the change.
pub fn next_revision(
    current: Current<'_>,
    built: Built<'_>,
    author: Author,
) -> Result<Option<Revision>, RevisionError> {
    let Built {
        all,
        held,
        orphaned,
    } = built;
    let finalized = Some(ResponseStatus::Finalized);
    let changed = all.answers() != *current.answers
        || current.consent.is_some_and(|c| all.consent() != Some(c))
        || current.outcome.is_some_and(|o| all.outcome() != Some(o))
        || current
            .privacy
            .iter()
            .any(|(group, record)| all.privacy(group) != Some(record))
        || current
            .selections
            .iter()
            .any(|(field, record)| all.selection(field) != Some(record))
        || current
            .matching
            .iter()
            .any(|(group, record)| all.matching(group) != Some(record))
        || all.status() != finalized
        || all.has_conflicts();
    if all.revision_count() > 0 && !changed && !orphaned {
        return Ok(None);
    }
    let mut set: BTreeMap<String, Option<AnswerValue>> = if held.revision_count() == 0 {
        current
            .answers
            .iter()
            .map(|(path, value)| (path.to_string(), Some(value.into())))
            .collect()
    } else {
        held.answers()
            .changes_to(current.answers)
            .into_iter()
            .map(|(path, value)| (path.into_string(), value.map(AnswerValue::Text)))
            .collect()
    };
    // A conflict the device holds (its edit and a coordinator's, made without seeing each
    // other) is resolved by writing the value the enumerator kept, having seen every value
    // (`seen` below covers them): the enumerator was shown the conflict before finalizing.
    for conflict in held.conflicts() {
        if let Register::Answer(path) = conflict.key {
            let value = current
                .answers
                .get(path.as_str())
                .map(|text| AnswerValue::Text(text.to_owned()));
            set.entry(path.into_string()).or_insert(value);
        }
    }
    // An answer shown sealed in what the server holds was sealed by another writer (the
    // device folds its own revisions in clear): it cannot be compared, and the device
    // showed it as a conflict, so the value the enumerator finalized is written.
    for (path, _) in held.sealed() {
        let value = current
            .answers
            .get(path.as_str())
            .map(|text| AnswerValue::Text(text.to_owned()));
        set.entry(path.to_string()).or_insert(value);
    }
    let consent = current
        .consent
        .filter(|c| held.consent() != Some(*c))
        .cloned();
    let privacy: BTreeMap<String, PrivacyRecord> = current
        .privacy
        .iter()
        .filter(|(group, record)| held.privacy(group) != Some(*record))
        .map(|(group, record)| (group.to_string(), record.clone()))
        .collect();
    let outcome = current
        .outcome
        .filter(|o| held.outcome() != Some(*o))
        .cloned();
    let selections: BTreeMap<String, SelectionRecord> = current
        .selections
        .iter()
        .filter(|(field, record)| held.selection(field) != Some(*record))
        .map(|(field, record)| (field.to_string(), record.clone()))
        .collect();
    let matching: BTreeMap<String, MatchingRecord> = current
        .matching
        .iter()
        .filter(|(group, record)| held.matching(group) != Some(*record))
        .map(|(group, record)| (group.to_string(), record.clone()))
        .collect();
    let status = (held.status() != finalized).then_some(ResponseStatus::Finalized);
    // The files of the answers this revision writes: the server learns which attachments
    // are this response's from the revision that names them.
    let files: BTreeMap<String, String> = set
        .values()
        .flatten()
        .filter_map(AnswerValue::text)
        .filter_map(|name| Some((name.to_owned(), current.files.get(name)?.clone())))
        .collect();
    if held.revision_count() > 0
        && set.is_empty()
        && consent.is_none()
        && outcome.is_none()
        && privacy.is_empty()
        && selections.is_empty()
        && matching.is_empty()
        && status.is_none()
    {
        return Ok(None);
    }
    // Edit numbers count every revision this actor built, rejected ones too, so a
    // number is never reused. What this edit was made on: other actors' edits the
    // server holds (it refuses a `seen` claiming more: an old link's unsent revisions
    // are never claimed); its own earlier edits are implied by `seq`.
    let seq = all
        .revisions
        .get(&author.actor)
        .and_then(|by_seq| by_seq.keys().next_back().copied())
        .unwrap_or(0)
        + 1;
    let mut seen = held.context();
    seen.0.remove(&author.actor);
    seen.0.retain(|_, n| *n > 0);
    let hlc = if all.revision_count() == 0 {
        Hlc::new(author.now_ms, 0)
    } else {
        all.last_hlc.tick(author.now_ms)
    };
    let revision = Revision {
        id: author.revision_id,
        response: all.response.clone(),
        form: all.form.clone(),
        version: author.form_version,
        actor: author.actor,
        seq,
        validated: false,
        files,
        hlc,
        seen,
        set,
        consent,
        privacy,
        selections,
        matching,
        outcome,
        status,
    };
    revision.check()?;
    Ok(Some(revision))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::PrivacyOutcome;
    use crate::sync::VersionVector;

    fn flat(pairs: &[(&str, &str)]) -> FlatAnswers {
        let mut out = FlatAnswers::new();
        for (path, value) in pairs {
            out.insert(path.parse().unwrap(), value.to_string())
                .unwrap();
        }
        out
    }

    fn author(id: &str, actor: &str, now_ms: u64) -> Author {
        Author {
            revision_id: id.into(),
            actor: actor.into(),
            form_version: "1".into(),
            now_ms,
        }
    }

    struct Device {
        answers: FlatAnswers,
        consent: Option<ConsentRecord>,
        privacy: BTreeMap<AnswerPath, PrivacyRecord>,
        selections: BTreeMap<AnswerPath, SelectionRecord>,
        matching: BTreeMap<AnswerPath, MatchingRecord>,
        outcome: Option<OutcomeRecord>,
        files: BTreeMap<String, String>,
        /// Built revisions and whether each is held by the server.
        revisions: Vec<(Revision, bool)>,
    }

    impl Device {
        fn new(answers: &[(&str, &str)]) -> Device {
            Device {
                answers: flat(answers),
                consent: Some(ConsentRecord {
                    given: true,
                    at: "2026-01-05T10:00:00+03:00".into(),
                    text_version: "v1".into(),
                    assent: None,
                }),
                privacy: BTreeMap::new(),
                selections: BTreeMap::new(),
                matching: BTreeMap::new(),
                outcome: None,
                files: BTreeMap::new(),
                revisions: Vec::new(),
            }
        }

        fn fold(&self, held_only: bool) -> ResponseState {
            let mut state = ResponseState::new("r", "f");
            for (revision, held) in &self.revisions {
                if *held || !held_only {
                    state.apply(revision).unwrap();
                }
            }
            state
        }

        fn build(&mut self, actor: &str, now_ms: u64, orphaned: bool) -> Option<Revision> {
            let (all, held) = (self.fold(false), self.fold(true));
            let current = Current {
                answers: &self.answers,
                consent: self.consent.as_ref(),
                privacy: &self.privacy,
                selections: &self.selections,
                matching: &self.matching,
                outcome: self.outcome.as_ref(),
                files: &self.files,
            };
            let built = Built {
                all: &all,
                held: &held,
                orphaned,
            };
            let id = format!("rev{}", self.revisions.len() + 1);
            let revision = next_revision(current, built, author(&id, actor, now_ms)).unwrap()?;
            self.revisions.push((revision.clone(), true));
            Some(revision)
        }
    }

    #[test]
    fn a_revision_names_the_files_of_the_answers_it_writes() {
        let (one, two) = ("a".repeat(64), "b".repeat(64));
        let mut d = Device::new(&[("/village", "Kolo"), ("/photo", "house.jpg")]);
        d.files = BTreeMap::from([("house.jpg".to_owned(), one.clone())]);
        let first = d.build("tab", 1_000, false).unwrap();
        assert_eq!(first.files, BTreeMap::from([("house.jpg".to_owned(), one)]));
        first.check().unwrap();

        // An edit that leaves the photo alone names no file; a new photo names its own.
        d.answers = flat(&[("/village", "Kola"), ("/photo", "house.jpg")]);
        assert!(d.build("tab", 2_000, false).unwrap().files.is_empty());
        d.answers = flat(&[("/village", "Kola"), ("/photo", "roof.jpg")]);
        d.files.insert("roof.jpg".to_owned(), two.clone());
        let third = d.build("tab", 3_000, false).unwrap();
        assert_eq!(third.files, BTreeMap::from([("roof.jpg".to_owned(), two)]));

        // Sealing the photo's answer takes its name out of `files` too.
        let mut sealed = third.clone();
        let count = sealed
            .seal(
                |path| path.as_str() == "/photo",
                |_| crate::answer::Sealed::new("c2VhbGVk".repeat(4)),
            )
            .unwrap();
        assert_eq!(count, 1);
        assert!(sealed.files.is_empty(), "{:?}", sealed.files);

        // Sealing it with its file lists the sealed file under the sealed answer's name.
        let mut with_file = third.clone();
        let sealed_sha = "c".repeat(64);
        let mut asked = Vec::new();
        with_file
            .seal_with_files(
                |path| path.as_str() == "/photo",
                |_| crate::answer::Sealed::new("c2VhbGVk".repeat(4)),
                |clear_sha| {
                    asked.push(clear_sha.to_owned());
                    Ok::<_, crate::answer::SealedError>(Some(sealed_sha.clone()))
                },
            )
            .unwrap();
        assert_eq!(asked, ["b".repeat(64)], "the clear file is sealed once");
        let answer = with_file.set["/photo"].as_ref().unwrap().sealed().unwrap();
        assert_eq!(
            with_file.files,
            BTreeMap::from([(answer.file_name(), sealed_sha)])
        );
        assert!(answer.file_name().starts_with("sealed-") && answer.file_name().ends_with(".age"));
        let wire = serde_json::to_string(&with_file).unwrap();
        assert!(
            !wire.contains("roof") && !wire.contains(&"b".repeat(64)),
            "{wire}"
        );
        with_file.check().unwrap();
    }

    #[test]
    fn the_same_photo_given_to_a_sealed_and_a_clear_question_is_sealed_for_both() {
        let (same, other) = ("a".repeat(64), "d".repeat(64));
        let mut d = Device::new(&[
            ("/photo", "house.jpg"),
            ("/wall", "house (2).jpg"),
            ("/roof", "roof.jpg"),
        ]);
        d.files = BTreeMap::from([
            ("house.jpg".to_owned(), same.clone()),
            ("house (2).jpg".to_owned(), same.clone()),
            ("roof.jpg".to_owned(), other.clone()),
        ]);
        let mut revision = d.build("tab", 1_000, false).unwrap();
        let mut asked = Vec::new();
        let mut n = 0;
        let count = revision
            .seal_with_files(
                |path| path.as_str() == "/photo",
                |_| {
                    n += 1;
                    crate::answer::Sealed::new(format!("c2VhbGVk{n}").repeat(4))
                },
                |clear_sha| {
                    asked.push(clear_sha.to_owned());
                    Ok::<_, crate::answer::SealedError>(Some(format!("{:0>64}", asked.len())))
                },
            )
            .unwrap();
        assert_eq!(count, 2, "the flagged answer and the one naming its bytes");
        assert_eq!(asked, [same.clone(), same.clone()], "one sealed file each");
        for path in ["/photo", "/wall"] {
            let answer = revision.set[path].as_ref().unwrap().sealed().unwrap();
            assert!(revision.files.contains_key(&answer.file_name()), "{path}");
        }
        assert_eq!(revision.text("/roof"), Some("roof.jpg"));
        assert_eq!(revision.files.get("roof.jpg"), Some(&other));
        let wire = serde_json::to_string(&revision).unwrap();
        assert!(!wire.contains(&same) && !wire.contains("house"), "{wire}");
        revision.check().unwrap();
    }

    #[test]
    fn the_first_revision_holds_everything_and_later_ones_only_changes() {
        let mut d = Device::new(&[("/village", "Kolo"), ("/m[]", "1"), ("/m[1]/age", "41")]);
        let first = d.build("tab", 1_000, false).unwrap();
        assert_eq!((first.seq, first.set.len()), (1, 3));
        assert!(first.consent.is_some());
        assert_eq!(first.status, Some(ResponseStatus::Finalized));
        assert_eq!(first.hlc, Hlc::new(1_000, 0));
        assert!(d.build("tab", 2_000, false).is_none(), "nothing changed");

        d.answers = flat(&[("/village", "Kolo"), ("/m[]", "2"), ("/m[1]/age", "42")]);
        let second = d.build("tab", 500, false).unwrap();
        assert_eq!(second.seq, 2);
        assert_eq!(
            second.set,
            BTreeMap::from([
                ("/m[1]/age".to_owned(), Some("42".into())),
                ("/m[]".to_owned(), Some("2".into())),
            ])
        );
        assert!(second.consent.is_none() && second.status.is_none());
        assert!(second.seen.is_empty(), "its own edits are implied by seq");
        assert!(
            second.hlc > first.hlc,
            "a clock gone back still stamps later"
        );

        d.answers = flat(&[("/village", "Kolo"), ("/m[]", "2")]);
        let third = d.build("tab", 3_000, false).unwrap();
        assert_eq!(
            third.set,
            BTreeMap::from([("/m[1]/age".to_owned(), None)]),
            "a cleared value is sent as null"
        );
    }

    #[test]
    fn a_rejected_revision_is_not_rebuilt_blindly_but_an_edit_carries_its_content() {
        let mut d = Device::new(&[("/village", "Kolo"), ("/age", "41")]);
        d.build("tab", 1_000, false).unwrap();
        d.revisions[0].1 = false; // rejected
        assert!(d.build("tab", 2_000, false).is_none());
        d.answers = flat(&[("/village", "Kolo"), ("/age", "42")]);
        let again = d.build("tab", 3_000, false).unwrap();
        assert_eq!(again.seq, 2, "edit numbers are never reused");
        assert_eq!(again.set.len(), 2, "the rejected content goes again");
        assert!(again.consent.is_some());
        assert_eq!(again.status, Some(ResponseStatus::Finalized));
    }

    #[test]
    fn a_new_link_rebuilds_what_the_old_one_never_sent() {
        let mut d = Device::new(&[("/village", "Kolo")]);
        d.build("old-tab", 1_000, false).unwrap();
        d.revisions[0].1 = false; // never sent; the server would refuse it now
        let rebuilt = d.build("new-tab", 2_000, true).unwrap();
        assert_eq!((rebuilt.actor.as_str(), rebuilt.seq), ("new-tab", 1));
        assert_eq!(rebuilt.set.len(), 1, "the whole response again");
        // The old link's revision never reached the server, which refuses a `seen`
        // claiming it.
        assert_eq!(rebuilt.seen.get("old-tab"), 0);
        assert!(d.build("new-tab", 3_000, false).is_none());
    }

    #[test]
    fn a_hand_over_goes_once_and_a_later_skip_goes_again() {
        let mut d = Device::new(&[("/hurt", "no")]);
        let group: AnswerPath = "/violence".parse().unwrap();
        let handed = MatchingRecord {
            outcome: crate::matching::MatchingOutcome::HandedOver,
            at: "2026-01-05T10:01:00+03:00".into(),
            by: Some("Amal".into()),
            sex: Some("female".into()),
            languages: Vec::new(),
            area: None,
            refused: Vec::new(),
        };
        d.matching.insert(group.clone(), handed.clone());
        let first = d.build("tab", 1_000, false).unwrap();
        assert_eq!(first.matching.get("/violence"), Some(&handed));
        let state = d.fold(true);
        assert_eq!(state.matching(&group), Some(&handed));
        assert_eq!(state.to_response().matching.get(&group), Some(&handed));
        assert!(d.build("tab", 2_000, false).is_none(), "nothing changed");
        let skipped = MatchingRecord {
            outcome: crate::matching::MatchingOutcome::Skipped,
            at: "2026-01-05T10:05:00+03:00".into(),
            by: None,
            sex: None,
            languages: Vec::new(),
            area: None,
            refused: Vec::new(),
        };
        d.matching.insert(group.clone(), skipped.clone());
        let second = d.build("tab", 3_000, false).unwrap();
        assert_eq!(second.matching.get("/violence"), Some(&skipped));
        assert_eq!(d.fold(true).matching(&group), Some(&skipped));
    }

    #[test]
    fn a_selection_draw_goes_once() {
        let mut d = Device::new(&[("/selected", "2")]);
        let field: AnswerPath = "/selected".parse().unwrap();
        let record = SelectionRecord {
            method: crate::selection::SelectionMethod::Uniform,
            seed: "00000000000000ff".into(),
            roster_size: 3,
            eligible: vec![1, 2],
            selected: 2,
            kish_table: None,
            at: "2026-01-05T10:01:00+03:00".into(),
        };
        d.selections.insert(field.clone(), record.clone());
        let first = d.build("dev", 1, false).unwrap();
        assert_eq!(first.selections.get("/selected"), Some(&record));
        let state = d.fold(false);
        assert_eq!(state.selection(&field), Some(&record));
        assert_eq!(state.to_response().selections.get(&field), Some(&record));
        d.answers = flat(&[("/selected", "2"), ("/note", "x")]);
        let second = d.build("dev", 2, false).unwrap();
        assert!(second.selections.is_empty(), "{second:?}");
    }

    #[test]
    fn the_interview_outcome_goes_when_it_changes_and_the_last_one_stands() {
        use crate::response::InterviewOutcome;
        let mut d = Device::new(&[("/age", "30")]);
        let interrupted = OutcomeRecord {
            outcome: InterviewOutcome::InterruptedForSafety,
            at: "2026-01-05T10:05:00+03:00".into(),
            note: None,
            return_visit: Some("2026-01-07T15:00:00+03:00".into()),
        };
        d.outcome = Some(interrupted.clone());
        let first = d.build("dev", 1, false).unwrap();
        assert_eq!(first.outcome.as_ref(), Some(&interrupted));
        assert!(d.build("dev", 2, false).is_none(), "nothing changed");
        let completed = OutcomeRecord {
            outcome: InterviewOutcome::Completed,
            at: "2026-01-07T15:40:00+03:00".into(),
            note: None,
            return_visit: None,
        };
        d.outcome = Some(completed.clone());
        let second = d.build("dev", 3, false).unwrap();
        assert_eq!(second.outcome.as_ref(), Some(&completed));
        assert_eq!(d.fold(false).outcome(), Some(&completed));
        assert_eq!(d.fold(false).to_response().outcome, Some(completed));
    }

    #[test]
    fn a_conflict_the_device_holds_is_resolved_by_its_next_revision() {
        let mut d = Device::new(&[("/age", "7")]);
        d.build("tab", 1_000, false).unwrap();
        d.answers = flat(&[("/age", "8")]);
        d.build("tab", 2_000, false).unwrap();
        // A coordinator's edit made without seeing the device's second one.
        let coordinator = Revision {
            id: "c1".into(),
            actor: "user:cora".into(),
            seq: 1,
            seen: VersionVector(BTreeMap::from([("tab".to_owned(), 1)])),
            set: BTreeMap::from([("/age".to_owned(), Some(AnswerValue::Text("70".to_owned())))]),
            consent: None,
            status: None,
            hlc: Hlc::new(3_000, 0),
            ..d.revisions[0].0.clone()
        };
        d.revisions.push((coordinator, true));
        assert!(d.fold(true).has_conflicts());
        // The enumerator keeps 8 (the value shown) and finalizes: written, having seen both.
        let resolution = d.build("tab", 4_000, false).unwrap();
        assert_eq!(
            resolution.set,
            BTreeMap::from([("/age".to_owned(), Some(AnswerValue::Text("8".to_owned())))])
        );
        assert_eq!(resolution.seen.get("user:cora"), 1);
        assert!(!d.fold(true).has_conflicts());
    }

    #[test]
    fn an_answer_another_writer_sealed_is_written_with_the_value_finalized() {
        let mut d = Device::new(&[("/phone", "0700"), ("/age", "7")]);
        d.build("tab", 1_000, false).unwrap();
        // A coordinator's edit that had seen the device's revision, sealed: the device
        // cannot open it, showed it as a conflict, and the enumerator keeps 0700.
        let coordinator = Revision {
            id: "c1".into(),
            actor: "user:cora".into(),
            seq: 1,
            seen: VersionVector(BTreeMap::from([("tab".to_owned(), 1)])),
            set: BTreeMap::from([(
                "/phone".to_owned(),
                Some(AnswerValue::Sealed(
                    crate::answer::Sealed::new("YWdlc2VhbGVk").unwrap(),
                )),
            )]),
            consent: None,
            status: None,
            validated: true,
            files: Default::default(),
            hlc: Hlc::new(3_000, 0),
            ..d.revisions[0].0.clone()
        };
        d.revisions.push((coordinator, true));
        let resolution = d.build("tab", 4_000, false).unwrap();
        assert_eq!(
            resolution.set,
            BTreeMap::from([(
                "/phone".to_owned(),
                Some(AnswerValue::Text("0700".to_owned()))
            )])
        );
        assert_eq!(resolution.seen.get("user:cora"), 1);
        assert_eq!(d.fold(true).answers().get("/phone"), Some("0700"));
    }

    #[test]
    fn privacy_outcomes_and_consent_go_when_they_change() {
        let mut d = Device::new(&[("/village", "Kolo")]);
        d.build("tab", 1_000, false).unwrap();
        let group: AnswerPath = "/safety".parse().unwrap();
        let record = PrivacyRecord {
            outcome: PrivacyOutcome::NotPrivate,
            at: "2026-01-05T10:01:00+03:00".into(),
        };
        d.privacy.insert(group.clone(), record.clone());
        let next = d.build("tab", 2_000, false).unwrap();
        assert!(next.set.is_empty());
        assert_eq!(
            next.privacy,
            BTreeMap::from([("/safety".to_owned(), record)])
        );
        assert!(d.build("tab", 3_000, false).is_none());
    }
}
