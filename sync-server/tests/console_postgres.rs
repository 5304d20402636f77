//! The console's API on PostgreSQL (the tests are in `console/mod.rs`), each test in a
//! fresh database of the server `scripts/with-postgres.sh` starts.

mod common;
mod console;
mod pgdb;

use std::sync::Arc;

use voices_server::store::postgres::PostgresStore;
use voices_server::store::Store;

fn postgres() -> (pgdb::TestDatabase, Arc<dyn Store>) {
    let db = pgdb::TestDatabase::create();
    let store = PostgresStore::open(&db.url)
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL store at {}: {e}", db.url));
    (db, Arc::new(store))
}

console_suite!(postgres);
