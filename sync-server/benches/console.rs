//! The console's queries over many responses: `VOICES_BENCH_RESPONSES` (default
//! 1,000,000) household responses are stored through the store's ingest (validation,
//! merge, projection, counts — what an upload writes), in batches of 2,000 from 500
//! enumerators over 60 days; 10 % are then approved and 2 % rejected. Then, through the
//! HTTP router in this process with a coordinator's token, it times:
//!
//! - table pages: the newest responses of the form, deeper pages by cursor, filtered by
//!   review state, by enumerator, by a ten-day range, sorted by enumerator, by update
//!   time (each with the total count);
//! - free-text searches: a village, a phone number (pii), a first name (pii, common),
//!   two common words;
//! - the form's dashboard;
//! - far jumps to any row by its row number (the scroll bar dragged): newest first (placed
//!   by the kept counts) and by last change (the index read from the first row);
//! - single responses and their history, the overview and the map;
//! - then, as a coordinator limited to a team of one device in ten: table pages with their
//!   totals, the overview, the dashboard and the map;
//!
//! and the process's resident memory before, during and after browsing (the server's
//! memory: the store and the router run in this process).
//!
//! Run: `cargo bench -p voices-server --bench console` (SQLite), and
//! `VOICES_BENCH_BACKEND=postgres scripts/with-postgres.sh cargo bench -p voices-server --bench console`.
//! `VOICES_BENCH_DIR` keeps the SQLite database there (seeded once, reused on the next
//! run); figures are in docs/performance.md.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use voices_core::sync::protocol::ReviewState;
use voices_server::sample::{household_revision, sample_uuid};
use voices_server::store::postgres::PostgresStore;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{IncomingRevision, Role, Store, TokenSubject, Uploader};
use voices_server::validate::FormCatalog;
use voices_server::{app, auth, AppState};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PROJECT: &str = "p1";
const FORM: &str = "household_survey";
const BATCH: u64 = 2_000;
const ENUMERATORS: u64 = 500;
const DAYS: u64 = 60;
/// 2026-10-01T00:00:00Z: the first day responses arrive.
const FIRST_DAY_MS: i64 = 1_790_812_800_000;

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn rss_mb() -> f64 {
    status_field("VmRSS:") as f64 / 1024.0
}

fn peak_mb() -> f64 {
    status_field("VmHWM:") as f64 / 1024.0
}

/// Received time of batch `k` of `batches`: spread over `DAYS` days.
fn received_at(k: u64, batches: u64) -> String {
    let span = DAYS as i64 * 86_400_000;
    let at = FIRST_DAY_MS + span * k as i64 / batches.max(1) as i64;
    voices_server::time_text(chrono::DateTime::from_timestamp_millis(at).unwrap())
}

fn seed(store: &Arc<dyn Store>, total: u64, version: &str) {
    let catalog = Arc::new(FormCatalog::new(store.clone()));
    let batches = total.div_ceil(BATCH);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (store, catalog, next) = (store.clone(), catalog.clone(), next.clone());
            let version = version.to_owned();
            std::thread::spawn(move || loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if k >= batches {
                    return;
                }
                let enumerator = k % ENUMERATORS;
                let actor = format!("dev-{enumerator}");
                let batch: Vec<IncomingRevision> = (k * BATCH..((k + 1) * BATCH).min(total))
                    .map(|i| {
                        let revision = household_revision(i, &actor, &version);
                        let body = serde_json::to_string(&revision).unwrap();
                        IncomingRevision {
                            sha256: auth::sha256_hex(body.as_bytes()),
                            body,
                            revision,
                        }
                    })
                    .collect();
                let uploader = Uploader {
                    id: actor.clone(),
                    enumerator: format!("Enumerator {enumerator}"),
                    devices: None,
                };
                let acks = store
                    .ingest(
                        PROJECT,
                        &uploader,
                        &batch,
                        catalog.as_ref(),
                        &received_at(k, batches),
                    )
                    .unwrap();
                assert!(
                    acks.iter().all(|a| a.code.is_none()),
                    "{:?}",
                    acks.iter().find(|a| a.code.is_some())
                );
                if k % 50 == 0 {
                    let done = (k + 1) * BATCH;
                    eprintln!(
                        "  seeded {done} in {:.0} s ({:.0}/s)",
                        started.elapsed().as_secs_f64(),
                        done as f64 / started.elapsed().as_secs_f64()
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {total} responses through the ingest in {secs:.0} s ({:.0} responses/s)",
        total as f64 / secs
    );
    // 10 % approved, 2 % rejected, in bulk reviews of 1,000.
    for (state, every) in [(ReviewState::Approved, 10), (ReviewState::Rejected, 50)] {
        let ids: Vec<String> = (0..total)
            .filter(|i| i % every == 3)
            .map(|i| sample_uuid(2, i))
            .collect();
        for chunk in ids.chunks(1_000) {
            store
                .review(
                    PROJECT,
                    chunk,
                    &voices_server::store::Decision {
                        state,
                        comment: Some("bench"),
                        fields: &Default::default(),
                        by: "cora",
                    },
                    &voices_server::now_text(),
                )
                .unwrap();
        }
    }
}

/// Statistics for the query planner after the bulk load, as autovacuum (PostgreSQL) or
/// `PRAGMA optimize` (SQLite) would gather on a server that has been running.
fn analyze(sqlite_path: Option<&std::path::Path>) {
    match sqlite_path {
        Some(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch("ANALYZE;").unwrap();
        }
        None => {
            let url = std::env::var("VOICES_TEST_DATABASE_URL").unwrap();
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.batch_execute("VACUUM ANALYZE").unwrap();
        }
    }
}

/// The store, the backend's name, the temporary directory to keep, the SQLite file.
type Opened = (
    Arc<dyn Store>,
    &'static str,
    Option<tempfile::TempDir>,
    Option<std::path::PathBuf>,
);

/// PostgreSQL's plans of a table page and its count (`VOICES_BENCH_EXPLAIN=1`).
fn explain() {
    let url = std::env::var("VOICES_TEST_DATABASE_URL").unwrap();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in [
        "SELECT ri.id FROM (SELECT * FROM response_index ri WHERE ri.project = $1 AND ri.form = $2
             ORDER BY ri.received_at DESC, ri.id DESC LIMIT 51) ri
         JOIN responses r ON r.project = ri.project COLLATE \"default\" AND r.id = ri.id COLLATE \"default\"
         ORDER BY ri.received_at DESC, ri.id DESC",
        "SELECT COUNT(*) FROM response_index ri WHERE ri.project = $1 AND ri.form = $2",
    ] {
        let plan = client
            .query(
                &format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"),
                &[&PROJECT, &FORM],
            )
            .unwrap();
        for row in plan {
            println!("  {}", row.get::<_, String>(0));
        }
    }
}

fn open(total: u64) -> Opened {
    let backend = std::env::var("VOICES_BENCH_BACKEND").unwrap_or_else(|_| "sqlite".into());
    match backend.as_str() {
        "postgres" => {
            let url = std::env::var("VOICES_TEST_DATABASE_URL")
                .expect("run under scripts/with-postgres.sh (VOICES_TEST_DATABASE_URL)");
            (
                Arc::new(PostgresStore::open(&url).unwrap()),
                "PostgreSQL",
                None,
                None,
            )
        }
        _ => {
            let (dir, temp) = match std::env::var("VOICES_BENCH_DIR") {
                Ok(d) => (std::path::PathBuf::from(d), None),
                Err(_) => {
                    let t = tempfile::tempdir().unwrap();
                    (t.path().to_owned(), Some(t))
                }
            };
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("console-{total}.sqlite3"));
            (
                Arc::new(SqliteStore::open(&path).unwrap()),
                "SQLite",
                temp,
                Some(path),
            )
        }
    }
}

/// The query parameters of round `i` of one kind of table page.
type QueryOf = Box<dyn Fn(usize) -> String>;

struct Client {
    router: axum::Router,
    token: String,
}

impl Client {
    /// GET `uri`: the time taken, the status and the JSON body.
    async fn get(&self, uri: &str) -> (Duration, serde_json::Value) {
        let started = Instant::now();
        let response = self
            .router
            .clone()
            .oneshot(
                Request::get(uri)
                    .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let took = started.elapsed();
        assert_eq!(
            status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&bytes)
        );
        (took, serde_json::from_slice(&bytes).unwrap())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (median, p95, max) in milliseconds.
fn summary(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let at = |q: f64| ms(times[((times.len() as f64 - 1.0) * q).round() as usize]);
    (at(0.5), at(0.95), ms(*times.last().unwrap()))
}

fn report(name: &str, times: &mut [Duration], extra: &str) {
    let (p50, p95, max) = summary(times);
    println!(
        "  {name:<44} n={:<4} median {p50:>7.1} ms  p95 {p95:>7.1} ms  max {max:>7.1} ms  {extra}",
        times.len()
    );
}

/// Store, seed and analyze before any runtime starts (the blocking PostgreSQL client runs
/// one of its own), browse inside one, and drop the store after it.
fn main() {
    let total = number("VOICES_BENCH_RESPONSES", 1_000_000);
    let rounds = number("VOICES_BENCH_ROUNDS", 40) as usize;
    let (store, backend, _dir, sqlite_path) = open(total);
    let form = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas/forms/household-survey.json"),
    )
    .unwrap();
    let version = voices_core::Form::from_json(&form).unwrap().version;
    let fresh = !store.project_exists(PROJECT).unwrap();
    if fresh {
        let now = voices_server::now_text();
        store.add_project(PROJECT, "Bench", &now).unwrap();
        voices_server::publish::publish(store.as_ref(), PROJECT, &form, "bench").unwrap();
        store
            .add_user("cora", Role::Coordinator, "unused", &now)
            .unwrap();
        store.add_membership("cora", PROJECT).unwrap();
        println!("console bench on {backend}: seeding {total} household responses");
        seed(&store, total, &version);
        let started = Instant::now();
        analyze(sqlite_path.as_deref());
        println!("analyzed in {:.0} s", started.elapsed().as_secs_f64());
    } else {
        println!("console bench on {backend}: {total} responses already stored");
    }
    let token = auth::random_secret("vs_").unwrap();
    store
        .add_token(
            &auth::secret_hash(&token),
            &TokenSubject::User("cora".into()),
            &voices_server::time_from_now(chrono::Duration::hours(2)),
            &voices_server::now_text(),
        )
        .unwrap();
    // Searches of pii answers (a phone number, a first name) need the grant.
    store.set_pii_grant("cora", PROJECT, true).unwrap();
    let team_token = limited_coordinator(&store, total);
    if std::env::var("VOICES_BENCH_EXPLAIN").is_ok() && sqlite_path.is_none() {
        explain();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(browse(store.clone(), token, total, rounds));
    runtime.block_on(browse_team(store.clone(), team_token, rounds));
    drop(runtime);
}

/// Devices in the bench's team: one enumerator in ten.
const TEAM_EVERY: u64 = 10;

/// A coordinator (`lena`) limited to a team holding one device in ten (registered here
/// if this is the first run on the database): their token.
fn limited_coordinator(store: &Arc<dyn Store>, total: u64) -> String {
    let now = voices_server::now_text();
    let team = match store
        .teams(PROJECT)
        .unwrap()
        .into_iter()
        .find(|t| t.name == "Bench")
    {
        Some(team) => team.id,
        None => {
            let team = store.add_team(PROJECT, "Bench", &now).unwrap();
            let devices = total.div_ceil(BATCH).min(ENUMERATORS);
            for k in (0..devices).filter(|k| k % TEAM_EVERY == 0) {
                let device = voices_server::store::Device {
                    id: format!("dev-{k}"),
                    project: PROJECT.into(),
                    enumerator: format!("Enumerator {k}"),
                    revoked_at: None,
                    wipe_requested_at: None,
                };
                let code = auth::random_secret("vc_").unwrap();
                store
                    .add_device(&device, &auth::secret_hash(&code), &now, &now)
                    .unwrap();
                store
                    .set_team_device(PROJECT, team.id, &device.id, true)
                    .unwrap();
            }
            store
                .add_user("lena", Role::Coordinator, "unused", &now)
                .unwrap();
            store.add_membership("lena", PROJECT).unwrap();
            team.id
        }
    };
    store.limit_member("lena", PROJECT, Some(&[team])).unwrap();
    let token = auth::random_secret("vs_").unwrap();
    store
        .add_token(
            &auth::secret_hash(&token),
            &TokenSubject::User("lena".into()),
            &voices_server::time_from_now(chrono::Duration::hours(2)),
            &now,
        )
        .unwrap();
    token
}

/// What a coordinator limited to the team reads: the table as it opens and filtered
/// (with its total), the overview, the form's dashboard and the map, each summed over
/// the team's devices in the database.
async fn browse_team(store: Arc<dyn Store>, token: String, rounds: usize) {
    let client = Client {
        router: app(AppState::new(store.clone())),
        token,
    };
    println!("a coordinator limited to a team of one device in {TEAM_EVERY}:");
    let base = format!("/api/v1/projects/{PROJECT}/table?form={FORM}&limit=50");
    for (name, uri) in [
        ("team: table, newest first", base.clone()),
        (
            "team: table, review = approved",
            format!("{base}&review=approved"),
        ),
        (
            "team: table, received, finalized",
            format!("{base}&review=received&status=finalized&sort=updated_at"),
        ),
        (
            "team: overview",
            format!("/api/v1/projects/{PROJECT}/overview"),
        ),
        (
            "team: dashboard of the form",
            format!("/api/v1/projects/{PROJECT}/forms/{FORM}/dashboard"),
        ),
        (
            "team: map of the form (1 km cells)",
            format!("/api/v1/projects/{PROJECT}/forms/{FORM}/points"),
        ),
    ] {
        let mut times = Vec::new();
        let mut total = None;
        for _ in 0..(rounds / 4).max(3) {
            let (t, body) = client.get(&uri).await;
            total = body["total"].as_u64().or(total);
            times.push(t);
        }
        let extra = total.map(|n| format!("(total {n})")).unwrap_or_default();
        report(name, &mut times, &extra);
    }
    println!("memory after the team's reads: RSS {:.0} MB", rss_mb());
}

async fn browse(store: Arc<dyn Store>, token: String, total: u64, rounds: usize) {
    let client = Client {
        router: app(AppState::new(store.clone())),
        token,
    };
    // Start the peak-memory count at browsing (Linux: writing 5 resets VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = rss_mb();
    let mut rss_samples = vec![rss_before];
    println!("browsing ({rounds} rounds of each kind), RSS {rss_before:.0} MB");

    let base = format!("/api/v1/projects/{PROJECT}/table?form={FORM}&limit=50");
    // Batch k was sent by enumerator k mod 500: with fewer batches, fewer enumerators.
    let enumerators = total.div_ceil(BATCH).min(ENUMERATORS) as usize;
    let day = move |d: u64| {
        received_at(d * (total.div_ceil(BATCH)) / DAYS, total.div_ceil(BATCH))[..10].to_owned()
    };
    let kinds: Vec<(&str, QueryOf)> = vec![
        ("newest first", Box::new(move |_| String::new())),
        ("review = approved", Box::new(|_| "&review=approved".into())),
        (
            "one enumerator",
            Box::new(move |i| format!("&enumerator=Enumerator%20{}", (i * 37) % enumerators)),
        ),
        (
            "ten days, oldest first",
            Box::new(move |i| {
                format!(
                    "&from={}&to={}&order=asc",
                    day(i as u64 % 40),
                    day(i as u64 % 40 + 9)
                )
            }),
        ),
        (
            "sorted by enumerator",
            Box::new(|_| "&sort=enumerator&order=asc".into()),
        ),
        (
            "received, finalized, by update time",
            Box::new(|_| "&review=received&status=finalized&sort=updated_at".into()),
        ),
    ];
    let mut all_pages = Vec::new();
    let mut totals = HashMap::new();
    for (name, params) in &kinds {
        let mut times = Vec::new();
        for i in 0..rounds {
            let (t, body) = client.get(&format!("{base}{}", params(i))).await;
            totals.insert(*name, body["total"].as_u64().unwrap_or(0));
            times.push(t);
        }
        all_pages.extend(times.iter().copied());
        report(
            &format!("table: {name}"),
            &mut times,
            &format!("(total {})", totals[name]),
        );
    }
    rss_samples.push(rss_mb());
    // Deeper pages: follow the cursor 20 pages down, several times.
    let mut times = Vec::new();
    for _ in 0..(rounds / 10).max(2) {
        let mut uri = format!("{base}&total=false");
        for _ in 0..20 {
            let (t, body) = client.get(&uri).await;
            times.push(t);
            let next = body["next"].as_str().unwrap().to_owned();
            uri = format!("{base}&total=false&after={next}");
        }
    }
    all_pages.extend(times.iter().copied());
    report("table: pages 1-20 by cursor (no count)", &mut times, "");
    // Far jumps: the scroll bar dragged to any row, fetched by its row number.
    let mut times = Vec::new();
    for i in 0..rounds {
        let row = (i as u64 * 104_729 + 1) % total;
        let (t, body) = client
            .get(&format!("{base}&total=false&offset={row}"))
            .await;
        assert_eq!(
            body["rows"].as_array().map(Vec::len),
            Some(50.min((total - row) as usize))
        );
        times.push(t);
    }
    all_pages.extend(times.iter().copied());
    report("table: a jump to any row (by row number)", &mut times, "");
    // The same by the time of the last change, which the kept counts do not group by: the
    // index is read from the first row up to the one asked for.
    let mut times = Vec::new();
    for i in 0..rounds {
        let row = (i as u64 * 104_729 + 1) % total;
        let (t, body) = client
            .get(&format!("{base}&sort=updated_at&total=false&offset={row}"))
            .await;
        assert_eq!(
            body["rows"].as_array().map(Vec::len),
            Some(50.min((total - row) as usize))
        );
        times.push(t);
    }
    all_pages.extend(times.iter().copied());
    report("table: a jump by last change (from row 0)", &mut times, "");
    report("table: every page above", &mut all_pages, "");
    rss_samples.push(rss_mb());

    let phone = household_revision(123_457 % total, "x", "x")
        .text("/resp_phone")
        .unwrap()
        .trim_start_matches('+')
        .to_owned();
    let village = household_revision(777 % total, "x", "x")
        .text("/village")
        .unwrap()
        .to_owned();
    let searches: Vec<(&str, String)> = vec![
        (
            "search: a village (two words)",
            format!("&q={}", village.replace(' ', "%20")),
        ),
        (
            "search: a phone number (pii)",
            format!("&q={phone}&pii=true"),
        ),
        (
            "search: a first name (pii, common)",
            "&q=achieng&pii=true".into(),
        ),
        ("search: two common words", "&q=borehole%20pit".into()),
    ];
    let mut all_searches = Vec::new();
    for (name, params) in &searches {
        let mut times = Vec::new();
        let mut found = String::new();
        for _ in 0..(rounds / 2).max(3) {
            let (t, body) = client.get(&format!("{base}{params}")).await;
            let more = if body["total_capped"] == true {
                "+"
            } else {
                ""
            };
            found = format!("{}{more}", body["total"].as_u64().unwrap_or(0));
            times.push(t);
        }
        all_searches.extend(times.iter().copied());
        report(name, &mut times, &format!("({found} found)"));
    }
    report("search: every search above", &mut all_searches, "");
    rss_samples.push(rss_mb());

    let mut times = Vec::new();
    for _ in 0..(rounds / 4).max(3) {
        let (t, body) = client
            .get(&format!(
                "/api/v1/projects/{PROJECT}/forms/{FORM}/dashboard"
            ))
            .await;
        assert_eq!(body["total"].as_u64(), Some(total));
        times.push(t);
    }
    report("dashboard of the form", &mut times, "");
    let mut times = Vec::new();
    let mut history = Vec::new();
    for i in 0..rounds * 5 {
        let id = sample_uuid(2, (i as u64 * 7_919) % total);
        let (t, _) = client
            .get(&format!("/api/v1/projects/{PROJECT}/responses/{id}"))
            .await;
        times.push(t);
        let (t, _) = client
            .get(&format!(
                "/api/v1/projects/{PROJECT}/responses/{id}/history"
            ))
            .await;
        history.push(t);
    }
    report("a response", &mut times, "");
    report("a response's history", &mut history, "");
    let mut times = Vec::new();
    for _ in 0..(rounds / 4).max(3) {
        let (t, _) = client
            .get(&format!("/api/v1/projects/{PROJECT}/overview"))
            .await;
        times.push(t);
    }
    report("project overview", &mut times, "");
    let mut times = Vec::new();
    for _ in 0..(rounds / 4).max(3) {
        let (t, _) = client
            .get(&format!("/api/v1/projects/{PROJECT}/forms/{FORM}/points"))
            .await;
        times.push(t);
    }
    report("map of the form (1 km cells)", &mut times, "");
    rss_samples.push(rss_mb());
    println!(
        "memory: RSS {} MB while browsing (before, after the table, after paging, after searches, at the end); peak {:.0} MB",
        rss_samples
            .iter()
            .map(|m| format!("{m:.0}"))
            .collect::<Vec<_>>()
            .join(" → "),
        peak_mb()
    );
}
