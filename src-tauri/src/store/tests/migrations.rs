//! Migrations and upgrades: a new database, older databases (a first version, an outbox from
//! before sync, schema 4's answer rows) upgraded with every answer, a newer one refused.

use super::*;

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

/// Migration 16: the files a server confirmed before it are still confirmed for the
/// responses that attach them (plain and sealed), and for no other.
#[test]
fn files_sent_before_migration_16_stay_sent_for_their_responses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v15.sqlite");
    {
        let mut v15 = Store::open_at_version(&path, &test_key(), 15).unwrap();
        v15.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        for r in ["r1", "r2", "r3"] {
            v15.create_response(r, "f", "1", "en", NOW).unwrap();
        }
        let photo = AttachedFile {
            sha256: "ab",
            media_type: "image/jpeg",
            size: 3,
            file_name: "p.jpg",
        };
        v15.attach("r1", &p("/photo"), &photo, NOW).unwrap();
        v15.conn
            .execute_batch(
                "INSERT INTO sealed_files (sha256, response_id, clear_sha256, size, added_at)
                     VALUES ('cd', 'r2', 'ef', 9, 'now');
                 INSERT INTO attachment_uploads (sha256, destination, completed_at)
                     VALUES ('ab', 'srv', 'now'), ('cd', 'srv', 'now'), ('zz', 'srv', 'now');",
            )
            .unwrap();
    }
    let s = Store::open(&path, &test_key()).unwrap();
    assert!(s.attachment_uploaded("r1", "ab", "srv").unwrap());
    assert!(s.attachment_uploaded("r2", "cd", "srv").unwrap());
    assert!(!s.attachment_uploaded("r3", "ab", "srv").unwrap());
    assert!(!s.attachment_uploaded("r1", "ab", "other").unwrap());
    assert_eq!(s.integrity_check().unwrap(), "ok");
}
