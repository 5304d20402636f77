//! Coordinator export: CSV (a zip in ODK Central's layout), JSON and GeoJSON, streamed
//! page by page from the store so memory stays flat whatever the number of responses
//! (kobotoolbox/kpi#1757 and getodk/central#1621: exports that do not scale).
//!
//! CSV layout, as analysts' scripts know it from ODK Central: `FORM.csv` holds one row per
//! response, `FORM-REPEAT.csv` one row per repeat instance, joined by `KEY` /
//! `PARENT_KEY` (`uuid:ID` for a response, `uuid:ID/member[2]` for an instance). Columns
//! of fields inside groups are named `group-field`. `select_multiple` answers appear as
//! the space-separated value plus one 0/1 column per choice (`field/choice`). Metadata
//! columns: `SubmissionDate`, `KEY`, `DeviceID`, `Enumerator`, `FormVersion`,
//! `ReviewState`, `Status`, `Conflict`, `Quarantine`. Fields marked `pii` are left out
//! unless asked for (and the caller's role allows it).

use std::io::{Seek, Write};

use serde_json::{json, Map, Value as Json};
use voices_core::form::{Field, FieldType, Form, Item};
use voices_core::response::{Answer, Answers};
use voices_core::sync::ResponseStatus;

use crate::store::{Store, StoredResponse};
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
}

/// Rows read from the store per page.
const PAGE: usize = 250;

/// A column of a CSV table.
struct Column {
    header: String,
    field: Field,
    /// The field's choices (name, label), looked up once rather than per cell.
    choices: Vec<(String, String)>,
}

/// One CSV file: the main table or a repeat's.
struct Table {
    file: String,
    /// Repeat names from the top level down to this table's repeat (empty: main table).
    repeats: Vec<String>,
    columns: Vec<Column>,
}

fn collect_tables(form: &Form, include_pii: bool) -> Vec<Table> {
    let mut tables = vec![Table {
        file: format!("{}.csv", form.id),
        repeats: Vec::new(),
        columns: Vec::new(),
    }];
    walk(&form.body, "", 0, &[], include_pii, form, &mut tables);
    for column in tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
        if column.field.kind.uses_choices() {
            column.choices = choice_names(form, &column.field);
        }
    }
    tables
}

fn walk(
    items: &[Item],
    prefix: &str,
    table: usize,
    repeats: &[String],
    include_pii: bool,
    form: &Form,
    tables: &mut Vec<Table>,
) {
    for item in items {
        match item {
            Item::Field(f) => {
                if f.kind == FieldType::Note || (f.pii && !include_pii) {
                    continue;
                }
                tables[table].columns.push(Column {
                    header: format!("{prefix}{}", f.name),
                    field: f.clone(),
                    choices: Vec::new(),
                });
            }
            Item::Group(g) => walk(
                &g.body,
                &format!("{prefix}{}-", g.name),
                table,
                repeats,
                include_pii,
                form,
                tables,
            ),
            Item::Repeat(r) => {
                let mut path = repeats.to_vec();
                path.push(r.name.clone());
                tables.push(Table {
                    file: format!("{}-{}.csv", form.id, path.join("-")),
                    repeats: path.clone(),
                    columns: Vec::new(),
                });
                let index = tables.len() - 1;
                walk(&r.body, "", index, &path, include_pii, form, tables);
            }
            Item::Consent(c) => {
                // The consent answer is a column like any question.
                let field: Field =
                    match serde_json::from_value(json!({"type": "text", "name": c.name})) {
                        Ok(f) => f,
                        Err(_) => continue,
                    };
                tables[table].columns.push(Column {
                    header: format!("{prefix}{}", c.name),
                    field,
                    choices: Vec::new(),
                });
            }
        }
    }
}

fn choice_names(form: &Form, field: &Field) -> Vec<(String, String)> {
    field
        .choices
        .as_ref()
        .and_then(|list| form.choices.get(list))
        .map(|choices| {
            choices
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.label
                            .get(&form.default_language, &form.default_language)
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn value<'a>(answers: &'a Answers, name: &str) -> &'a str {
    match answers.0.get(name) {
        Some(Answer::Value(v)) => v,
        // The ciphertext, in the field's own column (`voices decrypt` opens it).
        Some(Answer::Sealed(sealed)) => sealed.as_str(),
        _ => "",
    }
}

fn label_of<'a>(choices: &'a [(String, String)], name: &'a str) -> &'a str {
    choices
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, l)| l.as_str())
        .unwrap_or(name)
}

/// Headers and cells of one scope's answers for a table.
fn headers(table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for c in &table.columns {
        out.push(c.header.clone());
        if c.field.kind == FieldType::SelectMultiple {
            for (name, _) in &c.choices {
                out.push(format!("{}/{name}", c.header));
            }
        }
    }
    out
}

/// Write one scope's answer cells for a table (the record is ended by the caller).
fn cells<W: Write>(
    table: &Table,
    answers: &Answers,
    labels: bool,
    csv: &mut csv::Writer<W>,
) -> Result<()> {
    for c in &table.columns {
        let raw = value(answers, &c.field.name);
        match c.field.kind {
            FieldType::SelectOne if labels && !raw.is_empty() => {
                csv.write_field(label_of(&c.choices, raw)).map_err(io)?
            }
            FieldType::SelectMultiple if labels => {
                let shown: Vec<&str> = raw
                    .split_whitespace()
                    .map(|n| label_of(&c.choices, n))
                    .collect();
                csv.write_field(shown.join(" ")).map_err(io)?
            }
            _ => csv.write_field(raw).map_err(io)?,
        }
        if c.field.kind == FieldType::SelectMultiple {
            for (name, _) in &c.choices {
                let cell = if raw.is_empty() {
                    ""
                } else if raw.split_whitespace().any(|n| n == name) {
                    "1"
                } else {
                    "0"
                };
                csv.write_field(cell).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// End the current CSV record.
fn end_record<W: Write>(csv: &mut csv::Writer<W>) -> Result<()> {
    csv.write_record(std::iter::empty::<&[u8]>()).map_err(io)
}

/// Repeat instances at `path` below `answers`, each with its KEY suffix.
fn instances<'a>(
    answers: &'a Answers,
    path: &[String],
    key: String,
    out: &mut Vec<(String, String, &'a Answers)>,
) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if let Some(Answer::Repeat(list)) = answers.0.get(first) {
        for (i, instance) in list.iter().enumerate() {
            let child = format!("{key}/{first}[{}]", i + 1);
            if rest.is_empty() {
                out.push((key.clone(), child, instance));
            } else {
                instances(instance, rest, child, out);
            }
        }
    }
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
            let mut cursor = options.since;
            loop {
                let page = store.pull_form(&options.project, &options.form, cursor, PAGE);
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

fn io(e: impl std::fmt::Display) -> Error {
    Error::Io(std::io::Error::other(e.to_string()))
}

/// Write the export to `out`. Returns the number of responses exported.
pub fn export(store: &dyn Store, options: &Options, out: impl Write) -> Result<u64> {
    let form = latest_form(store, &options.project, &options.form)?;
    match options.format {
        Format::Csv => export_csv(store, &form, options, out),
        Format::Json | Format::GeoJson => export_json(store, &form, options, out),
    }
}

fn export_csv(store: &dyn Store, form: &Form, options: &Options, out: impl Write) -> Result<u64> {
    let tables = collect_tables(form, options.include_pii);
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
        let mut header = headers(table);
        header.extend(["PARENT_KEY", "KEY"].map(String::from));
        csv.write_record(&header).map_err(io)?;
        spools.push(csv);
    }
    let exported = {
        let mut csv = csv::Writer::from_writer(&mut zip);
        let mut header = vec!["SubmissionDate".to_owned()];
        header.extend(headers(main));
        header.extend(
            [
                "KEY",
                "DeviceID",
                "Enumerator",
                "FormVersion",
                "ReviewState",
                "Status",
                "Conflict",
                "Quarantine",
            ]
            .map(String::from),
        );
        csv.write_record(&header).map_err(io)?;
        let count = each_response(store, options, |r| {
            let response = r.state.to_response();
            let key = format!("uuid:{}", response.id);
            csv.write_field(&r.received_at).map_err(io)?;
            cells(main, &response.answers, options.labels, &mut csv)?;
            csv.write_field(&key).map_err(io)?;
            csv.write_field(&r.device).map_err(io)?;
            csv.write_field(&r.enumerator).map_err(io)?;
            csv.write_field(&response.form_version).map_err(io)?;
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
            csv.write_field(r.quarantine.join("; ")).map_err(io)?;
            end_record(&mut csv)?;
            for (table, spool) in repeats.iter().zip(spools.iter_mut()) {
                let mut found = Vec::new();
                instances(&response.answers, &table.repeats, key.clone(), &mut found);
                for (parent, key, answers) in &found {
                    cells(table, answers, options.labels, spool)?;
                    spool.write_field(parent).map_err(io)?;
                    spool.write_field(key).map_err(io)?;
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

fn first_geopoint(form: &Form) -> Option<String> {
    let mut found = None;
    form.walk(|item, _| {
        if let (None, Item::Field(f)) = (&found, item) {
            if f.kind == FieldType::Geopoint {
                found = Some(f.name.clone());
            }
        }
    });
    found
}

fn pii_names(form: &Form) -> Vec<String> {
    let mut names = Vec::new();
    form.walk(|item, _| {
        if let Item::Field(f) = item {
            if f.pii {
                names.push(f.name.clone());
            }
        }
    });
    names
}

fn strip(answers: &mut Answers, names: &[String]) {
    answers.0.retain(|k, _| !names.contains(k));
    for answer in answers.0.values_mut() {
        if let Answer::Repeat(list) = answer {
            for instance in list {
                strip(instance, names);
            }
        }
    }
}

fn export_json(
    store: &dyn Store,
    form: &Form,
    options: &Options,
    mut out: impl Write,
) -> Result<u64> {
    let geo = options.format == Format::GeoJson;
    let point_field = first_geopoint(form);
    let hidden = if options.include_pii {
        Vec::new()
    } else {
        pii_names(form)
    };
    out.write_all(if geo {
        b"{\"type\":\"FeatureCollection\",\"features\":[\n"
    } else {
        b"[\n"
    })?;
    let mut first = true;
    let count = each_response(store, options, |r| {
        let mut item = crate::responses::pulled(r.clone());
        strip(&mut item.response.answers, &hidden);
        let record = if geo {
            let coordinates = point_field
                .as_ref()
                .map(|name| {
                    value(&item.response.answers, name)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                })
                .and_then(|parts| {
                    let lat: f64 = parts.first()?.parse().ok()?;
                    let lon: f64 = parts.get(1)?.parse().ok()?;
                    Some(json!([lon, lat]))
                });
            let mut properties = Map::new();
            properties.insert("KEY".into(), json!(format!("uuid:{}", item.response.id)));
            properties.insert(
                "answers".into(),
                serde_json::to_value(&item.response.answers)?,
            );
            properties.insert("FormVersion".into(), json!(item.response.form_version));
            properties.insert("ReviewState".into(), json!(item.review_state));
            properties.insert("DeviceID".into(), json!(item.device));
            json!({
                "type": "Feature",
                "geometry": coordinates.map(|c| json!({"type": "Point", "coordinates": c})).unwrap_or(Json::Null),
                "properties": properties,
            })
        } else {
            serde_json::to_value(&item)?
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
