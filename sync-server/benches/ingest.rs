//! Ingest benchmark: household responses (30 questions, three members) through the whole
//! upload path — NDJSON decoding, canonical hashing, exactly-once check, merge, engine
//! validation and the SQLite transaction — at batch sizes 100 and 500 with 1, 8 and 64
//! devices uploading at once. Then the coordinator pull rate over everything stored.
//!
//! Run: `cargo bench -p voices-server --bench ingest` (figures in README's Performance).
//! `VOICES_BENCH_RESPONSES` sets the responses per configuration (default 20,000);
//! `VOICES_BENCH_SKIP_VALIDATION=1` accepts every response unchecked, to show what the
//! engine validation costs.

use std::sync::Arc;
use std::time::Instant;

use voices_server::api::{default_limits, ingest_lines};
use voices_server::sample::household_revision;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Store, Uploader, Validation, Validator};
use voices_server::validate::FormCatalog;

/// Accepts everything: only for measuring the cost of validation.
struct Unchecked;

impl Validator for Unchecked {
    fn validate(
        &self,
        _: &str,
        _: &voices_core::sync::ResponseState,
        _: &voices_core::Response,
    ) -> Validation {
        Validation::Valid
    }
}

fn main() {
    let skip_validation = std::env::var("VOICES_BENCH_SKIP_VALIDATION").is_ok_and(|v| v == "1");
    let total: u64 = std::env::var("VOICES_BENCH_RESPONSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let form_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/forms/household-survey.json");
    let form = std::fs::read_to_string(&form_path)
        .unwrap_or_else(|e| panic!("missing {} ({e})", form_path.display()));
    println!(
        "ingest: {total} household responses per configuration, SQLite (WAL, synchronous=NORMAL){}",
        if skip_validation {
            ", validation skipped"
        } else {
            ""
        }
    );
    for batch in [100u64, 500] {
        for devices in [1u64, 8, 64] {
            let dir = tempfile::tempdir().unwrap();
            let store: Arc<dyn Store> =
                Arc::new(SqliteStore::open(&dir.path().join("bench.sqlite3")).unwrap());
            let now = voices_server::now_text();
            store.add_project("p1", "Bench", &now).unwrap();
            voices_server::api::publish(store.as_ref(), "p1", &form, "bench").unwrap();
            let catalog: Arc<dyn Validator> = if skip_validation {
                Arc::new(Unchecked)
            } else {
                Arc::new(FormCatalog::new(store.clone()))
            };
            let per_device = total / devices;
            // Bodies are made before the clock starts: the device's work, not the server's.
            let bodies: Vec<Vec<Vec<u8>>> = (0..devices)
                .map(|d| {
                    let actor = format!("dev-{d}");
                    (0..per_device)
                        .step_by(batch as usize)
                        .map(|start| {
                            let mut body = Vec::new();
                            for i in start..(start + batch).min(per_device) {
                                let r =
                                    household_revision(d * per_device + i, &actor, "2026112601");
                                body.extend(serde_json::to_vec(&r).unwrap());
                                body.push(b'\n');
                            }
                            body
                        })
                        .collect()
                })
                .collect();
            let started = Instant::now();
            let handles: Vec<_> = bodies
                .into_iter()
                .enumerate()
                .map(|(d, batches)| {
                    let store = store.clone();
                    let catalog = catalog.clone();
                    std::thread::spawn(move || {
                        let uploader = Uploader {
                            id: format!("dev-{d}"),
                            enumerator: format!("Enumerator {d}"),
                        };
                        let limits = default_limits();
                        let mut accepted = 0;
                        for body in batches {
                            let ack = ingest_lines(
                                store.as_ref(),
                                catalog.as_ref(),
                                "p1",
                                &uploader,
                                &body,
                                false,
                                &limits,
                            )
                            .unwrap();
                            assert_eq!(
                                ack.quarantined + ack.rejected,
                                0,
                                "{:?}",
                                ack.records.first()
                            );
                            accepted += ack.accepted;
                        }
                        accepted
                    })
                })
                .collect();
            let accepted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "batch {batch:>3}, {devices:>2} devices: {accepted} responses in {secs:.2} s = {:.0} responses/s",
                accepted as f64 / secs
            );
            if batch == 500 && devices == 1 {
                let started = Instant::now();
                let (mut cursor, mut pulled) = (0, 0);
                loop {
                    let page = store.pull("p1", cursor, 1000).unwrap();
                    let Some(last) = page.last() else { break };
                    cursor = last.feed_seq;
                    pulled += page.len();
                    for row in page {
                        std::hint::black_box(voices_server::api::pulled(row));
                    }
                }
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "pull: {pulled} responses in pages of 1000 in {secs:.2} s = {:.0} responses/s",
                    pulled as f64 / secs
                );
            }
        }
    }
}
