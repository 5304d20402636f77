//! Sealed answers end to end, through the app's real code and a real server (issue 12,
//! "How we know", the server half): unique markers are answered to a `pii` and a
//! `sensitive` question, the interview is finalized and synced, the form is exported,
//! and then the raw bytes of the server's database files (SQLite with its WAL, or the
//! PostgreSQL data directory) and of the exports hold no marker; with the identity every
//! marker comes back. Key rotation: answers made after a new key is added and the old
//! one retired open with the new identity, the old ones still with the old.
//!
//! The device's own database is not searched here: it holds the clear answers until the
//! store is encrypted on the device (SQLCipher, issue 12 item 1).

mod support;

use std::io::{Read, Write};
use std::path::Path;

use base64::Engine;
use serde_json::Value;
use support::{page_index, run, Device, TestServer, FORM, PROJECT};
use voices_core::response::PrivacyOutcome;

/// A version of the fixture form with a free-text question in its sensitive group.
const VERSION: &str = "2026-sealed";

fn sealed_form() -> String {
    let mut form: Value = serde_json::from_str(&support::fixture_text()).unwrap();
    form["version"] = Value::String(VERSION.into());
    let body = form["body"].as_array_mut().unwrap();
    let safety = body.iter_mut().find(|i| i["name"] == "safety").unwrap();
    safety["body"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "type": "text", "name": "what_happened",
            "label": {"en": "What happened?", "ar": "ماذا حدث؟"}
        }));
    serde_json::to_string_pretty(&form).unwrap()
}

/// One interview with `pii` as a member's first name and `sensitive` as the sensitive
/// free text; finalized. Its id.
fn interview(d: &Device, pii: &str, sensitive: &str) -> String {
    let v = &d.voices;
    let id = v
        .start(FORM, Some(VERSION), Some("en"))
        .unwrap()
        .response_id;
    v.record_consent(&id, true).unwrap();
    v.set_answer(&id, "/village", Some("Kolo"), 1).unwrap();
    v.set_answer(&id, "/hh_size", Some("2"), 1).unwrap();
    let members = page_index(v, &id, "/members");
    v.add_repeat_instance(&id, "/members", members).unwrap();
    v.set_answer(&id, "/members[1]/first_name", Some(pii), members)
        .unwrap();
    v.set_answer(&id, "/members[1]/age", Some("31"), members)
        .unwrap();
    let safety = page_index(v, &id, "/safety");
    v.record_privacy(&id, "/safety", PrivacyOutcome::Private, safety)
        .unwrap();
    v.set_answer(&id, "/felt_unsafe", Some("yes"), safety)
        .unwrap();
    v.set_answer(&id, "/what_happened", Some(sensitive), safety)
        .unwrap();
    let review = v.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    id
}

/// Every file under `dir`, recursively, that contains `needle` (bytes).
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() {
            if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Open every `{"sealed": …}` in a JSON value with `identity` (as `voices decrypt` does).
fn open_all(value: &mut Value, identity: &age::x25519::Identity) -> usize {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("sealed") => {
            let text = map["sealed"].as_str().unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap();
            let Ok(clear) = age::decrypt(identity, &bytes) else {
                return 0;
            };
            *value = Value::String(String::from_utf8(clear).unwrap());
            1
        }
        Value::Object(map) => map.values_mut().map(|v| open_all(v, identity)).sum(),
        Value::Array(items) => items.iter_mut().map(|v| open_all(v, identity)).sum(),
        _ => 0,
    }
}

async fn markers_never_reach_the_server_in_clear(server: &TestServer, database: &Path) {
    let old = age::x25519::Identity::generate();
    server.add_key(&old.to_public().to_string()).await;
    server.publish(&sealed_form()).await;

    let device = Device::open();
    device
        .voices
        .forms()
        .import_text("sealed.json", &sealed_form(), "file")
        .unwrap();
    let code = server.device_code("tab-seal", &server.url).await;
    device.voices.sync().provision_device(&code).await.unwrap();

    let markers = [
        ("Zq7PiiMarkerAmina", "Zq7SensitiveMarkerNightOfTheFire"),
        ("Zq7PiiMarkerYusuf", "Zq7SensitiveMarkerAtTheMarket"),
    ];
    let ids: Vec<String> = markers
        .iter()
        .map(|(pii, sensitive)| interview(&device, pii, sensitive))
        .collect();
    let summary = device.voices.sync().sync_once().await.unwrap();
    assert_eq!(summary.accepted, 2, "{summary:?}");
    assert_eq!(summary.quarantined, 0, "{summary:?}");
    // Nothing changed: the next sync builds nothing (the device compares in clear).
    let again = device.voices.sync().sync_once().await.unwrap();
    assert_eq!(again.revisions_built, 0, "{again:?}");

    // Exports, as a coordinator with the pii grant, in every format.
    let base = format!("/api/v1/projects/{PROJECT}/forms/{FORM}/export");
    let csv = server
        .get_bytes(&format!("{base}?format=csv&pii=true"))
        .await;
    let json = server
        .get_bytes(&format!("{base}?format=json&pii=true"))
        .await;
    let geojson = server
        .get_bytes(&format!("{base}?format=geojson&pii=true"))
        .await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(csv.clone())).unwrap();
    let mut csv_text = Vec::new();
    for i in 0..zip.len() {
        zip.by_index(i).unwrap().read_to_end(&mut csv_text).unwrap();
    }
    let mut pulled = serde_json::to_vec(&server.pull_all().await).unwrap();
    pulled.extend_from_slice(&csv_text);

    // Rotation: a new key, the old one retired; an edit made after the device pulls the
    // form list is sealed to the new key only.
    let new = age::x25519::Identity::generate();
    server.add_key(&new.to_public().to_string()).await;
    server.retire_key(&old.to_public().to_string()).await;
    device.voices.sync().sync_once().await.unwrap();
    device.voices.reopen(&ids[0]).unwrap();
    let edit_page = page_index(&device.voices, &ids[0], "/members");
    device
        .voices
        .set_answer(
            &ids[0],
            "/members[1]/first_name",
            Some("Zq7PiiMarkerRotated"),
            edit_page,
        )
        .unwrap();
    let review = device.voices.finalize(&ids[0]).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    let rotated = device.voices.sync().sync_once().await.unwrap();
    assert_eq!(rotated.accepted, 1, "{rotated:?}");

    // Zero hits in the server's files and in every export.
    let mut all_markers: Vec<&str> = markers.iter().flat_map(|(a, b)| [*a, *b]).collect();
    all_markers.push("Zq7PiiMarkerRotated");
    let exports = [&csv, &json, &geojson, &pulled];
    for marker in &all_markers {
        let hits = files_containing(database, marker.as_bytes());
        assert!(
            hits.is_empty(),
            "{marker} is in the server's files: {hits:?}"
        );
        for export in exports {
            assert!(!contains(export, marker), "{marker} is in an export");
        }
    }
    assert!(
        contains(&json, "\"sealed\""),
        "the export carries sealed answers"
    );

    // With the identities, every marker comes back: the old identity opens what was
    // sealed before the rotation, the new one what came after.
    let mut items = Value::Array(server.pull_all().await);
    let mut history = String::new();
    for id in &ids {
        let h = server
            .get_json(&format!(
                "/api/v1/projects/{PROJECT}/responses/{id}/history?pii=true"
            ))
            .await;
        history.push_str(&h.to_string());
    }
    assert!(
        history.contains("\"sealed\":true"),
        "the console shows sealed answers as sealed"
    );
    let opened_new = open_all(&mut items, &new);
    let opened_old = open_all(&mut items, &old);
    assert_eq!(opened_new, 1, "the rotated answer");
    // Each response seals a first name, the sensitive choice and the sensitive text.
    assert_eq!(opened_old, 5, "the others");
    let text = items.to_string();
    assert!(text.contains("Zq7PiiMarkerRotated"));
    for (pii, sensitive) in &markers[1..] {
        assert!(text.contains(pii) && text.contains(sensitive), "{text}");
    }
    assert!(text.contains(markers[0].1), "{text}");
    // The first JSON export opens with the old identity alone.
    let mut exported: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(open_all(&mut exported, &old), 6);
    let exported = exported.to_string();
    for marker in markers.iter().flat_map(|(a, b)| [*a, *b]) {
        assert!(exported.contains(marker), "{marker} in the opened export");
    }
    std::io::stdout().flush().ok();
}

#[test]
fn sealed_markers_never_reach_the_server_in_clear_sqlite() {
    // The server is dropped after the runtime (its clean-up blocks).
    let _server = run(async {
        let server = TestServer::start().await;
        let files = server.files().to_path_buf();
        markers_never_reach_the_server_in_clear(&server, &files).await;
        server
    });
}

#[test]
fn sealed_markers_never_reach_the_server_in_clear_postgres() {
    let Ok(data) = std::env::var("VOICES_TEST_PG_DATADIR") else {
        panic!("VOICES_TEST_PG_DATADIR is not set: run through scripts/with-postgres.sh");
    };
    let _server = run(async {
        let server = TestServer::start_postgres().await;
        markers_never_reach_the_server_in_clear(&server, Path::new(&data)).await;
        server
    });
}
