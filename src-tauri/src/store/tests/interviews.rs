//! An interview's state in the store: forms, answers, statuses, consent, privacy outcomes,
//! attachments, the page, paradata and settings.

use super::*;

#[test]
fn a_reused_form_version_with_new_content_is_refused() {
    let mut s = Store::open_in_memory().unwrap();
    assert_eq!(
        s.put_form_version("f", "1", "{\"a\":1}", "t", NOW).unwrap(),
        Stored::Added
    );
    assert_eq!(
        s.put_form_version("f", "1", "{\"a\":1}", "t", NOW).unwrap(),
        Stored::AlreadyPresent
    );
    let err = s
        .put_form_version("f", "1", "{\"a\":2}", "t", NOW)
        .unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::Conflict);
    s.put_form_version("f", "2", "{\"a\":2}", "t", NOW).unwrap();
    assert_eq!(s.form_versions().unwrap().len(), 2);
}

#[test]
fn answers_are_upserted_and_cleared() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/a"), Some("1"), NOW).unwrap();
    s.set_answer("r1", &p("/a"), Some("2"), NOW).unwrap();
    s.set_answer("r1", &p("/b"), Some("x"), NOW).unwrap();
    s.set_answer("r1", &p("/b"), None, NOW).unwrap();
    assert_eq!(s.answers("r1").unwrap(), flat(&[("/a", "2")]));
}

#[test]
fn only_drafts_take_answers_and_reopening_counts_an_edit() {
    let mut s = store_with_draft();
    s.transition(
        "r1",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    let err = s.set_answer("r1", &p("/a"), Some("1"), NOW).unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::Conflict);
    s.transition(
        "r1",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    assert_eq!(outbox_state(&s, "r1").0, "pending");
    s.transition(
        "r1",
        &[ResponseStatus::Finalized, ResponseStatus::Queued],
        ResponseStatus::Draft,
        NOW,
    )
    .unwrap();
    assert!(
        s.outbox_entries().unwrap().is_empty(),
        "an edited response leaves the queue"
    );
    let row = s.response("r1").unwrap();
    assert_eq!(row.status, ResponseStatus::Draft);
    assert_eq!(row.edit_count, 1);
    s.set_answer("r1", &p("/a"), Some("1"), NOW).unwrap();
}

#[test]
fn a_sent_response_cannot_be_reopened() {
    let mut s = store_with_queued_response();
    s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
    s.apply_acks(&[ack("a1", "accepted", &[])], NOW).unwrap();
    assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Sent);
    let err = s
        .transition(
            "r1",
            &[ResponseStatus::Finalized, ResponseStatus::Queued],
            ResponseStatus::Draft,
            NOW,
        )
        .unwrap_err();
    assert!(err.to_string().contains("is sent"), "{err}");
}

#[test]
fn a_failed_send_stays_due_with_its_error() {
    let mut s = store_with_queued_response();
    s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
    s.note_send_failure(&["a1".to_owned()], "timeout", NOW)
        .unwrap();
    let entry = &s.outbox_entries().unwrap()[0];
    assert_eq!(entry.state, "failed");
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.last_error.as_deref(), Some("timeout"));
    assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 1);
    assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Queued);
}

#[test]
fn declining_consent_keeps_only_the_refusal() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/name"), Some("Amal"), NOW).unwrap();
    let record = PrivacyRecord {
        outcome: PrivacyOutcome::Private,
        at: NOW.into(),
    };
    s.record_privacy("r1", &p("/safety"), &record).unwrap();
    s.add_paradata("r1", "opened", None, NOW).unwrap();
    s.record_consent("r1", false, NOW, "v1").unwrap();
    assert!(s.answers("r1").unwrap().is_empty());
    assert!(s.privacy_checks("r1").unwrap().is_empty());
    assert!(s.paradata("r1").unwrap().is_empty());
    let consent = s.consent("r1").unwrap().unwrap();
    assert!(!consent.given);
    assert_eq!(consent.text_version, "v1");
    assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Refused);
    assert_eq!(outbox_state(&s, "r1").0, "pending");
}

#[test]
fn replacing_answers_is_all_or_nothing() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/old"), Some("1"), NOW).unwrap();
    let answers = flat(&[("/m[]", "2"), ("/m[1]/age", "3")]);
    s.replace_answers("r1", &answers, NOW).unwrap();
    assert_eq!(s.answers("r1").unwrap(), answers);
    // An insert that fails half-way (here a trigger refuses one row): the old rows
    // must survive.
    s.conn
        .execute_batch(
            "CREATE TEMP TRIGGER refuse_boom BEFORE INSERT ON answers WHEN NEW.path = '/boom'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let bad = flat(&[("/a", "1"), ("/boom", "2"), ("/z", "3")]);
    assert!(s.replace_answers("r1", &bad, NOW).is_err());
    assert_eq!(s.answers("r1").unwrap(), answers);
}

#[test]
fn privacy_outcomes_are_kept_typed() {
    let mut s = store_with_draft();
    for (group, outcome) in [
        ("/safety", PrivacyOutcome::Interrupted),
        ("/m[2]/health", PrivacyOutcome::NotPrivate),
        ("/safety", PrivacyOutcome::Private),
    ] {
        let record = PrivacyRecord {
            outcome,
            at: NOW.into(),
        };
        s.record_privacy("r1", &p(group), &record).unwrap();
    }
    let checks = s.privacy_checks("r1").unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks["/safety"].outcome, PrivacyOutcome::Private);
    assert_eq!(checks["/m[2]/health"].outcome, PrivacyOutcome::NotPrivate);
}

#[test]
fn a_stored_path_that_does_not_parse_is_an_error_not_a_gap() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/a"), Some("1"), NOW).unwrap();
    s.conn
        .execute(
            "INSERT INTO answers (response_id, path, value, updated_at) VALUES ('r1', 'a b', 'x', ?1)",
            rusqlite::params![NOW],
        )
        .unwrap();
    let err = s.answers("r1").unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::Storage);
    assert!(err.to_string().contains("`a b`"), "{err}");
}

#[test]
fn attachments_are_shared_by_hash_and_become_the_answer() {
    let mut s = store_with_draft();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    let file = |name| AttachedFile {
        sha256: "abc",
        media_type: "image/png",
        size: 3,
        file_name: name,
    };
    s.attach("r1", &p("/photo"), &file("a.png"), NOW).unwrap();
    s.attach("r2", &p("/photo"), &file("b.png"), NOW).unwrap();
    assert_eq!(
        s.attachments("r2").unwrap(),
        vec![(
            "/photo".to_owned(),
            "abc".to_owned(),
            "b.png".to_owned(),
            "image/png".to_owned()
        )]
    );
    assert_eq!(s.answers("r1").unwrap(), flat(&[("/photo", "a.png")]));
}

#[test]
fn the_last_page_entered_is_found() {
    let mut s = store_with_draft();
    assert_eq!(s.last_paradata_path("r1", "page_enter").unwrap(), None);
    s.add_paradata("r1", "page_enter", Some("/a"), NOW).unwrap();
    s.add_paradata("r1", "page_enter", Some("/b"), NOW).unwrap();
    s.add_paradata("r1", "question_enter", Some("/c"), NOW)
        .unwrap();
    assert_eq!(
        s.last_paradata_path("r1", "page_enter").unwrap().as_deref(),
        Some("/b")
    );
}

#[test]
fn paradata_keeps_order_and_settings_round_trip() {
    let mut s = store_with_draft();
    s.add_paradata("r1", "opened", None, NOW).unwrap();
    s.add_paradata("r1", "question_enter", Some("/a"), NOW)
        .unwrap();
    let events: Vec<_> = s
        .paradata("r1")
        .unwrap()
        .into_iter()
        .map(|p| p.event)
        .collect();
    assert_eq!(events, ["opened", "question_enter"]);
    assert_eq!(s.setting("k").unwrap(), None);
    s.set_setting("k", "v").unwrap();
    s.set_setting("k", "w").unwrap();
    assert_eq!(s.setting("k").unwrap().as_deref(), Some("w"));
}

#[test]
fn an_unknown_response_is_not_found() {
    let mut s = Store::open_in_memory().unwrap();
    let err = s.set_answer("nope", &p("/a"), Some("1"), NOW).unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::NotFound);
}
