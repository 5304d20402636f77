//! The soak and fault campaign: simulated devices upload their responses to the real
//! `voices-server` binary through the fault proxy (`tests/harness/proxy.rs`: cut
//! requests, cut answers, duplicates, requests held back so later ones overtake them),
//! with device clocks skewed by hours and days, while the server is SIGKILLed and
//! restarted. Then the coordinator pulls the feed and every device's records are
//! checked against it. Prints lost, duplicated, throughput and the server's peak RSS;
//! exits non-zero on any loss or duplicate. A bench, not a test: it runs for minutes.
//!
//! Parameters (the defaults are the full campaign of issue 11):
//! `VOICES_SOAK_DEVICES` (1,000), `VOICES_SOAK_RESPONSES` per device (100),
//! `VOICES_SOAK_KILLS` (10), `VOICES_SOAK_MIN_FAULTS` (1,000: the upload phase goes on
//! until the proxy has injected that many), `VOICES_SOAK_BATCH` (25),
//! `VOICES_SOAK_CONCURRENCY` uploads in flight (64), `VOICES_SOAK_MINUTES` bound on the
//! faulty phase (30), `VOICES_SOAK_BACKENDS` (`sqlite,postgres`), `VOICES_SOAK_SEED`;
//! `VOICES_SERVER_BIN` runs another build of `voices-server` (a before/after comparison).
//! PostgreSQL needs `scripts/with-postgres.sh`:
//! `VOICES_PG_FSYNC=on scripts/with-postgres.sh cargo bench -p voices-server --bench soak`.

#[path = "../tests/harness/mod.rs"]
mod harness;
#[path = "../tests/pgdb/mod.rs"]
mod pgdb;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{proxy, Backend, Device, Server};
use tokio::sync::{Mutex, Semaphore};
use voices_server::sample::Mix;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

struct Params {
    devices: usize,
    responses: u64,
    kills: usize,
    min_faults: usize,
    batch: usize,
    concurrency: usize,
    bound: Duration,
    seed: u64,
}

fn number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .replace([',', '_'], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a whole number")),
        Err(_) => default,
    }
}

impl Params {
    fn from_env() -> Params {
        Params {
            devices: number("VOICES_SOAK_DEVICES", 1_000) as usize,
            responses: number("VOICES_SOAK_RESPONSES", 100),
            kills: number("VOICES_SOAK_KILLS", 10) as usize,
            min_faults: number("VOICES_SOAK_MIN_FAULTS", 1_000) as usize,
            batch: number("VOICES_SOAK_BATCH", 25).max(1) as usize,
            concurrency: number("VOICES_SOAK_CONCURRENCY", 64).max(1) as usize,
            bound: Duration::from_secs(number("VOICES_SOAK_MINUTES", 30) * 60),
            seed: number("VOICES_SOAK_SEED", 20_261_207),
        }
    }
}

/// Kibibytes of a `/proc/PID/status` line (`VmHWM`: the process's peak RSS).
fn proc_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Device clocks: on time, hours and days slow or fast (display order only; the merge
/// must not care).
const SKEWS: [i64; 6] = [0, -3 * DAY_MS, 5 * DAY_MS, -2 * HOUR_MS, 7 * HOUR_MS, 0];

/// What every device task shares: the cap on uploads in flight, the stop signal
/// (a kill is coming) and the counts.
struct Shared {
    gate: Semaphore,
    stop: AtomicBool,
    sends: AtomicUsize,
    failed: AtomicUsize,
    acked: AtomicU64,
}

/// Upload what the device has not had acknowledged, shuffled into batches, until
/// nothing is left or `stop` is set; a failed send is tried again in a later round.
async fn drive(
    device: Arc<Mutex<Device>>,
    client: reqwest::Client,
    base: Arc<String>,
    seed: u64,
    batch: usize,
    shared: Arc<Shared>,
) {
    let (gate, stop, counters) = (&shared.gate, &shared.stop, &shared);
    let mut g = Mix(seed);
    let mut backoff = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let (mut pending, token) = {
            let d = device.lock().await;
            (d.pending(), d.token.clone())
        };
        if pending.is_empty() {
            return;
        }
        for i in (1..pending.len()).rev() {
            pending.swap(i, g.below(i as u64 + 1) as usize);
        }
        let mut failed = false;
        for chunk in pending.chunks(batch) {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let compress = g.below(2) == 0;
            let outcome = {
                let _permit = gate.acquire().await.expect("the gate stays open");
                counters.sends.fetch_add(1, Ordering::SeqCst);
                harness::upload_with(&client, &base, &token, chunk, compress).await
            };
            match outcome {
                Ok(ack) => {
                    let mut d = device.lock().await;
                    let before = d.acked.len();
                    d.take_ack(&ack);
                    counters
                        .acked
                        .fetch_add((d.acked.len() - before) as u64, Ordering::SeqCst);
                }
                Err(_) => {
                    counters.failed.fetch_add(1, Ordering::SeqCst);
                    failed = true;
                }
            }
        }
        // Back off with jitter, longer while sends fail (the server may be down).
        backoff = if failed {
            (backoff * 2).clamp(50, 2_000)
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(backoff + g.below(50))).await;
    }
}

struct Outcome {
    made: usize,
    revisions: usize,
    lost: usize,
    duplicated: usize,
    faults: usize,
    kills: usize,
    sends: usize,
    failed: usize,
    unsent_after_faults: usize,
    upload_secs: f64,
    acked: u64,
    peak_rss_kib: u64,
    tally: String,
}

async fn campaign(backend: &Backend, p: &Params) -> Outcome {
    let started = Instant::now();
    let codes = backend.set_up(p.devices);
    let logs = tempfile::tempdir().expect("a log directory");
    let mut server = Server::start(backend, logs.path()).await;
    let direct = harness::http_client();
    let devices = harness::make_devices(&direct, &server.url, &codes, p.responses, &SKEWS).await;
    let revisions: usize = {
        let mut n = 0;
        for d in &devices {
            n += d.lock().await.made.len();
        }
        n
    };
    println!(
        "  set up {} devices with {} responses, {revisions} revisions, in {:.1} s",
        p.devices,
        p.devices as u64 * p.responses,
        started.elapsed().as_secs_f64()
    );

    let tally = Arc::new(proxy::Tally::default());
    let proxy_port = proxy::start_proxy(server.port, p.seed, tally.clone()).await;
    let proxied = Arc::new(format!("http://127.0.0.1:{proxy_port}"));
    let client = proxy::fresh_connections();
    let shared = Arc::new(Shared {
        gate: Semaphore::new(p.concurrency),
        stop: AtomicBool::new(false),
        sends: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        acked: AtomicU64::new(0),
    });
    let (stop, counters) = (&shared.stop, &shared);
    let upload_start = Instant::now();
    let deadline = upload_start + p.bound;
    let spawn_all = |base: Arc<String>, client: reqwest::Client, salt: u64| {
        devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                tokio::spawn(drive(
                    d.clone(),
                    client.clone(),
                    base.clone(),
                    p.seed ^ (i as u64 + 1) ^ salt,
                    p.batch,
                    shared.clone(),
                ))
            })
            .collect::<Vec<_>>()
    };

    // Rounds of uploads through the proxy, each ended by a kill at a random moment,
    // until every kill is done, enough faults were injected and nothing is left.
    let mut g = Mix(p.seed.rotate_left(17));
    let mut kills = 0;
    let mut peak_rss_kib = 0;
    let mut round = 0u64;
    loop {
        round += 1;
        stop.store(false, Ordering::SeqCst);
        let tasks = spawn_all(proxied.clone(), client.clone(), round << 32);
        let all_done = async {
            for t in tasks {
                t.await.expect("a device task");
            }
        };
        tokio::pin!(all_done);
        let finished = if kills < p.kills {
            // A kill after a random 0.5–3 s of uploading (or when the devices are done).
            let wait = Duration::from_millis(500 + g.below(2_500));
            tokio::select! {
                _ = &mut all_done => true,
                _ = tokio::time::sleep(wait) => false,
            }
        } else {
            tokio::select! {
                _ = &mut all_done => true,
                _ = tokio::time::sleep_until(deadline.into()) => false,
            }
        };
        if !finished {
            stop.store(true, Ordering::SeqCst);
            if kills < p.kills {
                if let Some(pid) = server.pid() {
                    peak_rss_kib = peak_rss_kib.max(proc_kib(pid, "VmHWM:"));
                }
                server.kill9();
                kills += 1;
                tokio::time::sleep(Duration::from_millis(100 + g.below(400))).await;
                server.restart().await;
            }
            all_done.await;
        }
        let pending = pending_count(&devices).await;
        let owed = kills < p.kills || tally.faults() < p.min_faults;
        if Instant::now() >= deadline || (pending == 0 && !owed) {
            break;
        }
        if pending == 0 {
            // Everything is stored and kills or faults are still owed: send it all again.
            // Every record must come back a duplicate, so the server's exactly-once check
            // runs under faults too.
            for d in &devices {
                d.lock().await.acked.clear();
            }
        }
    }
    let upload_secs = upload_start.elapsed().as_secs_f64();
    let unsent_after_faults = pending_count(&devices).await;

    // Whatever the faulty phase left unsent goes straight to the server, so what is
    // checked below is the server's keeping, not the time bound.
    stop.store(false, Ordering::SeqCst);
    for t in spawn_all(Arc::new(server.url.clone()), direct.clone(), 0) {
        t.await.expect("a device task");
    }

    if let Some(pid) = server.pid() {
        peak_rss_kib = peak_rss_kib.max(proc_kib(pid, "VmHWM:"));
    }
    let pulled = harness::pull_everything(&direct, &server.url).await;
    let devices = harness::unwrap_devices(devices);
    let (lost, duplicated) =
        harness::check_against_devices(backend.name(), &devices, &pulled, &HashMap::new()).await;
    let t = &tally;
    Outcome {
        made: devices.iter().map(|d| d.responses().len()).sum(),
        revisions,
        lost,
        duplicated,
        faults: t.faults() + kills,
        kills,
        sends: counters.sends.load(Ordering::SeqCst),
        failed: counters.failed.load(Ordering::SeqCst),
        unsent_after_faults,
        upload_secs,
        acked: counters.acked.load(Ordering::SeqCst),
        peak_rss_kib,
        tally: format!(
            "{} cut requests, {} cut answers, {} duplicated, {} held back",
            t.cut_requests.load(Ordering::SeqCst),
            t.cut_responses.load(Ordering::SeqCst),
            t.duplicated.load(Ordering::SeqCst),
            t.delayed.load(Ordering::SeqCst),
        ),
    }
}

async fn pending_count(devices: &[Arc<Mutex<Device>>]) -> usize {
    let mut n = 0;
    for d in devices {
        n += d.lock().await.pending().len();
    }
    n
}

fn main() {
    let p = Params::from_env();
    let backends = std::env::var("VOICES_SOAK_BACKENDS").unwrap_or("sqlite,postgres".into());
    println!(
        "soak: {} devices × {} responses, batches of {}, {} uploads in flight, ≥ {} proxy faults, \
         {} kills, faulty phase bounded at {} min, seed {}",
        p.devices,
        p.responses,
        p.batch,
        p.concurrency,
        p.min_faults,
        p.kills,
        p.bound.as_secs() / 60,
        p.seed
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut bad = false;
    for name in backends.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let backend = match name {
            "sqlite" => Backend::sqlite(),
            "postgres" => Backend::postgres(),
            other => panic!("VOICES_SOAK_BACKENDS: unknown backend {other} (sqlite, postgres)"),
        };
        let started = Instant::now();
        let o = runtime.block_on(campaign(&backend, &p));
        println!(
            "soak ({name}): {} responses ({} revisions) from {} devices; {} faults injected: {}, \
             {} SIGKILLs; {} uploads, {} failed and retried; {} revisions acknowledged in {:.1} s \
             under faults ({:.0}/s), {} left for the clean drain; {} lost, {} duplicated; \
             server peak RSS {:.1} MB; {:.1} s in all",
            o.made,
            o.revisions,
            p.devices,
            o.faults,
            o.tally,
            o.kills,
            o.sends,
            o.failed,
            o.acked,
            o.upload_secs,
            o.acked as f64 / o.upload_secs.max(1e-9),
            o.unsent_after_faults,
            o.lost,
            o.duplicated,
            o.peak_rss_kib as f64 / 1024.0,
            started.elapsed().as_secs_f64()
        );
        bad |= o.lost > 0 || o.duplicated > 0;
    }
    if bad {
        eprintln!("soak: responses were lost or duplicated");
        std::process::exit(1);
    }
}
