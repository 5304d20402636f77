//! Writes `tests/fixtures/store-v4/` with the app as it was before answers were stored
//! in the core's flat encoding (schema 4: one row per repeat instance with no value).
//! The upgrade test opens that database with today's code and must find every answer
//! listed in `expected.json`.
//!
//! Run once, at the commit that adds the fixture:
//! `VOICES_WRITE_FIXTURE=src-tauri/tests/fixtures/store-v4 cargo test -p voices-app
//! --features custom-protocol --test make_store_fixture -- --ignored`

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Value};
use voices_app::store::{LinkRow, RevisionAck};
use voices_app::voices::Upload;
use voices_app::Voices;

const FORM: &str = "app_fixture_household";

fn page_index(v: &Voices, id: &str, key: &str) -> u32 {
    let count = v.state(id, 0, None).unwrap().page_count;
    (0..count)
        .find(|&i| v.page(id, i).unwrap().key == key)
        .unwrap_or_else(|| panic!("no page {key}"))
}

fn attach(v: &Voices, id: &str, name: &str, bytes: &[u8]) {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let upload = Upload {
        file_name: name,
        media_type: "image/jpeg",
        data_base64: &data,
    };
    v.attach(id, "/photo", &upload, 1).unwrap();
}

/// Consent, household answers, `members` instances and the privacy check answered
/// `outcome`. A draft gets one more instance, left empty (age is required, so only a
/// draft can have one).
fn fill(v: &Voices, id: &str, village: &str, members: &[(&str, &str)], outcome: &str) {
    v.record_consent(id, true).unwrap();
    v.set_answer(id, "/village", Some(village), 1).unwrap();
    v.set_answer(id, "/hh_size", Some("3"), 1).unwrap();
    v.set_answer(id, "/water", Some("piped"), 1).unwrap();
    let page = page_index(v, id, "/members");
    for (i, (name, age)) in members.iter().enumerate() {
        v.add_repeat_instance(id, "/members", page).unwrap();
        let n = i + 1;
        v.set_answer(id, &format!("/members[{n}]/first_name"), Some(name), page)
            .unwrap();
        v.set_answer(id, &format!("/members[{n}]/age"), Some(age), page)
            .unwrap();
    }
    if outcome == "interrupted" {
        // An instance with no answers yet: it must survive the upgrade.
        v.add_repeat_instance(id, "/members", page).unwrap();
    }
    let safety = page_index(v, id, "/safety");
    v.record_privacy(id, "/safety", outcome, safety).unwrap();
    if outcome == "private" {
        v.set_answer(id, "/felt_unsafe", Some("no"), safety).unwrap();
    }
}

#[test]
#[ignore = "writes the upgrade fixture; run by hand (see the module comment)"]
fn write_the_schema_4_store_fixture() {
    let Ok(out) = std::env::var("VOICES_WRITE_FIXTURE") else {
        panic!("set VOICES_WRITE_FIXTURE to the fixture directory");
    };
    let out = Path::new(&out);
    std::fs::create_dir_all(out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::open(dir.path()).unwrap();
    let form = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/household.json"),
    )
    .unwrap();
    v.import_text("household.json", &form, "file").unwrap();

    // Sent, then reopened and edited (a draft again, with revisions behind it).
    let edited = v.start(FORM, None, Some("en")).unwrap().response_id;
    fill(&v, &edited, "Kolo", &[("Amina", "34")], "private");
    attach(&v, &edited, "house.jpg", b"a photo of a house");
    assert!(v.finalize(&edited).unwrap().can_finalize);
    // Sent as it is.
    let sent = v.start(FORM, None, Some("en")).unwrap().response_id;
    fill(&v, &sent, "Lela", &[("Baraka", "41"), ("Chausiku", "9")], "private");
    assert!(v.finalize(&sent).unwrap().can_finalize);
    // Link, build the revisions and take the server's acknowledgements.
    v.with_store(|s| {
        s.set_link(&LinkRow {
            server_url: "http://10.0.0.2:8470".into(),
            project: "p1".into(),
            device_id: "fixture-tab".into(),
            enumerator: "Enumerator".into(),
            token: "token".into(),
            expires_at: "2099-01-01T00:00:00Z".into(),
            linked_at: "2026-01-05T10:00:00.000+03:00".into(),
        })?;
        voices_app::sync::revisions::build_due(
            s,
            "fixture-tab",
            1_767_600_000_000,
            "2026-01-05T10:00:00.000+03:00",
        )?;
        let acks: Vec<RevisionAck> = s
            .unacknowledged_revisions(100)?
            .into_iter()
            .map(|r| RevisionAck {
                revision_id: r.id,
                ack: "accepted".into(),
                code: None,
                reasons: Vec::new(),
            })
            .collect();
        assert_eq!(acks.len(), 2);
        s.apply_acks(&acks, "2026-01-05T10:00:01.000+03:00")
    })
    .unwrap();
    v.reopen(&edited).unwrap();
    let page = page_index(&v, &edited, "/members");
    v.set_answer(&edited, "/members[1]/age", Some("35"), page)
        .unwrap();
    v.set_answer(&edited, "/visit", Some("2026-01-04"), 1)
        .unwrap();

    // Finalized and queued after the link (so it has a revision not yet acknowledged).
    let queued = v.start(FORM, None, Some("en")).unwrap().response_id;
    fill(&v, &queued, "Mosi", &[("Daudi", "52")], "not_private");
    attach(&v, &queued, "yard.jpg", b"a photo of a yard");
    assert!(v.finalize(&queued).unwrap().can_finalize);
    // A draft left in the middle, the privacy check interrupted.
    let draft = v.start(FORM, None, Some("en")).unwrap().response_id;
    fill(&v, &draft, "Nanga", &[("Eshe", "27"), ("Faraji", "3")], "interrupted");
    // Consent declined: only the refusal is kept.
    let refused = v.start(FORM, None, Some("en")).unwrap().response_id;
    v.record_consent(&refused, false).unwrap();

    let mut expected = BTreeMap::new();
    for (role, id) in [
        ("edited_after_sending", &edited),
        ("sent", &sent),
        ("queued", &queued),
        ("draft", &draft),
        ("refused", &refused),
    ] {
        let entry = v
            .with_store(|s| {
                let row = s.response(id)?;
                let answers = voices_app::paths::from_rows(&s.answers(id)?)?;
                let privacy: BTreeMap<String, Value> = s
                    .privacy_checks(id)?
                    .into_iter()
                    .map(|(group, outcome, at)| (group, json!({"outcome": outcome, "at": at})))
                    .collect();
                let attachments: Vec<Value> = s
                    .attachments(id)?
                    .into_iter()
                    .map(|(path, sha, name, media)| json!([path, sha, name, media]))
                    .collect();
                Ok(json!({
                    "id": id,
                    "status": row.status,
                    "edit_count": row.edit_count,
                    "answers": answers,
                    "rows": s.answers(id)?.len(),
                    "consent": s.consent(id)?.map(|c| json!({"given": c.given, "at": c.at, "text_version": c.text_version})),
                    "privacy": privacy,
                    "attachments": attachments,
                    "revisions": s.revisions(id)?.len(),
                }))
            })
            .unwrap();
        expected.insert(role, entry);
    }
    let schema = v.with_store(|s| s.schema_version()).unwrap();
    assert_eq!(schema, 4, "the fixture is of schema 4");
    drop(v);
    std::fs::copy(dir.path().join("voices.sqlite"), out.join("voices.sqlite")).unwrap();
    std::fs::write(
        out.join("expected.json"),
        serde_json::to_string_pretty(&json!({"schema": schema, "responses": expected})).unwrap()
            + "\n",
    )
    .unwrap();
}
