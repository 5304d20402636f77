//! Sync through the commands and the automatic background task, on Tauri's mock runtime
//! with a real `voices-server` on loopback.

mod mock_app;
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_app::{mock_app as app, MockApp};
use serde_json::{json, Value};
use support::{interview_on, interview_with_photo_on, TestServer};
use tauri::{Listener, Manager};
use voices_app::Voices;

/// What the sync command tests add to the shared mock app.
trait SyncTestApp {
    fn voices(&self) -> std::sync::Arc<Voices>;
    fn wait_for(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value;
}

impl SyncTestApp for MockApp {
    /// The app's store, for making interviews quickly (the interview commands are
    /// tested in tests/commands.rs).
    fn voices(&self) -> std::sync::Arc<Voices> {
        self.app.state::<voices_app::Device>().voices().unwrap()
    }

    /// Poll `sync_status` until `done` holds (30 s at most).
    fn wait_for(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.call("sync_status", None).unwrap();
            if done(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "waited 30 s for {what}: {status}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_background_task_sends_what_is_finalized_and_emits_status_events() {
    let rt = server_runtime();
    let server = rt.block_on(TestServer::start());
    let app = app();
    let events = Arc::new(AtomicUsize::new(0));
    let phases = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let (events, phases) = (events.clone(), phases.clone());
        app.app.listen_any("sync-status", move |event| {
            events.fetch_add(1, Ordering::SeqCst);
            let status: Value = serde_json::from_str(event.payload()).unwrap();
            phases
                .lock()
                .unwrap()
                .push(status["phase"].as_str().unwrap().to_owned());
        });
    }
    let code = rt.block_on(server.device_code("tab-m", &server.url));
    let link = app
        .call("provision_device", Some(json!({ "code": code })))
        .unwrap();
    assert_eq!(link["device_id"], "tab-m");
    assert_eq!(link["server_url"], server.url);
    // Nothing due yet; the first sync just checks forms.
    app.wait_for("the first sync", |s| {
        s["phase"] == "idle" && !s["last_success_at"].is_null()
    });

    // Finalizing is enough: the background task sends it without `sync_now`.
    let id = interview_on(&app.voices(), "M1", None);
    let status = app.wait_for("the response to be sent", |s| s["counts"]["sent"] == 1);
    assert_eq!(status["link"]["project"], support::PROJECT);
    let outbox = app.call("list_outbox", None).unwrap();
    assert_eq!(outbox[0]["response_id"], id.as_str());
    assert_eq!(outbox[0]["state"], "sent");
    assert_eq!(outbox[0]["revisions"], 1);
    assert!(outbox[0]["label"].as_str().unwrap().starts_with('#'));

    // `sync_now` with auto-sync off still syncs.
    app.call(
        "set_sync_settings",
        Some(json!({"auto_sync": false, "proxy": null})),
    )
    .unwrap();
    interview_on(&app.voices(), "M2", None);
    std::thread::sleep(Duration::from_millis(300));
    let status = app.call("sync_status", None).unwrap();
    assert_eq!(status["counts"]["pending"], 1, "auto-sync is off: {status}");
    app.call("sync_now", None).unwrap();
    app.wait_for("sync_now", |s| s["counts"]["sent"] == 2);

    assert!(events.load(Ordering::SeqCst) >= 4, "sync-status events");
    let phases = phases.lock().unwrap().clone();
    assert!(phases.iter().any(|p| p == "syncing"), "{phases:?}");
    assert!(phases.iter().any(|p| p == "idle"), "{phases:?}");
    let (responses, _) = rt.block_on(support::assert_server_holds(&server, &[&app.voices()]));
    assert_eq!(responses, 2);

    app.call("unlink_device", None).unwrap();
    let status = app.call("sync_status", None).unwrap();
    assert_eq!(status["phase"], "not_linked");
    assert_eq!(status["counts"]["sent"], 2, "unlinking keeps every record");
    drop(app);
    drop(server);
    drop(rt);
}

#[test]
fn an_unreachable_server_backs_off_instead_of_spinning() {
    let rt = server_runtime();
    let server = rt.block_on(TestServer::start());
    // A gate in front of the server: open, it forwards; closed, it drops every
    // connection at once (as a server that went away does), counting attempts.
    let open = Arc::new(AtomicBool::new(true));
    let attempts = Arc::new(AtomicUsize::new(0));
    let gate = {
        let (open, attempts, upstream) = (open.clone(), attempts.clone(), server.port);
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        attempts.fetch_add(1, Ordering::SeqCst);
                        drop(client);
                        continue;
                    }
                    tokio::spawn(async move {
                        if let Ok(mut up) =
                            tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                        {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                        }
                    });
                }
            });
            format!("http://127.0.0.1:{port}")
        })
    };
    let app = app();
    let code = rt.block_on(server.device_code("tab-o", &gate));
    app.call("provision_device", Some(json!({ "code": code })))
        .unwrap();
    app.wait_for("the first sync", |s| !s["last_success_at"].is_null());
    open.store(false, Ordering::SeqCst);
    interview_on(&app.voices(), "O1", None);
    let status = app.wait_for("backoff", |s| s["phase"] == "waiting");
    assert!(!status["next_attempt_at"].is_null(), "{status}");
    assert!(!status["last_error"].is_null(), "{status}");
    // The server was never reached: the record is still simply pending (the status
    // says why nothing moves).
    let outbox = app.call("list_outbox", None).unwrap();
    assert_eq!(outbox[0]["state"], "pending");
    // Four seconds offline: the schedule allows a handful of attempts, not a spin.
    let before = attempts.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(4));
    let during = attempts.load(Ordering::SeqCst) - before;
    println!("offline for 4 s: {during} connection attempts (first failure: {before})");
    assert!(during <= 4, "{during} attempts in 4 s: the loop spins");
    // Back online: `sync_now` resets the backoff and sends at once.
    open.store(true, Ordering::SeqCst);
    app.call("sync_now", None).unwrap();
    app.wait_for("sent after reconnecting", |s| {
        s["counts"]["sent"] == 1 && s["phase"] == "idle"
    });
    drop(app);
    drop(server);
    drop(rt);
}

#[test]
fn a_held_back_photo_shows_why_and_does_not_put_the_task_into_backoff() {
    let rt = server_runtime();
    let server = rt.block_on(TestServer::start());
    let app = app();
    let code = rt.block_on(server.device_code("tab-p", &server.url));
    app.call("provision_device", Some(json!({ "code": code })))
        .unwrap();
    app.wait_for("the first sync", |s| !s["last_success_at"].is_null());
    app.call(
        "set_sync_settings",
        Some(json!({"auto_sync": false, "proxy": null})),
    )
    .unwrap();
    let photo: Vec<u8> = (0..20_000u32).map(|i| (i % 227) as u8).collect();
    let with_photo = interview_with_photo_on(&app.voices(), "P1", &photo);
    let plain = interview_on(&app.voices(), "P2", None);
    // The photo disappears from the device before the sync.
    let file = app
        .voices()
        .attachment_file(&voices_server::auth::sha256_hex(&photo));
    std::fs::remove_file(&file).unwrap();
    app.call(
        "set_sync_settings",
        Some(json!({"auto_sync": true, "proxy": null})),
    )
    .unwrap();
    app.call("sync_now", None).unwrap();
    app.wait_for("the other response to be sent", |s| {
        s["counts"]["sent"] == 1 && s["phase"] == "idle"
    });
    // Give the background task the moment it takes to decide on a retry.
    std::thread::sleep(Duration::from_millis(500));
    let status = app.call("sync_status", None).unwrap();
    // Done, not waiting: retrying soon would not bring the file back.
    assert_eq!(status["phase"], "idle", "{status}");
    assert!(status["next_attempt_at"].is_null(), "{status}");
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot be read")),
        "{status}"
    );
    assert_eq!(status["counts"]["failed"], 1, "{status}");
    let outbox = app.call("list_outbox", None).unwrap();
    let entry = |id: &str| {
        outbox
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["response_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(entry(&plain)["state"], "sent");
    let held = entry(&with_photo);
    assert_eq!(held["state"], "failed");
    assert!(
        held["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("cannot be read")),
        "the Why of the outbox: {held}"
    );
    drop(app);
    drop(server);
    drop(rt);
}
