//! PostgreSQL-only guarantees: several server processes (here: several independent
//! `PostgresStore`s, each with its own pool, exactly what separate processes have) on
//! one database ingest every revision exactly once, and the coordinator feed has no
//! gaps and no repeats while they write.

mod pgdb;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use voices_core::response::Response;
use voices_core::sync::protocol::AckStatus;
use voices_core::sync::{Hlc, ResponseState, ResponseStatus, Revision};
use voices_server::auth;
use voices_server::store::postgres::PostgresStore;
use voices_server::store::{IncomingRevision, Store, Uploader, Validation, Validator};

const NOW: &str = "2026-11-26T04:00:00.000Z";

struct AllValid;

impl Validator for AllValid {
    fn validate(&self, _: &str, _: &ResponseState, _: &Response) -> Validation {
        Validation::Valid
    }
}

fn revision(response: &str, actor: &str, seq: u64, id: &str) -> IncomingRevision {
    let revision = Revision {
        id: id.to_owned(),
        response: response.to_owned(),
        form: "household".into(),
        version: "1".into(),
        actor: actor.to_owned(),
        seq,
        validated: false,
        files: Default::default(),
        hlc: Hlc::new(1_764_000_000_000 + seq, 0),
        seen: Default::default(),
        set: BTreeMap::from([
            ("/name".to_owned(), Some(format!("{actor} {seq}").into())),
            (
                "/members[1]/age".to_owned(),
                Some((20 + seq).to_string().into()),
            ),
        ]),
        consent: None,
        privacy: BTreeMap::new(),
        selections: BTreeMap::new(),
        matching: BTreeMap::new(),
        outcome: None,
        status: Some(ResponseStatus::Finalized),
    };
    let body = serde_json::to_string(&revision).unwrap();
    IncomingRevision {
        sha256: auth::sha256_hex(body.as_bytes()),
        body,
        revision,
    }
}

fn uploader(id: &str) -> Uploader {
    Uploader {
        id: id.into(),
        enumerator: format!("enumerator of {id}"),
        devices: None,
    }
}

fn servers(db: &pgdb::TestDatabase, n: usize) -> Vec<Arc<PostgresStore>> {
    // Opened at once, as servers starting together would: migrations must run once.
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || PostgresStore::open_with_pool_size(&url, 4))
        })
        .collect();
    handles
        .into_iter()
        .map(|h| Arc::new(h.join().unwrap().expect("store opens")))
        .collect()
}

#[test]
fn servers_starting_together_migrate_once_and_share_data() {
    let db = pgdb::TestDatabase::create();
    let stores = servers(&db, 4);
    stores[0].add_project("p1", "One", NOW).unwrap();
    for store in &stores {
        assert!(store.project_exists("p1").unwrap());
    }
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let applied: i64 = client
        .query_one("SELECT count(*) FROM voices_schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        applied as usize,
        voices_server::store::postgres::SCHEMA_VERSION
    );
    // Reopening an up-to-date database changes nothing.
    PostgresStore::open(&db.url).unwrap();
    assert!(stores[1].add_project("p1", "again", NOW).is_err());
}

/// Every device's batches go to two servers at once, several times over, interleaved
/// with the other devices: each revision is stored once, accepted once, and every
/// response holds all its revisions.
#[test]
fn the_same_batches_through_two_servers_at_once_are_stored_once() {
    let db = pgdb::TestDatabase::create();
    let stores = servers(&db, 2);
    stores[0].add_project("p1", "One", NOW).unwrap();
    const DEVICES: usize = 4;
    const RESPONSES: usize = 30;
    const EDITS: u64 = 3;
    const ROUNDS: usize = 3;
    let batches: Vec<Vec<IncomingRevision>> = (0..DEVICES)
        .map(|d| {
            let mut batch = Vec::new();
            for r in 0..RESPONSES {
                for seq in 1..=EDITS {
                    let response = format!("resp-{d}-{r}");
                    batch.push(revision(
                        &response,
                        &format!("dev-{d}"),
                        seq,
                        &format!("{response}-e{seq}"),
                    ));
                }
            }
            batch
        })
        .collect();
    let batches = Arc::new(batches);
    let mut handles = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for d in 0..DEVICES {
            let store = store.clone();
            let batches = batches.clone();
            handles.push(std::thread::spawn(move || {
                let mut acks = Vec::new();
                for round in 0..ROUNDS {
                    // Chunks of different sizes per server and round, so batches overlap
                    // partially rather than exactly.
                    let chunk = 7 + 5 * s + 3 * round;
                    for part in batches[d].chunks(chunk) {
                        acks.extend(
                            store
                                .ingest("p1", &uploader(&format!("dev-{d}")), part, &AllValid, NOW)
                                .unwrap(),
                        );
                    }
                }
                acks
            }));
        }
    }
    let mut accepted: HashMap<String, usize> = HashMap::new();
    let mut total = 0;
    for h in handles {
        for ack in h.join().unwrap() {
            total += 1;
            match ack.status {
                AckStatus::Accepted => *accepted.entry(ack.id).or_default() += 1,
                AckStatus::Duplicate => {}
                other => panic!(
                    "revision {} acknowledged as {other:?}: {:?}",
                    ack.id, ack.reasons
                ),
            }
        }
    }
    let expected = DEVICES * RESPONSES * EDITS as usize;
    assert_eq!(total, expected * 2 * ROUNDS);
    assert_eq!(accepted.len(), expected, "some revision was never accepted");
    assert!(
        accepted.values().all(|&n| n == 1),
        "some revision was accepted more than once"
    );
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let stored: i64 = client
        .query_one("SELECT count(*) FROM revisions", &[])
        .unwrap()
        .get(0);
    assert_eq!(stored as usize, expected);
    for d in 0..DEVICES {
        for r in 0..RESPONSES {
            let id = format!("resp-{d}-{r}");
            let row = stores[1].get_response("p1", &id).unwrap().unwrap();
            assert_eq!(row.state.revision_count(), EDITS as usize, "{id}");
            assert_eq!(
                stores[0].revisions_of("p1", &id).unwrap().len(),
                EDITS as usize
            );
        }
    }
    println!(
        "two servers: {} acks, {} revisions stored once each",
        total, expected
    );
}

/// Two batches race with the same revision id for different responses (so they lock
/// different responses): one is stored, the other is refused as a conflicting id.
#[test]
fn a_revision_id_racing_for_two_responses_is_stored_once() {
    let db = pgdb::TestDatabase::create();
    let stores = servers(&db, 2);
    stores[0].add_project("p1", "One", NOW).unwrap();
    for round in 0..20 {
        let id = format!("shared-{round}");
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(s, store)| {
                let store = store.clone();
                let batch = vec![revision(&format!("resp-{round}-{s}"), "dev", 1, &id)];
                std::thread::spawn(move || {
                    store
                        .ingest("p1", &uploader("dev"), &batch, &AllValid, NOW)
                        .unwrap()
                })
            })
            .collect();
        let statuses: Vec<AckStatus> = handles
            .into_iter()
            .map(|h| h.join().unwrap()[0].status)
            .collect();
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == AckStatus::Accepted)
                .count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == AckStatus::Rejected)
                .count(),
            1,
            "round {round}: {statuses:?}"
        );
    }
}

/// Writers on two servers, many small transactions each, while a reader on a third
/// pages through the feed: every response is seen exactly once, the cursor only grows.
/// With a plain sequence this fails: a transaction holding position n can commit after
/// one holding n+1, and a reader that passed n+1 never comes back for n.
#[test]
fn pull_cursor_has_no_gaps_or_repeats_across_servers() {
    let db = pgdb::TestDatabase::create();
    let stores = servers(&db, 3);
    stores[0].add_project("p1", "One", NOW).unwrap();
    const WRITERS: usize = 6;
    const BATCHES: usize = 60;
    const PER_BATCH: usize = 3;
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = stores[w % 2].clone();
            std::thread::spawn(move || {
                for b in 0..BATCHES {
                    let batch: Vec<_> = (0..PER_BATCH)
                        .map(|i| {
                            let response = format!("w{w}-b{b}-r{i}");
                            revision(&response, &format!("dev-{w}"), 1, &format!("{response}-e1"))
                        })
                        .collect();
                    store
                        .ingest("p1", &uploader(&format!("dev-{w}")), &batch, &AllValid, NOW)
                        .unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let store = stores[2].clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut seen = HashSet::new();
            let mut cursor = 0i64;
            let mut pages = 0usize;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = store.pull("p1", cursor, 5).unwrap();
                pages += 1;
                for row in &page {
                    assert!(row.feed_seq > cursor, "the cursor went backwards");
                    assert!(
                        seen.insert(row.state.response.clone()),
                        "response {} seen twice",
                        row.state.response
                    );
                    cursor = row.feed_seq;
                }
                if page.is_empty() && finished {
                    return (seen, pages);
                }
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (seen, pages) = reader.join().unwrap();
    assert_eq!(
        seen.len(),
        WRITERS * BATCHES * PER_BATCH,
        "the reader missed responses"
    );
    assert!(pages > 20, "the reader did not interleave with the writers");
    println!(
        "feed: {} responses from {WRITERS} writers on 2 servers, read in {pages} pages, 0 missed, 0 repeated",
        seen.len()
    );
}
