//! The storage suite on the embedded SQLite backend.

mod suite;

use std::sync::Arc;

use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;

fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("voices.sqlite3")).unwrap();
    (dir, Arc::new(store))
}

store_suite!(sqlite);

#[test]
fn reopening_keeps_data_and_does_not_reapply_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite3");
    SqliteStore::open(&path)
        .unwrap()
        .add_project("p1", "One", suite::NOW)
        .unwrap();
    let again = SqliteStore::open(&path).unwrap();
    assert!(again.project_exists("p1").unwrap());
}
