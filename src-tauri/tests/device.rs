//! The device at rest through the commands (Tauri's mock runtime) and against a real
//! server: the lock, wrong PINs ending in a wipe, a PIN change, a wipe ordered by the
//! coordinator, and a byte search of everything the app wrote for planted answers.

mod mock_app;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use mock_app::{mock_app, mock_app_locked, MockApp};
use serde_json::{json, Value};
use support::{attach_photo_on, interview_on, TestServer};
use tauri::Manager;
use voices_app::device::TEST_PIN;
use voices_app::Voices;

fn voices(app: &MockApp) -> std::sync::Arc<Voices> {
    app.app.state::<voices_app::Device>().voices().unwrap()
}

/// The app with the fixture form on it (the server is not needed for these).
fn app_with_form() -> MockApp {
    let app = mock_app();
    let report = voices(&app)
        .forms()
        .import_text("household.json", &support::fixture_text(), "file")
        .unwrap();
    assert_eq!(report.outcome, "added", "{report:?}");
    app
}

fn kind(result: Result<Value, Value>) -> String {
    result.unwrap_err()["kind"].as_str().unwrap().to_owned()
}

/// Every file under `dir` (recursively) holding `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_holding(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[test]
fn a_locked_app_answers_locked_and_the_pin_opens_it_again() {
    let app = mock_app();
    let state = app.call("device_state", None).unwrap();
    assert_eq!(state["status"], "unlocked");
    assert_eq!(state["idle_lock_seconds"], 300);
    assert!(app.call("list_forms", None).is_ok());
    let state = app.call("lock_device", None).unwrap();
    assert_eq!(state["status"], "locked");
    assert_eq!(kind(app.call("list_forms", None)), "locked");
    assert_eq!(kind(app.call("keep_unlocked", None)), "locked");
    assert_eq!(
        kind(app.call("unlock", Some(json!({ "pin": "not-the-pin" })))),
        "wrong_pin"
    );
    let state = app.call("device_state", None).unwrap();
    assert_eq!(state["attempts_left"], 9);
    let state = app
        .call("unlock", Some(json!({ "pin": TEST_PIN })))
        .unwrap();
    assert_eq!(
        (state["status"].clone(), state["attempts_left"].clone()),
        (json!("unlocked"), json!(10))
    );
    assert!(app.call("list_forms", None).is_ok());
    // A restart starts locked.
    let dir = app.dir;
    drop(app.window);
    drop(app.app);
    let again = mock_app_locked(dir);
    assert_eq!(
        again.call("device_state", None).unwrap()["status"],
        "locked"
    );
    assert_eq!(kind(again.call("list_responses", None)), "locked");
}

#[test]
fn ten_wrong_pins_erase_the_device_and_it_starts_new() {
    let app = app_with_form();
    let id = interview_on(&voices(&app), "MARKER-wipe-village", None);
    assert!(!id.is_empty());
    app.call("lock_device", None).unwrap();
    for left in (1..10).rev() {
        assert_eq!(
            kind(app.call("unlock", Some(json!({ "pin": "wrong-pin" })))),
            "wrong_pin"
        );
        let state = app.call("device_state", None).unwrap();
        assert_eq!(state["attempts_left"], left);
    }
    assert_eq!(
        kind(app.call("unlock", Some(json!({ "pin": "wrong-pin" })))),
        "wiped"
    );
    let state = app.call("device_state", None).unwrap();
    assert_eq!(
        (state["status"].clone(), state["wiped"].clone()),
        (json!("new"), json!(true))
    );
    for gone in [
        "key.json",
        "voices.sqlite",
        "voices.sqlite-wal",
        "attachments",
    ] {
        assert!(
            !app.dir.path().join(gone).exists(),
            "{gone} survived the wipe"
        );
    }
    // A new PIN starts an empty device.
    app.call("set_pin", Some(json!({ "pin": "a-new-pin" })))
        .unwrap();
    assert_eq!(app.call("list_responses", None).unwrap(), json!([]));
}

#[test]
fn a_pin_change_keeps_everything_and_the_old_pin_stops_working() {
    let app = app_with_form();
    let id = interview_on(&voices(&app), "Kolo", None);
    assert_eq!(
        kind(app.call(
            "change_pin",
            Some(json!({ "old_pin": "wrong-pin", "new_pin": "new-pin-1" }))
        )),
        "wrong_pin"
    );
    assert_eq!(
        kind(app.call(
            "change_pin",
            Some(json!({ "old_pin": TEST_PIN, "new_pin": "short" }))
        )),
        "invalid_input"
    );
    app.call(
        "change_pin",
        Some(json!({ "old_pin": TEST_PIN, "new_pin": "new-pin-1" })),
    )
    .unwrap();
    app.call("lock_device", None).unwrap();
    assert_eq!(
        kind(app.call("unlock", Some(json!({ "pin": TEST_PIN })))),
        "wrong_pin"
    );
    app.call("unlock", Some(json!({ "pin": "new-pin-1" })))
        .unwrap();
    let responses = app.call("list_responses", None).unwrap();
    assert_eq!(responses[0]["response_id"], id.as_str());
}

#[test]
fn a_store_of_the_app_before_encryption_is_encrypted_when_the_pin_is_set() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v4");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture.join("voices.sqlite"),
        dir.path().join("voices.sqlite"),
    )
    .unwrap();
    // The queued response's photo, as that app kept it: plain, named by its hash.
    let yard = "01eea08488e833e791940defdae9e71bede05948be887f9dc8b3b448c61ffca7";
    let photo = b"MARKER-plain-photo of the yard".to_vec();
    std::fs::create_dir_all(dir.path().join("attachments")).unwrap();
    std::fs::write(dir.path().join("attachments").join(yard), &photo).unwrap();
    let app = mock_app_locked(dir);
    let state = app.call("device_state", None).unwrap();
    assert_eq!(
        (
            state["status"].clone(),
            state["has_unencrypted_data"].clone()
        ),
        (json!("new"), json!(true))
    );
    app.call("set_pin", Some(json!({ "pin": TEST_PIN })))
        .unwrap();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("expected.json")).unwrap())
            .unwrap();
    let listed = app.call("list_responses", None).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        expected["responses"].as_object().unwrap().len()
    );
    let header = std::fs::read(app.dir.path().join("voices.sqlite")).unwrap();
    assert!(
        !header.starts_with(b"SQLite format 3"),
        "the store is encrypted now"
    );
    // The photo was sealed in place and still opens; nothing plain is left on disk.
    assert_eq!(voices(&app).attachment_bytes(yard).unwrap(), photo);
    assert_eq!(
        files_holding(app.dir.path(), b"MARKER-"),
        Vec::<String>::new()
    );
}

fn wait(app: &MockApp, what: &str, done: impl Fn(&Value, &Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let device = app.call("device_state", None).unwrap();
        let sync = app.call("sync_status", None).unwrap_or(Value::Null);
        if done(&device, &sync) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited 30 s for {what}: {device} {sync}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn revoked_with_wipe_the_app_erases_itself_at_its_next_contact_after_sending_everything() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start());
    let app = mock_app();
    let code = rt.block_on(server.device_code("tab-w", &server.url));
    app.call("provision_device", Some(json!({ "code": code })))
        .unwrap();
    wait(&app, "the first sync (the form comes down)", |_, s| {
        s["phase"] == "idle" && !s["last_success_at"].is_null()
    });
    // Planted answers and a photo, sent before the coordinator decides anything.
    let v = voices(&app);
    interview_on(&v, "MARKER-sent-village-1", None);
    let id = v
        .start(support::FORM, None, Some("en"))
        .unwrap()
        .response_id;
    v.record_consent(&id, true).unwrap();
    attach_photo_on(&v, &id, b"MARKER-photo-bytes and more bytes of a picture");
    v.set_answer(&id, "/village", Some("MARKER-draft-village"), 1)
        .unwrap();
    drop(v);
    app.call("sync_now", None).unwrap();
    wait(&app, "the finalized response to be sent", |_, s| {
        s["counts"]["sent"] == 1
    });
    // Nothing a respondent said is on the device's disk in clear: database, WAL, files.
    for marker in [&b"MARKER-"[..], b"SQLite format 3"] {
        assert_eq!(files_holding(app.dir.path(), marker), Vec::<String>::new());
    }

    // The SQLite store is synchronous: called from this thread, outside the runtime.
    assert!(server
        .store
        .revoke_device_with_wipe("tab-w", &voices_server::now_text())
        .unwrap());
    app.call("sync_now", None).unwrap();
    wait(&app, "the wipe", |d, _| {
        d["status"] == "new" && d["wiped"] == true
    });
    for gone in [
        "key.json",
        "voices.sqlite",
        "voices.sqlite-wal",
        "attachments",
    ] {
        assert!(
            !app.dir.path().join(gone).exists(),
            "{gone} survived the wipe"
        );
    }
    // What was sent before the wipe is on the server.
    let pulled = rt.block_on(server.pull_all());
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    assert!(pulled[0].to_string().contains("MARKER-sent-village-1"));
}
