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

/// Runs `race` once, the first time a batch is validated: that is while the batch is
/// planned on a read snapshot, before the write lock, so whatever `race` writes makes
/// the plan stale.
struct RaceOnce {
    race: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
    calls: std::sync::atomic::AtomicUsize,
}

impl RaceOnce {
    fn new(race: impl FnOnce() + Send + 'static) -> RaceOnce {
        RaceOnce {
            race: std::sync::Mutex::new(Some(Box::new(race))),
            calls: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl voices_server::store::Validator for RaceOnce {
    fn validate(
        &self,
        _: &str,
        _: &voices_core::sync::ResponseState,
        _: &voices_core::Response,
    ) -> voices_server::store::Validation {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let race = self.race.lock().unwrap().take();
        if let Some(race) = race {
            race();
        }
        voices_server::store::Validation::Valid
    }
}

#[test]
fn a_batch_planned_while_another_writes_the_same_response_is_planned_again() {
    use voices_core::sync::protocol::AckStatus;
    use voices_core::sync::Revision;
    use voices_server::sample::household_revision;

    let (_dir, store) = sqlite();
    store.add_project("p1", "One", suite::NOW).unwrap();
    let first = household_revision(3, "dev-a", "1");
    store
        .ingest(
            "p1",
            &suite::uploader("dev-a"),
            &[suite::incoming(first.clone())],
            &suite::TestValidator,
            suite::NOW,
        )
        .unwrap();
    let second = Revision {
        id: "a2".into(),
        seq: 2,
        set: [("/resp_age".to_string(), Some("41".into()))].into(),
        ..first.clone()
    };
    // A coordinator's edit that had seen only the device's first: concurrent with its second.
    let concurrent = Revision {
        id: "c1".into(),
        actor: "user:coord".into(),
        seen: voices_core::sync::VersionVector([("dev-a".to_string(), 1)].into()),
        set: [("/resp_age".to_string(), Some("999".into()))].into(),
        ..first.clone()
    };
    let racer = {
        let (store, concurrent) = (store.clone(), concurrent.clone());
        move || {
            let acks = store
                .ingest(
                    "p1",
                    &suite::uploader("user:coord"),
                    &[suite::incoming(concurrent)],
                    &suite::TestValidator,
                    suite::NOW,
                )
                .unwrap();
            assert_eq!(acks[0].status, AckStatus::Accepted);
        }
    };
    let validator = RaceOnce::new(racer);
    let acks = store
        .ingest(
            "p1",
            &suite::uploader("dev-a"),
            &[suite::incoming(second)],
            &validator,
            suite::NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Accepted);
    assert!(
        validator.calls.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the stale plan was not made again"
    );
    // Neither edit is lost: the response holds every revision, merged.
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    assert_eq!(row.state.revision_count(), 3);
    assert_eq!(store.revisions_of("p1", &first.response).unwrap().len(), 3);
    assert!(row.state.has_conflicts(), "concurrent edits of /resp_age");
}

#[test]
fn a_revision_stored_by_a_racing_batch_is_acknowledged_as_a_duplicate() {
    use voices_core::sync::protocol::AckStatus;
    use voices_server::sample::household_revision;

    let (_dir, store) = sqlite();
    store.add_project("p1", "One", suite::NOW).unwrap();
    let revision = household_revision(4, "dev-a", "1");
    let racer = {
        let (store, revision) = (store.clone(), revision.clone());
        move || {
            // The same device's retry, on another connection, gets in first.
            store
                .ingest(
                    "p1",
                    &suite::uploader("dev-a"),
                    &[suite::incoming(revision)],
                    &suite::TestValidator,
                    suite::NOW,
                )
                .unwrap();
        }
    };
    let acks = store
        .ingest(
            "p1",
            &suite::uploader("dev-a"),
            &[suite::incoming(revision.clone())],
            &RaceOnce::new(racer),
            suite::NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Duplicate);
    assert_eq!(
        store.revisions_of("p1", &revision.response).unwrap().len(),
        1
    );
    let row = store
        .get_response("p1", &revision.response)
        .unwrap()
        .unwrap();
    assert_eq!(row.state.revision_count(), 1);
}
