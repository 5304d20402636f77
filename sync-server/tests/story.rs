//! The same story on SQLite (one server) and on PostgreSQL (two server processes on one
//! database): devices provisioned with their one-time codes interview households,
//! upload in compressed batches to whichever server they reach, resend some batches to
//! the other, edit finalized responses later, while a coordinator pages through the
//! feed on both servers. Ends with zero lost and zero duplicated responses, checked
//! against the devices' own records.

mod harness;
mod pgdb;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use harness::{Backend, Device, Server};
use tokio::sync::Mutex;

const DEVICES: usize = 4;
const INTERVIEWS: u64 = 150;
const BATCH: usize = 20;

async fn story(backend: &Backend, servers: usize) {
    let name = backend.name();
    let codes = backend.set_up(DEVICES);
    let logs = tempfile::tempdir().unwrap();
    let mut running = Vec::new();
    for _ in 0..servers {
        running.push(Server::start(backend, logs.path()).await);
    }
    let bases: Vec<String> = running.iter().map(|s| s.url.clone()).collect();
    let client = harness::http_client();

    let mut devices = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let credentials = harness::provision(&client, &bases[i % servers], code).await;
        // A code works once, on any server.
        let again = client
            .post(format!("{}/api/v1/provision", bases[(i + 1) % servers]))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            again.status(),
            401,
            "{name}: a provisioning code worked twice"
        );
        let mut device = Device::new(credentials, 0);
        for n in 0..INTERVIEWS {
            device.interview(i as u64 * 1_000_000 + n);
        }
        devices.push(Arc::new(Mutex::new(device)));
    }

    let coordinator = harness::login(&client, &bases[0]).await;
    let uploads_done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let resent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let batches = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    // Devices upload at once, each batch to one server, every third again to another.
    let mut tasks = Vec::new();
    for (i, device) in devices.iter().enumerate() {
        let (device, client, bases) = (device.clone(), client.clone(), bases.clone());
        let (done, resent, batches) = (uploads_done.clone(), resent.clone(), batches.clone());
        tasks.push(tokio::spawn(async move {
            let mut round = 0usize;
            loop {
                let (pending, token) = {
                    let d = device.lock().await;
                    (d.pending(), d.token.clone())
                };
                if pending.is_empty() {
                    break;
                }
                assert!(round < 50, "device {i} could not upload in 50 rounds");
                for (b, chunk) in pending.chunks(BATCH).enumerate() {
                    let base = &bases[(i + b + round) % bases.len()];
                    batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let ack = harness::upload(&client, base, &token, chunk).await.unwrap();
                    device.lock().await.take_ack(&ack);
                    if b % 3 == 0 {
                        let other = &bases[(i + b + round + 1) % bases.len()];
                        resent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let ack = harness::upload(&client, other, &token, chunk)
                            .await
                            .unwrap();
                        assert!(
                            ack.records
                                .iter()
                                .all(|r| r.status
                                    == voices_core::sync::protocol::AckStatus::Duplicate),
                            "a resent batch was not recognised as already stored"
                        );
                    }
                }
                round += 1;
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }

    // The coordinator pages through the feed while the devices upload.
    let mut cursor = "0".to_owned();
    let mut changes = HashSet::new();
    let mut pulled = HashMap::new();
    let mut pages = 0;
    while uploads_done.load(std::sync::atomic::Ordering::SeqCst) < DEVICES {
        pages += harness::pull_all(
            &client,
            &bases,
            &coordinator,
            &mut cursor,
            &mut changes,
            &mut pulled,
            37,
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Later edits of finalized responses, sent to the other server; the feed moves them.
    let mut edited = 0;
    for (i, device) in devices.iter().enumerate() {
        let mut d = device.lock().await;
        let responses: Vec<String> = {
            let mut r: Vec<String> = d.responses().into_iter().collect();
            r.sort();
            r.into_iter().take(10).collect()
        };
        for response in &responses {
            d.edit(
                response,
                "/comments",
                &format!("Corrected on review by enumerator {i}"),
            );
            edited += 1;
        }
        let pending = d.pending();
        let ack = harness::upload(
            &client,
            &bases[(i + 1) % servers],
            &d.token.clone(),
            &pending,
        )
        .await
        .unwrap();
        assert_eq!(
            ack.accepted as usize + ack.quarantined as usize,
            pending.len()
        );
        d.take_ack(&ack);
    }
    pages += harness::pull_all(
        &client,
        &bases,
        &coordinator,
        &mut cursor,
        &mut changes,
        &mut pulled,
        37,
    )
    .await;

    // The CSV export (from the other server) has every response once, and a row per
    // household member in the repeat table.
    let zip = client
        .get(format!(
            "{}/api/v1/projects/{}/forms/household_survey/export?format=csv",
            bases[bases.len() - 1],
            harness::PROJECT
        ))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert!(
        zip.status().is_success(),
        "{name}: export failed: {}",
        zip.status()
    );
    let zip = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut keys = HashSet::new();
    let mut rows = 0;
    for record in
        csv::Reader::from_reader(archive.by_name("household_survey.csv").unwrap()).records()
    {
        let record = record.unwrap();
        rows += 1;
        keys.insert(
            record
                .iter()
                .find(|f| f.starts_with("uuid:"))
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(rows, DEVICES * INTERVIEWS as usize, "{name}: export rows");
    assert_eq!(keys.len(), rows, "{name}: a response exported twice");

    let devices = harness::unwrap_devices(devices);
    let (lost, duplicated) =
        harness::check_against_devices(name, &devices, &pulled, &HashMap::new()).await;
    let made: usize = devices.iter().map(|d| d.made.len()).sum();
    let quarantined: usize = devices.iter().map(|d| d.quarantined).sum();
    println!(
        "story ({name}, {servers} server{}): {DEVICES} devices, {} responses, {made} revisions ({edited} edits), \
         {} batches, {} resent, {pages} pull pages, {quarantined} quarantined acks, {lost} lost, {duplicated} duplicated",
        if servers == 1 { "" } else { "s" },
        pulled.len(),
        batches.load(std::sync::atomic::Ordering::SeqCst),
        resent.load(std::sync::atomic::Ordering::SeqCst),
    );
    assert_eq!((lost, duplicated), (0, 0));
    assert_eq!(pulled.len(), DEVICES * INTERVIEWS as usize);
}

/// The PostgreSQL test database is set up and dropped with a blocking client, so the
/// runtime lives inside the test rather than around it.
fn run(backend: Backend, servers: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(story(&backend, servers));
}

#[test]
fn story_on_sqlite() {
    run(Backend::sqlite(), 1);
}

#[test]
fn story_on_postgres_with_two_server_processes() {
    run(Backend::postgres(), 2);
}
