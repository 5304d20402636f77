//! Ending an interview early with an outcome, and the return visits it leaves: below the
//! UI, with a real data directory and the fixture form.

use std::path::Path;

use voices_app::error::ErrorKind;
use voices_app::store::ResponseStatus;
use voices_app::sync::revisions::build_due;
use voices_app::Voices;
use voices_core::response::{InterviewOutcome, PrivacyOutcome};
use voices_core::sync::Revision;

const FORM: &str = "app_fixture_household";
const LATER: &str = "2099-01-02T15:00:00+00:00";

fn open() -> (tempfile::TempDir, Voices) {
    let dir = tempfile::tempdir().unwrap();
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/household.json");
    let report = voices.forms().import_path(&fixture).unwrap();
    assert_eq!(report.files[0].outcome, "added", "{:?}", report.files[0]);
    (dir, voices)
}

fn status(voices: &Voices, id: &str) -> ResponseStatus {
    voices
        .list_responses()
        .unwrap()
        .into_iter()
        .find(|r| r.response_id == id)
        .unwrap()
        .status
}

#[test]
fn an_interview_interrupted_for_safety_ends_queued_with_a_neutral_return_visit() {
    let (dir, voices) = open();
    let id = voices.start(FORM, None, Some("en")).unwrap().response_id;
    voices.record_consent(&id, true).unwrap();
    voices.set_answer(&id, "/village", Some("Kolo"), 1).unwrap();

    // Required questions never reached do not hold it back.
    let review = voices
        .end_interview(
            &id,
            InterviewOutcome::InterruptedForSafety,
            Some("husband came home".into()),
            Some(LATER.into()),
        )
        .unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    assert_eq!(status(&voices, &id), ResponseStatus::Queued);

    let visits = voices.visits().unwrap();
    assert_eq!(visits.len(), 1);
    let visit = &visits[0];
    assert_eq!(visit.response_id, id);
    assert_eq!(visit.at, LATER);
    assert!(!visit.due && !visit.today);
    // What a bystander could see: the neutral label and the time; no title, outcome
    // or note, not even in the serialized record the UI receives.
    assert!(
        visit.label.starts_with('#') && visit.label.len() == 7,
        "{}",
        visit.label
    );
    let shown = serde_json::to_string(visit).unwrap();
    for word in ["Household", "safety", "husband", "Kolo", "interrupted"] {
        assert!(!shown.contains(word), "{word} in {shown}");
    }

    // The outcome and the visit travel with the response's revision.
    let revisions = voices
        .with_store(|s| {
            build_due(s, None, "voices:test-device", 1, "2026-12-07T10:00:00Z")?;
            s.unacknowledged_revisions(u32::MAX)
        })
        .unwrap();
    let revision: Revision = serde_json::from_str(&revisions[0].body).unwrap();
    let outcome = revision.outcome.expect("the outcome is sent");
    assert_eq!(outcome.outcome, InterviewOutcome::InterruptedForSafety);
    assert_eq!(outcome.return_visit.as_deref(), Some(LATER));

    // Kept across a restart.
    drop(voices);
    let again =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    assert_eq!(again.visits().unwrap().len(), 1);

    // The return visit completes the interview: no longer an appointment.
    let state = again.reopen(&id).unwrap();
    assert_eq!(state.status, ResponseStatus::Draft);
    again.set_answer(&id, "/hh_size", Some("2"), 1).unwrap();
    let check = (0..again.state(&id, 0, None).unwrap().page_count)
        .map(|i| again.page(&id, i).unwrap())
        .find(|p| p.key == "/safety")
        .unwrap();
    again
        .record_privacy(&id, "/safety", PrivacyOutcome::NotPrivate, check.index)
        .unwrap();
    assert!(again.finalize(&id).unwrap().can_finalize);
    assert!(again.visits().unwrap().is_empty());
    let outcome = again.with_store(|s| s.outcome(&id)).unwrap().unwrap();
    assert_eq!(outcome.outcome, InterviewOutcome::Completed);
    assert_eq!(outcome.return_visit, None);
}

#[test]
fn ending_early_refuses_completed_and_bad_return_visits_and_records_nothing_then() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, Some("en")).unwrap().response_id;
    let refused = |outcome, visit: Option<&str>| {
        voices
            .end_interview(&id, outcome, None, visit.map(str::to_owned))
            .unwrap_err()
    };
    let e = refused(InterviewOutcome::Completed, None);
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("finishing it"), "{e}");
    for visit in ["next week", "2099-01-02 15:00", "2001-01-01T10:00:00+00:00"] {
        let e = refused(InterviewOutcome::NobodyAtHome, Some(visit));
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{visit}: {e}");
    }
    assert!(voices.visits().unwrap().is_empty());
    assert_eq!(status(&voices, &id), ResponseStatus::Draft);
    assert_eq!(voices.with_store(|s| s.outcome(&id)).unwrap(), None);

    // Nobody at home before consent: ended, with a visit; then refused at the door on
    // the return visit, without another: the last outcome stands and the visit is gone.
    voices
        .end_interview(
            &id,
            InterviewOutcome::NobodyAtHome,
            None,
            Some(LATER.into()),
        )
        .unwrap();
    assert_eq!(voices.visits().unwrap().len(), 1);
    voices.reopen(&id).unwrap();
    let review = voices
        .end_interview(&id, InterviewOutcome::Refused, None, None)
        .unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    assert!(voices.visits().unwrap().is_empty());
}

#[test]
fn return_visits_are_listed_soonest_first_and_a_passed_one_is_due() {
    let (_dir, voices) = open();
    let mut ids = Vec::new();
    for when in [LATER, "2098-06-01T08:00:00+02:00"] {
        let id = voices.start(FORM, None, Some("en")).unwrap().response_id;
        voices
            .end_interview(
                &id,
                InterviewOutcome::RespondentNotAvailable,
                None,
                Some(when.into()),
            )
            .unwrap();
        ids.push(id);
    }
    let listed: Vec<_> = voices
        .visits()
        .unwrap()
        .into_iter()
        .map(|v| v.response_id)
        .collect();
    assert_eq!(listed, [ids[1].clone(), ids[0].clone()]);

    // A visit whose time has come (stored as a past agreement) is due.
    let mut record = voices.with_store(|s| s.outcome(&ids[0])).unwrap().unwrap();
    record.return_visit = Some("2020-01-01T09:00:00+00:00".into());
    voices
        .with_store(|s| s.record_outcome(&ids[0], &record))
        .unwrap();
    let visits = voices.visits().unwrap();
    assert_eq!(visits[0].response_id, ids[0]);
    assert!(visits[0].due);
    assert!(!visits[1].due);
}
