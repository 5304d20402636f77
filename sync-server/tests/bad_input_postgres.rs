//! The bad input table (tests/bad_input) on PostgreSQL, in a fresh database of the
//! server `scripts/with-postgres.sh` starts.

mod bad_input;
mod pgdb;

use std::sync::Arc;

use voices_server::store::postgres::PostgresStore;

/// Not a `tokio::test`: the throwaway database is made and dropped with the blocking
/// PostgreSQL client, outside the runtime the router runs on; so is the store.
#[test]
fn every_bad_input_row_on_postgres() {
    let db = pgdb::TestDatabase::create();
    let store: Arc<dyn voices_server::store::Store> = Arc::new(
        PostgresStore::open(&db.url)
            .unwrap_or_else(|e| panic!("cannot open the PostgreSQL store at {}: {e}", db.url)),
    );
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(bad_input::run_all(store.clone()));
    // Dropped here, outside the runtime, as the blocking client needs.
    drop(store);
}
