//! The PostgreSQL side of the console: writing the projection with each ingest (and for
//! the responses stored before it existed), and the console's queries over it.

use std::sync::Arc;

use postgres::types::ToSql;
use postgres::GenericClient;

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

type Attempt<T> = std::result::Result<T, postgres::Error>;

/// Placeholders `$N`; free text through the GIN-indexed tsvector.
pub(super) struct Postgres;

impl Dialect for Postgres {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    /// The index's columns are `COLLATE "C"` (byte order, for the keyset), `responses`'
    /// the database's default: compared as they are, PostgreSQL relabels the `responses`
    /// side to "C", cannot use its primary key, and hash-joins the page against every
    /// response of the project (a scan of them all per page). Equality is the same in
    /// both collations, so the index side is relabelled instead.
    fn join_key(&self, column: &str) -> String {
        format!("{column} COLLATE \"default\"")
    }

    /// The kept counts' columns have the default collation; the index's are "C".
    fn byte_order(&self, column: &str) -> String {
        format!("{column} COLLATE \"C\"")
    }

    fn search(&self, placeholder: &str) -> String {
        format!("ri.search @@ to_tsquery('simple', {placeholder})")
    }

    fn search_text(&self, words: &[String], pii: bool) -> String {
        // Letters and digits only (`projection::search_words`): no tsquery syntax gets in.
        // Without pii only the words weighted D (answers that are not pii) match.
        let weight = if pii { "" } else { "D" };
        words
            .iter()
            .map(|w| {
                let star = if projection::is_prefix(w) { "*" } else { "" };
                match format!("{star}{weight}") {
                    flags if flags.is_empty() => w.clone(),
                    flags => format!("{w}:{flags}"),
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// The index of a form version, read through this connection on a miss.
pub(super) fn index_of(
    c: &mut impl GenericClient,
    cache: &IndexCache,
    project: &str,
    form: &str,
    version: &str,
) -> crate::Result<Option<Arc<FormIndex>>> {
    cache.get(project, form, version, || {
        c.query_opt(
            "SELECT document FROM form_versions WHERE project = $1 AND form = $2 AND version = $3",
            &[&project, &form, &version],
        )
        .map_err(crate::Error::from)?
        .map(|row| row.try_get(0).map_err(crate::Error::from))
        .transpose()
    })
}

/// The indexes of these (form, version) pairs that are published.
pub(super) fn indexes(
    c: &mut impl GenericClient,
    cache: &IndexCache,
    project: &str,
    pairs: Vec<(String, String)>,
) -> crate::Result<Indexes> {
    let mut out = Indexes::new();
    for (form, version) in pairs {
        if let Some(index) = index_of(c, cache, project, &form, &version)? {
            out.insert((form, version), index);
        }
    }
    Ok(out)
}

/// Write the projection rows of changed responses and apply the count deltas, in the
/// caller's transaction (after the feed row is locked: ingests of a project reach this
/// one at a time, so the count rows cannot deadlock).
pub(super) fn write_projection(
    tx: &mut impl GenericClient,
    project: &str,
    changed: &[Changed],
    deltas: Deltas,
    now: &str,
) -> Attempt<()> {
    if !changed.is_empty() {
        let n = changed.len();
        let mut ids = Vec::with_capacity(n);
        let mut forms = Vec::with_capacity(n);
        let mut versions = Vec::with_capacity(n);
        let mut statuses = Vec::with_capacity(n);
        let mut reviews = Vec::with_capacity(n);
        let mut conflicts = Vec::with_capacity(n);
        let mut quarantined = Vec::with_capacity(n);
        let mut enumerators = Vec::with_capacity(n);
        let mut devices = Vec::with_capacity(n);
        let mut received = Vec::with_capacity(n);
        let mut lats = Vec::with_capacity(n);
        let mut lons = Vec::with_capacity(n);
        let mut open = Vec::with_capacity(n);
        let mut pii = Vec::with_capacity(n);
        for c in changed {
            let p = &c.projection;
            ids.push(c.id.as_str());
            forms.push(c.form.as_str());
            versions.push(c.version.as_str());
            statuses.push(p.status.unwrap_or_default());
            reviews.push(c.review_state.as_str());
            conflicts.push(p.conflicts as i32);
            quarantined.push(i32::from(p.quarantined));
            enumerators.push(c.enumerator.as_str());
            devices.push(c.device.as_str());
            received.push(c.received_at.as_str());
            lats.push(p.point.map(|(lat, _)| lat));
            lons.push(p.point.map(|(_, lon)| lon));
            open.push(projection::index_text(&p.open_text));
            pii.push(projection::index_text(&p.pii_text));
        }
        let params: [&(dyn ToSql + Sync); 16] = [
            &project,
            &now,
            &ids,
            &forms,
            &versions,
            &statuses,
            &reviews,
            &conflicts,
            &quarantined,
            &enumerators,
            &devices,
            &received,
            &lats,
            &lons,
            &open,
            &pii,
        ];
        tx.execute(
            "INSERT INTO response_index (project, id, form, version, status, review, conflicts,
                 quarantined, enumerator, device, received_at, updated_at, lat, lon, search)
             SELECT $1, r.id, r.form, r.version, r.status, r.review, r.conflicts, r.quarantined,
                 r.enumerator, r.device, r.received_at, $2, r.lat, r.lon,
                 setweight(to_tsvector('simple', r.open), 'D')
                     || setweight(to_tsvector('simple', r.pii), 'A')
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::int4[], $9::int4[], $10::text[], $11::text[], $12::text[],
                         $13::float8[], $14::float8[], $15::text[], $16::text[])
                  AS r(id, form, version, status, review, conflicts, quarantined, enumerator,
                       device, received_at, lat, lon, open, pii)
             ON CONFLICT (project, id) DO UPDATE SET version = excluded.version,
                 status = excluded.status, conflicts = excluded.conflicts,
                 quarantined = excluded.quarantined, updated_at = excluded.updated_at,
                 review = excluded.review, lat = excluded.lat, lon = excluded.lon, search = excluded.search",
            &params,
        )?;
    }
    let (counts, tallies, device_tallies) = deltas.nonzero();
    if !counts.is_empty() {
        let (mut forms, mut versions, mut days, mut enumerators, mut ns) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (k, n) in &counts {
            forms.push(k.form.as_str());
            versions.push(k.version.as_str());
            days.push(k.day.as_str());
            enumerators.push(k.enumerator.as_str());
            ns.push(*n);
        }
        tx.execute(
            "INSERT INTO response_counts (project, form, version, day, enumerator, n)
             SELECT $1, r.form, r.version, r.day, r.enumerator, r.n
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int8[])
                  AS r(form, version, day, enumerator, n)
             ON CONFLICT (project, form, version, day, enumerator)
             DO UPDATE SET n = response_counts.n + excluded.n",
            &[&project, &forms, &versions, &days, &enumerators, &ns],
        )?;
    }
    if !tallies.is_empty() {
        let mut columns: [Vec<&str>; 7] = Default::default();
        let mut ns = Vec::with_capacity(tallies.len());
        for (k, n) in &tallies {
            for (column, value) in columns.iter_mut().zip([
                &k.form,
                &k.version,
                &k.question,
                &k.choice,
                &k.sex,
                &k.age_band,
                &k.disability,
            ]) {
                column.push(value.as_str());
            }
            ns.push(*n);
        }
        let [forms, versions, questions, choices, sexes, ages, disabilities] = &columns;
        tx.execute(
            "INSERT INTO choice_counts (project, form, version, question, choice, sex, age_band,
                 disability, n)
             SELECT $1, r.form, r.version, r.question, r.choice, r.sex, r.age_band,
                 r.disability, r.n
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::int8[])
                  AS r(form, version, question, choice, sex, age_band, disability, n)
             ON CONFLICT (project, form, version, question, choice, sex, age_band, disability)
             DO UPDATE SET n = choice_counts.n + excluded.n",
            &[
                &project,
                forms,
                versions,
                questions,
                choices,
                sexes,
                ages,
                disabilities,
                &ns,
            ],
        )?;
    }
    if !device_tallies.is_empty() {
        let mut columns: [Vec<&str>; 8] = Default::default();
        let mut ns = Vec::with_capacity(device_tallies.len());
        for ((device, k), n) in &device_tallies {
            for (column, value) in columns.iter_mut().zip([
                device,
                &k.form,
                &k.version,
                &k.question,
                &k.choice,
                &k.sex,
                &k.age_band,
                &k.disability,
            ]) {
                column.push(value.as_str());
            }
            ns.push(*n);
        }
        let [devices, forms, versions, questions, choices, sexes, ages, disabilities] = &columns;
        tx.execute(
            "INSERT INTO device_choice_counts (project, device, form, version, question, choice,
                 sex, age_band, disability, n)
             SELECT $1, r.device, r.form, r.version, r.question, r.choice, r.sex, r.age_band,
                 r.disability, r.n
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::int8[])
                  AS r(device, form, version, question, choice, sex, age_band, disability, n)
             ON CONFLICT (project, device, form, version, question, choice, sex, age_band,
                 disability)
             DO UPDATE SET n = device_choice_counts.n + excluded.n",
            &[
                &project,
                devices,
                forms,
                versions,
                questions,
                choices,
                sexes,
                ages,
                disabilities,
                &ns,
            ],
        )?;
    }
    Ok(())
}

/// The projects holding responses, for the backfills that walk them one by one.
fn stored_projects(tx: &mut postgres::Transaction<'_>) -> super::Attempt<Vec<String>> {
    Ok(tx
        .query(
            "SELECT DISTINCT project FROM responses ORDER BY project",
            &[],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Attempt<_>>()?)
}

/// Write the projection of every response already stored (after the migration that
/// adds it), 1,000 responses at a time.
pub(super) fn backfill(tx: &mut postgres::Transaction<'_>) -> super::Attempt<()> {
    let cache = IndexCache::default();
    for project in stored_projects(tx)? {
        let mut after = String::new();
        loop {
            let rows = tx.query(
                "SELECT id, form, device, enumerator, state, quarantine, review_state, received_at
                 FROM responses WHERE project = $1 AND id > $2 ORDER BY id LIMIT 1000",
                &[&project, &after],
            )?;
            if rows.is_empty() {
                break;
            }
            let mut batch = Vec::with_capacity(rows.len());
            let mut deltas = Deltas::default();
            for row in &rows {
                let state = codec::decode(row.try_get::<_, &str>(4)?)?;
                let quarantine: String = row.try_get(5)?;
                let version = state.form_version().unwrap_or_default().to_owned();
                let index = index_of(tx, &cache, &project, &state.form, &version)?;
                let projection = projection::project(&state, index.as_deref(), quarantine != "[]");
                let enumerator: String = row.try_get(3)?;
                let received_at: String = row.try_get(7)?;
                let device: String = row.try_get(2)?;
                deltas.add(&projection, &enumerator, &device, &received_at, 1);
                batch.push(Changed {
                    id: row.try_get(0)?,
                    form: row.try_get(1)?,
                    version,
                    device,
                    enumerator,
                    state: String::new(),
                    conflict: projection.conflicts > 0,
                    quarantine,
                    review_state: row.try_get(6)?,
                    resubmitted: false,
                    received_at,
                    read_at: None,
                    projection,
                });
            }
            after = batch.last().map(|c| c.id.clone()).unwrap_or_default();
            // The tallies by device have their own migration (15) and backfill.
            deltas.device_tallies.clear();
            write_projection(tx, &project, &batch, deltas, "")?;
        }
    }
    tx.execute(
        "UPDATE response_index ri SET updated_at = r.updated_at FROM responses r
         WHERE r.project = ri.project AND r.id = ri.id",
        &[],
    )?;
    Ok(())
}

fn params(values: &[String]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Fill `device_choice_counts` (migration 15) from the responses already stored (the
/// ones the console counts: not withdrawn), 1,000 at a time.
pub(super) fn backfill_device_tallies(tx: &mut postgres::Transaction<'_>) -> super::Attempt<()> {
    let cache = IndexCache::default();
    for project in stored_projects(tx)? {
        let mut after = String::new();
        loop {
            let rows = tx.query(
                "SELECT id, device, enumerator, state, quarantine, received_at FROM responses
                 WHERE project = $1 AND id > $2 AND withdrawn_at IS NULL ORDER BY id LIMIT 1000",
                &[&project, &after],
            )?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            let mut deltas = Deltas::default();
            for row in &rows {
                // A state the ingest did not write (never so in a real store) counts for
                // nothing rather than keep the server from starting.
                let Ok(state) = codec::decode(row.try_get::<_, &str>(3)?) else {
                    continue;
                };
                let quarantine: String = row.try_get(4)?;
                let version = state.form_version().unwrap_or_default().to_owned();
                let index = index_of(tx, &cache, &project, &state.form, &version)?;
                let projection = projection::project(&state, index.as_deref(), quarantine != "[]");
                let (device, enumerator, received_at): (String, String, String) =
                    (row.try_get(1)?, row.try_get(2)?, row.try_get(5)?);
                deltas.add(&projection, &enumerator, &device, &received_at, 1);
            }
            // Only the new table: the other counts were kept all along.
            deltas.counts.clear();
            deltas.tallies.clear();
            write_projection(tx, &project, &[], deltas, "")?;
        }
    }
    Ok(())
}

/// One page of the responses table.
pub(super) fn table(
    c: &mut impl GenericClient,
    project: &str,
    q: &TableQuery,
) -> Attempt<TablePage> {
    let bucket = match console::jump_bucket_sql(project, q, &Postgres) {
        None => None,
        Some(sql) => match c.query_opt(&sql.text, &params(&sql.params))? {
            Some(r) => Some(JumpBucket {
                value: r.try_get(0)?,
                day: r.try_get(1)?,
                skip: r.try_get::<_, i64>(2)? as u64,
            }),
            // No bucket holds the row: the jump is past the last row.
            None => {
                let counted = counted(c, project, q)?;
                return Ok(TablePage {
                    rows: Vec::new(),
                    more: false,
                    total: counted.map(|(n, _)| n),
                    capped: counted.is_some_and(|(_, capped)| capped),
                });
            }
        },
    };
    let sql = console::shaped_page_sql(project, q, &Postgres, SearchShape::Listed, bucket.as_ref());
    let mut rows = Vec::new();
    for r in c.query(&sql.text, &params(&sql.params))? {
        rows.push(TableRow {
            id: r.try_get(0)?,
            form: r.try_get(1)?,
            version: r.try_get(2)?,
            status: r.try_get(3)?,
            review: r.try_get(4)?,
            conflicts: i64::from(r.try_get::<_, i32>(5)?),
            quarantined: r.try_get::<_, i32>(6)? != 0,
            enumerator: r.try_get(7)?,
            device: r.try_get(8)?,
            received_at: r.try_get(9)?,
            updated_at: r.try_get(10)?,
            state: r.try_get(11)?,
            feed_seq: r.try_get(12)?,
            quarantine: r.try_get(13)?,
        });
    }
    let more = rows.len() > q.limit;
    rows.truncate(q.limit);
    let counted = counted(c, project, q)?;
    Ok(TablePage {
        rows,
        more,
        total: counted.map(|(n, _)| n),
        capped: counted.is_some_and(|(_, capped)| capped),
    })
}

/// The page's total and whether it was capped, when asked for.
fn counted(
    c: &mut impl GenericClient,
    project: &str,
    q: &TableQuery,
) -> Attempt<Option<(u64, bool)>> {
    if !q.count {
        return Ok(None);
    }
    let sql = console::count_sql(project, q, &Postgres);
    let n: i64 = c.query_one(&sql.text, &params(&sql.params))?.try_get(0)?;
    Ok(Some(console::capped_total(n as u64, q)))
}

fn pairs(
    c: &mut impl GenericClient,
    sql: &str,
    p: &[&(dyn ToSql + Sync)],
) -> Attempt<Vec<(String, u64)>> {
    c.query(sql, p)?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)? as u64)))
        .collect()
}

fn count(c: &mut impl GenericClient, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Attempt<u64> {
    Ok(c.query_one(sql, p)?.try_get::<_, i64>(0)? as u64)
}

/// The overview's counts as `scope` sees them, from the kept counts (as SQLite's).
pub(super) fn overview(
    c: &mut impl GenericClient,
    project: &str,
    scope: &Scope,
    today: &str,
    week_start: &str,
) -> Attempt<Overview> {
    let user = scope.limited_to();
    let seen = teams::seen("device", "$2");
    let by_day = pairs(
        c,
        &format!(
            "SELECT day, SUM(n)::int8 FROM response_facets WHERE project = $1 AND {seen}
                 AND day >= $3
             GROUP BY day"
        ),
        &[&project, &user, &week_start],
    )?;
    let mut by_enumerator = pairs(
        c,
        &format!(
            "SELECT enumerator, SUM(n)::int8 FROM response_facets WHERE project = $1 AND {seen}
             GROUP BY enumerator HAVING SUM(n) > 0"
        ),
        &[&project, &user],
    )?;
    by_enumerator.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let by_form = pairs(
        c,
        &format!(
            "SELECT form, SUM(n)::int8 FROM response_facets WHERE project = $1 AND {seen}
             GROUP BY form HAVING SUM(n) > 0 ORDER BY form"
        ),
        &[&project, &user],
    )?;
    let mut flagged = |condition: &str| {
        count(
            c,
            &format!(
                "SELECT COALESCE(SUM(n), 0)::int8 FROM response_facets
                 WHERE project = $1 AND {seen} AND {condition}"
            ),
            &[&project, &user],
        )
    };
    let pending_review = flagged("review = 'received'")?;
    let quarantined = flagged("quarantined = 1")?;
    let conflicts = flagged("conflicted = 1")?;
    let by_outcome = match user {
        None => pairs(
            c,
            "SELECT choice, SUM(n)::int8 FROM choice_counts WHERE project = $1 AND question = $2
             GROUP BY choice HAVING SUM(n) > 0 ORDER BY choice",
            &[&project, &OUTCOME_QUESTION],
        )?,
        Some(user) => pairs(
            c,
            &format!(
                "SELECT choice, SUM(n)::int8 FROM device_choice_counts
                 WHERE project = $1 AND {} AND question = $3
                 GROUP BY choice HAVING SUM(n) > 0 ORDER BY choice",
                scope_condition("device", "$1", "$2")
            ),
            &[&project, &user, &OUTCOME_QUESTION],
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
        pending_review,
        quarantined,
        conflicts,
        by_outcome,
    })
}

/// A form's dashboard counts as `scope` sees them, from the kept counts (as SQLite's).
pub(super) fn dashboard_counts(
    c: &mut impl GenericClient,
    project: &str,
    scope: &Scope,
    form: &str,
    version: Option<&str>,
) -> Attempt<DashboardCounts> {
    let user = scope.limited_to();
    let seen = teams::seen("device", "$4");
    let (days, enumerators) = match user {
        // The whole project's: the counts by day and enumerator, fewer rows.
        None => (
            pairs(
                c,
                "SELECT day, SUM(n)::int8 FROM response_counts WHERE project = $1 AND form = $2
                     AND ($3::text IS NULL OR version = $3)
                 GROUP BY day ORDER BY day",
                &[&project, &form, &version],
            )?,
            pairs(
                c,
                "SELECT enumerator, SUM(n)::int8 FROM response_counts WHERE project = $1
                     AND form = $2 AND ($3::text IS NULL OR version = $3)
                 GROUP BY enumerator",
                &[&project, &form, &version],
            )?,
        ),
        Some(_) => (
            pairs(
                c,
                &format!(
                    "SELECT day, SUM(n)::int8 FROM response_facets WHERE project = $1
                         AND form = $2 AND ($3::text IS NULL OR version = $3) AND {seen}
                     GROUP BY day HAVING SUM(n) > 0 ORDER BY day"
                ),
                &[&project, &form, &version, &user],
            )?,
            pairs(
                c,
                &format!(
                    "SELECT enumerator, SUM(n)::int8 FROM response_facets WHERE project = $1
                         AND form = $2 AND ($3::text IS NULL OR version = $3) AND {seen}
                     GROUP BY enumerator HAVING SUM(n) > 0"
                ),
                &[&project, &form, &version, &user],
            )?,
        ),
    };
    let tallies_sql = match user {
        None => "SELECT question, choice, sex, age_band, disability, SUM(n)::int8
                 FROM choice_counts
                 WHERE project = $1 AND form = $2 AND ($3::text IS NULL OR version = $3)
                     AND $4::text IS NULL
                 GROUP BY question, choice, sex, age_band, disability HAVING SUM(n) > 0"
            .to_owned(),
        Some(_) => format!(
            "SELECT question, choice, sex, age_band, disability, SUM(n)::int8
             FROM device_choice_counts
             WHERE project = $1 AND {} AND form = $2 AND ($3::text IS NULL OR version = $3)
             GROUP BY question, choice, sex, age_band, disability HAVING SUM(n) > 0",
            scope_condition("device", "$1", "$4")
        ),
    };
    let tallies = c
        .query(&tallies_sql, &[&project, &form, &version, &user])?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get::<_, i64>(5)? as u64,
            ))
        })
        .collect::<Attempt<_>>()?;
    Ok(DashboardCounts {
        days,
        enumerators,
        tallies,
    })
}

/// The map's cells: the kept ones (`map_cells`) for the whole project at the coarse
/// precisions, otherwise grouped from the index's points.
pub(super) fn map_cells(
    c: &mut impl GenericClient,
    project: &str,
    scope: &Scope,
    form: &str,
    precision: u32,
) -> Attempt<Vec<MapCell>> {
    let kept = *scope == Scope::Project && precision <= console::KEPT_MAP_PRECISION;
    let precision = precision as i32;
    let user = scope.limited_to();
    let sql = if kept {
        "SELECT lat, lon, n FROM map_cells
         WHERE project = $1 AND form = $2 AND places = $3 AND n > 0 AND $4::text IS NULL
         ORDER BY lat, lon"
            .to_owned()
    } else {
        format!(
            "SELECT ROUND(lat::numeric, $3)::float8 AS la, ROUND(lon::numeric, $3)::float8 AS lo,
                 COUNT(*)::int8 FROM response_index
             WHERE project = $1 AND form = $2 AND lat IS NOT NULL AND {}
             GROUP BY la, lo ORDER BY la, lo",
            teams::seen("device", "$4")
        )
    };
    c.query(&sql, &[&project, &form, &precision, &user])?
        .iter()
        .map(|r| {
            Ok(MapCell {
                lat: r.try_get(0)?,
                lon: r.try_get(1)?,
                count: r.try_get::<_, i64>(2)? as u64,
            })
        })
        .collect()
}

pub(super) fn count_form(
    c: &mut impl GenericClient,
    project: &str,
    scope: &Scope,
    form: &str,
    after: i64,
) -> Attempt<u64> {
    let user = scope.limited_to();
    count(
        c,
        &format!(
            "SELECT COUNT(*) FROM responses WHERE project = $1 AND form = $2 AND feed_seq > $3
                 AND withdrawn_at IS NULL AND {}",
            teams::seen("device", "$4")
        ),
        &[&project, &form, &after, &user],
    )
}

pub(super) fn list_devices(
    c: &mut impl GenericClient,
    project: &str,
    scope: &Scope,
) -> Attempt<Vec<DeviceInfo>> {
    let user = scope.limited_to();
    c.query(
        &format!(
            "SELECT id, label, enumerator, created_at, last_seen_at, app_version, pending,
                    revoked_at, wipe_requested_at, enumerator_sex, enumerator_languages,
                    enumerator_area
             FROM devices WHERE project = $1 AND {} ORDER BY id",
            teams::seen("id", "$2")
        ),
        &[&project, &user],
    )?
    .iter()
    .map(|r| {
        Ok(DeviceInfo {
            id: r.try_get(0)?,
            label: r.try_get(1)?,
            enumerator: r.try_get(2)?,
            created_at: r.try_get(3)?,
            last_seen: r.try_get(4)?,
            app_version: r.try_get(5)?,
            pending: r.try_get(6)?,
            revoked_at: r.try_get(7)?,
            wipe_requested_at: r.try_get(8)?,
            profile: crate::store::profile::from_columns(
                r.try_get(9)?,
                r.try_get(10)?,
                r.try_get(11)?,
            ),
        })
    })
    .collect()
}
