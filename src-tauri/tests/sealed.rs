//! Sealed answers end to end, through the app's real code and a real server (issue 12,
//! "How we know", the server half): unique markers are answered to a `pii` and a
//! `sensitive` question, the interview is finalized and synced, the form is exported,
//! and then the raw bytes of the server's database files (SQLite with its WAL, or the
//! PostgreSQL data directory) and of the exports hold no marker. The console's table,
//! response and history carry those answers as their ciphertext, and the response is reviewed.
//! `voices decrypt` with the coordinator's identity (made by `voices keygen`) brings
//! every marker back. A photo answered to the sensitive question (markers in its name and
//! its bytes) is sealed on the device and uploaded sealed: neither its bytes, its name nor
//! its clear hash reach the server, and the identity opens the sealed file (`voices
//! decrypt`, the console's reader). Key rotation: answers made after a new key is added and the old
//! one retired open with the new identity, the old ones still with the old. Every read
//! by the coordinator is in the access audit.
//!
//! The device's own database is not searched here: it holds the clear answers until the
//! store is encrypted on the device (SQLCipher, issue 12 item 1).

mod support;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use serde_json::{json, Value};
use support::{page_index, run, Device, TestServer, FORM, PROJECT};
use voices_core::response::PrivacyOutcome;
use voices_core::sync::{Hlc, Revision, VersionVector};
use voices_server::store::access::AuditQuery;

/// A version of the fixture form with a free-text question in its sensitive group.
const VERSION: &str = "2026-sealed";

fn sealed_form() -> String {
    let mut form: Value = serde_json::from_str(&support::fixture_text()).unwrap();
    form["version"] = Value::String(VERSION.into());
    let body = form["body"].as_array_mut().unwrap();
    let safety = body.iter_mut().find(|i| i["name"] == "safety").unwrap();
    safety["body"].as_array_mut().unwrap().extend([
        serde_json::json!({
            "type": "text", "name": "what_happened",
            "label": {"en": "What happened?", "ar": "ماذا حدث؟"}
        }),
        serde_json::json!({
            "type": "image", "name": "scene_photo",
            "label": {"en": "Photo of the place", "ar": "صورة المكان"}
        }),
    ]);
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
    // A photo of the sensitive group, its name and its bytes holding markers of their own.
    let (name, bytes) = photo(sensitive);
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    v.attach(
        &id,
        "/scene_photo",
        &voices_app::voices::Upload {
            file_name: &name,
            media_type: "image/png",
            data_base64: &data,
        },
        safety,
    )
    .unwrap();
    let review = v.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    id
}

/// The photo attached beside the sensitive answer `sensitive`: its file name and bytes (a
/// PNG signature, then markers: one in the name, one in the bytes).
fn photo(sensitive: &str) -> (String, Vec<u8>) {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(format!("Zq7PhotoBytes{sensitive}").as_bytes());
    (format!("Zq7PhotoName{sensitive}.png"), bytes)
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

/// Open every `{"sealed": …}` in `value` with the console's reader: how many opened (their
/// clear texts added to `clear`) and how many are sealed to other keys only.
fn open_in_console(
    value: &Value,
    reader: &voices_wasm::unseal::Identities,
    clear: &mut Vec<String>,
) -> (usize, usize) {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("sealed") => {
            match reader.open_sealed(map["sealed"].as_str().unwrap()) {
                Ok(text) => {
                    clear.push(text);
                    (1, 0)
                }
                Err(voices_wasm::unseal::Error::NotYours) => (0, 1),
                Err(e) => panic!("a sealed answer the console cannot read: {e}"),
            }
        }
        Value::Object(map) => map.values().fold((0, 0), |(o, n), v| {
            let (a, b) = open_in_console(v, reader, clear);
            (o + a, n + b)
        }),
        Value::Array(items) => items.iter().fold((0, 0), |(o, n), v| {
            let (a, b) = open_in_console(v, reader, clear);
            (o + a, n + b)
        }),
        _ => (0, 0),
    }
}

/// The passphrase of the coordinator's identities in these tests.
const PASSPHRASE: &str = "a long passphrase for the field";

/// Give `voices` its passphrase as a script would: set once, before any test of this
/// file starts its runtime (every test calls this first), so no thread reads the
/// environment while it changes.
fn passphrase_in_environment() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| std::env::set_var(voices_cli::identity::PASSPHRASE_VAR, PASSPHRASE));
}

/// `voices ARGS…`, as a coordinator runs it (the command line's own parser and commands).
fn voices(args: &[&dyn AsRef<OsStr>]) -> ExitCode {
    let args = std::iter::once(OsStr::new("voices")).chain(args.iter().map(|a| a.as_ref()));
    voices_cli::run_args(args)
}

/// A coordinator's new identity (`voices keygen`, protected by the passphrase): its file
/// and its public key.
fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    assert_eq!(voices(&[&"keygen", &"--output", &path]), ExitCode::SUCCESS);
    let identities = voices_cli::identity::read(&path).unwrap();
    (path, identities[0].to_public().to_string())
}

/// `voices decrypt --identity IDENTITY INPUT -o OUTPUT`: its exit code and the output.
fn decrypt(identity: &Path, input: &Path, output: &Path) -> (ExitCode, Vec<u8>) {
    let code = voices(&[
        &"decrypt",
        &"--identity",
        &identity,
        &input,
        &"--output",
        &output,
    ]);
    (code, std::fs::read(output).unwrap_or_default())
}

/// The CSV files of a zip, one after the other.
fn csv_of(zip: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut text = Vec::new();
    for i in 0..archive.len() {
        archive.by_index(i).unwrap().read_to_end(&mut text).unwrap();
    }
    text
}

/// What the coordinator read, in order, as the audit should record it: the action, the
/// target (a response, a form, none for a pull page) and the start of the detail.
type Reads = Vec<(&'static str, Option<String>, String)>;

async fn markers_never_reach_the_server_in_clear(server: &TestServer, database: &Path) {
    let keys = tempfile::tempdir().unwrap();
    let (old_identity, old) = keygen(keys.path(), "old.age");
    server.add_key(&old).await;
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
    // Each photo went sealed, once: the sealed file in the clear one's place.
    assert_eq!(summary.attachments_sent, 2, "{summary:?}");
    // Nothing changed: the next sync builds nothing (the device compares in clear).
    let again = device.voices.sync().sync_once().await.unwrap();
    assert_eq!(again.revisions_built, 0, "{again:?}");

    // Exports, as a coordinator with the pii grant, in every format.
    let mut reads: Reads = Vec::new();
    let base = format!("/api/v1/projects/{PROJECT}/forms/{FORM}/export");
    let mut export = |format: &str| {
        reads.push((
            "export",
            Some(FORM.to_owned()),
            format!("format={}", if format == "csv" { "zip" } else { format }),
        ));
        format!("{base}?format={format}&pii=true")
    };
    let (csv_path, json_path, geojson_path) = (export("csv"), export("json"), export("geojson"));
    let csv = server.get_bytes(&csv_path).await;
    let json = server.get_bytes(&json_path).await;
    let geojson = server.get_bytes(&geojson_path).await;
    let csv_text = csv_of(&csv);
    let first_pull = server.pull_all().await;
    reads.push(("read_response", None, "pull".to_owned()));
    let mut pulled = serde_json::to_vec(&first_pull).unwrap();
    pulled.extend_from_slice(&csv_text);

    // The console reviews a response: its table row, the response and its history show
    // the sealed answers as sealed; the review is recorded.
    let table = server
        .get_json(&format!(
            "/api/v1/projects/{PROJECT}/table?form={FORM}&pii=true"
        ))
        .await;
    reads.push((
        "search",
        Some(FORM.to_owned()),
        "words=0 pii=true".to_owned(),
    ));
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{table}");
    for row in rows {
        // The ciphertext, for the coordinator's page to open with their identity.
        for path in ["/members[1]/first_name", "/what_happened"] {
            let sealed = row["answers"][path]["sealed"].as_str().unwrap_or_default();
            assert!(sealed.starts_with("YWdlLWVuY3J5cHRpb24u"), "{path}: {row}");
        }
        assert_eq!(row["answers"]["/village"], "Kolo", "{row}");
    }
    let one = server
        .get_json(&format!(
            "/api/v1/projects/{PROJECT}/responses/{}?pii=true",
            ids[0]
        ))
        .await;
    reads.push(("read_response", Some(ids[0].clone()), "pii=true".to_owned()));
    let answers = &one["response"]["answers"];
    assert!(answers["what_happened"]["sealed"].is_string(), "{one}");
    assert!(
        answers["members"][0]["first_name"]["sealed"].is_string(),
        "{one}"
    );
    assert_eq!(answers["village"], "Kolo", "{one}");
    let mut history = String::new();
    for id in &ids {
        let h = server
            .get_json(&format!(
                "/api/v1/projects/{PROJECT}/responses/{id}/history?pii=true"
            ))
            .await;
        reads.push((
            "read_response",
            Some(id.clone()),
            "history pii=true".to_owned(),
        ));
        history.push_str(&h.to_string());
    }
    assert!(
        history.contains("\"sealed\":\"YWdlLWVuY3J5cHRpb24u"),
        "the history carries sealed answers as their ciphertext"
    );
    let status = server
        .put_json(
            &format!("/api/v1/projects/{PROJECT}/responses/{}/review", ids[1]),
            json!({"state": "approved"}),
        )
        .await;
    assert_eq!(status, 204);
    reads.push(("review", Some(ids[1].clone()), "approved".to_owned()));

    // The photo's answer is sealed; its file is named by the sealed answer and served
    // sealed (by the console's file endpoint, with the pii grant), as an age file.
    let sealed_photo = answers["scene_photo"]["sealed"].as_str().unwrap();
    let photo_name = voices_core::answer::Sealed::new(sealed_photo)
        .unwrap()
        .file_name();
    assert!(photo_name.starts_with("sealed-") && photo_name.ends_with(".age"));
    let file_path = format!(
        "/api/v1/projects/{PROJECT}/responses/{}/files/{photo_name}",
        ids[0]
    );
    assert_eq!(
        server.status_of(&file_path).await,
        404,
        "a sealed answer's file is personal data: only with pii=true"
    );
    let sealed_file = server.get_bytes(&format!("{file_path}?pii=true")).await;
    reads.push(("read_response", Some(ids[0].clone()), "file ".to_owned()));
    assert!(sealed_file.starts_with(b"age-encryption.org/v1\n"));
    pulled.extend_from_slice(&sealed_file);

    // `voices decrypt` with the coordinator's identity opens every export.
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let (code, clear_json) = decrypt(
        &old_identity,
        &write("export.json", &json),
        &files.path().join("clear.json"),
    );
    assert_eq!(code, ExitCode::SUCCESS, "every sealed answer opens");
    let (code, clear_zip) = decrypt(
        &old_identity,
        &write("export.zip", &csv),
        &files.path().join("clear.zip"),
    );
    assert_eq!(code, ExitCode::SUCCESS);
    let (code, clear_geojson) = decrypt(
        &old_identity,
        &write("export.geojson", &geojson),
        &files.path().join("clear.geojson"),
    );
    assert_eq!(code, ExitCode::SUCCESS);
    let clear_csv = csv_of(&clear_zip);
    for marker in markers.iter().flat_map(|(a, b)| [*a, *b]) {
        for (name, clear) in [("JSON", &clear_json), ("CSV", &clear_csv)] {
            assert!(
                contains(clear, marker),
                "{marker} in the opened {name} export"
            );
        }
    }
    assert!(
        contains(&clear_geojson, markers[0].1),
        "the opened GeoJSON export"
    );
    // The photo's name comes back from the export, its bytes from the sealed file.
    let (clear_name, clear_photo) = photo(markers[0].1);
    assert!(contains(&clear_json, &clear_name), "the photo's name");
    let (code, opened_photo) = decrypt(
        &old_identity,
        &write(&photo_name, &sealed_file),
        &files.path().join("photo.png"),
    );
    assert_eq!(
        code,
        ExitCode::SUCCESS,
        "voices decrypt opens a sealed file"
    );
    assert_eq!(opened_photo, clear_photo);

    // Rotation: a new key, the old one retired; an edit made after the device pulls the
    // form list is sealed to the new key only.
    let (new_identity, new) = keygen(keys.path(), "new.age");
    server.add_key(&new).await;
    server.retire_key(&old).await;
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
    // The photos' bytes and names (each holds its sensitive marker: one search covers
    // them), and their clear hashes, which never leave the device either.
    all_markers.extend(["Zq7PhotoBytes", "Zq7PhotoName"]);
    let clear_hashes: Vec<String> = markers
        .iter()
        .map(|(_, sensitive)| voices_app::sync::sha256_hex(&photo(sensitive).1))
        .collect();
    all_markers.extend(clear_hashes.iter().map(String::as_str));
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
    // sealed before the rotation and leaves the rest sealed (exit 1); the new one
    // opens what came after.
    let items = server.pull_all().await;
    reads.push(("read_response", None, "pull".to_owned()));
    let pull = write(
        "pull.json",
        &serde_json::to_vec(&json!({"items": items})).unwrap(),
    );
    let (code, _) = decrypt(&old_identity, &pull, &files.path().join("pull-old.json"));
    assert_eq!(
        code,
        ExitCode::from(1),
        "the rotated answer is not the old key's"
    );
    let (code, text) = decrypt(
        &new_identity,
        &files.path().join("pull-old.json"),
        &files.path().join("pull-clear.json"),
    );
    assert_eq!(code, ExitCode::SUCCESS, "the new key opens the rest");
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Zq7PiiMarkerRotated"), "{text}");
    for (pii, sensitive) in &markers[1..] {
        assert!(text.contains(pii) && text.contains(sensitive), "{text}");
    }
    assert!(text.contains(markers[0].1), "{text}");
    // What was sealed: each response's first name, sensitive choice and sensitive text.
    let old_key = &voices_cli::identity::read(&old_identity).unwrap()[0];
    let mut exported: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        open_all(&mut exported, old_key),
        8,
        "with the photos' names"
    );
    let new_key = &voices_cli::identity::read(&new_identity).unwrap()[0];
    // The console's reader (voices-wasm, the code the browser runs) opens what the app
    // sealed with the identity files and the passphrase, as `voices decrypt` does.
    let pulled = Value::Array(items.clone());
    // As many as age itself opens with each key: the old one all but the rotated answer.
    let by_old = open_all(&mut pulled.clone(), old_key);
    let by_new = open_all(&mut pulled.clone(), new_key);
    assert_eq!(by_new, 1, "the rotated answer");
    let mut opened_in_console = Vec::new();
    for (identity, opens, others) in [
        (&old_identity, by_old, by_new),
        (&new_identity, by_new, by_old),
    ] {
        let file = std::fs::read(identity).unwrap();
        let reader = voices_wasm::unseal::Identities::open(&file, PASSPHRASE).unwrap();
        let wrong = voices_wasm::unseal::Identities::open(&file, "not the passphrase");
        assert!(
            matches!(wrong, Err(voices_wasm::unseal::Error::WrongPassphrase)),
            "{:?}",
            wrong.err()
        );
        let (opened, not_yours) = open_in_console(&pulled, &reader, &mut opened_in_console);
        assert_eq!(
            (opened, not_yours),
            (opens, others),
            "{}",
            identity.display()
        );
    }
    for (pii, sensitive) in &markers[1..] {
        assert!(
            opened_in_console.contains(&pii.to_string()),
            "{opened_in_console:?}"
        );
        assert!(
            opened_in_console.contains(&sensitive.to_string()),
            "{opened_in_console:?}"
        );
    }
    assert!(opened_in_console.iter().any(|c| c == "Zq7PiiMarkerRotated"));
    // The console's reader opens the sealed photo too, and names it as the server does.
    let reader =
        voices_wasm::unseal::Identities::open(&std::fs::read(&old_identity).unwrap(), PASSPHRASE)
            .unwrap();
    assert_eq!(
        reader.open_file(&sealed_file).unwrap(),
        photo(markers[0].1).1
    );
    assert_eq!(
        voices_wasm::unseal::file_name(sealed_photo).unwrap(),
        photo_name
    );
    assert_eq!(
        open_all(&mut Value::Array(items), new_key),
        1,
        "the rotated answer"
    );

    // Every read by the coordinator is in the access audit, in order, and nothing else.
    let store = server.store.clone();
    let audit = tokio::task::spawn_blocking(move || {
        store
            .audit(&AuditQuery {
                project: Some(PROJECT.into()),
                actor: Some("cora".into()),
                action: None,
                since: None,
                until: None,
                after: 0,
                limit: 1_000,
            })
            .unwrap()
    })
    .await
    .unwrap();
    let recorded: Vec<(&str, Option<&str>, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_deref(), e.detail.as_str()))
        .collect();
    assert_eq!(recorded.len(), reads.len(), "{recorded:?}");
    for ((action, target, detail), read) in recorded.iter().zip(&reads) {
        assert_eq!(*action, read.0, "{recorded:?}");
        assert_eq!(*target, read.1.as_deref(), "{recorded:?}");
        assert!(detail.starts_with(&read.2), "{detail} after {:?}", read);
    }
    assert!(audit.iter().all(|e| e.outcome == "ok"));
    std::io::stdout().flush().ok();
}

#[test]
fn sealed_markers_never_reach_the_server_in_clear_sqlite() {
    passphrase_in_environment();
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
    passphrase_in_environment();
    let Ok(data) = std::env::var("VOICES_TEST_PG_DATADIR") else {
        panic!("VOICES_TEST_PG_DATADIR is not set: run through scripts/with-postgres.sh");
    };
    let _server = run(async {
        let server = TestServer::start_postgres().await;
        markers_never_reach_the_server_in_clear(&server, Path::new(&data)).await;
        server
    });
}

/// A coordinator's edit uploaded over the API: `set` (the wire form of answers) on top of
/// everything the server holds of `id` but the coordinator's own edits.
async fn coordinator_edit(server: &TestServer, id: &str, seq: u64, set: Value) {
    let (_, item) = server
        .coordinator_json(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{id}?pii=true"),
            None,
        )
        .await;
    let context: VersionVector = serde_json::from_value(item["context"].clone()).unwrap();
    let seen = VersionVector(
        context
            .0
            .into_iter()
            .filter(|(a, _)| a != "user:cora")
            .collect(),
    );
    let revision: Revision = serde_json::from_value(json!({
        "id": format!("cora-{id}-{seq}"),
        "response": id,
        "form": item["response"]["form_id"],
        "version": item["response"]["form_version"],
        "actor": "user:cora",
        "seq": seq,
        "hlc": Hlc::new(4_000_000_000_000 + seq, 0),
        "seen": seen,
        "set": set,
        "validated": true,
    }))
    .unwrap();
    let ack = server.coordinator_upload(&[revision]).await;
    assert_eq!(ack["accepted"], 1, "{ack}");
}

/// A coordinator's edit of a sealed answer reaches the device that cannot open it: the
/// device keeps its value and shows a conflict naming who sealed the other (never a
/// silent overwrite, never an answer taken away); finalizing writes the value kept. A
/// sealed value the device made itself (a coordinator keeping it) is one it knows.
async fn sealed_edits_come_back(server: &TestServer) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    server.add_key(&recipient.to_string()).await;
    server.publish(&sealed_form()).await;
    let device = Device::open();
    device
        .voices
        .forms()
        .import_text("sealed.json", &sealed_form(), "file")
        .unwrap();
    let code = server.device_code("tab-seal", &server.url).await;
    device.voices.sync().provision_device(&code).await.unwrap();
    let id = interview(&device, "Amina", "At night");
    device.voices.sync().sync_once().await.unwrap();

    // The coordinator keeps the device's own sealed first name (as a resolution keeping
    // it would) and seals another text for the sensitive answer.
    let sent: Revision =
        serde_json::from_str(&device.voices.with_store(|s| s.revisions(&id)).unwrap()[0].body)
            .unwrap();
    let own = serde_json::to_value(&sent.set["/members[1]/first_name"]).unwrap();
    assert!(own["sealed"].is_string(), "{own}");
    let other = age::encrypt(&recipient, b"In the morning").unwrap();
    let other = base64::engine::general_purpose::STANDARD.encode(other);
    coordinator_edit(
        server,
        &id,
        1,
        json!({"/members[1]/first_name": own, "/what_happened": {"sealed": other}}),
    )
    .await;
    let (status, answer) = server
        .coordinator_json(
            reqwest::Method::PUT,
            &format!("/api/v1/projects/{PROJECT}/responses/{id}/review"),
            Some(json!({"state": "sent_back", "comment": "Please check"})),
        )
        .await;
    assert_eq!(status, 204, "{answer}");

    device.voices.sync().sync_once().await.unwrap();
    let answers = device.voices.with_store(|s| s.answers(&id)).unwrap();
    assert_eq!(answers.get("/what_happened"), Some("At night"), "kept");
    assert_eq!(answers.get("/members[1]/first_name"), Some("Amina"));
    let detail = device.voices.returned_detail(&id).unwrap().unwrap();
    assert_eq!(detail.conflicts.len(), 1, "{detail:?}");
    let conflict = &detail.conflicts[0];
    assert_eq!(conflict.path, "/what_happened");
    assert_eq!(conflict.yours.as_deref(), Some("At night"));
    assert!(conflict.theirs.is_empty(), "{conflict:?}");
    assert_eq!(conflict.sealed, ["user:cora"]);

    // The enumerator saw it and finalizes: the value kept is written, sealed, on top of
    // the coordinator's; nothing else changed (its own first name came back as it was).
    let v = &device.voices;
    v.reopen(&id).unwrap();
    assert!(v.finalize(&id).unwrap().can_finalize);
    device.voices.sync().sync_once().await.unwrap();
    let rows = device.voices.with_store(|s| s.revisions(&id)).unwrap();
    let fix: Revision = serde_json::from_str(&rows.last().unwrap().body).unwrap();
    assert_eq!(fix.actor, "tab-seal");
    assert_eq!(fix.seen.get("user:cora"), 1);
    let written: Vec<&str> = fix
        .set
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "/ended")
        .collect();
    assert_eq!(written, ["/what_happened"], "{:?}", fix.set);
    let (_, mut item) = server
        .coordinator_json(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{id}?pii=true"),
            None,
        )
        .await;
    assert!(open_all(&mut item["response"]["answers"], &identity) >= 2);
    let answers = &item["response"]["answers"];
    assert_eq!(answers["what_happened"], "At night", "{item}");
    assert_eq!(answers["members"][0]["first_name"], "Amina", "{item}");
    assert!(
        item["conflicts"].as_array().is_none_or(|c| c.is_empty()),
        "{item}"
    );
}

#[test]
fn a_coordinators_sealed_edit_is_a_visible_conflict_on_the_device() {
    passphrase_in_environment();
    let _server = run(async {
        let server = TestServer::start().await;
        sealed_edits_come_back(&server).await;
        server
    });
}
