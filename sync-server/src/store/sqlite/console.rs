//! The SQLite side of the console: writing the projection with each ingest (and for
//! the responses stored before it existed), and the console's queries over it.

use std::sync::Arc;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::store::codec;
use crate::store::console::{
    self, DashboardCounts, DeviceInfo, Dialect, JumpBucket, MapCell, Overview, SearchShape,
    TablePage, TableQuery, TableRow,
};
use crate::store::plan::{Changed, Indexes};
use crate::store::projection::{self, Deltas, FormIndex, IndexCache, OUTCOME_QUESTION};
use crate::store::Scope;

use super::teams;
use crate::store::teams::scope_condition;
use crate::Result;

/// Placeholders `?N`; free text through the FTS5 table (same rowid as the index row).
pub(super) struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    fn search(&self, placeholder: &str) -> String {
        format!(
            "ri.rowid IN (SELECT rowid FROM response_text WHERE response_text MATCH {placeholder})"
        )
    }

    /// The matches' rowids listed once, then each index row (read in the page's order)
    /// looked up among them: `+` keeps SQLite from reading the rows by those rowids and
    /// sorting them all.
    fn search_in_order(&self, placeholder: &str) -> String {
        format!(
            "+ri.rowid IN (SELECT rowid FROM response_text WHERE response_text MATCH {placeholder})"
        )
    }

    /// A count reads the matches from the text index and each one's index row by rowid
    /// (a third of the time of listing them first and reading the index for each).
    fn search_join(&self, placeholder: &str) -> Option<(String, String)> {
        Some((
            "response_text JOIN response_index ri ON ri.rowid = response_text.rowid".into(),
            format!("response_text MATCH {placeholder}"),
        ))
    }

    fn search_text(&self, words: &[String], pii: bool) -> String {
        // Words are letters and digits only (`projection::search_words`), so quoting them
        // leaves no FTS5 syntax in what a person typed.
        let all: Vec<String> = words
            .iter()
            .map(|w| {
                let star = if projection::is_prefix(w) { "*" } else { "" };
                format!("\"{w}\"{star}")
            })
            .collect();
        let all = all.join(" AND ");
        if pii {
            all
        } else {
            format!("{{open}} : ({all})")
        }
    }
}

/// The index of a form version, read through this connection on a miss.
pub(super) fn index_of(
    c: &Connection,
    cache: &IndexCache,
    project: &str,
    form: &str,
    version: &str,
) -> Result<Option<Arc<FormIndex>>> {
    cache.get(project, form, version, || {
        Ok(c.query_row(
            "SELECT document FROM form_versions WHERE project = ?1 AND form = ?2 AND version = ?3",
            params![project, form, version],
            |r| r.get(0),
        )
        .optional()?)
    })
}

/// The indexes of these (form, version) pairs that are published.
pub(super) fn indexes(
    c: &Connection,
    cache: &IndexCache,
    project: &str,
    pairs: Vec<(String, String)>,
) -> Result<Indexes> {
    let mut out = Indexes::new();
    for (form, version) in pairs {
        if let Some(index) = index_of(c, cache, project, &form, &version)? {
            out.insert((form, version), index);
        }
    }
    Ok(out)
}

/// Write the projection rows of changed responses and apply the count deltas.
pub(super) fn write_projection(
    tx: &Connection,
    project: &str,
    changed: &[Changed],
    deltas: Deltas,
    now: &str,
) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO response_index (project, id, form, version, status, review, conflicts,
             quarantined, enumerator, device, received_at, updated_at, lat, lon)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (project, id) DO UPDATE SET version = excluded.version,
             status = excluded.status, conflicts = excluded.conflicts,
             quarantined = excluded.quarantined, updated_at = excluded.updated_at,
             review = excluded.review, lat = excluded.lat, lon = excluded.lon
         RETURNING rowid",
    )?;
    let mut rewritten = Vec::new();
    let mut texts = Vec::with_capacity(changed.len());
    for c in changed {
        let p = &c.projection;
        let rowid: i64 = upsert.query_row(
            params![
                project,
                c.id,
                c.form,
                c.version,
                p.status.unwrap_or_default(),
                c.review_state,
                p.conflicts,
                p.quarantined,
                c.enumerator,
                c.device,
                c.received_at,
                now,
                p.point.map(|(lat, _)| lat),
                p.point.map(|(_, lon)| lon),
            ],
            |r| r.get(0),
        )?;
        if c.read_at.is_some() {
            rewritten.push(rowid);
        }
        texts.push((rowid, search_text(&p.open_text), search_text(&p.pii_text)));
    }
    // The search text of the whole batch in two statements, after the index rows: FTS5
    // writes what it holds in memory out as a new segment whenever a statement opens a
    // savepoint (as every INSERT and upsert does), so a delete and an insert per response
    // made one segment per response and merging them cost more than the rest of the
    // ingest. Written together, the batch is one segment.
    if !rewritten.is_empty() {
        tx.prepare_cached(
            "DELETE FROM response_text WHERE rowid IN (SELECT value FROM json_each(?1))",
        )?
        .execute([serde_json::to_string(&rewritten)?])?;
    }
    if !texts.is_empty() {
        tx.prepare_cached(
            "INSERT INTO response_text (rowid, open, pii)
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
                 json_extract(value, '$[2]')
             FROM json_each(?1)",
        )?
        .execute([serde_json::to_string(&texts)?])?;
    }
    let (counts, tallies, device_tallies) = deltas.nonzero();
    let mut count = tx.prepare_cached(
        "INSERT INTO response_counts (project, form, version, day, enumerator, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET n = n + excluded.n",
    )?;
    for (k, n) in counts {
        count.execute(params![project, k.form, k.version, k.day, k.enumerator, n])?;
    }
    let mut tally = tx.prepare_cached(
        "INSERT INTO choice_counts (project, form, version, question, choice, sex, age_band,
             disability, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT DO UPDATE SET n = n + excluded.n",
    )?;
    for (k, n) in tallies {
        tally.execute(params![
            project,
            k.form,
            k.version,
            k.question,
            k.choice,
            k.sex,
            k.age_band,
            k.disability,
            n
        ])?;
    }
    if !device_tallies.is_empty() {
        let mut tally = tx.prepare_cached(
            "INSERT INTO device_choice_counts (project, device, form, version, question, choice,
                 sex, age_band, disability, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((device, k), n) in device_tallies {
            tally.execute(params![
                project,
                device,
                k.form,
                k.version,
                k.question,
                k.choice,
                k.sex,
                k.age_band,
                k.disability,
                n
            ])?;
        }
    }
    Ok(())
}

fn search_text(text: &str) -> String {
    projection::index_text(text)
}

/// The projects holding responses, for the backfills that walk them one by one.
fn stored_projects(tx: &Connection) -> Result<Vec<String>> {
    Ok(tx
        .prepare("SELECT DISTINCT project FROM responses ORDER BY project")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Write the projection of every response already stored (after the migration that
/// adds it), 1,000 responses at a time.
pub(super) fn backfill(tx: &Connection) -> Result<()> {
    let cache = IndexCache::default();
    for project in stored_projects(tx)? {
        let mut after = String::new();
        loop {
            let mut batch: Vec<Changed> = Vec::new();
            let mut deltas = Deltas::default();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, form, device, enumerator, state, quarantine, review_state,
                         received_at FROM responses
                     WHERE project = ?1 AND id > ?2 ORDER BY id LIMIT 1000",
                )?;
                let mut rows = stmt.query(params![project, after])?;
                while let Some(row) = rows.next()? {
                    let state = codec::decode(&row.get::<_, String>(4)?)?;
                    let quarantine: String = row.get(5)?;
                    let version = state.form_version().unwrap_or_default().to_owned();
                    let index = index_of(tx, &cache, &project, &state.form, &version)?;
                    let projection =
                        projection::project(&state, index.as_deref(), quarantine != "[]");
                    let enumerator: String = row.get(3)?;
                    let received_at: String = row.get(7)?;
                    let device: String = row.get(2)?;
                    deltas.add(&projection, &enumerator, &device, &received_at, 1);
                    batch.push(Changed {
                        id: row.get(0)?,
                        form: row.get(1)?,
                        version,
                        device,
                        enumerator,
                        state: String::new(),
                        conflict: projection.conflicts > 0,
                        quarantine,
                        review_state: row.get(6)?,
                        resubmitted: false,
                        received_at,
                        read_at: None,
                        projection,
                    });
                }
            }
            let Some(last) = batch.last() else { break };
            after = last.id.clone();
            // The tallies by device have their own migration (15) and backfill.
            deltas.device_tallies.clear();
            write_projection(tx, &project, &batch, deltas, "")?;
        }
    }
    tx.execute(
        "UPDATE response_index SET updated_at = (SELECT r.updated_at FROM responses r
             WHERE r.project = response_index.project AND r.id = response_index.id)",
        [],
    )?;
    Ok(())
}

/// Fill `device_choice_counts` (migration 15) from the responses already stored (the
/// ones the console counts: not withdrawn), 1,000 at a time.
pub(super) fn backfill_device_tallies(tx: &Connection) -> Result<()> {
    let cache = IndexCache::default();
    for project in stored_projects(tx)? {
        let mut after = String::new();
        loop {
            let mut deltas = Deltas::default();
            let mut last = None;
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, device, enumerator, state, quarantine, received_at FROM responses
                     WHERE project = ?1 AND id > ?2 AND withdrawn_at IS NULL
                     ORDER BY id LIMIT 1000",
                )?;
                let mut rows = stmt.query(params![project, after])?;
                while let Some(row) = rows.next()? {
                    last = Some(row.get::<_, String>(0)?);
                    // A state the ingest did not write (never so in a real store) counts
                    // for nothing rather than keep the server from starting.
                    let Ok(state) = codec::decode(&row.get::<_, String>(3)?) else {
                        continue;
                    };
                    let quarantine: String = row.get(4)?;
                    let version = state.form_version().unwrap_or_default().to_owned();
                    let index = index_of(tx, &cache, &project, &state.form, &version)?;
                    let projection =
                        projection::project(&state, index.as_deref(), quarantine != "[]");
                    let (device, enumerator, received_at): (String, String, String) =
                        (row.get(1)?, row.get(2)?, row.get(5)?);
                    deltas.add(&projection, &enumerator, &device, &received_at, 1);
                }
            }
            let Some(last) = last else { break };
            after = last;
            // Only the new table: the other counts were kept all along.
            deltas.counts.clear();
            deltas.tallies.clear();
            write_projection(tx, &project, &[], deltas, "")?;
        }
    }
    Ok(())
}

/// A search matching at least 1 in this many of the project's responses is paged by
/// reading the index in order, the matches listed once ([`SearchShape::InOrder`]): about
/// this many index rows per page row at most. Rarer ones list their matches and sort them.
const DENSE_SEARCH: u64 = 50;
// Not each row tested with its own MATCH as it is read: FTS5 merges a prefix word's
// lists again for every such test (a village's name, a prefix, took minutes a page).

/// How a page tests the search words, by how many responses match: the count of the
/// page's filters when it was made (`capped`: at least that many), else the text index's
/// own count of its matches, read without a row and only as far as the density decides.
fn search_shape(
    c: &Connection,
    project: &str,
    q: &TableQuery,
    counted: Option<(u64, bool)>,
) -> Result<SearchShape> {
    if q.words.is_empty() {
        return Ok(SearchShape::Listed);
    }
    let rows: i64 = c
        .prepare_cached("SELECT COALESCE(SUM(n), 0) FROM response_facets WHERE project = ?1")?
        .query_row([project], |r| r.get(0))?;
    // Dense from this many matches on.
    let dense = (rows as u64).div_ceil(DENSE_SEARCH).max(1);
    let matches = match counted {
        Some((n, capped)) if !capped || n >= dense => n,
        _ => c
            .prepare_cached(
                "SELECT COUNT(*) FROM (SELECT rowid FROM response_text
                     WHERE response_text MATCH ?1 LIMIT ?2)",
            )?
            .query_row(
                params![Sqlite.search_text(&q.words, q.pii), dense as i64],
                |r| r.get::<_, i64>(0),
            )? as u64,
    };
    Ok(if matches >= dense {
        SearchShape::InOrder
    } else {
        SearchShape::Listed
    })
}

/// One page of the responses table.
pub(super) fn table(c: &Connection, project: &str, q: &TableQuery) -> Result<TablePage> {
    // The count first: a search's tells how to read its page.
    let counted = if q.count {
        let sql = console::count_sql(project, q, &Sqlite);
        let n: i64 = c
            .prepare_cached(&sql.text)?
            .query_row(params_from_iter(sql.params.iter()), |r| r.get(0))?;
        Some(console::capped_total(n as u64, q))
    } else {
        None
    };
    let shape = search_shape(c, project, q, counted)?;
    let bucket = match console::jump_bucket_sql(project, q, &Sqlite) {
        None => None,
        Some(sql) => {
            let found = c
                .prepare_cached(&sql.text)?
                .query_row(params_from_iter(sql.params.iter()), |r| {
                    Ok(JumpBucket {
                        value: r.get(0)?,
                        day: r.get(1)?,
                        skip: r.get::<_, i64>(2)? as u64,
                    })
                })
                .optional()?;
            // No bucket holds the row: the jump is past the last row.
            let Some(found) = found else {
                return Ok(TablePage {
                    rows: Vec::new(),
                    more: false,
                    total: counted.map(|(n, _)| n),
                    capped: counted.is_some_and(|(_, capped)| capped),
                });
            };
            Some(found)
        }
    };
    let sql = console::shaped_page_sql(project, q, &Sqlite, shape, bucket.as_ref());
    let mut stmt = c.prepare_cached(&sql.text)?;
    let mut rows: Vec<TableRow> = stmt
        .query_map(params_from_iter(sql.params.iter()), |r| {
            Ok(TableRow {
                id: r.get(0)?,
                form: r.get(1)?,
                version: r.get(2)?,
                status: r.get(3)?,
                review: r.get(4)?,
                conflicts: r.get(5)?,
                quarantined: r.get(6)?,
                enumerator: r.get(7)?,
                device: r.get(8)?,
                received_at: r.get(9)?,
                updated_at: r.get(10)?,
                state: r.get(11)?,
                feed_seq: r.get(12)?,
                quarantine: r.get(13)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > q.limit;
    rows.truncate(q.limit);
    Ok(TablePage {
        rows,
        more,
        total: counted.map(|(n, _)| n),
        capped: counted.is_some_and(|(_, capped)| capped),
    })
}

fn pairs(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<(String, u64)>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn count(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<u64> {
    let n: i64 = c.prepare_cached(sql)?.query_row(p, |r| r.get(0))?;
    Ok(n as u64)
}

/// The overview's counts as `scope` sees them, from the kept counts: `response_facets`
/// (every filter of the index, by starting device) and the outcome tallies
/// (`choice_counts`, or `device_choice_counts` for a coordinator limited to teams).
pub(super) fn overview(
    c: &Connection,
    project: &str,
    scope: &Scope,
    today: &str,
    week_start: &str,
) -> Result<Overview> {
    let user = scope.limited_to();
    let seen = teams::seen("device", "?2");
    let by_day = pairs(
        c,
        &format!(
            "SELECT day, SUM(n) FROM response_facets WHERE project = ?1 AND {seen} AND day >= ?3
             GROUP BY day"
        ),
        params![project, user, week_start],
    )?;
    let mut by_enumerator = pairs(
        c,
        &format!(
            "SELECT enumerator, SUM(n) FROM response_facets WHERE project = ?1 AND {seen}
             GROUP BY enumerator HAVING SUM(n) > 0"
        ),
        params![project, user],
    )?;
    by_enumerator.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let by_form = pairs(
        c,
        &format!(
            "SELECT form, SUM(n) FROM response_facets WHERE project = ?1 AND {seen}
             GROUP BY form HAVING SUM(n) > 0 ORDER BY form"
        ),
        params![project, user],
    )?;
    let flagged = |condition: &str| {
        count(
            c,
            &format!(
                "SELECT COALESCE(SUM(n), 0) FROM response_facets
                 WHERE project = ?1 AND {seen} AND {condition}"
            ),
            params![project, user],
        )
    };
    let by_outcome = match user {
        None => pairs(
            c,
            "SELECT choice, SUM(n) FROM choice_counts WHERE project = ?1 AND question = ?2
             GROUP BY choice HAVING SUM(n) > 0 ORDER BY choice",
            params![project, OUTCOME_QUESTION],
        )?,
        Some(user) => pairs(
            c,
            &format!(
                "SELECT choice, SUM(n) FROM device_choice_counts
                 WHERE project = ?1 AND {} AND question = ?3
                 GROUP BY choice HAVING SUM(n) > 0 ORDER BY choice",
                scope_condition("device", "?1", "?2")
            ),
            params![project, user, OUTCOME_QUESTION],
        )?,
    };
    Ok(Overview {
        total: by_form.iter().map(|(_, n)| n).sum(),
        today: by_day
            .iter()
            .filter(|(d, _)| d.as_str() >= today)
            .map(|(_, n)| n)
            .sum(),
        week: by_day.iter().map(|(_, n)| n).sum(),
        by_form,
        by_enumerator,
        pending_review: flagged("review = 'received'")?,
        quarantined: flagged("quarantined = 1")?,
        conflicts: flagged("conflicted = 1")?,
        by_outcome,
    })
}

/// A form's dashboard counts (one version, or all) as `scope` sees them, from the kept
/// counts (see [`overview`]).
pub(super) fn dashboard_counts(
    c: &Connection,
    project: &str,
    scope: &Scope,
    form: &str,
    version: Option<&str>,
) -> Result<DashboardCounts> {
    let user = scope.limited_to();
    let seen = teams::seen("device", "?4");
    let (days, enumerators) = match user {
        // The whole project's: the counts by day and enumerator, fewer rows.
        None => (
            pairs(
                c,
                "SELECT day, SUM(n) FROM response_counts WHERE project = ?1 AND form = ?2
                     AND (?3 IS NULL OR version = ?3)
                 GROUP BY day ORDER BY day",
                params![project, form, version],
            )?,
            pairs(
                c,
                "SELECT enumerator, SUM(n) FROM response_counts WHERE project = ?1 AND form = ?2
                     AND (?3 IS NULL OR version = ?3)
                 GROUP BY enumerator",
                params![project, form, version],
            )?,
        ),
        Some(_) => (
            pairs(
                c,
                &format!(
                    "SELECT day, SUM(n) FROM response_facets WHERE project = ?1 AND form = ?2
                         AND (?3 IS NULL OR version = ?3) AND {seen}
                     GROUP BY day HAVING SUM(n) > 0 ORDER BY day"
                ),
                params![project, form, version, user],
            )?,
            pairs(
                c,
                &format!(
                    "SELECT enumerator, SUM(n) FROM response_facets WHERE project = ?1
                         AND form = ?2 AND (?3 IS NULL OR version = ?3) AND {seen}
                     GROUP BY enumerator HAVING SUM(n) > 0"
                ),
                params![project, form, version, user],
            )?,
        ),
    };
    let tallies_sql = match user {
        None => "SELECT question, choice, sex, age_band, disability, SUM(n) FROM choice_counts
                 WHERE project = ?1 AND form = ?2 AND (?3 IS NULL OR version = ?3)
                     AND ?4 IS NULL
                 GROUP BY question, choice, sex, age_band, disability HAVING SUM(n) > 0"
            .to_owned(),
        Some(_) => format!(
            "SELECT question, choice, sex, age_band, disability, SUM(n) FROM device_choice_counts
             WHERE project = ?1 AND {} AND form = ?2 AND (?3 IS NULL OR version = ?3)
             GROUP BY question, choice, sex, age_band, disability HAVING SUM(n) > 0",
            scope_condition("device", "?1", "?4")
        ),
    };
    let mut stmt = c.prepare_cached(&tallies_sql)?;
    let tallies = stmt
        .query_map(params![project, form, version, user], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, i64>(5)? as u64,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(DashboardCounts {
        days,
        enumerators,
        tallies,
    })
}

/// The map's cells: the kept ones (`map_cells`) for the whole project at the coarse
/// precisions, otherwise grouped from the index's points.
pub(super) fn map_cells(
    c: &Connection,
    project: &str,
    scope: &Scope,
    form: &str,
    precision: u32,
) -> Result<Vec<MapCell>> {
    let kept = *scope == Scope::Project && precision <= console::KEPT_MAP_PRECISION;
    let mut stmt = if kept {
        c.prepare_cached(
            "SELECT lat, lon, n FROM map_cells
             WHERE project = ?1 AND form = ?2 AND places = ?3 AND n > 0 AND ?4 IS NULL
             ORDER BY lat, lon",
        )?
    } else {
        c.prepare_cached(&format!(
            "SELECT ROUND(lat, ?3), ROUND(lon, ?3), COUNT(*) FROM response_index
             WHERE project = ?1 AND form = ?2 AND lat IS NOT NULL AND {}
             GROUP BY 1, 2 ORDER BY 1, 2",
            teams::seen("device", "?4")
        ))?
    };
    let cells = stmt
        .query_map(params![project, form, precision, scope.limited_to()], |r| {
            Ok(MapCell {
                lat: r.get(0)?,
                lon: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(cells)
}

pub(super) fn count_form(
    c: &Connection,
    project: &str,
    scope: &Scope,
    form: &str,
    after: i64,
) -> Result<u64> {
    count(
        c,
        &format!(
            "SELECT COUNT(*) FROM responses WHERE project = ?1 AND form = ?2 AND feed_seq > ?3
                 AND withdrawn_at IS NULL AND {}",
            teams::seen("device", "?4")
        ),
        params![project, form, after, scope.limited_to()],
    )
}

pub(super) fn list_devices(
    c: &Connection,
    project: &str,
    scope: &Scope,
) -> Result<Vec<DeviceInfo>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT id, label, enumerator, created_at, last_seen_at, app_version, pending, revoked_at,
                wipe_requested_at, enumerator_sex, enumerator_languages, enumerator_area
         FROM devices WHERE project = ?1 AND {} ORDER BY id",
        teams::seen("id", "?2")
    ))?;
    let rows = stmt.query_map(params![project, scope.limited_to()], |r| {
        Ok(DeviceInfo {
            id: r.get(0)?,
            label: r.get(1)?,
            enumerator: r.get(2)?,
            created_at: r.get(3)?,
            last_seen: r.get(4)?,
            app_version: r.get(5)?,
            pending: r.get(6)?,
            revoked_at: r.get(7)?,
            wipe_requested_at: r.get(8)?,
            profile: crate::store::profile::from_columns(r.get(9)?, r.get(10)?, r.get(11)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
