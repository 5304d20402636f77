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
