//! The console's SQL as written for each dialect, and its time bounds.

use super::*;

struct Numbered;
impl Dialect for Numbered {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }
    fn search(&self, p: &str) -> String {
        format!("ri.search @@ to_tsquery('simple', {p})")
    }
    fn search_text(&self, words: &[String], _pii: bool) -> String {
        words.join(" & ")
    }
}

fn query() -> TableQuery {
    TableQuery {
        form: Some("hh".into()),
        version: None,
        status: None,
        review: Some(ReviewState::Approved),
        flag: Some(Flag::Conflict),
        enumerator: None,
        device: None,
        from: None,
        to: None,
        words: vec!["kijiji".into()],
        pii: false,
        sort: Sort::Enumerator,
        descending: true,
        after: None,
        offset: 0,
        limit: 50,
        count: true,
        count_cap: None,
        scope: Scope::Project,
    }
}

#[test]
fn a_limited_reader_pages_and_counts_only_their_teams_devices() {
    let mut q = query();
    q.scope = Scope::TeamsOf("lena".into());
    let sql = page_sql("p1", &q, &Numbered);
    assert!(
        sql.text.contains(
            "ri.project = $1 AND (ri.device IN (SELECT td.device FROM team_devices td \
             JOIN membership_teams mt ON mt.team_id = td.team_id \
             WHERE mt.project = $1 AND mt.user_name = $2) \
             OR ri.device = 'user:' || $2) AND ri.form = $3"
        ),
        "{}",
        sql.text
    );
    assert_eq!(sql.params[..3], ["p1", "lena", "hh"]);
    // Never the counts by form, day and enumerator, which are the whole project's:
    // the facets by device, summed over the teams' devices.
    let mut q = query();
    (q.review, q.flag, q.words) = (None, None, Vec::new());
    q.scope = Scope::TeamsOf("lena".into());
    let count = count_sql("p1", &q, &Numbered);
    assert!(
        count.text.starts_with(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM response_facets \
             WHERE project = $1 AND (device IN (SELECT td.device"
        ),
        "{}",
        count.text
    );
    assert!(count.text.contains("mt.user_name = $2"));
    assert_eq!(count.params, ["p1", "lena", "hh"]);
    // With words, the matches are counted.
    q.words = vec!["kijiji".into()];
    let count = count_sql("p1", &q, &Numbered);
    assert!(count
        .text
        .starts_with("SELECT COUNT(*) FROM response_index ri WHERE"));
    assert!(count.text.contains("mt.user_name = $2"));
}

#[test]
fn the_page_query_continues_after_the_cursor_in_index_order() {
    let mut q = query();
    q.after = Some(Cursor {
        sort: Sort::Enumerator,
        descending: true,
        values: vec!["Ana".into(), "2026-11-26T04:00:00.000Z".into(), "r9".into()],
    });
    let sql = page_sql("p1", &q, &Numbered);
    assert!(
        sql.text
            .contains("ri.project = $1 AND ri.form = $2 AND ri.review = $3"),
        "{}",
        sql.text
    );
    assert!(sql.text.contains("ri.conflicts > 0"));
    assert!(sql.text.contains("to_tsquery('simple', $4)"));
    assert!(
        sql.text
            .contains("(ri.enumerator, ri.received_at, ri.id) < ($5, $6, $7)"),
        "{}",
        sql.text
    );
    assert!(sql
        .text
        .contains("ORDER BY ri.enumerator DESC, ri.received_at DESC, ri.id DESC LIMIT 51"));
    assert!(sql
        .text
        .ends_with("ORDER BY ri.enumerator DESC, ri.received_at DESC, ri.id DESC"));
    assert_eq!(
        sql.params,
        [
            "p1",
            "hh",
            "approved",
            "kijiji",
            "Ana",
            "2026-11-26T04:00:00.000Z",
            "r9"
        ]
    );
    let count = count_sql("p1", &q, &Numbered);
    assert_eq!(count.params.len(), 4);
    assert!(!count.text.contains("ORDER BY"));
    assert!(count.text.contains("FROM response_index"));

    // Any filter but words or a time within a day: the facets kept by every filter.
    let mut q = query();
    q.words = Vec::new();
    q.status = Some("finalized".into());
    q.from = Some("2026-11-20T00:00:00.000Z".into());
    q.to = Some("2026-11-26T23:59:59.999Z".into());
    let count = count_sql("p1", &q, &Numbered);
    assert_eq!(
        count.text,
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM response_facets \
         WHERE project = $1 AND form = $2 AND status = $3 AND review = $4 \
         AND day >= $5 AND day <= $6 AND conflicted = 1"
    );
    assert_eq!(
        count.params,
        [
            "p1",
            "hh",
            "finalized",
            "approved",
            "2026-11-20",
            "2026-11-26"
        ]
    );
    // A time within a day is not a whole day: the index rows are counted.
    q.to = Some("2026-11-26T12:00:00.000Z".into());
    let count = count_sql("p1", &q, &Numbered);
    assert!(count
        .text
        .starts_with("SELECT COUNT(*) FROM response_index"));
    // Up to the cap and one more, when the query has one.
    q.count_cap = Some(COUNT_CAP);
    let count = count_sql("p1", &q, &Numbered);
    assert!(
        count
            .text
            .starts_with("SELECT COUNT(*) FROM (SELECT 1 FROM response_index ri WHERE"),
        "{}",
        count.text
    );
    assert!(
        count.text.ends_with(" LIMIT 10001) capped"),
        "{}",
        count.text
    );
    assert_eq!(capped_total(10_000, &q), (10_000, false));
    let kept = TableQuery {
        to: None,
        ..q.clone()
    };
    assert_eq!(capped_total(10_001, &kept), (10_001, false));
    assert_eq!(capped_total(10_001, &q), (10_000, true));
    q.count_cap = None;
    assert_eq!(capped_total(10_001, &q), (10_001, false));

    // Only form, version and enumerator: the kept counts are summed.
    let mut q = query();
    (q.review, q.flag, q.words) = (None, None, Vec::new());
    q.enumerator = Some("Ana".into());
    let count = count_sql("p1", &q, &Numbered);
    assert_eq!(
        count.text,
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM response_counts \
         WHERE project = $1 AND form = $2 AND enumerator = $3"
    );
    assert_eq!(count.params, ["p1", "hh", "Ana"]);
}

#[test]
fn a_far_page_starts_at_the_keyset_of_the_row_at_its_offset() {
    let mut q = query();
    q.descending = false;
    q.offset = 600_000;
    let sql = page_sql("p1", &q, &Numbered);
    // The boundary is read with the same filters (the same placeholders), then the
    // page continues from it, that row included.
    assert!(
        sql.text.contains(
            "AND (ri.enumerator, ri.received_at, ri.id) >= (SELECT ri.enumerator, \
             ri.received_at, ri.id FROM response_index ri WHERE ri.project = $1 AND \
             ri.form = $2 AND ri.review = $3 AND ri.conflicts > 0 AND \
             ri.search @@ to_tsquery('simple', $4) ORDER BY ri.enumerator ASC, ri.received_at ASC, \
             ri.id ASC LIMIT 1 OFFSET 600000)"
        ),
        "{}",
        sql.text
    );
    assert_eq!(sql.params, ["p1", "hh", "approved", "kijiji"]);
    assert!(sql.text.contains("LIMIT 51"));
}

#[test]
fn a_far_jump_is_placed_by_the_kept_counts_when_they_group_by_its_sort() {
    let mut q = query();
    (q.review, q.flag, q.words) = (None, None, Vec::new());
    q.offset = 1_234;
    let sql = jump_bucket_sql("p1", &q, &Numbered).unwrap();
    assert!(
        sql.text.contains("GROUP BY enumerator, day"),
        "{}",
        sql.text
    );
    assert!(
        sql.text
            .contains("ORDER BY enumerator DESC, day DESC ROWS UNBOUNDED PRECEDING"),
        "{}",
        sql.text
    );
    assert!(sql
        .text
        .contains("WHERE before <= 1234 AND before + n > 1234"));
    assert_eq!(sql.params, ["p1", "hh"]);
    // The page reads the index from the start of the bucket's group and day.
    let bucket = JumpBucket {
        value: Some("Ana".into()),
        day: "2026-11-26".into(),
        skip: 17,
    };
    let page = shaped_page_sql("p1", &q, &Numbered, SearchShape::Listed, Some(&bucket));
    assert!(
        page.text.contains(
            "WHERE ri.project = $1 AND ri.form = $2 AND ri.enumerator = $3 AND \
             ri.received_at >= $4 AND ri.received_at < $5 ORDER BY ri.enumerator DESC, \
             ri.received_at DESC, ri.id DESC LIMIT 1 OFFSET 17)"
        ),
        "{}",
        page.text
    );
    assert_eq!(
        page.params,
        ["p1", "hh", "Ana", "2026-11-26T", "2026-11-26U"]
    );
    // Not by the time of the last change, nor with words or a time within a day.
    q.sort = Sort::UpdatedAt;
    assert!(jump_bucket_sql("p1", &q, &Numbered).is_none());
    q.sort = Sort::ReceivedAt;
    assert!(jump_bucket_sql("p1", &q, &Numbered)
        .unwrap()
        .text
        .contains("GROUP BY day"));
    q.to = Some("2026-11-26T12:00:00.000Z".into());
    assert!(jump_bucket_sql("p1", &q, &Numbered).is_none());
    q.to = None;
    q.words = vec!["kijiji".into()];
    assert!(jump_bucket_sql("p1", &q, &Numbered).is_none());
    q.words = Vec::new();
    q.offset = 0;
    assert!(jump_bucket_sql("p1", &q, &Numbered).is_none());
}

#[test]
fn cursors_round_trip_and_refuse_another_sort() {
    let row = TableRow {
        id: "r1".into(),
        form: "hh".into(),
        version: "1".into(),
        status: "finalized".into(),
        review: "received".into(),
        conflicts: 0,
        quarantined: false,
        enumerator: "Ana".into(),
        device: "tab".into(),
        received_at: "t1".into(),
        updated_at: "t2".into(),
        state: String::new(),
        feed_seq: 7,
        quarantine: "[]".into(),
    };
    let cursor = row.cursor(Sort::Device, false);
    assert_eq!(cursor.values, ["tab", "t1", "r1"]);
    let text = cursor.encode();
    assert_eq!(Cursor::decode(&text, Sort::Device, false), Some(cursor));
    assert_eq!(Cursor::decode(&text, Sort::Device, true), None);
    assert_eq!(Cursor::decode(&text, Sort::Enumerator, false), None);
    assert_eq!(Cursor::decode("garbage", Sort::Device, false), None);
}

#[test]
fn time_bounds_take_days_and_times() {
    assert_eq!(
        time_bound("2026-11-26", false).unwrap(),
        "2026-11-26T00:00:00.000Z"
    );
    assert_eq!(
        time_bound("2026-11-26", true).unwrap(),
        "2026-11-26T23:59:59.999Z"
    );
    assert_eq!(
        time_bound("2026-11-26T06:00:00+03:00", false).unwrap(),
        "2026-11-26T03:00:00.000Z"
    );
    assert!(time_bound("yesterday", false).is_err());
}
