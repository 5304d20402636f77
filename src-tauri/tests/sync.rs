//! Two real app stores syncing with a real `voices-server` over loopback.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::proxy::start_corrupting_proxy;
use support::{assert_server_matches, fixture_version, run, Device, TestServer, FORM, PROJECT};
use voices_app::sync::client::ClientOptions;
use voices_app::sync::RecordSyncState;
use voices_core::response::PrivacyOutcome;

async fn two_devices_story(server: &TestServer) {
    let a = Device::open();
    let b = Device::open();

    // Finalized before the device is linked: built into revisions at link time.
    let early: Vec<String> = (0..3)
        .map(|i| a.interview(&format!("A{i}"), None))
        .collect();
    b.interview("B0", None);
    let with_photo = b.voices.start(FORM, None, Some("en")).unwrap().response_id;
    b.voices.record_consent(&with_photo, true).unwrap();
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    b.attach_photo(&with_photo, &photo);
    assert_eq!(
        a.voices
            .with_store(|s| s.unacknowledged_revisions(99))
            .unwrap()
            .len(),
        0,
        "no revisions before the link"
    );

    for (device, id) in [(&a, "tab-a"), (&b, "tab-b")] {
        let code = server.device_code(id, &server.url).await;
        let link = device
            .voices
            .sync()
            .provision_device(&format!("\n  {code}\n"))
            .await
            .unwrap();
        assert_eq!(link.device_id, id);
        assert_eq!(link.project, PROJECT);
        // The code works once.
        let err = device
            .voices
            .sync()
            .provision_device(&code)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), voices_app::error::ErrorKind::BadCode, "{err}");
    }
    assert_eq!(
        a.voices
            .with_store(|s| s.unacknowledged_revisions(99))
            .unwrap()
            .len(),
        3,
        "the link builds what was finalized before it"
    );

    // Finalized after the link: built at once.
    a.interview("A3", None);
    b.interview("B1", None);
    b.voices
        .set_answer(&with_photo, "/village", Some("B2"), 1)
        .unwrap();
    b.voices
        .set_answer(&with_photo, "/hh_size", Some("2"), 1)
        .unwrap();
    let safety = (0..8)
        .find(|&i| {
            b.voices
                .page(&with_photo, i)
                .is_ok_and(|p| p.key == "/safety")
        })
        .unwrap();
    b.voices
        .record_privacy(&with_photo, "/safety", PrivacyOutcome::NotPrivate, safety)
        .unwrap();
    assert!(b.voices.finalize(&with_photo).unwrap().can_finalize);

    let sa = a.voices.sync().sync_once().await.unwrap();
    let sb = b.voices.sync().sync_once().await.unwrap();
    println!("first sync: device A {sa:?}; device B {sb:?}");
    assert_eq!((sa.accepted, sa.still_due), (4, 0));
    assert_eq!((sb.accepted, sb.still_due, sb.attachments_sent), (3, 0, 1));
    let sha = voices_server::auth::sha256_hex(&photo);
    let status = server
        .get_json(&format!(
            "/api/v1/projects/{PROJECT}/attachments/{sha}/status"
        ))
        .await;
    assert_eq!(status["complete"], true, "{status}");
    // The revision named the file (`files`): the console reads the photo by the response
    // and its file name, the very bytes the device attached.
    let shown = server
        .get_bytes(&format!(
            "/api/v1/projects/{PROJECT}/responses/{with_photo}/files/house.jpg"
        ))
        .await;
    assert!(shown == photo, "the photo read by its response and name");
    for d in [&a, &b] {
        let outbox = d.voices.sync().list_outbox().unwrap();
        assert!(
            outbox.iter().all(|e| e.state == RecordSyncState::Sent),
            "{outbox:?}"
        );
        let status = d.voices.sync().sync_status().unwrap();
        assert_eq!(status.counts.pending, 0);
        assert!(status.last_success_at.is_some());
    }
    let (responses, revisions) = assert_server_matches(server, &[&a, &b]).await;
    assert_eq!((responses, revisions), (7, 7));

    // Syncing again sends nothing and stores nothing twice.
    let again = a.voices.sync().sync_once().await.unwrap();
    assert_eq!(
        (again.accepted, again.duplicate, again.revisions_built),
        (0, 0, 0)
    );

    // A lone response goes compressed with its form version's document as the zstd
    // dictionary (the server's `zstd-form-dictionary` capability).
    let lone = a.interview("A-lone", None);
    let body = a.voices.with_store(|s| s.revisions(&lone)).unwrap()[0]
        .body
        .clone()
        + "\n";
    let plain_zstd = zstd::encode_all(body.as_bytes(), 3).unwrap().len() as u64;
    let s = a.voices.sync().sync_once().await.unwrap();
    assert_eq!(s.accepted, 1);
    println!(
        "a lone response: {} bytes of JSON, {plain_zstd} with zstd, {} sent with the form dictionary",
        body.len(),
        s.bytes_sent
    );
    assert!(s.bytes_sent < plain_zstd, "the dictionary is used");

    // An edit after sending: a second revision with only the changed answer, merged.
    a.edit_village(&early[0], "A0-corrected");
    let revs = a.voices.with_store(|s| s.revisions(&early[0])).unwrap();
    assert_eq!(revs.len(), 2);
    let second: serde_json::Value = serde_json::from_str(&revs[1].body).unwrap();
    assert_eq!(second["seq"], 2);
    // Only what changed: the village, and the `end` metadata that finalizing stamps.
    let changed: Vec<&str> = second["set"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(changed, ["/ended", "/village"], "{second}");
    assert_eq!(second["set"]["/village"], "A0-corrected");
    let s = a.voices.sync().sync_once().await.unwrap();
    assert_eq!(s.accepted, 1);
    let (responses, revisions) = assert_server_matches(server, &[&a, &b]).await;
    assert_eq!((responses, revisions), (8, 9));

    // A new form version published on the server reaches both devices and is offered.
    server
        .publish(&fixture_version("2026-02", "Household v2"))
        .await;
    for d in [&a, &b] {
        let s = d.voices.sync().sync_once().await.unwrap();
        assert_eq!(s.forms_installed, 1);
        let status = d.voices.sync().sync_status().unwrap();
        assert_eq!(status.new_form_versions.len(), 1);
        assert_eq!(status.new_form_versions[0].version, "2026-02");
        d.voices.sync().acknowledge_form_versions().unwrap();
        assert!(d
            .voices
            .sync()
            .sync_status()
            .unwrap()
            .new_form_versions
            .is_empty());
        let started = d.voices.start(FORM, None, Some("en")).unwrap();
        assert_eq!(
            started.form_version, "2026-02",
            "new interviews use the newest"
        );
    }

    // A refusal (consent declined) is sent too: only the refusal, nothing else.
    let refusal = b.voices.start(FORM, None, Some("en")).unwrap().response_id;
    b.voices.record_consent(&refusal, false).unwrap();
    let s = b.voices.sync().sync_once().await.unwrap();
    let entry = b
        .voices
        .sync()
        .list_outbox()
        .unwrap()
        .into_iter()
        .find(|e| e.response_id == refusal)
        .unwrap();
    assert_eq!(s.accepted, 1, "{s:?}");
    assert_eq!(entry.state, RecordSyncState::Sent, "{entry:?}");

    // A version the server never published: stored there but quarantined, and the
    // reason reaches the device's outbox entry.
    let local = b
        .voices
        .forms()
        .import_text(
            "local.json",
            &fixture_version("2026-01-local", "Local"),
            "file",
        )
        .unwrap();
    assert_eq!(local.outcome, "added");
    let odd = b.interview("B-local", Some("2026-01-local"));
    let s = b.voices.sync().sync_once().await.unwrap();
    assert_eq!(s.quarantined, 1, "{s:?}");
    let entry = b
        .voices
        .sync()
        .list_outbox()
        .unwrap()
        .into_iter()
        .find(|e| e.response_id == odd)
        .unwrap();
    assert_eq!(entry.state, RecordSyncState::Quarantined);
    assert!(!entry.reasons.is_empty());
    println!("quarantine reasons on the device: {:?}", entry.reasons);
    assert_eq!(b.voices.sync().sync_status().unwrap().counts.quarantined, 1);
    let (responses, revisions) = assert_server_matches(server, &[&a, &b]).await;
    println!(
        "two-device story: {responses} responses, {revisions} revisions, each once on the server"
    );
    assert_eq!((responses, revisions), (10, 11));
}

#[test]
fn two_devices_sync_edit_pull_forms_and_see_quarantine_sqlite() {
    let server = run(async {
        let server = TestServer::start().await;
        two_devices_story(&server).await;
        server
    });
    drop(server);
}

/// The same story against PostgreSQL (`scripts/with-postgres.sh` sets
/// `VOICES_TEST_DATABASE_URL`; without it this fails, never skips).
#[test]
fn two_devices_sync_edit_pull_forms_and_see_quarantine_postgres() {
    let server = run(async {
        let server = TestServer::start_postgres().await;
        two_devices_story(&server).await;
        server
    });
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_offline_and_a_used_code_is_refused() {
    let server = TestServer::start().await;
    let a = Device::open();
    // Nothing listens on this port: provisioning says offline, nothing is stored.
    let dead = support_dead_port();
    let code = server
        .device_code("tab-x", &format!("http://127.0.0.1:{dead}"))
        .await;
    let err = a.voices.sync().provision_device(&code).await.unwrap_err();
    assert_eq!(err.kind(), voices_app::error::ErrorKind::Offline, "{err}");
    assert!(a.voices.sync().sync_status().unwrap().link.is_none());
    let err = a.voices.sync().sync_once().await.unwrap_err();
    assert_eq!(err.kind(), voices_app::error::ErrorKind::NotProvisioned);
}

fn support_dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn every_request_goes_through_the_proxy_from_the_settings_or_the_environment() {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use support::proxy::{start_proxy, Mode, Tally};

    let server = run(async {
        let server = TestServer::start().await;
        let tally = Arc::new(Tally::default());
        let proxy = start_proxy(server.port, Mode::Slow, 7, tally.clone()).await;
        let count = || tally.requests.load(Ordering::SeqCst);

        // The proxy set in the app's sync settings.
        let a = Device::open();
        a.voices.sync().set_client_options(ClientOptions {
            fresh_connections: true,
            ..ClientOptions::default()
        });
        a.voices
            .sync()
            .set_sync_settings(true, Some(&proxy))
            .unwrap();
        let code = server.device_code("tab-p", &server.url).await;
        a.voices.sync().provision_device(&code).await.unwrap();
        // The code, then the form list (the project's keys, before any revision is built).
        assert_eq!(count(), 2, "provisioning went through the proxy");
        a.interview("P1", None);
        let s = a.voices.sync().sync_once().await.unwrap();
        assert_eq!(s.accepted, 1);
        let through_settings = count();
        assert!(
            through_settings >= 4,
            "info, forms, upload: {through_settings}"
        );

        // HTTP_PROXY in the environment of the headless app.
        let b = Device::open();
        b.interview("Q1", None);
        let code = server.device_code("tab-q", &server.url).await;
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_voices-app"))
            .args(["sync", "--data-dir"])
            .env("VOICES_PIN", voices_app::device::TEST_PIN)
            .arg(b.path())
            .arg("--provision")
            .arg(&code)
            .env("HTTP_PROXY", &proxy)
            .env("VOICES_SYNC_FRESH_CONNECTIONS", "1")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let through_env = count() - through_settings;
        println!(
            "through the proxy: {through_settings} requests from the settings, {through_env} from HTTP_PROXY"
        );
        assert!(
            through_env >= 5,
            "provision, info, forms, upload: {through_env}"
        );
        let (responses, _) = assert_server_matches(&server, &[&a, &b]).await;
        assert_eq!(responses, 2);
        server
    });
    drop(server);
}

#[test]
fn a_revoked_device_is_told_to_link_again_and_keeps_everything() {
    let server = run(async {
        let server = TestServer::start().await;
        let a = Device::open();
        let code = server.device_code("tab-r", &server.url).await;
        a.voices.sync().provision_device(&code).await.unwrap();
        a.interview("R1", None);
        a.voices.sync().sync_once().await.unwrap();
        let store = server.store.clone();
        tokio::task::spawn_blocking(move || {
            store
                .revoke_device("tab-r", &voices_server::now_text())
                .unwrap()
        })
        .await
        .unwrap();
        let r2 = a.interview("R2", None);
        // A refusal (consent declined) made while revoked.
        let refusal = a.voices.start(FORM, None, Some("en")).unwrap().response_id;
        a.voices.record_consent(&refusal, false).unwrap();
        let err = a.voices.sync().sync_once().await.unwrap_err();
        assert_eq!(err.kind(), voices_app::error::ErrorKind::NotProvisioned);
        assert!(err.to_string().contains("link it again"), "{err}");
        let status = a.voices.sync().sync_status().unwrap();
        assert_eq!(status.counts.sent, 1);
        assert_eq!(status.counts.pending, 2, "kept, waiting for a new link");

        // Linked again as a new device: what the old link never sent is rebuilt whole
        // under the new id and sent once; the old link's revisions are kept, not sent
        // (they could only come back `wrong_actor`), and nothing is counted twice.
        let code = server.device_code("tab-r2", &server.url).await;
        a.voices.sync().provision_device(&code).await.unwrap();
        assert_eq!(
            a.voices
                .with_store(|s| s.unacknowledged_revisions(99))
                .unwrap()
                .iter()
                .map(|r| r.actor.as_str())
                .collect::<Vec<_>>(),
            ["tab-r2", "tab-r2"],
            "only the rebuilt revisions are due"
        );
        let s = a.voices.sync().sync_once().await.unwrap();
        assert_eq!(
            (s.accepted, s.rejected, s.duplicate, s.still_due),
            (2, 0, 0, 0),
            "{s:?}"
        );
        let outbox = a.voices.sync().list_outbox().unwrap();
        for id in [&r2, &refusal] {
            let entry = outbox.iter().find(|e| e.response_id == *id).unwrap();
            assert_eq!(entry.state, RecordSyncState::Sent, "{entry:?}");
            assert_eq!(entry.revisions, 1, "the rebuilt one only: {entry:?}");
            assert!(
                entry.reasons.len() == 1 && entry.reasons[0].contains("linked again"),
                "{entry:?}"
            );
            let kept = a.voices.with_store(|s| s.revisions(id)).unwrap();
            assert_eq!(kept.len(), 2, "the old link's revision is kept");
            assert_eq!((kept[0].actor.as_str(), kept[0].ack), ("tab-r", None));
        }
        let status = a.voices.sync().sync_status().unwrap();
        assert_eq!((status.counts.sent, status.counts.pending), (3, 0));
        assert!(!a.voices.sync().sync_due().unwrap());
        let items = server.pull_all().await;
        assert_eq!(items.len(), 3, "each response once");
        for id in [&r2, &refusal] {
            let item = items
                .iter()
                .find(|i| i["response"]["id"] == id.as_str())
                .unwrap();
            assert_eq!(item["revisions"], 1);
            assert_eq!(item["device"], "tab-r2");
        }
        server
    });
    drop(server);
}

#[test]
fn a_missing_photo_holds_back_only_its_response() {
    let server = run(async {
        let server = TestServer::start().await;
        let a = Device::open();
        let code = server.device_code("tab-f", &server.url).await;
        a.voices.sync().provision_device(&code).await.unwrap();
        let photo: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
        let with_photo = interview_with_photo(&a, "F1", &photo);
        let plain = a.interview("F2", None);
        // The photo disappears from the device's disk before the sync.
        let sha = voices_server::auth::sha256_hex(&photo);
        let file = a.voices.attachment_file(&sha);
        let kept = std::fs::read(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        let s = a.voices.sync().sync_once().await.unwrap();
        assert_eq!((s.accepted, s.still_due, s.held_back), (1, 1, 1), "{s:?}");
        let outbox = a.voices.sync().list_outbox().unwrap();
        let state = |id: &str| outbox.iter().find(|e| e.response_id == id).unwrap().clone();
        assert_eq!(state(&plain).state, RecordSyncState::Sent);
        let held = state(&with_photo);
        assert_eq!(held.state, RecordSyncState::Failed);
        assert!(held.reasons[0].contains("cannot be read"), "{held:?}");
        let status = a.voices.sync().sync_status().unwrap();
        assert!(status.last_error.unwrap().contains("cannot be read"));
        // Back on disk: it goes, photo first.
        std::fs::write(&file, kept).unwrap();
        let s = a.voices.sync().sync_once().await.unwrap();
        assert_eq!(
            (s.accepted, s.still_due, s.attachments_sent),
            (1, 0, 1),
            "{s:?}"
        );
        let (responses, _) = assert_server_matches(&server, &[&a]).await;
        assert_eq!(responses, 2);
        server
    });
    drop(server);
}

/// A finalized interview with `photo` attached as the house photo; its id.
fn interview_with_photo(d: &Device, village: &str, photo: &[u8]) -> String {
    support::interview_with_photo_on(&d.voices, village, photo)
}

#[test]
fn a_photo_the_server_refuses_or_damaged_on_the_device_holds_back_only_its_response() {
    let server = run(async {
        let server = TestServer::start().await;
        // Between device and server, a middlebox that damages one photo's bytes.
        let target = Arc::new(Mutex::new(None));
        let corrupted = Arc::new(AtomicUsize::new(0));
        let proxy = start_corrupting_proxy(server.port, target.clone(), corrupted.clone()).await;
        let a = Device::open();
        a.voices.sync().set_client_options(ClientOptions {
            proxy: None,
            fresh_connections: true,
            // Several batches, so the held-back responses sit between sent ones.
            batch_records: 2,
        });
        let code = server.device_code("tab-h", &proxy).await;
        a.voices.sync().provision_device(&code).await.unwrap();
        // Over 1 MiB: sent in two chunks, refused when the last one arrives.
        let refused_photo: Vec<u8> = (0..1_500_000u32).map(|i| (i % 239) as u8).collect();
        let damaged_photo: Vec<u8> = (0..40_000u32).map(|i| (i % 233) as u8).collect();
        let good_photo: Vec<u8> = (0..30_000u32).map(|i| (i % 229) as u8).collect();
        let before = a.interview("H0", None);
        let refused = interview_with_photo(&a, "H1", &refused_photo);
        let between = a.interview("H2", None);
        let damaged = interview_with_photo(&a, "H3", &damaged_photo);
        let good = interview_with_photo(&a, "H4", &good_photo);
        let after = a.interview("H5", None);
        let refused_sha = voices_server::auth::sha256_hex(&refused_photo);
        *target.lock().unwrap() = Some(refused_sha.clone());
        // One photo damaged on the device's disk (same size, other bytes).
        let damaged_file = a
            .voices
            .attachment_file(&voices_server::auth::sha256_hex(&damaged_photo));
        let sealed = std::fs::read(&damaged_file).unwrap();
        let mut bad = sealed.clone();
        bad[100] ^= 0x55;
        std::fs::write(&damaged_file, &bad).unwrap();

        let s = a.voices.sync().sync_once().await.unwrap();
        println!("with one photo refused and one damaged: {s:?}");
        assert_eq!(
            (s.accepted, s.held_back, s.still_due, s.attachments_sent),
            (4, 2, 2, 1),
            "{s:?}"
        );
        assert!(corrupted.load(Ordering::SeqCst) >= 1);
        let outbox = a.voices.sync().list_outbox().unwrap();
        let entry = |id: &str| outbox.iter().find(|e| e.response_id == id).unwrap().clone();
        for id in [&before, &between, &good, &after] {
            assert_eq!(entry(id).state, RecordSyncState::Sent, "{outbox:?}");
        }
        let held = entry(&refused);
        assert_eq!(held.state, RecordSyncState::Failed);
        assert!(
            held.reasons[0].contains("hash_mismatch")
                && held.reasons[0].contains(&refused_sha[..12]),
            "{held:?}"
        );
        let held = entry(&damaged);
        assert_eq!(held.state, RecordSyncState::Failed);
        assert!(
            held.reasons[0].contains("damaged on this device"),
            "{held:?}"
        );
        let status = a.voices.sync().sync_status().unwrap();
        let shown = status.last_error.unwrap_or_default();
        assert!(
            shown.contains("hash_mismatch") && shown.contains("damaged on this device"),
            "{shown}"
        );
        assert_eq!((status.counts.sent, status.counts.failed), (4, 2));
        // The server kept nothing of the damaged bytes; the device deleted nothing.
        let store = server.store.clone();
        let sha = refused_sha.clone();
        let on_server = tokio::task::spawn_blocking(move || store.attachment_status(PROJECT, &sha))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(on_server, None, "the damaged bytes were discarded");
        assert_eq!(
            a.voices.attachment_bytes(&refused_sha).unwrap(),
            refused_photo
        );
        for id in [&refused, &damaged] {
            let kept = a.voices.with_store(|s| s.revisions(id)).unwrap();
            assert_eq!((kept.len(), kept[0].ack), (1, None));
        }

        // The middlebox is gone and the file is restored: both go, files first.
        *target.lock().unwrap() = None;
        std::fs::write(&damaged_file, &sealed).unwrap();
        let s = a.voices.sync().sync_once().await.unwrap();
        assert_eq!(
            (s.accepted, s.held_back, s.still_due, s.attachments_sent),
            (2, 0, 0, 2),
            "{s:?}"
        );
        assert!(a
            .voices
            .sync()
            .list_outbox()
            .unwrap()
            .iter()
            .all(|e| e.state == RecordSyncState::Sent));
        let (responses, revisions) = assert_server_matches(&server, &[&a]).await;
        assert_eq!((responses, revisions), (6, 6));
        server
    });
    drop(server);
}

#[test]
fn a_server_offering_only_gzip_gets_gzip() {
    let server = run(async {
        // The real server started without zstd: it lists only gzip and answers a zstd
        // body `415 unsupported_encoding`, so a device sending zstd would send nothing.
        let server = TestServer::start_gzip_only().await;
        let a = Device::open();
        let code = server.device_code("tab-g", &server.url).await;
        a.voices.sync().provision_device(&code).await.unwrap();
        for i in 0..20 {
            a.interview(&format!("G{i}"), None);
        }
        let plain: u64 = a
            .voices
            .with_store(|s| s.unacknowledged_revisions(99))
            .unwrap()
            .iter()
            .map(|r| r.body.len() as u64 + 1)
            .sum();
        let s = a.voices.sync().sync_once().await.unwrap();
        println!(
            "gzip only: {} revisions, {plain} bytes of NDJSON sent as {} bytes",
            s.accepted, s.bytes_sent
        );
        assert_eq!((s.accepted, s.still_due), (20, 0), "{s:?}");
        assert!(
            s.bytes_sent * 3 < plain,
            "compressed: {} of {plain} bytes",
            s.bytes_sent
        );
        let (responses, _) = assert_server_matches(&server, &[&a]).await;
        assert_eq!(responses, 20);
        server
    });
    drop(server);
}
