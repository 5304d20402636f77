//! The console's queries, backend-neutral: their parameters and results, keyset cursors,
//! and the SQL of the responses table, written once for both backends (they differ only
//! in placeholders and in the free-text condition).

use base64::Engine;
use serde::{Deserialize, Serialize};
use voices_core::sync::protocol::{FieldComments, ReviewState, ReviewTransition};
use voices_core::sync::VersionVector;

use super::{codec, teams, Scope, StoredResponse};
use crate::{Error, Result};

/// Columns the responses table sorts by. Each sort is a keyset: the column, then the time
/// received, then the id, so every row has one place and pages never skip or repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    ReceivedAt,
    UpdatedAt,
    Enumerator,
    Device,
    Review,
    Status,
}

impl Sort {
    pub fn parse(text: &str) -> Option<Sort> {
        Some(match text {
            "received_at" => Sort::ReceivedAt,
            "updated_at" => Sort::UpdatedAt,
            "enumerator" => Sort::Enumerator,
            "device" => Sort::Device,
            "review" => Sort::Review,
            "status" => Sort::Status,
            _ => return None,
        })
    }

    /// The index columns of the keyset, in order.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Sort::ReceivedAt => &["received_at", "id"],
            Sort::UpdatedAt => &["updated_at", "id"],
            Sort::Enumerator => &["enumerator", "received_at", "id"],
            Sort::Device => &["device", "received_at", "id"],
            Sort::Review => &["review", "received_at", "id"],
            Sort::Status => &["status", "received_at", "id"],
        }
    }
}

/// Flags a row can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Conflict,
    Quarantined,
}

/// One page request of the responses table (all filters optional).
#[derive(Debug, Clone)]
pub struct TableQuery {
    pub form: Option<String>,
    pub version: Option<String>,
    /// `draft` or `finalized`.
    pub status: Option<String>,
    pub review: Option<ReviewState>,
    pub flag: Option<Flag>,
    pub enumerator: Option<String>,
    pub device: Option<String>,
    /// Received at or after (RFC 3339 text).
    pub from: Option<String>,
    /// Received at or before.
    pub to: Option<String>,
    /// Folded search words (see `projection::search_words`); all must match.
    pub words: Vec<String>,
    /// Search pii answers too.
    pub pii: bool,
    pub sort: Sort,
    pub descending: bool,
    pub after: Option<Cursor>,
    /// Rows to pass over before the page (a far jump); `after` is then absent.
    pub offset: u64,
    pub limit: usize,
    pub count: bool,
    /// Count at most this many rows when the matches must be counted one by one (a search,
    /// a time within a day); `None` counts them all (an export's announced total).
    pub count_cap: Option<u64>,
    /// Whose responses the reader sees (a coordinator limited to teams sees theirs).
    pub scope: Scope,
}

/// Where a page ends: the keyset values of its last row, for the same sort and order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: Sort,
    pub descending: bool,
    pub values: Vec<String>,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// A cursor this server gave for this sort and order, or `None`.
    pub fn decode(text: &str, sort: Sort, descending: bool) -> Option<Cursor> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        (cursor.sort == sort
            && cursor.descending == descending
            && cursor.values.len() == sort.columns().len())
        .then_some(cursor)
    }
}

/// One row of the table as stored (the answers come from the state).
#[derive(Debug, Clone)]
pub struct TableRow {
    pub id: String,
    pub form: String,
    pub version: String,
    pub status: String,
    pub review: String,
    pub conflicts: i64,
    pub quarantined: bool,
    pub enumerator: String,
    pub device: String,
    pub received_at: String,
    pub updated_at: String,
    /// The stored state text (decoded by the caller for the answers).
    pub state: String,
    /// The response's feed position and stored quarantine reasons (JSON text), so a row
    /// is a whole [`StoredResponse`] for an export of the table's filters.
    pub feed_seq: i64,
    pub quarantine: String,
}

impl TableRow {
    /// The response the row holds, as the feed would give it.
    pub fn into_stored(self) -> Result<StoredResponse> {
        Ok(StoredResponse {
            feed_seq: self.feed_seq,
            state: codec::decode(&self.state)?,
            review_state: parse_review(&self.review).unwrap_or(ReviewState::Received),
            quarantine: serde_json::from_str(&self.quarantine)?,
            device: self.device,
            enumerator: self.enumerator,
            received_at: self.received_at,
            updated_at: self.updated_at,
        })
    }

    /// The keyset values of this row for `sort`.
    pub fn cursor(&self, sort: Sort, descending: bool) -> Cursor {
        let values = sort
            .columns()
            .iter()
            .map(|c| match *c {
                "received_at" => self.received_at.clone(),
                "updated_at" => self.updated_at.clone(),
                "enumerator" => self.enumerator.clone(),
                "device" => self.device.clone(),
                "review" => self.review.clone(),
                "status" => self.status.clone(),
                _ => self.id.clone(),
            })
            .collect();
        Cursor {
            sort,
            descending,
            values,
        }
    }
}

/// A page: at most `limit` rows and whether more follow; the total when counted.
#[derive(Debug, Clone)]
pub struct TablePage {
    pub rows: Vec<TableRow>,
    pub more: bool,
    pub total: Option<u64>,
    /// The total is the query's `count_cap` and more rows match ("more than 10,000").
    pub capped: bool,
}

/// Where the table's count of matches counted one by one stops ("more than 10,000", as
/// search engines and mature consoles say): the count then costs at most this many rows,
/// however common the word.
pub const COUNT_CAP: u64 = 10_000;

/// The total and whether it was capped, from what [`count_sql`] counted.
/// A total summed from the kept counts is exact, whatever the cap.
pub fn capped_total(counted: u64, q: &TableQuery) -> (u64, bool) {
    match q.count_cap {
        Some(cap) if counted > cap && !facets_cover(q) => (cap, true),
        _ => (counted, false),
    }
}

/// The columns a table query selects, in `TableRow` order.
pub const TABLE_COLUMNS: &str = "ri.id, ri.form, ri.version, ri.status, ri.review, ri.conflicts, \
     ri.quarantined, ri.enumerator, ri.device, ri.received_at, ri.updated_at, r.state, \
     r.feed_seq, r.quarantine";

/// How a backend writes placeholders and the free-text condition.
pub trait Dialect {
    /// Placeholder of parameter number `n` (1-based).
    fn placeholder(&self, n: usize) -> String;
    /// The condition that the row matches every word (its own placeholder given).
    fn search(&self, placeholder: &str) -> String;
    /// The same condition for a search many rows match, tested on each index row as the
    /// index is read in the page's order, so the page stops at its last row instead of
    /// sorting every match: the matches listed once, each row looked up among them.
    fn search_in_order(&self, placeholder: &str) -> String {
        self.search(placeholder)
    }

    /// A search's count as a join from the text index, when the backend's is faster so:
    /// the table expression and the condition on it.
    fn search_join(&self, _placeholder: &str) -> Option<(String, String)> {
        None
    }
    /// The search parameter for these words.
    fn search_text(&self, words: &[String], pii: bool) -> String;
    /// An index column as compared with a `responses` key column in the page's join, so
    /// the join looks the page's rows up by `responses`' primary key.
    fn join_key(&self, column: &str) -> String {
        column.to_owned()
    }
    /// A kept count's text column ordered as the index orders it (byte order).
    fn byte_order(&self, column: &str) -> String {
        column.to_owned()
    }
}

/// SQL text with its parameters (all text; numbers are written into the SQL).
#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    pub params: Vec<String>,
}

/// How a page or a count tests the search words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchShape {
    /// [`Dialect::search`]: the matches are found first.
    Listed,
    /// [`Dialect::search_in_order`]: the index read in order, each row looked up among the
    /// matches.
    InOrder,

    /// [`Dialect::search_join`]'s condition (the caller joins its table expression).
    Joined,
}

/// The `WHERE` clause of a table query (filters only, no keyset) and its parameters, the
/// words tested as `shape` says.
fn filters(
    project: &str,
    q: &TableQuery,
    d: &dyn Dialect,
    sql: &mut Sql,
    shape: SearchShape,
) -> String {
    let add = |sql: &mut Sql, value: &str| {
        sql.params.push(value.to_owned());
        d.placeholder(sql.params.len())
    };
    let project_placeholder = add(sql, project);
    let mut conditions = vec![format!("ri.project = {project_placeholder}")];
    if let Some(user) = q.scope.limited_to() {
        let user = add(sql, user);
        conditions.push(teams::scope_condition(
            "ri.device",
            &project_placeholder,
            &user,
        ));
    }
    let equal = [
        ("ri.form", q.form.as_deref()),
        ("ri.version", q.version.as_deref()),
        ("ri.status", q.status.as_deref()),
        ("ri.review", q.review.map(|r| r.as_str())),
        ("ri.enumerator", q.enumerator.as_deref()),
        ("ri.device", q.device.as_deref()),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            conditions.push(format!("{column} = {}", add(sql, value)));
        }
    }
    if let Some(from) = &q.from {
        conditions.push(format!("ri.received_at >= {}", add(sql, from)));
    }
    if let Some(to) = &q.to {
        conditions.push(format!("ri.received_at <= {}", add(sql, to)));
    }
    match q.flag {
        Some(Flag::Conflict) => conditions.push("ri.conflicts > 0".into()),
        Some(Flag::Quarantined) => conditions.push("ri.quarantined = 1".into()),
        None => {}
    }
    if !q.words.is_empty() {
        let text = d.search_text(&q.words, q.pii);
        let p = add(sql, &text);
        conditions.push(match shape {
            SearchShape::Listed => d.search(&p),
            SearchShape::InOrder => d.search_in_order(&p),
            SearchShape::Joined => d
                .search_join(&p)
                .map_or_else(|| d.search(&p), |(_, condition)| condition),
        });
    }
    conditions.join(" AND ")
}

/// The page query: filters, keyset, order, `limit + 1` rows (the extra one says whether
/// more follow), joined to the stored states of those rows only.
pub fn page_sql(project: &str, q: &TableQuery, d: &dyn Dialect) -> Sql {
    shaped_page_sql(project, q, d, SearchShape::Listed, None)
}

/// [`page_sql`] with the search words tested as `shape` says ([`SearchShape::InOrder`]
/// for a search many rows match), and a far jump started in its `bucket` when the kept
/// counts found it ([`jump_bucket_sql`]).
pub fn shaped_page_sql(
    project: &str,
    q: &TableQuery,
    d: &dyn Dialect,
    shape: SearchShape,
    bucket: Option<&JumpBucket>,
) -> Sql {
    let mut sql = Sql::default();
    let mut conditions = filters(project, q, d, &mut sql, shape);
    let columns: Vec<String> = q.sort.columns().iter().map(|c| format!("ri.{c}")).collect();
    let direction = if q.descending { " DESC" } else { " ASC" };
    let order: Vec<String> = columns.iter().map(|c| format!("{c}{direction}")).collect();
    let order = order.join(", ");
    if q.offset > 0 {
        // A far page starts at the row `offset` places down: its keyset values are read
        // from the sort's index alone (the filters' placeholders are numbered, so the
        // same ones serve again), then the page is an ordinary keyset page from there.
        // With its bucket known, from the start of the bucket: the group's day.
        let (mut within, skip) = (conditions.clone(), q.offset);
        let skip = match bucket {
            Some(b) => {
                let mut add = |value: String| {
                    sql.params.push(value);
                    d.placeholder(sql.params.len())
                };
                if let (Some(value), Some(column)) = (&b.value, q.sort.columns().first()) {
                    within.push_str(&format!(" AND ri.{column} = {}", add(value.clone())));
                }
                // Every time of the day starts with `day` and `T`; `U` follows `T`.
                let (start, end) = (add(format!("{}T", b.day)), add(format!("{}U", b.day)));
                within.push_str(&format!(
                    " AND ri.received_at >= {start} AND ri.received_at < {end}"
                ));
                b.skip
            }
            None => skip,
        };
        conditions = format!(
            "{conditions} AND ({}) {} (SELECT {} FROM response_index ri WHERE {within} \
             ORDER BY {order} LIMIT 1 OFFSET {skip})",
            columns.join(", "),
            if q.descending { "<=" } else { ">=" },
            columns.join(", "),
        );
    }
    if let Some(after) = &q.after {
        let mut placeholders = Vec::new();
        for value in &after.values {
            sql.params.push(value.clone());
            placeholders.push(d.placeholder(sql.params.len()));
        }
        conditions.push_str(&format!(
            " AND ({}) {} ({})",
            columns.join(", "),
            if q.descending { "<" } else { ">" },
            placeholders.join(", ")
        ));
    }
    // The page is chosen on the index rows alone, then joined to its states: when the
    // database must sort the matches (a search), it sorts index rows, never states.
    sql.text = format!(
        "SELECT {TABLE_COLUMNS} FROM (
             SELECT * FROM response_index ri WHERE {conditions} ORDER BY {order} LIMIT {}
         ) ri
         JOIN responses r ON r.project = {} AND r.id = {}
         ORDER BY {order}",
        q.limit + 1,
        d.join_key("ri.project"),
        d.join_key("ri.id"),
    );
    sql
}

/// The finest map precision (decimals) whose cells are kept (`map_cells`): the ones shown
/// without the pii grant.
pub const KEPT_MAP_PRECISION: u32 = 2;

/// The UTC day of a `from` bound that starts a day, or `None`.
fn whole_day_from(time: &str) -> Option<&str> {
    time.strip_suffix("T00:00:00.000Z")
        .filter(|d| d.len() == 10)
}

/// The UTC day of a `to` bound that ends a day, or `None`.
fn whole_day_to(time: &str) -> Option<&str> {
    time.strip_suffix("T23:59:59.999Z")
        .filter(|d| d.len() == 10)
}

/// How many rows match the filters, from the counts kept as responses change wherever
/// the filters allow: filtered by form, version and enumerator only (the table as it
/// opens), `response_counts` (by form version, day and enumerator); by any other filter
/// but free text or a time within a day, `response_facets` (by every filter the table
/// has, and the starting device, so a coordinator limited to teams sums their devices'
/// rows). Either way a few thousand rows are summed instead of the matches counted.
/// Otherwise (free text, a time within a day) the matches are counted, up to the query's
/// `count_cap` and one more.
pub fn count_sql(project: &str, q: &TableQuery, d: &dyn Dialect) -> Sql {
    let mut sql = Sql::default();
    let kept = q.status.is_none()
        && q.review.is_none()
        && q.flag.is_none()
        && q.device.is_none()
        && q.from.is_none()
        && q.to.is_none()
        && q.words.is_empty()
        // These counts are the whole project's; a limited reader's are the facets'.
        && q.scope == Scope::Project;
    if kept {
        let mut conditions = Vec::new();
        for (column, value) in [
            ("project", Some(project)),
            ("form", q.form.as_deref()),
            ("version", q.version.as_deref()),
            ("enumerator", q.enumerator.as_deref()),
        ] {
            if let Some(value) = value {
                sql.params.push(value.to_owned());
                conditions.push(format!("{column} = {}", d.placeholder(sql.params.len())));
            }
        }
        sql.text = format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM response_counts WHERE {}",
            conditions.join(" AND ")
        );
        return sql;
    }
    if facets_cover(q) {
        let conditions = facet_conditions(project, q, d, &mut sql);
        sql.text = format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM response_facets WHERE {}",
            conditions.join(" AND ")
        );
        return sql;
    }
    let conditions = filters(project, q, d, &mut sql, SearchShape::Joined);
    let from = (!q.words.is_empty())
        .then(|| d.search_join(""))
        .flatten()
        .map_or_else(|| "response_index ri".to_owned(), |(from, _)| from);
    // Capped, the database stops at the row past the cap ([`capped_total`] reads it).
    sql.text = match q.count_cap {
        Some(cap) => format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {conditions} LIMIT {}) capped",
            cap.saturating_add(1)
        ),
        None => format!("SELECT COUNT(*) FROM {from} WHERE {conditions}"),
    };
    sql
}

/// Whether `response_facets` counts the rows of these filters: anything but free text or
/// a time within a day.
fn facets_cover(q: &TableQuery) -> bool {
    q.words.is_empty()
        && q.from
            .as_deref()
            .is_none_or(|t| whole_day_from(t).is_some())
        && q.to.as_deref().is_none_or(|t| whole_day_to(t).is_some())
}

/// The conditions on `response_facets` of the query's filters (see [`facets_cover`]).
fn facet_conditions(project: &str, q: &TableQuery, d: &dyn Dialect, sql: &mut Sql) -> Vec<String> {
    let add = |sql: &mut Sql, value: &str| {
        sql.params.push(value.to_owned());
        d.placeholder(sql.params.len())
    };
    let project_placeholder = add(sql, project);
    let mut conditions = vec![format!("project = {project_placeholder}")];
    if let Some(user) = q.scope.limited_to() {
        let user = add(sql, user);
        conditions.push(teams::scope_condition(
            "device",
            &project_placeholder,
            &user,
        ));
    }
    for (column, value) in [
        ("form", q.form.as_deref()),
        ("version", q.version.as_deref()),
        ("status", q.status.as_deref()),
        ("review", q.review.map(|r| r.as_str())),
        ("enumerator", q.enumerator.as_deref()),
        ("device", q.device.as_deref()),
        ("day", q.from.as_deref().and_then(whole_day_from)),
    ] {
        if let Some(value) = value {
            let op = if column == "day" { ">=" } else { "=" };
            conditions.push(format!("{column} {op} {}", add(sql, value)));
        }
    }
    if let Some(day) = q.to.as_deref().and_then(whole_day_to) {
        conditions.push(format!("day <= {}", add(sql, day)));
    }
    match q.flag {
        Some(Flag::Conflict) => conditions.push("conflicted = 1".into()),
        Some(Flag::Quarantined) => conditions.push("quarantined = 1".into()),
        None => {}
    }
    conditions
}

/// Where a far jump's row lies, found from the kept counts: the group of the sort's first
/// column (none for the time received) and the day received that hold it, and how many
/// rows of that group and day come before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpBucket {
    pub value: Option<String>,
    pub day: String,
    pub skip: u64,
}

/// The query finding a jump's [`JumpBucket`] (columns: value, day, rows of the bucket
/// before the jump's), when the kept counts can: a sort the facets group by (the time received, or
/// enumerator, device, review or status, then the time received) and filters they cover.
/// The jump then reads the index from the start of one group's day instead of from the
/// first row: at most a day of one group instead of up to the whole table.
pub fn jump_bucket_sql(project: &str, q: &TableQuery, d: &dyn Dialect) -> Option<Sql> {
    if q.offset == 0 || !facets_cover(q) {
        return None;
    }
    let group = match q.sort {
        Sort::ReceivedAt => None,
        Sort::Enumerator => Some("enumerator"),
        Sort::Device => Some("device"),
        Sort::Review => Some("review"),
        Sort::Status => Some("status"),
        Sort::UpdatedAt => return None,
    };
    let mut sql = Sql::default();
    let conditions = facet_conditions(project, q, d, &mut sql).join(" AND ");
    let direction = if q.descending { "DESC" } else { "ASC" };
    let (value, group_by, order) = match group {
        Some(c) => (
            c.to_owned(),
            format!("{c}, day"),
            format!("{} {direction}, day {direction}", d.byte_order(c)),
        ),
        None => (
            "CAST(NULL AS TEXT)".to_owned(),
            "day".to_owned(),
            format!("day {direction}"),
        ),
    };
    // Each bucket with the rows of the buckets before it, in the page's order; the one
    // holding row `offset` is kept.
    sql.text = format!(
        "SELECT value, day, CAST({offset} - before AS BIGINT) FROM (
             SELECT {value} AS value, day, SUM(n) AS n,
                 SUM(SUM(n)) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING) - SUM(n)
                     AS before
             FROM response_facets WHERE {conditions} GROUP BY {group_by}
         ) buckets
         WHERE before <= {offset} AND before + n > {offset}",
        offset = q.offset
    );
    Some(sql)
}

/// Counts of the project overview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overview {
    pub total: u64,
    pub today: u64,
    pub week: u64,
    /// (form, count), by form id.
    pub by_form: Vec<(String, u64)>,
    /// (enumerator, count), largest first.
    pub by_enumerator: Vec<(String, u64)>,
    pub pending_review: u64,
    pub quarantined: u64,
    pub conflicts: u64,
    /// (interview outcome, count), by outcome name.
    pub by_outcome: Vec<(String, u64)>,
}

/// The counts a form's dashboard is made of (before small cells are suppressed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardCounts {
    /// (UTC day, count), by day.
    pub days: Vec<(String, u64)>,
    /// (enumerator, count).
    pub enumerators: Vec<(String, u64)>,
    /// (question, choice, sex, age band, disability, count).
    pub tallies: Vec<(String, String, String, String, String, u64)>,
}

/// A cell of the map: a rounded point and how many responses fall in it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapCell {
    pub lat: f64,
    pub lon: f64,
    pub count: u64,
}

/// A device as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: String,
    pub label: Option<String>,
    pub enumerator: String,
    pub created_at: String,
    pub last_seen: Option<String>,
    pub app_version: Option<String>,
    pub pending: Option<i64>,
    pub revoked_at: Option<String>,
    /// Revoked with wipe: the app erases its data on its next call.
    pub wipe_requested_at: Option<String>,
    /// The enumerator's profile, which matching rules read on the device.
    pub profile: voices_core::matching::EnumeratorProfile,
}

/// A review decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEntry {
    pub state: String,
    pub comment: Option<String>,
    /// `user:`-less name of the person who decided, or the device id of a resubmission.
    pub by: String,
    pub at: String,
    /// A send-back's comments on single answers, by flat path.
    pub fields: FieldComments,
    /// A send-back's: the response's context when it was sent back.
    pub context: Option<VersionVector>,
}

impl ReviewEntry {
    /// The transition as the device feed and the console show it.
    pub fn transition(&self) -> ReviewTransition {
        let state = parse_review(&self.state).unwrap_or(ReviewState::Received);
        let by = if state == ReviewState::Resubmitted {
            self.by.clone()
        } else {
            format!("{}{}", super::COORDINATOR_ACTOR_PREFIX, self.by)
        };
        ReviewTransition {
            state,
            comment: self.comment.clone(),
            fields: self.fields.clone(),
            by,
            at: self.at.clone(),
        }
    }
}

/// What an admin changes about a person.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    pub display_name: Option<String>,
}

/// A review state as the JSON of the API writes it (`has_issues`), from its stored text
/// (`hasIssues`) or its wire name.
pub fn review_wire(text: &str) -> &'static str {
    parse_review(text)
        .unwrap_or(ReviewState::Received)
        .wire_name()
}

/// A review state from its wire name or its stored text.
pub fn parse_review(text: &str) -> Option<ReviewState> {
    ReviewState::parse(text)
}

/// The UTC day of a stored time, or the time if it is shorter.
pub fn day_of(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// A `from`/`to` parameter as stored text: a day means its start (`from`) or its end
/// (`to`); a time is normalized to the stored form.
pub fn time_bound(text: &str, end: bool) -> Result<String> {
    let text = text.trim();
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let time = if end {
            day.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            day.and_hms_milli_opt(0, 0, 0, 0)
        };
        return time
            .map(|t| crate::time_text(t.and_utc()))
            .ok_or_else(|| Error::Invalid(format!("`{text}` is not a day")));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| crate::time_text(t.with_timezone(&chrono::Utc)))
        .map_err(|_| {
            Error::Invalid(format!(
                "`{}` is neither a day (2026-11-26) nor an RFC 3339 time",
                text.chars().take(40).collect::<String>()
            ))
        })
}

#[cfg(test)]
mod tests;
