//! The responses table's total: exact from the kept counts, or the matches counted one by
//! one up to the query's cap (a search, a time within a day), the page the same either way.

use super::*;
use voices_server::store::projection::search_words;
use voices_server::store::TablePage;

fn query(words: &str) -> TableQuery {
    TableQuery {
        form: None,
        version: None,
        status: None,
        review: None,
        flag: None,
        enumerator: None,
        device: None,
        from: None,
        to: None,
        words: search_words(words),
        // No form is published here, so every answer is indexed as pii text.
        pii: true,
        sort: Sort::ReceivedAt,
        descending: true,
        after: None,
        offset: 0,
        limit: 7,
        count: true,
        count_cap: None,
        scope: Scope::Project,
    }
}

fn ids(page: &TablePage) -> Vec<String> {
    page.rows.iter().map(|r| r.id.clone()).collect()
}

/// Every row of the query, by cursor pages, without counting.
fn every_row(store: &dyn Store, q: &TableQuery) -> Vec<String> {
    let mut q = TableQuery {
        count: false,
        ..q.clone()
    };
    let mut out = Vec::new();
    loop {
        let page = store.table("p1", &q).unwrap();
        assert_eq!((page.total, page.capped), (None, false));
        out.extend(ids(&page));
        if !page.more {
            return out;
        }
        q.after = page.rows.last().map(|r| r.cursor(q.sort, q.descending));
    }
}

/// A capped count is exact up to the cap and says "more" past it; the page, its `more`
/// and the pages after it are the same whether the count was capped, exact or skipped.
pub fn a_table_total_is_exact_up_to_its_cap_and_capped_past_it(store: Arc<dyn Store>) {
    setup(store.as_ref());
    // 60 responses: a search matching one in fifty or more is paged in index order on
    // SQLite, so a cap of 1 (under that density) makes it count the text index instead.
    const N: u64 = 60;
    for chunk in (0..N).collect::<Vec<_>>().chunks(20) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|i| incoming(household_revision(*i, "dev-a", "1")))
            .collect();
        store
            .ingest("p1", &uploader("dev-a"), &batch, &TestValidator, NOW)
            .unwrap();
    }
    let phone = household_revision(17, "dev-a", "1")
        .text("/resp_phone")
        .unwrap()
        .trim_start_matches('+')
        .to_owned();
    // Received today at 04:00: a bound within the day is counted row by row.
    let within_day = TableQuery {
        from: Some("2026-11-26T03:00:00.000Z".into()),
        ..query("")
    };
    for (name, q, matching) in [
        ("every village (a prefix)", query("kiji"), N),
        ("a phone number", query(&phone), 1),
        ("from a time within a day", within_day, N),
    ] {
        let exact = store.table("p1", &q).unwrap();
        assert_eq!(
            (exact.total, exact.capped),
            (Some(matching), false),
            "{name}"
        );
        let all = every_row(store.as_ref(), &q);
        assert_eq!(all.len() as u64, matching, "{name}");
        for cap in [1, 2, 5, matching - 1, matching, matching + 1, 10_000] {
            let capped_q = TableQuery {
                count_cap: Some(cap),
                ..q.clone()
            };
            let page = store.table("p1", &capped_q).unwrap();
            let expected = if matching > cap {
                (Some(cap), true)
            } else {
                (Some(matching), false)
            };
            assert_eq!((page.total, page.capped), expected, "{name}, cap {cap}");
            assert_eq!(ids(&page), ids(&exact), "{name}, cap {cap}");
            assert_eq!(page.more, exact.more, "{name}, cap {cap}");
            assert_eq!(
                every_row(store.as_ref(), &capped_q),
                all,
                "{name}, cap {cap}"
            );
            // A far page by row number is the same rows too.
            let far = store
                .table(
                    "p1",
                    &TableQuery {
                        offset: matching / 2,
                        ..capped_q.clone()
                    },
                )
                .unwrap();
            let from = (matching / 2) as usize;
            assert_eq!(
                ids(&far),
                all[from..(from + 7).min(all.len())],
                "{name}, cap {cap}"
            );
        }
    }
    // A total the kept counts give is exact whatever the cap.
    let kept = store
        .table(
            "p1",
            &TableQuery {
                count_cap: Some(5),
                ..query("")
            },
        )
        .unwrap();
    assert_eq!((kept.total, kept.capped), (Some(N), false));
}

/// A far jump by row number lands on the row the cursors reach, for every sort and order,
/// with and without filters, whether the kept counts place it (a sort they group by,
/// filters they cover) or the index is read from the first row (the time of the last
/// change, a search, a time within a day); past the last row the page is empty.
pub fn a_far_jump_lands_on_the_row_the_cursors_reach(store: Arc<dyn Store>) {
    setup(store.as_ref());
    // Three days, two devices (so two enumerators), a few responses approved or rejected.
    let days = [PAST, NOW, LATER];
    let mut i = 0;
    for (d, day) in days.iter().enumerate() {
        for device in ["dev-a", "dev-b"] {
            let batch: Vec<_> = (0..(4 + d as u64 * 3))
                .map(|_| {
                    i += 1;
                    incoming(household_revision(i, device, "1"))
                })
                .collect();
            store
                .ingest("p1", &uploader(device), &batch, &TestValidator, day)
                .unwrap();
        }
    }
    for (k, state) in [
        (3, ReviewState::Approved),
        (9, ReviewState::Rejected),
        (20, ReviewState::Approved),
    ] {
        let id = household_revision(k, "x", "1").response;
        assert!(store.set_review_state("p1", &id, state, LATER).unwrap());
    }
    let n = i as usize;
    let filters: Vec<(&str, TableQuery)> = vec![
        ("everything", query("")),
        (
            "one enumerator",
            TableQuery {
                enumerator: Some("enumerator of dev-b".into()),
                ..query("")
            },
        ),
        (
            "from the second day (whole days)",
            TableQuery {
                from: Some("2026-11-26T00:00:00.000Z".into()),
                ..query("")
            },
        ),
        (
            "approved",
            TableQuery {
                review: Some(ReviewState::Approved),
                ..query("")
            },
        ),
        (
            "a time within a day",
            TableQuery {
                from: Some("2026-11-26T03:00:00.000Z".into()),
                ..query("")
            },
        ),
        ("a search", query("kiji")),
    ];
    let sorts = [
        Sort::ReceivedAt,
        Sort::UpdatedAt,
        Sort::Enumerator,
        Sort::Device,
        Sort::Review,
        Sort::Status,
    ];
    for (name, filter) in &filters {
        for sort in sorts {
            for descending in [false, true] {
                let q = TableQuery {
                    sort,
                    descending,
                    limit: 4,
                    ..filter.clone()
                };
                let all = every_row(store.as_ref(), &q);
                assert!(!all.is_empty() && all.len() <= n, "{name}");
                for offset in 1..=all.len() + 2 {
                    let page = store
                        .table(
                            "p1",
                            &TableQuery {
                                offset: offset as u64,
                                ..q.clone()
                            },
                        )
                        .unwrap();
                    let expected = &all[offset.min(all.len())..(offset + 4).min(all.len())];
                    assert_eq!(
                        ids(&page),
                        expected,
                        "{name}, {sort:?}, descending {descending}, offset {offset}"
                    );
                    assert_eq!(page.more, offset + 4 < all.len(), "{name}, offset {offset}");
                    assert_eq!(
                        page.total,
                        Some(all.len() as u64),
                        "{name}, offset {offset}"
                    );
                }
            }
        }
    }
}
