//! Coordinator export: CSV (a zip in ODK Central's layout), JSON and GeoJSON, streamed
//! page by page from the store so memory stays flat whatever the number of responses
//! (kobotoolbox/kpi#1757 and getodk/central#1621: exports that do not scale).
//!
//! CSV layout, as analysts' scripts know it from ODK Central: the tables, their columns
//! and a response's cells are `voices_core::csv_layout` (the designer's preview in the
//! browser shows a test response through the same code). Metadata columns:
//! `SubmissionDate`, `KEY`, `DeviceID`, `Enumerator`, `FormVersion`, `ReviewState`,
//! `Status`, `Conflict`, `Quarantine`, and how the interview ended: `Outcome`
//! (`completed`, `refused`…), `ResultCode` (DHS-style: 1 completed … 96 other) and
//! `ReturnVisit`; `ConsentVersion`, the consent text the respondent heard; `AssentVersion`,
//! the assent text a minor heard after the guardian's consent; `Matching`, what
//! happened at each section with a `match` rule (matched, handed over to whom, skipped). Responses whose
//! respondent withdrew are never exported. Fields marked `pii` are left out unless asked
//! for (and the caller's role allows it).
//!
//! An export is of the whole form (in feed order, optionally only what changed after a
//! feed position), or of what the responses table's filters select (`Options::filter`,
//! the console's "export these"), in the table's order, read by the table's keyset.
//!
//! The columns are the newest version's, plus those of questions earlier versions asked
//! and it no longer does, where they were ([`export_form`]): removing a question from a
//! form never takes what was collected with it out of the export.

use std::io::{Seek, Write};

use serde_json::{json, Map, Value as Json};
pub use voices_core::csv_layout::spreadsheet_safe;
use voices_core::csv_layout::{self, Table, MAIN_LEADING, MAIN_TRAILING, REPEAT_TRAILING};
use voices_core::form::{FieldType, Form, Item};
use voices_core::response::Answers;
use voices_core::sync::ResponseStatus;

use crate::console::mask;
use crate::store::console::TableQuery;
use crate::store::projection::IndexCache;
use crate::store::{Scope, Store, StoredResponse};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    GeoJson,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "geojson" => Some(Format::GeoJson),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "application/zip",
            Format::Json => "application/json",
            Format::GeoJson => "application/geo+json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "zip",
            Format::Json => "json",
            Format::GeoJson => "geojson",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub project: String,
    pub form: String,
    pub format: Format,
    /// Only responses changed after this feed position.
    pub since: i64,
    /// Include fields marked `pii` (the caller's role must allow it).
    pub include_pii: bool,
    /// Choice labels instead of choice names in CSV.
    pub labels: bool,
    /// Only the responses of the form these table filters select (its `form`, `after`,
    /// `offset`, `limit` and `count` are set by the export), in the table's order;
    /// `since` is then not used.
    pub filter: Option<TableQuery>,
    /// Whose responses are exported (a coordinator limited to teams exports theirs).
    pub scope: Scope,
}

impl Options {
    /// The filter as the export runs it: this form, from the first row, a page at a time.
    fn table_query(&self) -> Option<TableQuery> {
        self.filter.as_ref().map(|q| TableQuery {
            form: Some(self.form.clone()),
            after: None,
            offset: 0,
            limit: PAGE,
            count: false,
            // The announced total is exact (a progress bar's end), whatever the filter
            // (the export reads every match anyway).
            count_cap: None,
            scope: self.scope.clone(),
            ..q.clone()
        })
    }
}

/// How many responses the export will send.
pub fn count(store: &dyn Store, options: &Options) -> Result<u64> {
    match options.table_query() {
        Some(query) => {
            let page = store.table(
                &options.project,
                &TableQuery {
                    limit: 1,
                    count: true,
                    ..query
                },
            )?;
            Ok(page.total.unwrap_or(0))
        }
        None => store.count_form_in(
            &options.project,
            &options.scope,
            &options.form,
            options.since,
        ),
    }
}

/// Rows read from the store per page.
const PAGE: usize = 250;

/// End the current CSV record.
fn end_record<W: Write>(csv: &mut csv::Writer<W>) -> Result<()> {
    csv.write_record(std::iter::empty::<&[u8]>()).map_err(io)
}

/// Write one scope's answer cells for a table (the record is ended by the caller).
fn cells<W: Write>(
    table: &Table,
    answers: &Answers,
    labels: bool,
    csv: &mut csv::Writer<W>,
) -> Result<()> {
    table.each_cell(answers, labels, |cell| csv.write_field(cell).map_err(io))
}

/// Visit every response of the form changed after `since`, page by page (the store
/// filters by form, so other forms' responses are never read). A second thread reads
/// and decodes the next pages while `visit` writes, so the export uses both cores; at
/// most `AHEAD` pages wait between them, so memory stays flat.
fn each_response(
    store: &dyn Store,
    options: &Options,
    mut visit: impl FnMut(&StoredResponse) -> Result<()>,
) -> Result<u64> {
    const AHEAD: usize = 1;
    let (pages, received) = std::sync::mpsc::sync_channel::<Result<Vec<StoredResponse>>>(AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Some(query) = options.table_query() {
                return table_pages(store, &options.project, query, pages);
            }
            let mut cursor = options.since;
            loop {
                let page = store.pull_form_in(
                    &options.project,
                    &options.scope,
                    &options.form,
                    cursor,
                    PAGE,
                );
                let (page, done) = match page {
                    Ok(page) => {
                        if let Some(last) = page.last() {
                            cursor = last.feed_seq;
                        }
                        let done = page.len() < PAGE;
                        (Ok(page), done)
                    }
                    Err(e) => (Err(e), true),
                };
                // The receiver is gone when the writer failed: stop reading.
                if pages.send(page).is_err() || done {
                    return;
                }
            }
        });
        let mut count = 0;
        for page in received {
            for row in &page? {
                visit(row)?;
                count += 1;
            }
        }
        Ok(count)
    })
}

/// Send the pages of the table `query` selects (keyset after keyset) until the last, or
/// until the receiver is gone.
fn table_pages(
    store: &dyn Store,
    project: &str,
    mut query: TableQuery,
    pages: std::sync::mpsc::SyncSender<Result<Vec<StoredResponse>>>,
) {
    loop {
        let page = store.table(project, &query).and_then(|page| {
            query.after = page
                .rows
                .last()
                .filter(|_| page.more)
                .map(|last| last.cursor(query.sort, query.descending));
            let rows = page.rows.into_iter().map(|r| r.into_stored());
            rows.collect::<Result<Vec<_>>>()
        });
        let done = page.is_err() || query.after.is_none();
        if pages.send(page).is_err() || done {
            return;
        }
    }
}

/// The newest published version of the form: its fields give the columns.
pub fn latest_form(store: &dyn Store, project: &str, form: &str) -> Result<Form> {
    let versions = store.list_forms(project)?;
    let latest = versions
        .iter()
        .filter(|v| v.form == form)
        .max_by(|a, b| a.published_at.cmp(&b.published_at))
        .ok_or_else(|| {
            Error::NotFound(format!(
                "form `{form}` is not published in project `{project}`"
            ))
        })?;
    let stored = store
        .get_form(project, form, &latest.version)?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "form `{form}` version `{}` vanished",
                latest.version
            ))
        })?;
    Form::from_json(&stored.document)
        .map_err(|e| Error::Invalid(format!("stored form does not parse: {e}")))
}

/// The form the export lays responses out by: the newest published version with the
/// questions earlier versions asked and it no longer does put back
/// ([`Form::with_retired`]), so answers to a removed question stay exported.
pub fn export_form(store: &dyn Store, project: &str, form: &str) -> Result<Form> {
    let newest = latest_form(store, project, form)?;
    let mut versions: Vec<_> = store
        .list_forms(project)?
        .into_iter()
        .filter(|v| v.form == form && v.version != newest.version)
        .collect();
    versions.sort_by(|a, b| a.published_at.cmp(&b.published_at));
    let mut earlier = Vec::with_capacity(versions.len());
    for version in versions {
        let Some(stored) = store.get_form(project, form, &version.version)? else {
            continue;
        };
        earlier.push(Form::from_json(&stored.document).map_err(|e| {
            Error::Invalid(format!(
                "stored form `{form}` version `{}` does not parse: {e}",
                version.version
            ))
        })?);
    }
    Ok(newest.with_retired(&earlier))
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Io(std::io::Error::other(e.to_string()))
}

/// Write the export to `out`. Returns the number of responses exported.
pub fn export(store: &dyn Store, options: &Options, out: impl Write) -> Result<u64> {
    let form = export_form(store, &options.project, &options.form)?;
    match options.format {
        Format::Csv => export_csv(store, &form, options, out),
        Format::Json | Format::GeoJson => export_json(store, &form, options, out),
    }
}

fn export_csv(store: &dyn Store, form: &Form, options: &Options, out: impl Write) -> Result<u64> {
    let tables = csv_layout::tables(form, options.include_pii);
    let mut zip = zip::ZipWriter::new_stream(out);
    // The fastest deflate level: CSV still shrinks several times, and the export is not
    // held up by compression (the default level took most of its time).
    let file_options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    let (main, repeats) = tables.split_first().ok_or_else(|| io("no tables"))?;
    // One pass over the responses: the main table streams straight into the zip, each
    // repeat table into a temporary file (disk, not memory) copied in afterwards.
    zip.start_file(main.file.as_str(), file_options)
        .map_err(io)?;
    let mut spools = Vec::with_capacity(repeats.len());
    for table in repeats {
        let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(tempfile::tempfile()?));
        let mut header = table.headers();
        header.extend(REPEAT_TRAILING.map(String::from));
        csv.write_record(&header).map_err(io)?;
        spools.push(csv);
    }
    let exported = {
        let mut csv = csv::Writer::from_writer(&mut zip);
        let mut header: Vec<String> = MAIN_LEADING.map(String::from).to_vec();
        header.extend(main.headers());
        header.extend(MAIN_TRAILING.map(String::from));
        csv.write_record(&header).map_err(io)?;
        let count = each_response(store, options, |r| {
            let response = r.state.to_response();
            let key = format!("uuid:{}", response.id);
            csv.write_field(&r.received_at).map_err(io)?;
            cells(main, &response.answers, options.labels, &mut csv)?;
            csv.write_field(&key).map_err(io)?;
            csv.write_field(&*spreadsheet_safe(&r.device)).map_err(io)?;
            csv.write_field(&*spreadsheet_safe(&r.enumerator))
                .map_err(io)?;
            csv.write_field(&*spreadsheet_safe(&response.form_version))
                .map_err(io)?;
            csv.write_field(r.review_state.as_str()).map_err(io)?;
            csv.write_field(match r.state.status() {
                Some(ResponseStatus::Draft) => "draft",
                Some(ResponseStatus::Finalized) => "finalized",
                None => "",
            })
            .map_err(io)?;
            csv.write_field(if r.state.has_conflicts() {
                "true"
            } else {
                "false"
            })
            .map_err(io)?;
            csv.write_field(&*spreadsheet_safe(&r.quarantine.join("; ")))
                .map_err(io)?;
            for cell in csv_layout::outcome_cells(response.outcome.as_ref()) {
                csv.write_field(&cell).map_err(io)?;
            }
            csv.write_field(csv_layout::consent_cell(response.consent.as_ref()))
                .map_err(io)?;
            csv.write_field(csv_layout::assent_cell(response.consent.as_ref()))
                .map_err(io)?;
            csv.write_field(csv_layout::matching_cell(&response.matching))
                .map_err(io)?;
            end_record(&mut csv)?;
            for (table, spool) in repeats.iter().zip(spools.iter_mut()) {
                for instance in table.instances(&response.answers, &key) {
                    cells(table, instance.answers, options.labels, spool)?;
                    spool.write_field(&instance.parent_key).map_err(io)?;
                    spool.write_field(&instance.key).map_err(io)?;
                    end_record(spool)?;
                }
            }
            Ok(())
        })?;
        csv.flush().map_err(io)?;
        count
    };
    for (table, spool) in repeats.iter().zip(spools) {
        let mut file = spool
            .into_inner()
            .map_err(|e| io(e.error()))?
            .into_inner()
            .map_err(|e| io(e.error()))?;
        file.seek(std::io::SeekFrom::Start(0))?;
        zip.start_file(table.file.as_str(), file_options)
            .map_err(io)?;
        std::io::copy(&mut file, &mut zip)?;
    }
    zip.finish().map_err(io)?;
    Ok(exported)
}

/// The answer key of the form's first location question (keys are the names, but
/// `group/name` for a name used in two groups of one scope).
fn first_geopoint(form: &Form) -> Option<String> {
    let mut found = None;
    form.walk_keys(|item, key| {
        if let (None, Item::Field(f)) = (&found, item) {
            if f.kind == FieldType::Geopoint {
                found = Some(key.to_owned());
            }
        }
    });
    found
}

fn export_json(
    store: &dyn Store,
    form: &Form,
    options: &Options,
    mut out: impl Write,
) -> Result<u64> {
    let geo = options.format == Format::GeoJson;
    let point_field = first_geopoint(form);
    // Each response is masked by its own form version (a field pii in one version may
    // not exist in another; an unknown one counts as pii), as the console does.
    let indexes = IndexCache::default();
    out.write_all(if geo {
        b"{\"type\":\"FeatureCollection\",\"features\":[\n"
    } else {
        b"[\n"
    })?;
    let mut first = true;
    let count = each_response(store, options, |r| {
        let item = crate::responses::pulled(r.clone());
        let index = indexes.get(
            &options.project,
            &item.response.form_id,
            &item.response.form_version,
            || {
                Ok(store
                    .get_form(
                        &options.project,
                        &item.response.form_id,
                        &item.response.form_version,
                    )?
                    .map(|f| f.document))
            },
        )?;
        // Answers and conflicts of pii fields left out (their paths listed in `masked`)
        // unless asked for.
        let mut shown = mask::pulled_json(&item, index.as_deref(), options.include_pii);
        let record = if geo {
            let answers = shown["response"]["answers"].take();
            let coordinates = point_field
                .as_ref()
                .and_then(|name| answers.get(name.as_str())?.as_str())
                .map(|point| point.split_whitespace().collect::<Vec<_>>())
                .and_then(|parts| {
                    let lat: f64 = parts.first()?.parse().ok()?;
                    let lon: f64 = parts.get(1)?.parse().ok()?;
                    Some(json!([lon, lat]))
                });
            let mut properties = Map::new();
            properties.insert("KEY".into(), json!(format!("uuid:{}", item.response.id)));
            properties.insert("answers".into(), answers);
            properties.insert("FormVersion".into(), json!(item.response.form_version));
            properties.insert("ReviewState".into(), json!(item.review_state));
            properties.insert("DeviceID".into(), json!(item.device));
            json!({
                "type": "Feature",
                "geometry": coordinates.map(|c| json!({"type": "Point", "coordinates": c})).unwrap_or(Json::Null),
                "properties": properties,
            })
        } else {
            shown
        };
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        serde_json::to_writer(&mut out, &record)?;
        Ok(())
    })?;
    out.write_all(if geo { b"\n]}\n" } else { b"\n]\n" })?;
    out.flush()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer puts the layout's cells in CSV: quoting where needed, one record each.
    #[test]
    fn cells_are_written_as_one_quoted_record() {
        let form = Form::from_json(
            r#"{"id": "f", "version": "1", "title": "F",
              "languages": [{"code": "en", "name": "English"}], "default_language": "en",
              "body": [{"type": "text", "name": "a"}, {"type": "text", "name": "b"}]}"#,
        )
        .unwrap();
        let tables = csv_layout::tables(&form, true);
        let answers: Answers =
            serde_json::from_value(json!({"a": "Achieng, Otieno", "b": "=1"})).unwrap();
        let mut main = csv::Writer::from_writer(Vec::new());
        cells(&tables[0], &answers, false, &mut main).unwrap();
        end_record(&mut main).unwrap();
        let main = String::from_utf8(main.into_inner().unwrap()).unwrap();
        assert_eq!(main.trim(), "\"Achieng, Otieno\",'=1");
    }
}
