//! The bad input table (tests/bad_input) on the embedded SQLite backend, and the check
//! that docs/protocol.md shows the table as the rows say.

mod bad_input;

use std::sync::Arc;

use voices_server::store::sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_row_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("voices.sqlite3")).unwrap();
    bad_input::run_all(Arc::new(store)).await;
}

#[test]
fn the_protocol_documents_every_bad_input_row() {
    bad_input::check_the_documented_table();
}
