//! The storage suite on PostgreSQL, each test in a fresh database of the server that
//! `scripts/with-postgres.sh` starts (`VOICES_TEST_DATABASE_URL`; the tests fail, not
//! skip, without it).

mod pgdb;
mod suite;

use std::sync::Arc;

use voices_server::store::postgres::PostgresStore;
use voices_server::store::Store;

fn postgres() -> (pgdb::TestDatabase, Arc<dyn Store>) {
    let db = pgdb::TestDatabase::create();
    let store = PostgresStore::open(&db.url)
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL store at {}: {e}", db.url));
    (db, Arc::new(store))
}

store_suite!(postgres);

#[test]
fn reopening_keeps_data_and_does_not_reapply_migrations() {
    let db = pgdb::TestDatabase::create();
    PostgresStore::open(&db.url)
        .unwrap()
        .add_project("p1", "One", suite::NOW)
        .unwrap();
    let again = PostgresStore::open(&db.url).unwrap();
    assert!(again.project_exists("p1").unwrap());
}

#[test]
fn a_bad_url_is_a_clear_error() {
    let err = PostgresStore::open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        .err()
        .expect("connecting to a closed port fails");
    assert!(
        err.to_string().contains("PostgreSQL"),
        "unclear error: {err}"
    );
}

/// Holds the ingest inside its transaction (so its pooled connection stays taken) until
/// told to go on.
struct Gate(std::sync::Mutex<std::sync::mpsc::Receiver<()>>);

impl voices_server::store::Validator for Gate {
    fn validate(
        &self,
        _: &str,
        _: &voices_core::sync::ResponseState,
        _: &voices_core::Response,
    ) -> voices_server::store::Validation {
        let _ = self.0.lock().unwrap().recv();
        voices_server::store::Validation::Valid
    }
}

#[test]
fn an_exhausted_pool_answers_busy_quickly_instead_of_waiting() {
    use std::time::{Duration, Instant};
    let db = pgdb::TestDatabase::create();
    let store =
        Arc::new(PostgresStore::open_with_pool(&db.url, 1, Duration::from_millis(300)).unwrap());
    store.add_project("p1", "One", suite::NOW).unwrap();
    let (go_on, wait) = std::sync::mpsc::channel();
    let holder = {
        let store = store.clone();
        std::thread::spawn(move || {
            let batch = [suite::incoming(voices_server::sample::household_revision(
                1, "tab-a", "v1",
            ))];
            store.ingest(
                "p1",
                &suite::uploader("tab-a"),
                &batch,
                &Gate(std::sync::Mutex::new(wait)),
                suite::NOW,
            )
        })
    };
    // The one connection is taken once the ingest has begun.
    let started = Instant::now();
    let busy = loop {
        match store.project_exists("p1") {
            Ok(_) if started.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            other => break other,
        }
    };
    let asked = Instant::now();
    let err = store
        .project_exists("p1")
        .expect_err("the pool is exhausted");
    assert!(
        matches!(err, voices_server::Error::Busy(_)),
        "not a busy error: {err}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "waited {:?} for a connection",
        asked.elapsed()
    );
    assert!(
        matches!(busy, Err(voices_server::Error::Busy(_))),
        "{busy:?}"
    );
    go_on.send(()).unwrap();
    let acks = holder.join().unwrap().unwrap();
    assert_eq!(
        acks[0].status,
        voices_core::sync::protocol::AckStatus::Accepted
    );
    assert!(store.project_exists("p1").unwrap(), "the pool recovers");
}

#[test]
fn validating_inside_the_ingest_needs_no_second_connection() {
    // One pooled connection: the ingest transaction holds it, so the form version the
    // validator checks against must already be loaded (`Validator::prepare`), or the
    // upload would wait for a connection that only it could give back.
    let db = pgdb::TestDatabase::create();
    let store: Arc<dyn Store> = Arc::new(
        PostgresStore::open_with_pool(&db.url, 1, std::time::Duration::from_secs(2)).unwrap(),
    );
    store.add_project("p1", "One", suite::NOW).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/forms/household-survey.json");
    let form = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing {} ({e})", path.display()));
    voices_server::publish::publish(store.as_ref(), "p1", &form, "designer").unwrap();
    let catalog = voices_server::validate::FormCatalog::new(store.clone());
    let mut body = Vec::new();
    for i in 0..3 {
        let revision = voices_server::sample::household_revision(i, "tab-a", "2026112601");
        serde_json::to_writer(&mut body, &revision).unwrap();
        body.push(b'\n');
    }
    let ack = voices_server::ingest::ingest_lines(
        store.as_ref(),
        &catalog,
        "p1",
        &suite::uploader("tab-a"),
        &body,
        false,
        &voices_server::http::default_limits(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ack.accepted, 3, "{:?}", ack.records);
}

#[test]
fn the_audit_log_refuses_updates_deletes_and_truncation() {
    use voices_server::store::access::{AuditAction, AuditRecord};
    let (db, store) = postgres();
    store
        .append_audit(&AuditRecord {
            at: suite::NOW.into(),
            actor: "cora".into(),
            action: AuditAction::Export,
            project: None,
            target: None,
            detail: "pii=true".into(),
            ok: true,
        })
        .unwrap();
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    for statement in [
        "UPDATE audit_log SET actor = 'nobody'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = client.batch_execute(statement).expect_err(statement);
        let message = err
            .as_db_error()
            .map_or_else(|| err.to_string(), |e| e.message().to_owned());
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM audit_log WHERE actor = 'cora'", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}
