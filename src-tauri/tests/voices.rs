//! The app's behaviour below the UI: a real data directory, the engine, the fixture form.

use std::path::{Path, PathBuf};

use voices_app::error::ErrorKind;
use voices_app::store::{ResponseStatus, RevisionAck};
use voices_app::sync::revisions::build_due;
use voices_app::sync::RecordSyncState;
use voices_app::view::{PageKind, PageView};
use voices_app::voices::Upload;
use voices_app::Voices;
use voices_core::response::PrivacyOutcome;
use voices_core::sync::protocol::AckStatus;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/household.json")
}

fn open() -> (tempfile::TempDir, Voices) {
    let dir = tempfile::tempdir().unwrap();
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let report = voices.forms().import_path(&fixture()).unwrap();
    assert_eq!(report.files[0].outcome, "added", "{:?}", report.files[0]);
    (dir, voices)
}

const FORM: &str = "app_fixture_household";

/// The page with `key` as the interview now stands.
fn page(voices: &Voices, id: &str, key: &str) -> PageView {
    let count = voices.state(id, 0, None).unwrap().page_count;
    (0..count)
        .map(|i| voices.page(id, i).unwrap())
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no page {key}"))
}

fn value(page: &PageView, name: &str) -> Option<String> {
    page.fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} on {}", page.key))
        .value
        .clone()
}

/// Start an interview with consent given.
fn consented(voices: &Voices) -> String {
    let id = voices.start(FORM, None, Some("en")).unwrap().response_id;
    voices.record_consent(&id, true).unwrap();
    id
}

#[test]
fn an_interview_runs_from_consent_to_the_outbox() {
    let (dir, voices) = open();
    let state = voices.start(FORM, None, Some("en")).unwrap();
    let id = state.response_id.clone();
    assert_eq!(state.page.kind, PageKind::Consent);
    assert_eq!(state.page_count, 1, "nothing is asked before consent");

    let state = voices.record_consent(&id, true).unwrap();
    assert_eq!(state.page.key, "/household");
    let titles: Vec<_> = state.outline.iter().map(|o| o.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Consent", "Household", "Members", "Safety", "Prices"]
    );

    // A constraint violation, then its fix.
    let saved = voices.set_answer(&id, "/hh_size", Some("0"), 1).unwrap();
    let hh = saved
        .page
        .fields
        .iter()
        .find(|f| f.name == "hh_size")
        .unwrap();
    assert_eq!(hh.problem.as_deref(), Some("Between 1 and 39"));
    let saved = voices.set_answer(&id, "/hh_size", Some("4"), 1).unwrap();
    let hh = saved
        .page
        .fields
        .iter()
        .find(|f| f.name == "hh_size")
        .unwrap();
    assert_eq!(hh.problem, None);
    voices.set_answer(&id, "/village", Some("Kolo"), 1).unwrap();

    for _ in 0..3 {
        voices.add_repeat_instance(&id, "/members", 2).unwrap();
    }
    for (i, age) in [(1, "40"), (2, "38"), (3, "9")] {
        voices
            .set_answer(&id, &format!("/members[{i}]/age"), Some(age), 2)
            .unwrap();
    }
    assert_eq!(page(&voices, &id, "/members").repeat.unwrap().count, 3);

    // Not private: the sensitive group is skipped and the outcome kept.
    let check = page(&voices, &id, "/safety");
    assert_eq!(check.kind, PageKind::PrivacyCheck);
    voices
        .record_privacy(&id, "/safety", PrivacyOutcome::NotPrivate, check.index)
        .unwrap();

    let review = voices.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    let summary = voices.list_responses().unwrap();
    assert_eq!(summary[0].status, ResponseStatus::Queued);

    // Everything is on disk: a fresh process sees the same.
    drop(voices);
    let again =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let ages: Vec<_> = (1..=3)
        .map(|i| value(&page(&again, &id, &format!("/members[{i}]")), "age"))
        .collect();
    assert_eq!(
        ages,
        [Some("40".into()), Some("38".into()), Some("9".into())]
    );
    assert_eq!(
        value(&page(&again, &id, "/household"), "village").as_deref(),
        Some("Kolo")
    );
    assert_eq!(again.integrity_check().unwrap(), "ok");
    let outbox = again.sync().list_outbox().unwrap();
    assert_eq!(outbox[0].response_id, id);
    assert_eq!(outbox[0].state, RecordSyncState::Pending);
    let privacy = again.with_store(|s| s.privacy_checks(&id)).unwrap();
    assert_eq!(privacy["/safety"].outcome, PrivacyOutcome::NotPrivate);
}

#[test]
fn finalizing_lists_what_is_missing_without_sensitive_labels() {
    let (_dir, voices) = open();
    let id = consented(&voices);
    let check = page(&voices, &id, "/safety");
    voices
        .record_privacy(&id, "/safety", PrivacyOutcome::Private, check.index)
        .unwrap();
    let review = voices.finalize(&id).unwrap();
    assert!(!review.can_finalize);
    let labels: Vec<_> = review.issues.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Village", "People in household", "A confidential question"]
    );
    assert_eq!(review.issues[2].path, "/felt_unsafe");
    assert_eq!(
        review.issues[2].page_index,
        page(&voices, &id, "/safety").index
    );
    assert_eq!(
        voices.list_responses().unwrap()[0].status,
        ResponseStatus::Draft
    );
}

#[test]
fn declining_consent_ends_the_interview_and_keeps_only_the_refusal() {
    let (_dir, voices) = open();
    let id = voices.start(FORM, None, None).unwrap().response_id;
    let state = voices.record_consent(&id, false).unwrap();
    assert_eq!(state.status, ResponseStatus::Refused);
    let consent = state.page.consent.unwrap();
    assert_eq!(consent.decline_message, "Thank you for your time.");
    // Only the refusal: the consent question's own answer, nothing else.
    let answers = voices.with_store(|s| s.answers(&id)).unwrap();
    let only: Vec<(&str, &str)> = answers.iter().map(|(p, v)| (p.as_str(), v)).collect();
    assert_eq!(only, [("/consent", "no")], "{answers:?}");
    let refusal = voices.with_store(|s| s.consent(&id)).unwrap().unwrap();
    assert!(!refusal.given);
    assert_eq!(refusal.text_version, "v1");
    let err = voices
        .set_answer(&id, "/village", Some("x"), 1)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[test]
fn the_language_switches_mid_interview_and_mirrors() {
    let (_dir, voices) = open();
    let id = consented(&voices);
    let state = voices.state(&id, 1, Some("ar")).unwrap();
    assert!(state.rtl);
    assert_eq!(state.page.title, "الأسرة");
    let saved = voices.set_answer(&id, "/hh_size", Some("0"), 1).unwrap();
    let hh = saved
        .page
        .fields
        .iter()
        .find(|f| f.name == "hh_size")
        .unwrap();
    assert_eq!(hh.problem.as_deref(), Some("بين 1 و 39"));
    let err = voices.state(&id, 1, Some("fr")).unwrap_err();
    assert!(err.to_string().contains("`fr`"), "{err}");
}

#[test]
fn a_finalized_response_can_be_edited_before_and_after_it_is_sent() {
    let (_dir, voices) = open();
    let id = consented(&voices);
    voices.set_answer(&id, "/village", Some("A"), 1).unwrap();
    voices.set_answer(&id, "/hh_size", Some("2"), 1).unwrap();
    let check = page(&voices, &id, "/safety");
    voices
        .record_privacy(&id, "/safety", PrivacyOutcome::NotPrivate, check.index)
        .unwrap();
    assert!(voices.finalize(&id).unwrap().can_finalize);
    let state = voices.reopen(&id).unwrap();
    assert_eq!(state.status, ResponseStatus::Draft);
    assert_eq!(state.edit_count, 1);
    voices.set_answer(&id, "/village", Some("B"), 1).unwrap();
    assert!(voices.finalize(&id).unwrap().can_finalize);
    // The server accepts it (as a sync would record it).
    voices
        .with_store(|s| {
            let at = "2026-01-01T00:00:00Z";
            build_due(s, None, "voices:test-device", 1, at)?;
            let acks: Vec<RevisionAck> = s
                .unacknowledged_revisions(u32::MAX)?
                .into_iter()
                .map(|r| RevisionAck {
                    revision_id: r.id,
                    ack: AckStatus::Accepted,
                    code: None,
                    reasons: Vec::new(),
                })
                .collect();
            s.apply_acks(&acks, at)
        })
        .unwrap();
    assert_eq!(
        voices.list_responses().unwrap()[0].status,
        ResponseStatus::Sent
    );
    // Sent: an edit is still possible; finalizing it makes a new revision for the server.
    let state = voices.reopen(&id).unwrap();
    assert_eq!(state.status, ResponseStatus::Draft);
    assert_eq!(state.edit_count, 2);
    // A draft cannot be reopened.
    let err = voices.reopen(&id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[test]
fn lists_and_the_decoy_show_nothing_sensitive() {
    let (_dir, voices) = open();
    let id = consented(&voices);
    voices
        .set_answer(&id, "/village", Some("SecretVillage"), 1)
        .unwrap();
    let listed = serde_json::to_string(&voices.list_responses().unwrap()).unwrap();
    assert!(!listed.contains("SecretVillage"), "{listed}");
    let decoy = voices.safe_exit(Some(&id), None, None).unwrap();
    assert_eq!(decoy.title, "Market prices");
    assert_eq!((decoy.language.as_str(), decoy.rtl), ("en", false));
    // In the interview's language, right to left for Arabic; a language the form lacks
    // falls back to its default.
    let arabic = voices.safe_exit(Some(&id), None, Some("ar")).unwrap();
    assert_eq!(arabic.title, "أسعار السوق");
    assert_eq!(arabic.message, "ملاحظات الأسعار الأسبوعية");
    assert_eq!((arabic.language.as_str(), arabic.rtl), ("ar", true));
    // Without a form: an empty notes screen in the language on screen.
    let generic = voices.safe_exit(None, None, Some("ar")).unwrap();
    assert_eq!(
        (
            generic.title.as_str(),
            generic.language.as_str(),
            generic.rtl
        ),
        ("ملاحظات", "ar", true)
    );
    let generic = voices.safe_exit(None, None, Some("sw")).unwrap();
    assert_eq!(
        (generic.title.as_str(), generic.language.as_str()),
        ("Notes", "en")
    );
    let other = voices.safe_exit(Some(&id), None, Some("fr")).unwrap();
    assert_eq!(
        (other.title.as_str(), other.language.as_str()),
        ("Market prices", "en")
    );
    let names: Vec<_> = decoy.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["bread_price"]);
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
    let id = consented(&voices);
    for _ in 0..3 {
        voices.add_repeat_instance(&id, "/members", 2).unwrap();
    }
    voices
        .set_answer(&id, "/members[3]/age", Some("7"), 2)
        .unwrap();
    voices
        .remove_repeat_instance(&id, "/members[1]", 2)
        .unwrap();
    assert_eq!(page(&voices, &id, "/members").repeat.unwrap().count, 2);
    assert_eq!(
        value(&page(&voices, &id, "/members[2]"), "age").as_deref(),
        Some("7")
    );
    let rows = voices.with_store(|s| s.answers(&id)).unwrap();
    assert!(
        rows.iter()
            .all(|(p, _)| !p.as_str().starts_with("/members[3]")),
        "{rows:?}"
    );
    assert_eq!(rows.get("/members[]"), Some("2"), "{rows:?}");
    let err = voices
        .set_answer(&id, "/members[5]/age", Some("1"), 2)
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
    let id = consented(&voices);
    let saved = voices
        .attach(&id, "/photo", &upload("house.png", "image/png"), 1)
        .unwrap();
    assert_eq!(value(&saved.page, "photo").as_deref(), Some("house.png"));
    let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    assert!(dir.path().join("attachments").join(sha).exists());
    let back = voices.attachment(&id, "/photo").unwrap();
    assert_eq!(back.data_base64, "aGVsbG8=");
    let err = voices
        .attach(&id, "/village", &upload("x", "text/plain"), 1)
        .unwrap_err();
    assert!(err.to_string().contains("not a file attachment"), "{err}");
}

#[test]
fn broken_form_files_are_reported_with_line_and_column() {
    let (dir, voices) = open();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"id\": \"x\",\n  \"version\": 3\n}").unwrap();
    let report = voices.forms().import_path(&bad).unwrap();
    let file = &report.files[0];
    assert_eq!(file.outcome, "rejected");
    let d = &file.diagnostics[0];
    assert_eq!(d.line, 3, "{d:?}");
    assert!(d.column > 0, "{d:?}");
    assert!(voices
        .forms()
        .list()
        .unwrap()
        .iter()
        .all(|f| f.form_id != "x"));
}

#[test]
fn a_form_with_a_broken_expression_is_rejected_with_its_pointer() {
    let (dir, voices) = open();
    let text = std::fs::read_to_string(fixture())
        .unwrap()
        .replace("app_fixture_household", "broken_expr")
        .replace(r#"". > 0 and . < 40""#, r#"". > > 0""#);
    let file = dir.path().join("broken.json");
    std::fs::write(&file, text).unwrap();
    let report = voices.forms().import_path(&file).unwrap();
    let f = &report.files[0];
    assert_eq!(f.outcome, "rejected");
    let d = f
        .diagnostics
        .iter()
        .find(|d| d.severity == "error")
        .unwrap();
    assert!(d.pointer.ends_with("/constraint"), "{d:?}");
    assert!(d.line > 0, "{d:?}");
}

#[test]
fn the_form_list_counts_drafts_per_form() {
    let (_dir, voices) = open();
    voices.start(FORM, None, None).unwrap();
    voices.start(FORM, None, None).unwrap();
    let forms = voices.forms().list().unwrap();
    let f = forms.iter().find(|f| f.form_id == FORM).unwrap();
    assert_eq!(f.drafts, 2);
    assert_eq!(f.title, "Household conditions");
    assert_eq!(f.languages.len(), 2);
    assert!(f.languages[1].rtl);
}

#[test]
fn every_example_form_is_on_the_device_from_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let report = voices.forms().load_examples().unwrap();
    assert!(!report.files.is_empty(), "no example forms are embedded");
    for file in &report.files {
        assert_eq!(
            file.outcome, "already_present",
            "{}: {:?}",
            file.file, file.diagnostics
        );
    }
    let ids: Vec<_> = voices
        .forms()
        .list()
        .unwrap()
        .into_iter()
        .map(|f| f.form_id)
        .collect();
    assert!(ids.contains(&"community_life".to_owned()), "{ids:?}");
}

#[test]
fn an_interrupted_section_resumes_at_its_privacy_check() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let voices =
            voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
        voices.forms().import_path(&fixture()).unwrap();
        let id = consented(&voices);
        // A fresh draft opens at its first page.
        assert_eq!(voices.open_interview(&id, None).unwrap().page.index, 0);
        let check = page(&voices, &id, "/safety");
        voices.paradata(&id, "page_enter", Some("/safety")).unwrap();
        voices
            .record_privacy(&id, "/safety", PrivacyOutcome::Interrupted, check.index)
            .unwrap();
        id
    };
    // After a restart, resuming lands on the check of the interrupted section, asked again.
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let resumed = voices.open_interview(&id, None).unwrap();
    assert_eq!(resumed.page.key, "/safety");
    assert_eq!(resumed.page.kind, PageKind::PrivacyCheck);
    assert_eq!(
        resumed.page.privacy.as_ref().and_then(|p| p.outcome),
        Some(PrivacyOutcome::Interrupted)
    );
    // A page that no longer applies (or never existed) falls back to the first page.
    voices
        .paradata(&id, "page_enter", Some("/no_such_page"))
        .unwrap();
    assert_eq!(voices.open_interview(&id, None).unwrap().page.index, 0);
}

#[test]
fn a_folder_of_forms_imports_json_and_workbooks_and_reports_each_file() {
    let (dir, voices) = open();
    let folder = dir.path().join("designer");
    std::fs::create_dir(&folder).unwrap();
    let good = std::fs::read_to_string(fixture())
        .unwrap()
        .replace("app_fixture_household", "folder_good");
    std::fs::write(folder.join("a-good.json"), good).unwrap();
    std::fs::write(
        folder.join("b-bad.json"),
        "{\n  \"id\": \"x\",\n  \"version\": 3\n}",
    )
    .unwrap();
    std::fs::write(folder.join("c-latin1.JSON"), b"{\"title\": \"caf\xe9\"}").unwrap();
    let workbook = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/xlsform/cleaningtools__form.xlsx");
    std::fs::copy(&workbook, folder.join("d-workbook.xlsx")).unwrap_or_else(|e| {
        panic!(
            "conformance workbook {} is missing ({e}); it ships in /work/shared/conformance",
            workbook.display()
        )
    });
    // Not forms: an office lock file, a hidden file, notes, a subfolder.
    std::fs::write(folder.join("~$d-workbook.xlsx"), b"lock").unwrap();
    std::fs::write(folder.join(".draft.json"), "{").unwrap();
    std::fs::write(folder.join("notes.txt"), "hello").unwrap();
    std::fs::create_dir(folder.join("old.json")).unwrap();

    let report = voices.forms().import_path(&folder).unwrap();
    let outcome = |stem: &str| {
        report
            .files
            .iter()
            .find(|f| f.file.ends_with(stem))
            .unwrap_or_else(|| panic!("no report for {stem}: {report:?}"))
    };
    assert_eq!(report.files.len(), 4, "{report:?}");
    assert_eq!(outcome("a-good.json").outcome, "added");
    let bad = outcome("b-bad.json");
    assert_eq!(bad.outcome, "rejected");
    assert_eq!(bad.diagnostics[0].line, 3, "{bad:?}");
    let latin1 = outcome("c-latin1.JSON");
    assert_eq!(latin1.outcome, "rejected");
    assert!(
        latin1.diagnostics[0]
            .message
            .contains("not UTF-8 text (byte 15)"),
        "{latin1:?}"
    );
    assert_eq!(outcome("d-workbook.xlsx").outcome, "added", "{report:?}");
    let ids: Vec<String> = voices
        .forms()
        .list()
        .unwrap()
        .into_iter()
        .map(|f| f.form_id)
        .collect();
    assert!(ids.iter().any(|id| id == "folder_good"), "{ids:?}");
    assert!(ids.iter().all(|id| id != "x"), "{ids:?}");

    // A folder without forms, and a path that is not there, say so.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = voices.forms().import_path(&empty).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no form files"), "{err}");
    let err = voices
        .forms()
        .import_path(&dir.path().join("missing"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// The interviews of a store written at schema 4 (before answers were stored flat)
/// open, resume and send on with only what changed.
#[test]
fn interviews_of_a_schema_4_store_resume_and_send_only_their_changes() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v4");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("expected.json")).unwrap())
            .unwrap();
    let id = |role: &str| {
        expected["responses"][role]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture.join("voices.sqlite"),
        dir.path().join("voices.sqlite"),
    )
    .unwrap();
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();

    // The draft resumes with its members, the empty third one included, and its
    // interrupted privacy check.
    let draft = id("draft");
    let members = page(&voices, &draft, "/members").repeat.unwrap();
    assert_eq!(members.count, 3);
    assert_eq!(
        value(&page(&voices, &draft, "/members[2]"), "first_name").as_deref(),
        Some("Faraji")
    );
    assert_eq!(value(&page(&voices, &draft, "/members[3]"), "age"), None);
    let check = page(&voices, &draft, "/safety");
    assert_eq!(
        check.privacy.unwrap().outcome,
        Some(PrivacyOutcome::Interrupted)
    );

    // The response edited after it was sent: finalizing builds revision 2 with only
    // what changed since revision 1 (the age, the visit date, the end time).
    let edited = id("edited_after_sending");
    assert_eq!(
        value(&page(&voices, &edited, "/members[1]"), "age").as_deref(),
        Some("35")
    );
    assert!(voices.finalize(&edited).unwrap().can_finalize);
    let revisions = voices.with_store(|s| s.revisions(&edited)).unwrap();
    assert_eq!(revisions.len(), 2);
    let second: voices_core::sync::Revision = serde_json::from_str(&revisions[1].body).unwrap();
    assert_eq!(second.seq, 2);
    let changed: Vec<&str> = second.set.keys().map(String::as_str).collect();
    assert_eq!(changed, ["/ended", "/members[1]/age", "/visit"]);
    assert!(second.consent.is_none() && second.privacy.is_empty() && second.status.is_none());
    assert_eq!(voices.integrity_check().unwrap(), "ok");
}

/// Where the field `name` is, on whichever page of the interview shows it.
fn field_page(voices: &Voices, id: &str, name: &str) -> PageView {
    let count = voices.state(id, 0, None).unwrap().page_count;
    (0..count)
        .map(|i| voices.page(id, i).unwrap())
        .find(|p| p.fields.iter().any(|f| f.name == name))
        .unwrap_or_else(|| panic!("no page shows {name}"))
}

#[test]
fn a_household_roster_draws_one_child_once_and_later_questions_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let (id, drawn, name) = {
        let voices =
            voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
        let id = voices
            .start("community_life", None, Some("en"))
            .unwrap()
            .response_id;
        voices.record_consent(&id, true).unwrap();
        voices.set_answer(&id, "/hh_size", Some("4"), 0).unwrap();
        for (i, (name, age)) in [("Ola", "40"), ("Taras", "9"), ("Mia", "15")]
            .iter()
            .enumerate()
        {
            let at = |field: &str| format!("/members[{}]/{field}", i + 1);
            voices
                .set_answer(&id, &at("member_name"), Some(name), 0)
                .unwrap();
            voices
                .set_answer(&id, &at("member_age"), Some(age), 0)
                .unwrap();
        }
        let before = field_page(&voices, &id, "selected_child");
        let selection = before
            .fields
            .iter()
            .find(|f| f.name == "selected_child")
            .and_then(|f| f.selection.clone())
            .expect("the selection's view");
        assert_eq!((selection.roster_size, selection.eligible), (3, 2));
        assert_eq!(selection.selected, None);
        assert!(
            !before
                .fields
                .iter()
                .any(|f| f.name == "child_missed_school"),
            "nothing names a child before the draw"
        );

        let update = voices
            .draw_selection(&id, "/selected_child", before.index)
            .unwrap();
        let field = update
            .page
            .fields
            .iter()
            .find(|f| f.name == "selected_child")
            .unwrap();
        let drawn = field.selection.as_ref().and_then(|s| s.selected).unwrap();
        assert!(drawn == 2 || drawn == 3, "a child: {drawn}");
        assert_eq!(field.value.as_deref(), Some(drawn.to_string().as_str()));
        assert!(field.read_only, "a draw is never typed");
        let name = if drawn == 2 { "Taras" } else { "Mia" };
        let question = update
            .page
            .fields
            .iter()
            .find(|f| f.name == "child_missed_school")
            .expect("the question about the drawn child");
        assert!(question.label.contains(name), "{}", question.label);

        // Once shown, the draw stands.
        let again = voices
            .draw_selection(&id, "/selected_child", before.index)
            .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Conflict, "{again}");
        assert!(voices
            .set_answer(&id, "/selected_child", Some("2"), before.index)
            .is_err());
        (id, drawn, name)
    };
    // The draw was on disk: after a restart the same child is named.
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let page = field_page(&voices, &id, "child_missed_school");
    let question = page
        .fields
        .iter()
        .find(|f| f.name == "child_missed_school")
        .unwrap();
    assert!(question.label.contains(name), "{}", question.label);
    let field = page
        .fields
        .iter()
        .find(|f| f.name == "selected_child")
        .unwrap();
    assert_eq!(
        field.selection.as_ref().and_then(|s| s.selected),
        Some(drawn)
    );
    assert!(voices
        .draw_selection(&id, "/selected_child", page.index)
        .is_err());
}
