//! Reading the feed: known revisions, one form's responses, cursors under concurrent
//! writers, per-project positions.

use super::*;

pub fn known_revisions_lists_what_is_stored(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let batch: Vec<_> = (0..5)
        .map(|i| incoming(household_revision(i, "dev-a", "1")))
        .collect();
    store
        .ingest("p1", &uploader("dev-a"), &batch[..3], &TestValidator, NOW)
        .unwrap();
    let ids: Vec<String> = batch.iter().map(|b| b.revision.id.clone()).collect();
    let known = store.known_revisions("p1", &ids).unwrap();
    assert_eq!(known, ids[..3]);
    assert!(store.known_revisions("p2", &ids).unwrap().is_empty());
}

/// The export's read: one form's responses in feed order, paged, the other forms' and
/// projects' left out by the store, edits moving a response to its latest position.
pub fn pull_form_reads_one_form_in_feed_order(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let batch: Vec<_> = (0..9)
        .map(|i| {
            let mut r = household_revision(i, "dev-a", "1");
            if i % 3 == 1 {
                r.form = "market_survey".into();
            }
            incoming(r)
        })
        .collect();
    store
        .ingest("p1", &uploader("dev-a"), &batch, &TestValidator, NOW)
        .unwrap();
    let mut elsewhere = household_revision(100, "dev-b", "1");
    elsewhere.form = "market_survey".into();
    store
        .ingest(
            "p2",
            &uploader("dev-b"),
            &[incoming(elsewhere)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    // An edit moves the first response to the end of the feed.
    let first = batch[0].revision.response.clone();
    assert!(store
        .set_review_state("p1", &first, ReviewState::Approved, NOW)
        .unwrap());
    let read_all = |form: &str| {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = store.pull_form("p1", form, after, 2).unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else {
                return out;
            };
            after = last.feed_seq;
            out.extend(page);
        }
    };
    for form in ["household_survey", "market_survey"] {
        let rows = read_all(form);
        let expected: Vec<String> = store
            .pull("p1", 0, 100)
            .unwrap()
            .into_iter()
            .filter(|r| r.state.form == form)
            .map(|r| r.state.response)
            .collect();
        let got: Vec<String> = rows.iter().map(|r| r.state.response.clone()).collect();
        assert_eq!(got, expected, "{form}");
        assert!(rows.iter().all(|r| r.state.form == form));
        assert!(rows.windows(2).all(|w| w[0].feed_seq < w[1].feed_seq));
    }
    assert_eq!(read_all("household_survey").len(), 6);
    assert_eq!(read_all("market_survey").len(), 3);
    assert_eq!(
        read_all("household_survey").last().unwrap().state.response,
        first
    );
    assert!(read_all("nope").is_empty());
    assert_eq!(
        store.pull_form("p2", "market_survey", 0, 10).unwrap().len(),
        1
    );
}

/// Writers on several threads add responses while a reader pages through the feed:
/// the reader must see every response exactly once — no gaps, no repeats.
pub fn pull_cursor_has_no_gaps_under_concurrent_writers(store: Arc<dyn Store>) {
    setup(store.as_ref());
    const WRITERS: u64 = 4;
    const BATCHES: u64 = 40;
    const PER_BATCH: u64 = 10;
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let done = done.clone();
        handles.push(std::thread::spawn(move || {
            for b in 0..BATCHES {
                let batch: Vec<_> = (0..PER_BATCH)
                    .map(|i| {
                        let n = (w * BATCHES + b) * PER_BATCH + i;
                        incoming(household_revision(n, &format!("dev-{w}"), "1"))
                    })
                    .collect();
                store
                    .ingest(
                        "p1",
                        &uploader(&format!("dev-{w}")),
                        &batch,
                        &TestValidator,
                        NOW,
                    )
                    .unwrap();
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    let mut seen = HashSet::new();
    let mut cursor = 0i64;
    let mut pages = 0;
    loop {
        let writers_done = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS as usize;
        let page = store.pull("p1", cursor, 7).unwrap();
        pages += 1;
        for row in &page {
            assert!(row.feed_seq > cursor, "cursor went backwards");
            assert!(
                seen.insert(row.state.response.clone()),
                "response seen twice"
            );
            cursor = row.feed_seq;
        }
        if page.is_empty() && writers_done {
            break;
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        seen.len() as u64,
        WRITERS * BATCHES * PER_BATCH,
        "responses missed"
    );
    assert!(pages > 10, "the reader did not interleave with the writers");
}

/// Feed positions are counted per project: what happens in one project (new responses,
/// edits, reviews) never moves another project's positions, so a cursor tells a
/// coordinator nothing about other projects' activity.
pub fn feed_positions_do_not_reveal_other_projects(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let ingest = |project: &str, from: u64, n: u64| {
        let batch: Vec<_> = (from..from + n)
            .map(|i| incoming(household_revision(i, "dev-a", "1")))
            .collect();
        store
            .ingest(project, &uploader("dev-a"), &batch, &TestValidator, NOW)
            .unwrap();
    };
    let positions = |project: &str| -> Vec<i64> {
        store
            .pull(project, 0, 1000)
            .unwrap()
            .iter()
            .map(|r| r.feed_seq)
            .collect()
    };
    ingest("p1", 0, 3);
    ingest("p2", 100, 5);
    ingest("p1", 3, 2);
    let p2_first = store.pull("p2", 0, 1).unwrap()[0].state.response.clone();
    assert!(store
        .set_review_state("p2", &p2_first, ReviewState::Approved, NOW)
        .unwrap());
    ingest("p1", 5, 1);
    // p2's busy week shows nowhere in p1's positions, nor p1's in p2's.
    assert_eq!(positions("p1"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(positions("p2"), [2, 3, 4, 5, 6]);
    let p1_first = store.pull("p1", 0, 1).unwrap()[0].state.response.clone();
    assert!(store
        .set_review_state("p1", &p1_first, ReviewState::Approved, NOW)
        .unwrap());
    assert_eq!(store.pull("p1", 6, 10).unwrap()[0].feed_seq, 7);
    assert_eq!(positions("p2"), [2, 3, 4, 5, 6]);
}
