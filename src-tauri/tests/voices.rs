//! The app's behaviour end to end below the UI: a real data directory, the fixture form.

use std::path::{Path, PathBuf};

use voices_app::store::ResponseStatus;
use voices_app::voices::Upload;
use voices_app::Voices;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/household.json")
}

fn open() -> (tempfile::TempDir, Voices) {
    let dir = tempfile::tempdir().unwrap();
    let voices = Voices::open(dir.path()).unwrap();
    let report = voices.import_path(&fixture()).unwrap();
    assert_eq!(report.files[0].outcome, "added", "{:?}", report.files[0]);
    (dir, voices)
}

const FORM: &str = "app_fixture_household";

#[test]
fn an_interview_runs_from_consent_to_the_outbox() {
    let (dir, voices) = open();
    let state = voices.start(FORM, None, Some("en")).unwrap();
    let id = state.response_id.clone();
    assert_eq!(state.page.key, "consent");
    assert_eq!(
        state
            .outline
            .iter()
            .map(|o| o.title.as_str())
            .collect::<Vec<_>>(),
        ["Consent", "Household", "Members", "Safety", "Prices"]
    );

    let state = voices.record_consent(&id, true, None).unwrap();
    assert_eq!(state.page.key, "household");

    let saved = voices
        .set_answer(&id, "/hh_size", Some("abc"), 1, None)
        .unwrap();
    let hh = saved
        .page
        .fields
        .iter()
        .find(|f| f.name == "hh_size")
        .unwrap();
    assert_eq!(hh.problem.as_deref(), Some("Enter a whole number."));
    voices
        .set_answer(&id, "/hh_size", Some("4"), 1, None)
        .unwrap();
    voices
        .set_answer(&id, "/village", Some("Kolo"), 1, None)
        .unwrap();

    for _ in 0..3 {
        voices
            .add_repeat_instance(&id, "/members", 2, None)
            .unwrap();
    }
    for (i, age) in [(1, "40"), (2, "38"), (3, "9")] {
        voices
            .set_answer(&id, &format!("/members[{i}]/age"), Some(age), 2, None)
            .unwrap();
    }
    let page = voices.page(&id, 2, None).unwrap();
    assert_eq!(page.repeat.as_ref().unwrap().count, 3);

    // Not private: the sensitive group is skipped and the outcome kept.
    let page = voices
        .record_privacy(&id, "/safety", "not_private", 3, None)
        .unwrap();
    assert_eq!(
        page.privacy.unwrap().outcome.as_deref(),
        Some("not_private")
    );

    let review = voices.finalize(&id, None).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    let summary = voices.list_responses().unwrap();
    assert_eq!(summary[0].status, ResponseStatus::Queued);

    // Everything is on disk: a fresh process sees the same.
    drop(voices);
    let again = Voices::open(dir.path()).unwrap();
    let page = again.page(&id, 2, None).unwrap();
    let ages: Vec<_> = page
        .repeat
        .unwrap()
        .instances
        .iter()
        .map(|i| {
            i.fields
                .iter()
                .find(|f| f.name == "age")
                .unwrap()
                .value
                .clone()
        })
        .collect();
    assert_eq!(
        ages,
        [Some("40".into()), Some("38".into()), Some("9".into())]
    );
    assert_eq!(again.integrity_check().unwrap(), "ok");
    let due = again.with_store(|s| s.outbox_due(10)).unwrap();
    assert_eq!(due[0].record_id, id);
}

#[test]
fn finalizing_lists_what_is_missing_without_sensitive_labels() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    voices.record_consent(&id, true, None).unwrap();
    voices
        .record_privacy(&id, "/safety", "private", 3, None)
        .unwrap();
    let review = voices.finalize(&id, None).unwrap();
    assert!(!review.can_finalize);
    let labels: Vec<_> = review.issues.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Village", "People in household", "A confidential question"]
    );
    assert_eq!(review.issues[2].path, "/felt_unsafe");
    assert_eq!(review.issues[2].page_index, 3);
    assert_eq!(
        voices.list_responses().unwrap()[0].status,
        ResponseStatus::Draft
    );
}

#[test]
fn declining_consent_ends_the_interview_and_keeps_only_the_refusal() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    let state = voices.record_consent(&id, false, None).unwrap();
    assert_eq!(state.status, ResponseStatus::Refused);
    let consent = state.page.consent.unwrap();
    assert_eq!(consent.given, Some(false));
    assert_eq!(consent.decline_message, "Thank you for your time.");
    let answers = voices.with_store(|s| s.answers(&id)).unwrap();
    assert!(answers.is_empty(), "{answers:?}");
    let err = voices
        .set_answer(&id, "/village", Some("x"), 1, None)
        .unwrap_err();
    assert_eq!(err.kind(), voices_app::error::ErrorKind::Conflict);
}

#[test]
fn the_language_switches_mid_interview_and_mirrors() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, Some("en")).unwrap().response_id;
    voices.record_consent(&id, true, None).unwrap();
    let state = voices.state(&id, 1, Some("ar")).unwrap();
    assert!(state.rtl);
    assert_eq!(state.page.title, "الأسرة");
    let saved = voices
        .set_answer(&id, "/hh_size", Some("x"), 1, None)
        .unwrap();
    let hh = saved
        .page
        .fields
        .iter()
        .find(|f| f.name == "hh_size")
        .unwrap();
    assert_eq!(hh.problem.as_deref(), Some("أدخل عدداً صحيحاً."));
    let err = voices.state(&id, 1, Some("fr")).unwrap_err();
    assert!(err.to_string().contains("`fr`"), "{err}");
}

#[test]
fn a_finalized_response_can_be_edited_until_it_is_sent() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    voices.record_consent(&id, true, None).unwrap();
    voices
        .set_answer(&id, "/village", Some("A"), 1, None)
        .unwrap();
    voices
        .set_answer(&id, "/hh_size", Some("2"), 1, None)
        .unwrap();
    voices
        .record_privacy(&id, "/safety", "not_private", 3, None)
        .unwrap();
    assert!(voices.finalize(&id, None).unwrap().can_finalize);
    let state = voices.reopen(&id, None).unwrap();
    assert_eq!(state.status, ResponseStatus::Draft);
    assert_eq!(state.edit_count, 1);
    voices
        .set_answer(&id, "/village", Some("B"), 1, None)
        .unwrap();
    assert!(voices.finalize(&id, None).unwrap().can_finalize);
    voices
        .with_store(|s| s.outbox_result("response", &id, None, "2026-01-01T00:00:00Z"))
        .unwrap();
    let err = voices.reopen(&id, None).unwrap_err();
    assert_eq!(err.kind(), voices_app::error::ErrorKind::Conflict);
}

#[test]
fn lists_and_the_decoy_show_nothing_sensitive() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    voices.record_consent(&id, true, None).unwrap();
    voices
        .set_answer(&id, "/village", Some("SecretVillage"), 1, None)
        .unwrap();
    let listed = serde_json::to_string(&voices.list_responses().unwrap()).unwrap();
    assert!(!listed.contains("SecretVillage"), "{listed}");
    let decoy = voices.safe_exit(Some(&id), None).unwrap();
    assert_eq!(decoy.title, "Market prices");
    assert_eq!(
        decoy
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["bread_price"]
    );
    let events: Vec<_> = voices
        .with_store(|s| s.paradata(&id))
        .unwrap()
        .into_iter()
        .map(|p| p.event)
        .collect();
    assert!(events.contains(&"safe_exit".to_owned()), "{events:?}");
}

#[test]
fn repeat_instances_are_removed_and_renumbered() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    voices.record_consent(&id, true, None).unwrap();
    for _ in 0..3 {
        voices
            .add_repeat_instance(&id, "/members", 2, None)
            .unwrap();
    }
    voices
        .set_answer(&id, "/members[3]/age", Some("7"), 2, None)
        .unwrap();
    let page = voices
        .remove_repeat_instance(&id, "/members[1]", 2, None)
        .unwrap();
    let repeat = page.repeat.unwrap();
    assert_eq!(repeat.count, 2);
    assert_eq!(repeat.instances[1].fields[1].path, "/members[2]/age");
    assert_eq!(repeat.instances[1].fields[1].value.as_deref(), Some("7"));
    let err = voices
        .set_answer(&id, "/members[5]/age", Some("1"), 2, None)
        .unwrap_err();
    assert!(err.to_string().contains("/members[5]"), "{err}");
}

fn upload<'a>(file_name: &'a str, media_type: &'a str) -> Upload<'a> {
    // "hello" in base64.
    Upload {
        file_name,
        media_type,
        data_base64: "aGVsbG8=",
    }
}

#[test]
fn attachments_are_stored_once_under_their_hash() {
    let (dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    voices.record_consent(&id, true, None).unwrap();
    // "hello" in base64.
    let saved = voices
        .attach(&id, "/photo", &upload("house.png", "image/png"), 1, None)
        .unwrap();
    let photo = saved
        .page
        .fields
        .iter()
        .find(|f| f.name == "photo")
        .unwrap();
    assert_eq!(photo.value.as_deref(), Some("house.png"));
    let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    assert!(dir.path().join("attachments").join(sha).exists());
    let back = voices.attachment(&id, "/photo").unwrap();
    assert_eq!(back.data_base64, "aGVsbG8=");
    let err = voices
        .attach(&id, "/village", &upload("x", "text/plain"), 1, None)
        .unwrap_err();
    assert!(err.to_string().contains("not a file attachment"), "{err}");
}

#[test]
fn broken_form_files_are_reported_with_line_and_column() {
    let (dir, voices) = open();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"id\": \"x\",\n  \"version\": 3\n}").unwrap();
    let report = voices.import_path(&bad).unwrap();
    let file = &report.files[0];
    assert_eq!(file.outcome, "rejected");
    let d = &file.diagnostics[0];
    assert_eq!((d.line, d.column), (3, 14));
    assert!(d.message.contains("string"), "{}", d.message);
    assert!(voices
        .list_forms()
        .unwrap()
        .iter()
        .all(|f| f.form_id != "x"));
}

#[test]
fn the_form_list_counts_drafts_per_form() {
    let (_dir, voices) = open();
    voices.start(FORM, None, None).unwrap();
    voices.start(FORM, None, None).unwrap();
    let forms = voices.list_forms().unwrap();
    let f = forms.iter().find(|f| f.form_id == FORM).unwrap();
    assert_eq!(f.drafts, 2);
    assert_eq!(f.title, "Household conditions");
    assert_eq!(f.languages.len(), 2);
    assert!(f.languages[1].rtl);
}

#[test]
fn every_example_form_is_on_the_device_from_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let voices = Voices::open(dir.path()).unwrap();
    let report = voices.load_examples().unwrap();
    assert!(!report.files.is_empty(), "no example forms are embedded");
    for file in &report.files {
        assert_eq!(
            file.outcome, "already_present",
            "{}: {:?}",
            file.file, file.diagnostics
        );
    }
    let ids: Vec<_> = voices
        .list_forms()
        .unwrap()
        .into_iter()
        .map(|f| f.form_id)
        .collect();
    assert!(ids.contains(&"community_life".to_owned()), "{ids:?}");
}
