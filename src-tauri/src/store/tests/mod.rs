//! The store's own tests: migrations, state changes, and what the sync client relies on.

use super::*;
use voices_core::answer::{AnswerPath, FlatAnswers};
use voices_core::response::{PrivacyOutcome, PrivacyRecord};
use voices_core::sync::protocol::AckStatus;

const NOW: &str = "2026-01-05T10:00:00.000+03:00";

fn p(text: &str) -> AnswerPath {
    text.parse().unwrap()
}

fn flat(values: &[(&str, &str)]) -> FlatAnswers {
    let mut out = FlatAnswers::new();
    for (path, value) in values {
        out.insert(p(path), value.to_string()).unwrap();
    }
    out
}

fn test_key() -> DataKey {
    DataKey::from_bytes([7; 32])
}

/// Whether any file in `dir` holds `needle` anywhere in its bytes.
fn bytes_in_dir(dir: &Path, needle: &[u8]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).ok()?;
            bytes
                .windows(needle.len())
                .any(|w| w == needle)
                .then(|| path.display().to_string())
        })
        .collect()
}

#[test]
fn nothing_reaches_the_disk_unencrypted_and_another_key_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    let mut s = Store::open(&path, &test_key()).unwrap();
    s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
    s.create_response("r1", "f", "1", "en", NOW).unwrap();
    s.set_answer("r1", &p("/name"), Some("MARKER-7f3a-answer"), NOW)
        .unwrap();
    s.set_answer("r1", &p("/name"), Some("MARKER-7f3a-edited"), NOW)
        .unwrap();
    let secure: i64 = s
        .conn
        .pragma_query_value(None, "secure_delete", |r| r.get(0))
        .unwrap();
    assert_eq!(secure, 1);
    // The database and its WAL, while open and after closing.
    assert!(dir.path().join("voices.sqlite-wal").exists());
    for needle in [&b"MARKER-7f3a"[..], b"SQLite format 3"] {
        assert_eq!(bytes_in_dir(dir.path(), needle), Vec::<String>::new());
    }
    drop(s);
    assert_eq!(
        bytes_in_dir(dir.path(), b"MARKER-7f3a"),
        Vec::<String>::new()
    );
    let other = Store::open(&path, &DataKey::from_bytes([8; 32]));
    assert!(matches!(other, Err(Error::Corrupt(_))));
    let again = Store::open(&path, &test_key()).unwrap();
    assert_eq!(
        again.answers("r1").unwrap(),
        flat(&[("/name", "MARKER-7f3a-edited")])
    );
}

#[test]
fn a_plain_store_is_encrypted_in_place_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    {
        // What the app before encryption wrote: plain SQLite, answers in its WAL.
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        let mut plain = Store { conn };
        plain.migrate(MIGRATIONS.len()).unwrap();
        plain.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        plain.create_response("r1", "f", "1", "en", NOW).unwrap();
        plain
            .set_answer("r1", &p("/name"), Some("MARKER-plain-answer"), NOW)
            .unwrap();
    }
    assert!(cipher::is_plain(&path));
    let s = Store::open(&path, &test_key()).unwrap();
    assert!(!cipher::is_plain(&path));
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
    assert_eq!(
        s.answers("r1").unwrap(),
        flat(&[("/name", "MARKER-plain-answer")])
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");
    assert_eq!(
        bytes_in_dir(dir.path(), b"MARKER-plain"),
        Vec::<String>::new()
    );
    assert!(!dir.path().join("voices.sqlite.encrypting").exists());
}

fn store_with_draft() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
    s.create_response("r1", "f", "1", "en", NOW).unwrap();
    s
}

/// `r1` finalized and queued in the outbox.
fn store_with_queued_response() -> Store {
    let mut s = store_with_draft();
    s.transition(
        "r1",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    s.transition(
        "r1",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    s
}

#[test]
fn a_new_database_has_every_migration() {
    let s = Store::open_in_memory().unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn a_first_version_database_upgrades_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    {
        let mut v1 = Store::open_at_version(&path, &test_key(), 1).unwrap();
        assert_eq!(v1.schema_version().unwrap(), 1);
        v1.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        v1.create_response("r1", "f", "1", "en", NOW).unwrap();
        v1.set_answer("r1", &p("/age"), Some("41"), NOW).unwrap();
        // Tables of later migrations do not exist yet.
        assert!(v1.setting("x").is_err());
    }
    let mut upgraded = Store::open(&path, &test_key()).unwrap();
    assert_eq!(upgraded.schema_version().unwrap(), MIGRATIONS.len());
    assert_eq!(upgraded.answers("r1").unwrap(), flat(&[("/age", "41")]));
    upgraded.set_setting("x", "y").unwrap();
    upgraded.add_paradata("r1", "opened", None, NOW).unwrap();
    assert_eq!(upgraded.integrity_check().unwrap(), "ok");
}

#[test]
fn an_outbox_from_before_sync_survives_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite");
    {
        let mut v2 = Store::open_at_version(&path, &test_key(), 2).unwrap();
        v2.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        v2.create_response("r1", "f", "1", "en", NOW).unwrap();
        for (from, to) in [
            (ResponseStatus::Draft, ResponseStatus::Finalized),
            (ResponseStatus::Finalized, ResponseStatus::Queued),
        ] {
            v2.transition("r1", &[from], to, NOW).unwrap();
        }
        // How the app before sync recorded a failed send.
        v2.conn
            .execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = 'timeout',
                    updated_at = ?1 WHERE record_kind = 'response' AND record_id = 'r1'",
                [NOW],
            )
            .unwrap();
    }
    let mut s = Store::open(&path, &test_key()).unwrap();
    let entries = s.outbox_entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].state, "failed");
    assert_eq!(entries[0].last_error.as_deref(), Some("timeout"));
    assert_eq!(entries[0].attempts, 1);
    // The new states are allowed now.
    s.add_revision(&revision("v1", "r1", 1), NOW).unwrap();
    s.apply_acks(&[ack("v1", "quarantined", &["why"])], NOW)
        .unwrap();
    assert_eq!(outbox_state(&s, "r1").0, "quarantined");
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn a_database_from_a_newer_app_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    drop(Store::open(&path, &test_key()).unwrap());
    let conn = Connection::open(&path).unwrap();
    cipher::key(&conn, &test_key()).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path, &test_key()).err().unwrap().to_string();
    assert!(err.contains("newer Voices"), "{err}");
}

#[test]
fn the_database_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("w.sqlite"), &test_key()).unwrap();
    let mode: String = s
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

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

fn revision(id: &str, response: &str, seq: u64) -> RevisionRow {
    RevisionRow {
        id: id.to_owned(),
        response_id: response.to_owned(),
        actor: "tab-a".to_owned(),
        seq,
        body: format!(r#"{{"id":"{id}","response":"{response}","seq":{seq}}}"#),
        ack: None,
        code: None,
        reasons: Vec::new(),
        attempts: 0,
    }
}

fn ack(id: &str, ack: &str, reasons: &[&str]) -> RevisionAck {
    let ack = AckStatus::from_name(ack).unwrap();
    RevisionAck {
        revision_id: id.to_owned(),
        ack,
        code: (ack == AckStatus::Rejected).then(|| "revision_id_conflict".to_owned()),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

fn outbox_state(s: &Store, response: &str) -> (String, Vec<String>) {
    let e = s
        .outbox_entries()
        .unwrap()
        .into_iter()
        .find(|e| e.response_id == response)
        .unwrap();
    (e.state, e.reasons)
}

#[test]
fn revisions_are_immutable_and_never_deleted() {
    let mut s = store_with_queued_response();
    s.add_revision(&revision("v1", "r1", 1), NOW).unwrap();
    let err = s
        .conn
        .execute("UPDATE revisions SET body = '{}' WHERE id = 'v1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    let err = s
        .conn
        .execute("DELETE FROM revisions WHERE id = 'v1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("never deleted"), "{err}");
    // The same edit number cannot be built twice.
    assert!(s.add_revision(&revision("v2", "r1", 1), NOW).is_err());
    let kept = s.revisions("r1").unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, revision("v1", "r1", 1).body);
}

#[test]
fn acknowledgements_drive_the_outbox_and_nothing_is_deleted() {
    let mut s = store_with_queued_response();
    for id in ["r2", "r3"] {
        s.create_response(id, "f", "1", "en", NOW).unwrap();
        s.transition(id, &[ResponseStatus::Draft], ResponseStatus::Finalized, NOW)
            .unwrap();
        s.transition(
            id,
            &[ResponseStatus::Finalized],
            ResponseStatus::Queued,
            NOW,
        )
        .unwrap();
    }
    s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
    s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
    s.add_revision(&revision("c1", "r3", 1), NOW).unwrap();
    assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 3);
    s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
    assert_eq!(outbox_state(&s, "r1").0, "sending");
    s.apply_acks(
        &[
            ack("a1", "accepted", &[]),
            ack("b1", "quarantined", &["/age: must be 0 or more"]),
            ack(
                "c1",
                "rejected",
                &["the same id was sent with other content"],
            ),
        ],
        NOW,
    )
    .unwrap();
    assert_eq!(outbox_state(&s, "r1"), ("sent".to_owned(), vec![]));
    assert_eq!(
        outbox_state(&s, "r2"),
        (
            "quarantined".to_owned(),
            vec!["/age: must be 0 or more".to_owned()]
        )
    );
    let (state, reasons) = outbox_state(&s, "r3");
    assert_eq!(state, "rejected");
    assert_eq!(
        reasons,
        ["revision_id_conflict: the same id was sent with other content"]
    );
    assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Sent);
    assert_eq!(s.response("r2").unwrap().status, ResponseStatus::Sent);
    assert_eq!(s.response("r3").unwrap().status, ResponseStatus::Queued);
    // Nothing is due again (a rejected revision is not resent blindly), nothing deleted.
    assert!(s.unacknowledged_revisions(10).unwrap().is_empty());
    assert_eq!(s.revisions("r3").unwrap().len(), 1);
    assert_eq!(s.answers("r3").unwrap().len(), 0);
    // A later edit that passes clears the quarantine.
    s.add_revision(&revision("b2", "r2", 2), NOW).unwrap();
    assert_eq!(outbox_state(&s, "r2").0, "pending");
    s.apply_acks(&[ack("b2", "accepted", &[])], NOW).unwrap();
    assert_eq!(outbox_state(&s, "r2"), ("sent".to_owned(), vec![]));
}

#[test]
fn a_send_failure_keeps_revisions_due_and_says_why() {
    let mut s = store_with_queued_response();
    s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
    s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
    s.count_attempt(&["a1".to_owned()]).unwrap();
    s.note_send_failure(&["a1".to_owned()], "connection refused", NOW)
        .unwrap();
    let entry = &s.outbox_entries().unwrap()[0];
    assert_eq!(entry.state, "failed");
    assert_eq!(entry.last_error.as_deref(), Some("connection refused"));
    let due = s.unacknowledged_revisions(10).unwrap();
    assert_eq!(due[0].attempts, 1);
    // A killed sync leaves `sending` behind; opening resets it to pending.
    s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
    s.reset_sending().unwrap();
    assert_eq!(outbox_state(&s, "r1").0, "pending");
}

#[test]
fn held_back_responses_do_not_hide_the_queue_behind_them() {
    let mut s = store_with_queued_response();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    // r1 heads the queue with more revisions than the window holds.
    for seq in 1..=4 {
        s.add_revision(&revision(&format!("a{seq}"), "r1", seq), NOW)
            .unwrap();
    }
    s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
    let ids = |rows: Vec<RevisionRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.unacknowledged_revisions_except(2, &[]).unwrap()),
        ["a1", "a2"]
    );
    assert_eq!(
        ids(s
            .unacknowledged_revisions_except(2, &["r1".to_owned()])
            .unwrap()),
        ["b1"]
    );
    // Held back is not forgotten: every revision is still due and kept.
    assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 5);
}

#[test]
fn the_link_and_form_offers_round_trip() {
    let mut s = Store::open_in_memory().unwrap();
    assert_eq!(s.link().unwrap(), None);
    let link = LinkRow {
        server_url: "http://10.0.0.2:8470".into(),
        project: "p".into(),
        device_id: "tab-a".into(),
        enumerator: "Achieng".into(),
        token: "secret".into(),
        expires_at: NOW.into(),
        linked_at: NOW.into(),
        certificate_sha256: None,
    };
    s.set_link(&link).unwrap();
    s.set_link(&link).unwrap();
    assert_eq!(s.link().unwrap(), Some(link.clone()));
    let pinned = LinkRow {
        server_url: "https://10.0.0.2:8443".into(),
        certificate_sha256: Some("ab".repeat(32)),
        ..link
    };
    s.set_link(&pinned).unwrap();
    assert_eq!(s.link().unwrap(), Some(pinned));
    s.clear_link().unwrap();
    assert_eq!(s.link().unwrap(), None);
    let offer = FormOfferRow {
        form_id: "f".into(),
        version: "2".into(),
        title: "F".into(),
        published_at: NOW.into(),
    };
    s.add_form_offer(&offer).unwrap();
    s.add_form_offer(&offer).unwrap();
    assert_eq!(s.unseen_form_offers().unwrap(), vec![offer]);
    s.acknowledge_form_offers().unwrap();
    assert!(s.unseen_form_offers().unwrap().is_empty());
    assert!(!s.attachment_uploaded("abc", "srv").unwrap());
    s.mark_attachment_uploaded("abc", "srv", NOW).unwrap();
    assert!(s.attachment_uploaded("abc", "srv").unwrap());
}

#[test]
fn an_unknown_response_is_not_found() {
    let mut s = Store::open_in_memory().unwrap();
    let err = s.set_answer("nope", &p("/a"), Some("1"), NOW).unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::NotFound);
}

#[test]
fn instance_rows_of_schema_4_become_repeat_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    {
        let mut v4 = Store::open_at_version(&path, &test_key(), 4).unwrap();
        v4.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        v4.create_response("r1", "f", "1", "en", NOW).unwrap();
        // Rows as the schema-4 app wrote them: one with no value per instance.
        for (path, value) in [
            ("/village", Some("Kolo")),
            ("/m1[1]", None),
            ("/m1[1]/age", Some("7")),
            ("/m1[2]", None),
            ("/m1[3]", None),
            ("/m1[12]", None),
            ("/h[1]", None),
            ("/h[1]/p[1]", None),
            ("/h[1]/p[2]", None),
            ("/h[1]/p[2]/x", Some("y")),
            ("/h[2]", None),
            ("/h[2]/p[1]", None),
        ] {
            v4.conn
                .execute(
                    "INSERT INTO answers (response_id, path, value, updated_at) VALUES ('r1', ?1, ?2, ?3)",
                    rusqlite::params![path, value, NOW],
                )
                .unwrap();
        }
    }
    let s = Store::open(&path, &test_key()).unwrap();
    assert_eq!(
        s.answers("r1").unwrap(),
        flat(&[
            ("/village", "Kolo"),
            ("/m1[]", "12"),
            ("/m1[1]/age", "7"),
            ("/h[]", "2"),
            ("/h[1]/p[]", "2"),
            ("/h[1]/p[2]/x", "y"),
            ("/h[2]/p[]", "1"),
        ])
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// What `tests/fixtures/store-v4/expected.json` says one response held.
#[derive(serde::Deserialize)]
struct Expected {
    id: String,
    status: ResponseStatus,
    edit_count: u32,
    answers: voices_core::response::Answers,
    consent: Option<voices_core::response::ConsentRecord>,
    privacy: std::collections::BTreeMap<AnswerPath, PrivacyRecord>,
    attachments: Vec<(String, String, String, String)>,
    revisions: usize,
}

#[test]
fn a_store_written_by_the_schema_4_app_opens_with_every_answer() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v4");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    std::fs::copy(fixture.join("voices.sqlite"), &path).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected["schema"], 4);
    let before = Store::open_at_version(&path, &test_key(), 4).unwrap();
    let rows_before: i64 = before
        .conn
        .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
        .unwrap();
    drop(before);

    let s = Store::open(&path, &test_key()).unwrap();
    assert!(!cipher::is_plain(&path), "the plain store was encrypted");
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
    assert_eq!(s.integrity_check().unwrap(), "ok");
    let responses = expected["responses"].as_object().unwrap();
    assert_eq!(responses.len(), 5);
    assert_eq!(s.responses().unwrap().len(), responses.len());
    let mut values = 0;
    for (role, entry) in responses {
        let want: Expected = serde_json::from_value(entry.clone()).unwrap();
        let answers = s.answers(&want.id).unwrap();
        assert_eq!(answers.to_tree(), want.answers, "{role}: answers");
        // Every stored value is an answer or a count; nothing else came along.
        assert_eq!(
            answers,
            FlatAnswers::from_tree(&want.answers).unwrap(),
            "{role}: flat answers"
        );
        values += answers
            .iter()
            .filter(|(p, _)| !p.as_str().ends_with("[]"))
            .count();
        let row = s.response(&want.id).unwrap();
        assert_eq!(
            (row.status, row.edit_count),
            (want.status, want.edit_count),
            "{role}"
        );
        assert_eq!(
            s.consent(&want.id).unwrap(),
            want.consent,
            "{role}: consent"
        );
        assert_eq!(
            s.privacy_checks(&want.id).unwrap(),
            want.privacy,
            "{role}: privacy"
        );
        assert_eq!(
            s.attachments(&want.id).unwrap(),
            want.attachments,
            "{role}: attachments"
        );
        assert_eq!(
            s.revisions(&want.id).unwrap().len(),
            want.revisions,
            "{role}: revisions"
        );
    }
    // The draft keeps its empty third member; the others their instances.
    let draft = &responses["draft"]["id"];
    let draft = s.answers(draft.as_str().unwrap()).unwrap();
    assert_eq!(draft.get("/members[]"), Some("3"));
    // Every value row is still there; the instance rows became one count per repeat.
    let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let counts = count("SELECT count(*) FROM answers WHERE path LIKE '%[]'");
    assert_eq!(
        count("SELECT count(*) FROM answers"),
        values as i64 + counts
    );
    let instance_rows = rows_before - values as i64;
    assert!(
        instance_rows > counts,
        "{instance_rows} instance rows, {counts} counts"
    );
}

#[test]
fn a_purged_response_keeps_its_ids_and_hashes_and_loses_its_answers() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/name"), Some("MARKER-purge"), NOW)
        .unwrap();
    s.record_consent("r1", true, NOW, "v1").unwrap();
    s.add_paradata("r1", "opened", None, NOW).unwrap();
    let photo = AttachedFile {
        sha256: "ab",
        media_type: "image/jpeg",
        size: 3,
        file_name: "p.jpg",
    };
    s.attach("r1", &p("/photo"), &photo, NOW).unwrap();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    s.attach("r2", &p("/photo"), &photo, NOW).unwrap();
    s.transition(
        "r1",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    s.transition(
        "r1",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    let built = revision("a1", "r1", 1);
    s.add_revision(&built, NOW).unwrap();
    // Not acknowledged yet: nothing to purge, and a body cannot be emptied.
    assert!(s.purgeable_responses().unwrap().is_empty());
    assert_eq!(s.purge_response("r1", NOW).unwrap(), None);
    let err = s
        .conn
        .execute("UPDATE revisions SET body = '' WHERE id = 'a1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");

    s.apply_acks(&[ack("a1", "accepted", &[])], NOW).unwrap();
    assert_eq!(
        s.purgeable_responses().unwrap(),
        vec![("r1".to_owned(), NOW.to_owned())]
    );
    // The photo is r2's too: its file stays.
    assert_eq!(s.purge_response("r1", NOW).unwrap(), Some(vec![]));
    assert_eq!(s.purge_response("r1", NOW).unwrap(), None, "purged once");
    let count = |s: &Store, sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    for table in ["answers", "consent", "paradata", "response_attachments"] {
        assert_eq!(
            count(
                &s,
                &format!("SELECT count(*) FROM {table} WHERE response_id = 'r1'")
            ),
            0,
            "{table}"
        );
    }
    let (id, ack_kept, body, hash): (String, String, String, String) = s
        .conn
        .query_row(
            "SELECT id, ack, body, body_sha256 FROM revisions WHERE response_id = 'r1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (id.as_str(), ack_kept.as_str(), body.as_str()),
        ("a1", "accepted", "")
    );
    assert_eq!(hash, crate::sync::sha256_hex(built.body.as_bytes()));
    // Nothing is due and nothing is built again: the server holds it exactly once.
    assert!(s.unacknowledged_revisions(10).unwrap().is_empty());
    assert!(s.responses_to_build().unwrap().is_empty());
    // Gone from every list; opening or reopening it says why.
    assert_eq!(
        s.responses()
            .unwrap()
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["r2"]
    );
    assert!(s.outbox_entries().unwrap().is_empty());
    let err = s.response("r1").unwrap_err();
    assert!(
        err.to_string().contains("removed from this device"),
        "{err}"
    );
    let err = s
        .transition("r1", &[ResponseStatus::Sent], ResponseStatus::Draft, NOW)
        .unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::NotFound);
    // r2 purged later takes the last use of the photo: its file is to be removed.
    s.transition(
        "r2",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    s.transition(
        "r2",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
    s.apply_acks(&[ack("b1", "duplicate", &[])], NOW).unwrap();
    assert_eq!(
        s.purge_response("r2", NOW).unwrap(),
        Some(vec!["ab".to_owned()])
    );
    assert_eq!(count(&s, "SELECT count(*) FROM attachments"), 0);
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// The referral directory a sync brought is kept encrypted, survives closing the store,
/// is replaced by a newer version and forgotten when the project has none.
#[test]
fn the_referral_directory_is_kept_across_restarts_and_replaced() {
    use voices_core::referral::Directory;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    let first = Directory::from_json(
        r#"{"services": [{"id": "hotline", "name": "MARKER-line-9c1", "kind": "gbv", "phone": "1190"}]}"#,
    )
    .unwrap();
    {
        let mut s = Store::open(&path, &test_key()).unwrap();
        assert_eq!(s.directory().unwrap(), None);
        s.keep_directory(1, "2026-12-07T10:00:00Z", &first, NOW)
            .unwrap();
    }
    assert_eq!(
        bytes_in_dir(dir.path(), b"MARKER-line-9c1"),
        Vec::<String>::new()
    );
    let mut s = Store::open(&path, &test_key()).unwrap();
    let kept = s.directory().unwrap().expect("kept across a restart");
    assert_eq!(
        (kept.version, kept.published_at.as_str(), &kept.directory),
        (1, "2026-12-07T10:00:00Z", &first)
    );
    let second = Directory::from_json(
        r#"{"services": [{"id": "clinic", "name": "Clinic", "kind": "health", "phone": "2", "areas": ["north"]}]}"#,
    )
    .unwrap();
    s.keep_directory(2, "2026-12-08T10:00:00Z", &second, NOW)
        .unwrap();
    assert_eq!(s.directory().unwrap().unwrap().directory, second);
    s.forget_directory().unwrap();
    assert_eq!(s.directory().unwrap(), None);
}
