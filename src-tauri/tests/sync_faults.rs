//! Fault tests of app sync against a real `voices-server`:
//!
//! - a proxy inside the test between the devices and the server that cuts requests
//!   part-way, cuts answers after the server stored the batch, sends requests twice and
//!   holds some back so later ones overtake them; device clocks skewed by days;
//! - the real `voices-app sync` process killed with SIGKILL at random points, restarted.
//!
//! Each ends with zero lost and zero duplicated responses, checked against the devices'
//! own records, and prints its tallies (`--nocapture`). `VOICES_FAULT_SEED` replays a run.

mod support;

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::proxy::{seed, start_proxy, Mix, Mode, Tally};
use support::{assert_server_matches, run, Device, TestServer};
use voices_app::sync::client::ClientOptions;
use voices_app::sync::RecordSyncState;
use voices_app::Voices;
use voices_core::response::PrivacyOutcome;

/// Sync until nothing is due (bounded); the number of failed attempts.
async fn sync_until_done(voices: &Voices) -> u32 {
    let mut failures = 0;
    for _ in 0..300 {
        match voices.sync().sync_once().await {
            Ok(s) if s.still_due == 0 => return failures,
            Ok(_) | Err(_) => failures += 1,
        }
    }
    panic!("still not done after 300 attempts ({failures} failed)");
}

// ------------------------------------------------------------------------ the tests

#[test]
fn a_faulty_network_and_skewed_clocks_lose_and_duplicate_nothing() {
    let seed = seed();
    let server = run(async {
        let server = TestServer::start().await;
        let tally = Arc::new(Tally::default());
        let proxy = start_proxy(server.port, Mode::Faulty, seed, tally.clone()).await;
        let a = Device::open();
        let b = Device::open();
        // Device clocks days apart: A three days ahead, B five days behind.
        a.voices.sync().set_clock_skew(chrono::Duration::days(3));
        b.voices.sync().set_clock_skew(chrono::Duration::days(-5));
        for (d, id) in [(&a, "tab-a"), (&b, "tab-b")] {
            d.voices.sync().set_client_options(ClientOptions {
                proxy: None,
                fresh_connections: true,
                // Small batches: many uploads for the proxy to break.
                batch_records: 8,
            });
            let code = server.device_code(id, &proxy).await;
            // Provisioning goes through the proxy too; it is not an upload, so it passes.
            d.voices.sync().provision_device(&code).await.unwrap();
        }
        let a_ids: Vec<String> = (0..150)
            .map(|i| a.interview(&format!("A{i}"), None))
            .collect();
        for i in 0..60 {
            b.interview(&format!("B{i}"), None);
        }
        // Two photos of 2.5 MB: three chunks each, resumed after every cut.
        let mut photos = Vec::new();
        for n in 0..2u32 {
            let id = b
                .voices
                .start(support::FORM, None, Some("en"))
                .unwrap()
                .response_id;
            b.voices.record_consent(&id, true).unwrap();
            let photo: Vec<u8> = (0..2_500_000u32)
                .map(|i| (i.wrapping_mul(31).wrapping_add(n) % 253) as u8)
                .collect();
            b.attach_photo(&id, &photo);
            photos.push(voices_server::auth::sha256_hex(&photo));
            b.voices
                .set_answer(&id, "/village", Some("B-photo"), 1)
                .unwrap();
            b.voices.set_answer(&id, "/hh_size", Some("1"), 1).unwrap();
            let safety = (0..8)
                .find(|&i| b.voices.page(&id, i).is_ok_and(|p| p.key == "/safety"))
                .unwrap();
            b.voices
                .record_privacy(&id, "/safety", PrivacyOutcome::NotPrivate, safety)
                .unwrap();
            assert!(b.voices.finalize(&id).unwrap().can_finalize);
        }
        let (fa, fb) = tokio::join!(sync_until_done(&a.voices), sync_until_done(&b.voices));
        // Edits after sending, made once A's clock jumped back a week.
        a.voices.sync().set_clock_skew(chrono::Duration::days(-4));
        for id in a_ids.iter().step_by(10) {
            a.edit_village(id, &format!("{id}-edited"));
        }
        let fe = sync_until_done(&a.voices).await;
        let (responses, revisions) = assert_server_matches(&server, &[&a, &b]).await;
        for sha in &photos {
            let status = server
                .get_json(&format!(
                    "/api/v1/projects/{}/attachments/{sha}/status",
                    support::PROJECT
                ))
                .await;
            assert_eq!(status["complete"], true, "{status}");
        }
        for d in [&a, &b] {
            let outbox = d.voices.sync().list_outbox().unwrap();
            assert!(
                outbox.iter().all(|e| e.state == RecordSyncState::Sent),
                "every entry sent"
            );
            assert_eq!(d.voices.integrity_check().unwrap(), "ok");
        }
        println!(
            "faulty network: {responses} responses and {revisions} revisions from 2 devices (clocks +3 d and -5 d, then -4 d), \
             {} failed sync attempts retried; proxy: {}; server holds each once, none lost",
            fa + fb + fe,
            tally.line()
        );
        assert!(tally.cut_requests.load(Ordering::SeqCst) > 0);
        assert!(tally.cut_responses.load(Ordering::SeqCst) > 0);
        assert!(tally.duplicated.load(Ordering::SeqCst) > 0);
        server
    });
    drop(server);
}

#[test]
fn the_app_process_killed_mid_sync_loses_and_duplicates_nothing() {
    let seed = seed();
    let mut rng = Mix(seed ^ 0x5EED);
    let binary = env!("CARGO_BIN_EXE_voices-app");
    let server = run(async {
        let server = TestServer::start().await;
        let tally = Arc::new(Tally::default());
        let proxy = start_proxy(server.port, Mode::Slow, seed, tally.clone()).await;
        let device = Device::open();
        let code = server.device_code("tab-k", &proxy).await;
        device.voices.sync().provision_device(&code).await.unwrap();
        let dir = device.path();
        let mut made = 0;
        let mut make = |device: &Device, n: usize| {
            for _ in 0..n {
                device.interview(&format!("K{made}"), None);
                made += 1;
            }
        };
        make(&device, 300);
        // The app process owns the data directory from here on.
        let Device {
            dir: tempdir,
            voices,
        } = device;
        drop(voices);
        let (mut kills, mut finished_runs, mut started, mut mid_upload) = (0, 0, 0, 0);
        let begun = Instant::now();
        while kills < 12 {
            assert!(started < 80, "{kills} kills in {started} runs");
            started += 1;
            let mut child = Command::new(binary)
                .args(["sync", "--data-dir"])
                .env("VOICES_PIN", voices_app::device::TEST_PIN)
                .arg(&dir)
                .env("VOICES_SYNC_FRESH_CONNECTIONS", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("voices-app starts");
            let wait = Duration::from_millis(100 + rng.below(1_500));
            tokio::time::sleep(wait).await;
            match child.try_wait().unwrap() {
                None => {
                    mid_upload += usize::from(tally.in_flight.load(Ordering::SeqCst) > 0);
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    kills += 1;
                }
                Some(_) => {
                    finished_runs += 1;
                    // Everything was sent: give the next runs something to do.
                    let device = Device {
                        dir: tempfile::tempdir().unwrap(),
                        voices: voices_app::device::open_with_pin(
                            &dir,
                            voices_app::device::TEST_PIN,
                        )
                        .unwrap(),
                    };
                    make(&device, 60);
                }
            }
        }
        // Restart and finish.
        let out = Command::new(binary)
            .args(["sync", "--data-dir"])
            .env("VOICES_PIN", voices_app::device::TEST_PIN)
            .arg(&dir)
            .env("VOICES_SYNC_FRESH_CONNECTIONS", "1")
            .output()
            .unwrap();
        let summary = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "the last run: {summary} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(summary.contains(" 0 due"), "{summary}");
        let device = Device {
            dir: tempdir,
            voices: voices_app::device::open_with_pin(&dir, voices_app::device::TEST_PIN).unwrap(),
        };
        assert_eq!(device.voices.integrity_check().unwrap(), "ok");
        let counts = device.revision_counts();
        assert!(
            counts.values().all(|&n| n == 1),
            "a kill never makes a second revision of the same state"
        );
        let (responses, revisions) = assert_server_matches(&server, &[&device]).await;
        assert!(device
            .voices
            .sync()
            .list_outbox()
            .unwrap()
            .iter()
            .all(|e| e.state == RecordSyncState::Sent));
        println!(
            "app killed mid-sync: {kills} SIGKILLs in {started} runs ({mid_upload} while an upload was on the wire; \
             {finished_runs} runs ended before their kill), \
             {responses} responses / {revisions} revisions on the server, each once, none lost, in {:.1} s; last run: {}; proxy: {}",
            begun.elapsed().as_secs_f64(),
            summary.trim(),
            tally.line()
        );
        server
    });
    drop(server);
}
