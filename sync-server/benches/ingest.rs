//! Ingest benchmark: household responses (30 questions, three members) through the whole
//! upload path — NDJSON decoding, canonical hashing, exactly-once check, merge, engine
//! validation and the SQLite transaction — at batch sizes 100 and 500 with 1, 8 and 64
//! devices uploading at once. Then the coordinator pull rate over everything stored.
//!
//! Run: `cargo bench -p voices-server --bench ingest` (figures in README's Performance).
//! `VOICES_BENCH_RESPONSES` sets the responses per configuration (default 20,000);
//! `VOICES_BENCH_SKIP_VALIDATION=1` accepts every response unchecked, to show what the
//! engine validation costs; `VOICES_BENCH_ONLY=500,8` runs one configuration (batch,
//! devices), `VOICES_BENCH_ONLY=export` only the export. Then the CSV export of `VOICES_BENCH_EXPORT` (default 100,000; 0 skips it)
//! responses, in process (the HTTP bench measures its memory).
//! `VOICES_BENCH_SEALED=1` seals the household's pii answers (name, phone, location,
//! members' names: 4–10 per response) to two age recipients before the clock starts, as
//! the app does, and prints what sealing cost per response on the device.

use std::sync::Arc;
use std::time::Instant;

use voices_server::http::default_limits;
use voices_server::ingest::ingest_lines;
use voices_server::sample::household_revision;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Store, Uploader, Validation, Validator};
use voices_server::validate::FormCatalog;

/// The allocator of the `voices-server` binary, so figures match the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Responses ingested into a fresh store, and how long it took.
struct Run {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    accepted: u64,
    secs: f64,
    /// CPU seconds the process used meanwhile.
    cpu: f64,
}

/// Seals a revision's pii answers as the app does (`src-tauri/src/sync/seal.rs`).
struct Sealing {
    form: voices_core::engine::CompiledForm,
    recipients: Vec<age::x25519::Recipient>,
}

impl Sealing {
    fn new(form: &str) -> Sealing {
        let form = voices_core::Form::from_json(form).unwrap();
        Sealing {
            form: voices_core::engine::CompiledForm::compile(form).unwrap(),
            recipients: (0..2)
                .map(|_| age::x25519::Identity::generate().to_public())
                .collect(),
        }
    }

    fn seal(&self, revision: &mut voices_core::sync::Revision) {
        use base64::Engine;
        use std::io::Write;
        revision
            .seal(
                |path| self.form.seals(path),
                |clear| {
                    let encryptor = age::Encryptor::with_recipients(
                        self.recipients.iter().map(|r| r as &dyn age::Recipient),
                    )
                    .unwrap();
                    let mut file = Vec::new();
                    let mut writer = encryptor.wrap_output(&mut file).unwrap();
                    writer.write_all(clear.as_bytes()).unwrap();
                    writer.finish().unwrap();
                    voices_core::answer::Sealed::new(
                        base64::engine::general_purpose::STANDARD.encode(file),
                    )
                },
            )
            .unwrap();
    }
}

fn run(
    form: &str,
    total: u64,
    batch: u64,
    devices: u64,
    skip_validation: bool,
    sealing: Option<&Sealing>,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("bench.sqlite3")).unwrap());
    let now = voices_server::now_text();
    store.add_project("p1", "Bench", &now).unwrap();
    voices_server::publish::publish(store.as_ref(), "p1", form, "bench").unwrap();
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
                        let mut r = household_revision(d * per_device + i, &actor, "2026112601");
                        if let Some(sealing) = sealing {
                            sealing.seal(&mut r);
                        }
                        body.extend(serde_json::to_vec(&r).unwrap());
                        body.push(b'\n');
                    }
                    body
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
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
                    devices: None,
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
    Run {
        secs: started.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu_before,
        _dir: dir,
        store,
        accepted,
    }
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat`
/// (Linux clock ticks of 1/100 s). With other builds sharing the machine, wall-clock rates
/// swing with the load; CPU time per response does not.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Counts the bytes written to it.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let skip_validation = std::env::var("VOICES_BENCH_SKIP_VALIDATION").is_ok_and(|v| v == "1");
    let number = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.replace('_', "").parse().ok())
            .unwrap_or(default)
    };
    let total = number("VOICES_BENCH_RESPONSES", 20_000);
    let sealed = std::env::var("VOICES_BENCH_SEALED").is_ok_and(|v| v == "1");
    let export_total = number("VOICES_BENCH_EXPORT", 100_000);
    let form_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/forms/household-survey.json");
    let form = std::fs::read_to_string(&form_path)
        .unwrap_or_else(|e| panic!("missing {} ({e})", form_path.display()));
    let sealing = sealed.then(|| Sealing::new(&form));
    if let Some(sealing) = &sealing {
        // The device's cost: sealing one response's pii answers (one age file each).
        let n = 2_000u64;
        let mut revisions: Vec<_> = (0..n)
            .map(|i| household_revision(i, "dev", "2026112601"))
            .collect();
        let started = Instant::now();
        for r in &mut revisions {
            sealing.seal(r);
        }
        let secs = started.elapsed().as_secs_f64();
        let answers: usize = revisions
            .iter()
            .map(|r| {
                r.set
                    .values()
                    .filter(|v| v.as_ref().is_some_and(|v| v.sealed().is_some()))
                    .count()
            })
            .sum();
        println!(
            "sealing: {n} responses ({answers} answers to 2 recipients) in {secs:.3} s = {:.0} µs/response",
            secs * 1e6 / n as f64
        );
    }
    println!(
        "ingest: {total} household responses per configuration, SQLite (WAL, synchronous=FULL){}{}",
        if skip_validation {
            ", validation skipped"
        } else {
            ""
        },
        if sealed { ", pii answers sealed" } else { "" }
    );
    let configurations: Vec<(u64, u64)> = match std::env::var("VOICES_BENCH_ONLY") {
        Ok(only) if only == "export" => Vec::new(),
        // `batch,devices`, e.g. `500,8`: one configuration (for profiling).
        Ok(only) => only
            .split_once(',')
            .and_then(|(b, d)| Some((b.parse().ok()?, d.parse().ok()?)))
            .into_iter()
            .collect(),
        Err(_) => [100u64, 500]
            .into_iter()
            .flat_map(|b| [1u64, 8, 64].map(|d| (b, d)))
            .collect(),
    };
    for (batch, devices) in configurations {
        let done = run(
            &form,
            total,
            batch,
            devices,
            skip_validation,
            sealing.as_ref(),
        );
        println!(
            "batch {batch:>3}, {devices:>2} devices: {} responses in {:.2} s = {:.0} responses/s; \
             CPU {:.2} s = {:.0} µs/response",
            done.accepted,
            done.secs,
            done.accepted as f64 / done.secs,
            done.cpu,
            done.cpu * 1e6 / done.accepted.max(1) as f64
        );
        if batch == 500 && devices == 1 {
            let started = Instant::now();
            let (mut cursor, mut pulled) = (0, 0);
            loop {
                let page = done.store.pull("p1", cursor, 1000).unwrap();
                let Some(last) = page.last() else { break };
                cursor = last.feed_seq;
                pulled += page.len();
                for row in page {
                    std::hint::black_box(voices_server::responses::pulled(row));
                }
            }
            let secs = started.elapsed().as_secs_f64();
            println!(
                "pull: {pulled} responses in pages of 1000 in {secs:.2} s = {:.0} responses/s",
                pulled as f64 / secs
            );
        }
    }
    if export_total > 0 {
        let stored = run(
            &form,
            export_total,
            500,
            8,
            skip_validation,
            sealing.as_ref(),
        );
        let options = voices_server::export::Options {
            project: "p1".into(),
            form: "household_survey".into(),
            format: voices_server::export::Format::Csv,
            since: 0,
            include_pii: false,
            labels: false,
            filter: None,
            scope: voices_server::store::Scope::Project,
        };
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let mut out = Counter(0);
        let exported =
            voices_server::export::export(stored.store.as_ref(), &options, &mut out).unwrap();
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        println!(
            "export: CSV zip of {exported} responses ({:.1} MB) in {secs:.2} s = {:.0} responses/s, \
             CPU {cpu:.2} s (stored at batch 500 by 8 devices: {:.0} responses/s)",
            out.0 as f64 / 1e6,
            exported as f64 / secs,
            stored.accepted as f64 / stored.secs
        );
    }
}
