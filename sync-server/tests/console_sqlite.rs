//! The console's API on the embedded SQLite backend (the tests are in `console/mod.rs`).

mod common;
mod console;

use std::sync::Arc;

use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;

fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("voices.sqlite3")).unwrap();
    (dir, Arc::new(store))
}

console_suite!(sqlite);
