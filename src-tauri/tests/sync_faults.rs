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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{assert_server_matches, run, Device, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use voices_app::sync::client::ClientOptions;
use voices_app::sync::RecordSyncState;
use voices_app::Voices;

/// SplitMix64: seeded, so a failing run can be replayed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn seed() -> u64 {
    let seed = std::env::var("VOICES_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_126);
    println!("fault seed {seed} (set VOICES_FAULT_SEED to replay)");
    seed
}

// ------------------------------------------------------------------------ the proxy

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Cut, duplicate and reorder uploads and attachment chunks.
    Faulty,
    /// Pass everything, slowly (answers to uploads held back after the server stored).
    Slow,
}

#[derive(Default)]
struct Tally {
    requests: AtomicUsize,
    uploads: AtomicUsize,
    cut_requests: AtomicUsize,
    cut_responses: AtomicUsize,
    duplicated: AtomicUsize,
    delayed: AtomicUsize,
    /// Uploads the proxy holds right now (sent on, answer not yet passed back).
    in_flight: AtomicUsize,
}

impl Tally {
    fn line(&self) -> String {
        format!(
            "{} requests, {} uploads and chunks: {} cut on the way in, {} answers cut, {} sent twice, {} held back",
            self.requests.load(Ordering::SeqCst),
            self.uploads.load(Ordering::SeqCst),
            self.cut_requests.load(Ordering::SeqCst),
            self.cut_responses.load(Ordering::SeqCst),
            self.duplicated.load(Ordering::SeqCst),
            self.delayed.load(Ordering::SeqCst)
        )
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// One HTTP/1.1 message (head and `Content-Length` body).
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let total = end + 4 + content_length(&buf[..end]);
            while buf.len() < total {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 64 << 20 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn exchange(upstream: u16, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    server.write_all(request).await?;
    read_message(&mut server).await
}

async fn relay(
    mut client: TcpStream,
    upstream: u16,
    mode: Mode,
    rng: Arc<Mutex<Mix>>,
    tally: Arc<Tally>,
) {
    let Ok(Ok(request)) =
        tokio::time::timeout(Duration::from_secs(30), read_message(&mut client)).await
    else {
        return;
    };
    tally.requests.fetch_add(1, Ordering::SeqCst);
    let is_upload = (request.starts_with(b"POST ") && find(&request, b"/revisions ").is_some())
        || (request.starts_with(b"PUT ") && find(&request, b"/attachments/").is_some());
    let (roll, cut_at, delay) = {
        let mut g = rng.lock().unwrap();
        (g.below(100), g.next(), g.below(300))
    };
    if mode == Mode::Slow {
        if is_upload {
            tally.in_flight.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(20 + delay / 3)).await;
        if let Ok(response) = exchange(upstream, &request).await {
            if is_upload {
                // Stored on the server; the answer lingers, so a kill often lands here.
                tally.delayed.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100 + delay)).await;
            }
            let _ = client.write_all(&response).await;
        }
        if is_upload {
            tally.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        return;
    }
    if !is_upload {
        if let Ok(response) = exchange(upstream, &request).await {
            let _ = client.write_all(&response).await;
        }
        return;
    }
    tally.uploads.fetch_add(1, Ordering::SeqCst);
    match roll {
        // The request is cut part-way: the server gets a truncated body.
        0..=19 => {
            tally.cut_requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                let cut = (cut_at % request.len() as u64) as usize;
                let _ = server.write_all(&request[..cut]).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // The server stores it, the answer is cut off.
        20..=39 => {
            tally.cut_responses.fetch_add(1, Ordering::SeqCst);
            if let Ok(response) = exchange(upstream, &request).await {
                let cut = (cut_at % response.len() as u64) as usize;
                let _ = client.write_all(&response[..cut]).await;
            }
        }
        // The request reaches the server twice at the same time.
        40..=54 => {
            tally.duplicated.fetch_add(1, Ordering::SeqCst);
            let (first, _second) =
                tokio::join!(exchange(upstream, &request), exchange(upstream, &request));
            if let Ok(response) = first {
                let _ = client.write_all(&response).await;
            }
        }
        // Held back, so later requests overtake it.
        55..=69 => {
            tally.delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50 + delay)).await;
            if let Ok(response) = exchange(upstream, &request).await {
                let _ = client.write_all(&response).await;
            }
        }
        _ => {
            if let Ok(response) = exchange(upstream, &request).await {
                let _ = client.write_all(&response).await;
            }
        }
    }
}

/// A proxy in front of `upstream`; its URL.
async fn start_proxy(upstream: u16, mode: Mode, seed: u64, tally: Arc<Tally>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let rng = Arc::new(Mutex::new(Mix(seed)));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, upstream, mode, rng.clone(), tally.clone()));
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Sync until nothing is due (bounded); the number of failed attempts.
async fn sync_until_done(voices: &Voices) -> u32 {
    let mut failures = 0;
    for _ in 0..300 {
        match voices.sync_once().await {
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
        a.voices.set_clock_skew_for(chrono::Duration::days(3));
        b.voices.set_clock_skew_for(chrono::Duration::days(-5));
        for (d, id) in [(&a, "tab-a"), (&b, "tab-b")] {
            d.voices.sync().set_client_options(ClientOptions {
                proxy: None,
                fresh_connections: true,
                // Small batches: many uploads for the proxy to break.
                batch_records: 8,
            });
            let code = server.device_code(id, &proxy).await;
            // Provisioning goes through the proxy too; it is not an upload, so it passes.
            d.voices.provision_device(&code).await.unwrap();
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
                .record_privacy(&id, "/safety", "not_private", safety)
                .unwrap();
            assert!(b.voices.finalize(&id).unwrap().can_finalize);
        }
        let (fa, fb) = tokio::join!(sync_until_done(&a.voices), sync_until_done(&b.voices));
        // Edits after sending, made once A's clock jumped back a week.
        a.voices.set_clock_skew_for(chrono::Duration::days(-4));
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
            let outbox = d.voices.list_outbox().unwrap();
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
        device.voices.provision_device(&code).await.unwrap();
        let dir = device.path();
        let mut made = 0;
        let mut make = |device: &Device, n: usize| {
            for _ in 0..n {
                device.interview(&format!("K{made}"), None);
                made += 1;
            }
        };
        make(&device, 350);
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
                        voices: Voices::open(&dir).unwrap(),
                    };
                    make(&device, 150);
                }
            }
        }
        // Restart and finish.
        let out = Command::new(binary)
            .args(["sync", "--data-dir"])
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
            voices: Voices::open(&dir).unwrap(),
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
