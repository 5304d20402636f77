//! End-to-end ingest benchmark over HTTP on loopback, against the real `voices-server`
//! binary, on SQLite and on PostgreSQL: household responses (30 questions, three
//! members; `voices_server::sample`) uploaded as zstd-compressed NDJSON batches of 100
//! and 500 by 1, 8 and 64 devices at once, each with its own token, every record
//! validated against the published form and merged. Then, with 100,000 responses
//! stored: coordinator pull over HTTP and the streamed CSV export, with the server's
//! peak memory; and bytes on the wire per response against ODK Central's ~2,300-byte
//! multipart OpenRosa submission.
//!
//! Run (PostgreSQL with fsync on, as a fair comparison with ODK Central):
//!   VOICES_PG_FSYNC=on scripts/with-postgres.sh cargo bench -p voices-server --bench http_ingest
//! Without `VOICES_TEST_DATABASE_URL` only SQLite is measured (said so in the output).
//! `VOICES_BENCH_RESPONSES` (default 20,000) responses per ingest configuration;
//! `VOICES_BENCH_EXPORT` (default 100,000) responses for pull and export;
//! `VOICES_BENCH_ONLY=sqlite|postgres` measures one backend.

#[path = "../tests/harness/mod.rs"]
mod harness;
#[path = "../tests/pgdb/mod.rs"]
mod pgdb;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{Backend, Server, FORM_VERSION, PROJECT};
use voices_core::sync::protocol::{UploadAck, DICTIONARY_HEADER, NDJSON, PROTOCOL_HEADER};
use voices_core::sync::Revision;
use voices_server::sample::household_revision;

const ODK_MULTIPART_BYTES: f64 = 2_300.0;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn ndjson(batch: &[Revision]) -> Vec<u8> {
    let mut body = Vec::new();
    for revision in batch {
        serde_json::to_writer(&mut body, revision).expect("revision serializes");
        body.push(b'\n');
    }
    body
}

/// Kibibytes of a `/proc/PID/status` line (`VmRSS`, `VmHWM`).
fn proc_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Fleet {
    tokens: Vec<(String, String)>,
}

/// Provision every device with its one-time code.
async fn fleet(server: &Server, codes: &[String]) -> Fleet {
    let client = harness::http_client();
    let mut tokens = Vec::new();
    for code in codes {
        let credentials = harness::provision(&client, &server.url, code).await;
        tokens.push((credentials.device_id, credentials.token));
    }
    Fleet { tokens }
}

/// Bodies (zstd NDJSON) per device, made before the clock starts: the devices' work.
fn bodies(fleet: &Fleet, total: u64, batch: usize, offset: u64) -> Vec<Vec<(usize, Vec<u8>)>> {
    let per_device = total / fleet.tokens.len() as u64;
    fleet
        .tokens
        .iter()
        .enumerate()
        .map(|(d, (device, _))| {
            let revisions: Vec<Revision> = (0..per_device)
                .map(|i| {
                    household_revision(offset + d as u64 * per_device + i, device, FORM_VERSION)
                })
                .collect();
            revisions
                .chunks(batch)
                .map(|chunk| {
                    let body = zstd::encode_all(ndjson(chunk).as_slice(), 3).expect("zstd");
                    (chunk.len(), body)
                })
                .collect()
        })
        .collect()
}

async fn ingest_owned(url: String, fleet: Fleet, bodies: Vec<Vec<(usize, Vec<u8>)>>) -> (u64, f64) {
    ingest(&url, &fleet, bodies).await
}

/// Send every device's batches, devices at once; responses per second.
async fn ingest(url: &str, fleet: &Fleet, bodies: Vec<Vec<(usize, Vec<u8>)>>) -> (u64, f64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let accepted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = bodies
        .into_iter()
        .zip(fleet.tokens.iter().cloned())
        .map(|(batches, (_, token))| {
            let (client, url, accepted) = (client.clone(), url.to_owned(), accepted.clone());
            tokio::spawn(async move {
                for (records, body) in batches {
                    let r = loop {
                        let r = client
                            .post(format!("{url}/api/v1/projects/{PROJECT}/revisions"))
                            .bearer_auth(&token)
                            .header(PROTOCOL_HEADER, "1")
                            .header("content-type", NDJSON)
                            .header("content-encoding", "zstd")
                            .body(body.clone())
                            .send()
                            .await
                            .expect("upload");
                        // Busy (no free database connection): wait as told, as the app does.
                        match harness::retry_after(&r) {
                            Some(wait) => tokio::time::sleep(wait).await,
                            None => break r,
                        }
                    };
                    if !r.status().is_success() {
                        let status = r.status();
                        panic!(
                            "upload failed: {status}: {}",
                            r.text().await.unwrap_or_default()
                        );
                    }
                    let ack: UploadAck = r.json().await.expect("ack");
                    assert_eq!(
                        ack.accepted as usize,
                        records,
                        "not all accepted: {:?}",
                        ack.records.iter().find(|r| r.code.is_some())
                    );
                    accepted.fetch_add(ack.accepted, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("device task");
    }
    let secs = started.elapsed().as_secs_f64();
    let n = accepted.load(Ordering::SeqCst);
    (n, n as f64 / secs)
}

/// Server logs are kept (in the temporary directory) for a look after a run.
fn log_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("voices-bench-logs");
    std::fs::create_dir_all(&dir).expect("log dir");
    dir
}

fn make_backend(kind: &str) -> Backend {
    match kind {
        "sqlite" => Backend::sqlite(),
        _ => Backend::postgres(),
    }
}

fn ingest_matrix(kind: &str, total: u64) {
    for batch in [100usize, 500] {
        for devices in [1usize, 8, 64] {
            let backend = make_backend(kind);
            let codes = backend.set_up(devices);
            let logs = log_dir();
            runtime().block_on(async {
                let server = Server::start(&backend, &logs).await;
                let fleet = fleet(&server, &codes).await;
                let bodies = bodies(&fleet, total, batch, 0);
                let (n, rate) = match tokio::spawn(ingest_owned(server.url.clone(), fleet, bodies)).await {
                    Ok(figures) => figures,
                    Err(e) => {
                        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
                        let tail: Vec<&str> = log.lines().rev().take(20).collect();
                        panic!("ingest failed ({e}); server log ends:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
                    }
                };
                println!(
                    "ingest {kind:<8} batch {batch:>3}, {devices:>2} devices: {n:>6} responses, {rate:>7.0} responses/s"
                );
            });
        }
    }
}

/// Bytes per response for the same records, three ways.
fn wire_bytes() {
    let form = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas/forms/household-survey.json"),
    )
    .expect("household form");
    let revisions: Vec<Revision> = (0..500)
        .map(|i| household_revision(i, "tablet-0", FORM_VERSION))
        .collect();
    let plain = ndjson(&revisions);
    let zstd3 = zstd::encode_all(plain.as_slice(), 3).expect("zstd");
    let mut with_dictionary =
        zstd::bulk::Compressor::with_dictionary(3, &form).expect("zstd dictionary");
    let dict = with_dictionary
        .compress(&plain)
        .expect("zstd with dictionary");
    let single: Vec<u8> = ndjson(&revisions[..1]);
    let single_zstd = zstd::encode_all(single.as_slice(), 3).expect("zstd");
    let n = revisions.len() as f64;
    println!(
        "wire: per response, batch of 500: NDJSON {:.0} B, zstd {:.0} B, zstd with the form as dictionary ({DICTIONARY_HEADER}) {:.0} B; \
         one response alone: {} B, zstd {} B; ODK Central multipart ~{ODK_MULTIPART_BYTES:.0} B ({:.1}x smaller at batch 500)",
        plain.len() as f64 / n,
        zstd3.len() as f64 / n,
        dict.len() as f64 / n,
        single.len(),
        single_zstd.len(),
        ODK_MULTIPART_BYTES / (zstd3.len() as f64 / n),
    );
}

/// With `total` responses stored: pull over HTTP, then the CSV export from a freshly
/// started server, sampling its memory.
fn pull_and_export(kind: &str, total: u64) {
    let backend = make_backend(kind);
    let codes = backend.set_up(8);
    let logs = log_dir();
    runtime().block_on(async {
        let mut server = Server::start(&backend, &logs).await;
        let fleet = fleet(&server, &codes).await;
        let bodies = bodies(&fleet, total, 500, 10_000_000);
        let (stored, rate) = ingest(&server.url, &fleet, bodies).await;
        println!("load     {kind:<8} {stored} responses at {rate:.0} responses/s (batch 500, 8 devices)");
        // A fresh process, so the memory figures are the export's own.
        server.restart().await;
        let client = harness::http_client();
        let token = harness::login(&client, &server.url).await;
        let started = Instant::now();
        let mut cursor = "0".to_owned();
        let mut pulled = 0u64;
        loop {
            let page: serde_json::Value = client
                .get(format!(
                    "{}/api/v1/projects/{PROJECT}/responses?after={cursor}&limit=1000",
                    server.url
                ))
                .bearer_auth(&token)
                .send()
                .await
                .expect("pull")
                .json()
                .await
                .expect("page");
            let items = page["items"].as_array().map(Vec::len).unwrap_or(0);
            pulled += items as u64;
            cursor = page["next"].as_str().unwrap_or_default().to_owned();
            if page["more"] != serde_json::Value::Bool(true) {
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "pull     {kind:<8} {pulled} responses in pages of 1000: {secs:.2} s = {:.0} responses/s",
            pulled as f64 / secs
        );

        server.restart().await;
        let pid_export = server.pid().expect("server running");
        let baseline = proc_kib(pid_export, "VmRSS:");
        let peak = Arc::new(AtomicU64::new(baseline));
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = {
            let (peak, sampling) = (peak.clone(), sampling.clone());
            tokio::spawn(async move {
                while sampling.load(Ordering::SeqCst) {
                    peak.fetch_max(proc_kib(pid_export, "VmRSS:"), Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        let token = harness::login(&client, &server.url).await;
        let started = Instant::now();
        let mut response = client
            .get(format!(
                "{}/api/v1/projects/{PROJECT}/forms/household_survey/export?format=csv",
                server.url
            ))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .expect("export");
        assert!(response.status().is_success(), "export failed: {}", response.status());
        let mut bytes = 0u64;
        while let Some(chunk) = response.chunk().await.expect("export body") {
            bytes += chunk.len() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        sampling.store(false, Ordering::SeqCst);
        let _ = sampler.await;
        let hwm = proc_kib(pid_export, "VmHWM:");
        println!(
            "export   {kind:<8} CSV zip of {stored} responses: {:.1} MB in {secs:.2} s = {:.0} responses/s; \
             server memory {:.1} MB after start, peak {:.1} MB during export (VmHWM {:.1} MB)",
            bytes as f64 / 1e6,
            stored as f64 / secs,
            baseline as f64 / 1024.0,
            peak.load(Ordering::SeqCst) as f64 / 1024.0,
            hwm as f64 / 1024.0,
        );
    });
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let total = env_number("VOICES_BENCH_RESPONSES", 20_000);
    let export_total = env_number("VOICES_BENCH_EXPORT", 100_000);
    let only = std::env::var("VOICES_BENCH_ONLY").unwrap_or_default();
    let mut kinds = Vec::new();
    if only.is_empty() || only == "sqlite" {
        kinds.push("sqlite");
    }
    match std::env::var("VOICES_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() && (only.is_empty() || only == "postgres") => {
            kinds.push("postgres")
        }
        Ok(url) if !url.is_empty() => {}
        _ => println!(
            "PostgreSQL not measured: VOICES_TEST_DATABASE_URL is unset (run under scripts/with-postgres.sh)"
        ),
    }
    println!(
        "http_ingest: household form, {total} responses per configuration, zstd NDJSON over loopback HTTP, {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    wire_bytes();
    for kind in &kinds {
        ingest_matrix(kind, total);
    }
    for kind in &kinds {
        pull_and_export(kind, export_total);
    }
}
