//! Fault tests against real `voices-server` processes, on SQLite and on PostgreSQL:
//!
//! - the fault proxy (`harness/proxy.rs`) between devices and server, which cuts
//!   requests part-way, cuts responses after the server has stored the batch, sends
//!   requests twice and holds some back so they arrive out of order;
//! - `kill -9` of the server while batches are in flight, and restart;
//! - device clocks skewed by days, with a coordinator editing on top of them.
//!
//! Each ends with zero lost and zero duplicated responses, checked against the devices'
//! own records, and prints its tallies. Loops are bounded; `VOICES_FAULT_SEED` replays a
//! run.

mod harness;
mod pgdb;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use harness::{proxy, Backend, Device, Server};
use voices_core::sync::protocol::PulledResponse;
use voices_core::sync::{Hlc, ResponseStatus, Revision, Value};
use voices_server::sample::Mix;

const DAY_MS: i64 = 86_400_000;

fn seed() -> u64 {
    let seed = std::env::var("VOICES_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_126);
    println!("fault seed {seed} (set VOICES_FAULT_SEED to replay)");
    seed
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

// ------------------------------------------------------------------------ devices

/// Upload everything a device has not had acknowledged, in shuffled batches, two in
/// flight at a time, again and again until nothing is left (bounded).
async fn sync_device(
    device: Arc<tokio::sync::Mutex<Device>>,
    client: reqwest::Client,
    base: String,
    seed: u64,
    batch: usize,
    failures: Arc<AtomicUsize>,
) -> usize {
    let mut g = Mix(seed);
    let mut rounds = 0;
    loop {
        let (mut pending, token) = {
            let d = device.lock().await;
            (d.pending(), d.token.clone())
        };
        if pending.is_empty() {
            return rounds;
        }
        assert!(rounds < 200, "a device could not sync in 200 rounds");
        rounds += 1;
        // Fisher-Yates, so batches (and the edits in them) go out of order.
        for i in (1..pending.len()).rev() {
            pending.swap(i, g.below(i as u64 + 1) as usize);
        }
        let chunks: Vec<Vec<Revision>> = pending.chunks(batch).map(<[Revision]>::to_vec).collect();
        for pair in chunks.chunks(2) {
            let compress = g.below(2) == 0;
            let outcomes = match pair {
                [one, two] => {
                    let (a, b) = tokio::join!(
                        harness::upload_with(&client, &base, &token, one, compress),
                        harness::upload_with(&client, &base, &token, two, compress)
                    );
                    vec![a, b]
                }
                _ => vec![harness::upload_with(&client, &base, &token, &pair[0], compress).await],
            };
            for outcome in outcomes {
                match outcome {
                    Ok(ack) => device.lock().await.take_ack(&ack),
                    Err(_) => {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }
        // Back off with jitter before the next round.
        tokio::time::sleep(Duration::from_millis(10 + g.below(40))).await;
    }
}

// ------------------------------------------------------------------------ the tests

async fn through_a_faulty_proxy(backend: &Backend) {
    let seed = seed();
    let codes = backend.set_up(4);
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(backend, logs.path()).await;
    let tally = Arc::new(proxy::Tally::default());
    let proxy = proxy::start_proxy(server.port, seed, tally.clone()).await;
    let proxied = format!("http://127.0.0.1:{proxy}");
    let direct = harness::http_client();
    let devices = harness::make_devices(&direct, &server.url, &codes, 120, &[0]).await;
    let failures = Arc::new(AtomicUsize::new(0));
    let client = proxy::fresh_connections();
    let tasks: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            tokio::spawn(sync_device(
                d.clone(),
                client.clone(),
                proxied.clone(),
                seed ^ (i as u64 + 1),
                15,
                failures.clone(),
            ))
        })
        .collect();
    let mut rounds = 0;
    for t in tasks {
        rounds += t.await.unwrap();
    }
    let pulled = harness::pull_everything(&direct, &server.url).await;
    let devices = harness::unwrap_devices(devices);
    let (lost, duplicated) =
        harness::check_against_devices(backend.name(), &devices, &pulled, &HashMap::new()).await;
    println!(
        "faults ({}): {} batches, {} cut requests, {} cut responses, {} duplicated, {} delayed, \
         {} failed sends retried over {rounds} rounds; {} responses, {lost} lost, {duplicated} duplicated",
        backend.name(),
        tally.uploads.load(Ordering::SeqCst),
        tally.cut_requests.load(Ordering::SeqCst),
        tally.cut_responses.load(Ordering::SeqCst),
        tally.duplicated.load(Ordering::SeqCst),
        tally.delayed.load(Ordering::SeqCst),
        failures.load(Ordering::SeqCst),
        pulled.len(),
    );
    assert_eq!((lost, duplicated), (0, 0));
    assert!(
        tally.cut_requests.load(Ordering::SeqCst) > 0
            && tally.cut_responses.load(Ordering::SeqCst) > 0
            && tally.duplicated.load(Ordering::SeqCst) > 0,
        "the proxy did not inject every kind of fault"
    );
}

async fn server_killed_mid_batch(backend: &Backend) {
    let seed = seed();
    let codes = backend.set_up(4);
    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::start(backend, logs.path()).await;
    let client = harness::http_client();
    let devices = harness::make_devices(&client, &server.url, &codes, 400, &[0]).await;
    let failures = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            tokio::spawn(sync_device(
                d.clone(),
                client.clone(),
                server.url.clone(),
                seed ^ (i as u64 + 7),
                50,
                failures.clone(),
            ))
        })
        .collect();
    let mut g = Mix(seed);
    let mut kills = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(100 + g.below(400))).await;
        server.kill9();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.restart().await;
    }
    let mut rounds = 0;
    for t in tasks {
        rounds += t.await.unwrap();
    }
    let pulled = harness::pull_everything(&client, &server.url).await;
    let devices = harness::unwrap_devices(devices);
    let (lost, duplicated) =
        harness::check_against_devices(backend.name(), &devices, &pulled, &HashMap::new()).await;
    let made: usize = devices.iter().map(|d| d.made.len()).sum();
    println!(
        "kill -9 ({}): {kills} kills, {made} revisions, {} failed sends retried over {rounds} rounds; \
         {} responses, {lost} lost, {duplicated} duplicated",
        backend.name(),
        failures.load(Ordering::SeqCst),
        pulled.len(),
    );
    assert_eq!((lost, duplicated), (0, 0));
    assert!(
        failures.load(Ordering::SeqCst) > 0,
        "no upload was interrupted: the kills came too late to test anything"
    );
}

/// A coordinator's edit on top of a revision from a device whose clock is days ahead.
fn coordinator_edit(item: &PulledResponse, seq: u64, value: &str, wall_ms: u64) -> Revision {
    Revision {
        id: format!("{}-coord-{seq}", item.response.id),
        response: item.response.id.clone(),
        form: item.response.form_id.clone(),
        version: item.response.form_version.clone(),
        actor: format!("user:{}", harness::COORDINATOR),
        seq,
        validated: false,
        files: Default::default(),
        hlc: Hlc::new(wall_ms, 0),
        seen: item.context.clone(),
        set: BTreeMap::from([("/comments".to_owned(), Some(value.into()))]),
        consent: None,
        privacy: BTreeMap::new(),
        selections: BTreeMap::new(),
        matching: BTreeMap::new(),
        outcome: None,
        status: Some(ResponseStatus::Finalized),
    }
}

async fn clocks_skewed_by_days(backend: &Backend) {
    let seed = seed();
    let codes = backend.set_up(3);
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(backend, logs.path()).await;
    let client = harness::http_client();
    // Three days slow, on time, five days fast.
    let skews = [-3 * DAY_MS, 0, 5 * DAY_MS];
    let devices = harness::make_devices(&client, &server.url, &codes, 60, &skews).await;
    let failures = Arc::new(AtomicUsize::new(0));
    for (i, d) in devices.iter().enumerate() {
        sync_device(
            d.clone(),
            client.clone(),
            server.url.clone(),
            seed ^ i as u64,
            25,
            failures.clone(),
        )
        .await;
    }
    let coordinator = harness::login(&client, &server.url).await;
    let pulled = harness::pull_everything(&client, &server.url).await;

    // Causally later wins although its clock reads five days earlier.
    let fast: String = {
        let d = devices[2].lock().await;
        let mut r: Vec<String> = d.responses().into_iter().collect();
        r.sort();
        r.last().unwrap().clone()
    };
    // The coordinator's laptop reads five days before the fast device's revision.
    let fast_wall = {
        let d = devices[2].lock().await;
        d.made
            .iter()
            .filter(|r| r.response == fast)
            .map(|r| r.hlc.wall_ms)
            .max()
            .unwrap()
    };
    let after_fast = coordinator_edit(
        &pulled[&fast],
        1,
        "checked by the coordinator",
        fast_wall - 5 * DAY_MS as u64,
    );
    // Concurrent edits: the coordinator and the slow device each change the same answer
    // without having seen the other's change. Both values stay, as a conflict.
    let slow: String = {
        let d = devices[0].lock().await;
        let mut r: Vec<String> = d.responses().into_iter().collect();
        r.sort();
        r.last().unwrap().clone()
    };
    let concurrent = coordinator_edit(
        &pulled[&slow],
        1,
        "coordinator's reading",
        chrono::Utc::now().timestamp_millis() as u64,
    );
    let ack = harness::upload(
        &client,
        &server.url,
        &coordinator,
        &[after_fast, concurrent],
    )
    .await
    .unwrap();
    assert_eq!(ack.accepted + ack.quarantined, 2, "{ack:?}");
    {
        let mut d = devices[0].lock().await;
        d.edit(&slow, "/comments", "slow device's reading");
    }
    sync_device(
        devices[0].clone(),
        client.clone(),
        server.url.clone(),
        seed,
        25,
        failures.clone(),
    )
    .await;

    let pulled = harness::pull_everything(&client, &server.url).await;
    let flat = voices_core::answer::FlatAnswers::from_tree(&pulled[&fast].response.answers)
        .expect("pulled answers flatten");
    assert_eq!(
        flat.get("/comments"),
        Some("checked by the coordinator"),
        "the wall clock decided instead of causality"
    );
    assert!(pulled[&fast].conflicts.is_empty());
    let conflict = pulled[&slow]
        .conflicts
        .iter()
        .find(|c| c.key == "/comments")
        .expect("concurrent edits kept as a conflict");
    let values: HashSet<String> = conflict
        .values
        .iter()
        .filter_map(|e| match &e.value {
            Value::Text(Some(v)) => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        values,
        HashSet::from([
            "coordinator's reading".to_owned(),
            "slow device's reading".to_owned()
        ])
    );

    let devices = harness::unwrap_devices(devices);
    let others = HashMap::from([(fast.clone(), 1u64), (slow.clone(), 1u64)]);
    let mut checked: Vec<Device> = devices;
    // Values decided by the coordinator are not the devices' own any more.
    for d in &mut checked {
        for r in [&fast, &slow] {
            if let Some(latest) = d.latest.get_mut(r) {
                latest.remove("/comments");
            }
        }
    }
    let (lost, duplicated) =
        harness::check_against_devices(backend.name(), &checked, &pulled, &others).await;
    println!(
        "clock skew ({}): devices at -3 d, 0, +5 d; {} responses, causal order kept, concurrent edit kept as a conflict, {lost} lost, {duplicated} duplicated",
        backend.name(),
        pulled.len()
    );
    assert_eq!((lost, duplicated), (0, 0));
}

/// Each scenario is a test on SQLite and a test on PostgreSQL.
macro_rules! on_both_backends {
    ($($scenario:ident: $on_sqlite:ident, $on_postgres:ident;)*) => {$(
        #[test]
        fn $on_sqlite() {
            runtime().block_on($scenario(&Backend::sqlite()));
        }

        #[test]
        fn $on_postgres() {
            runtime().block_on($scenario(&Backend::postgres()));
        }
    )*};
}

on_both_backends! {
    through_a_faulty_proxy: proxy_faults_on_sqlite, proxy_faults_on_postgres;
    server_killed_mid_batch: kill_9_on_sqlite, kill_9_on_postgres;
    clocks_skewed_by_days: skewed_clocks_on_sqlite, skewed_clocks_on_postgres;
}
