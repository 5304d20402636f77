//! XLSForm workbook → Voices form.
//!
//! Reads the `survey`, `choices`, `settings` (and `external_choices`) sheets, reports
//! every problem at once with the cell it is in, and builds a [`Form`] when there is no
//! error. Column names follow pyxform (with its aliases); Voices' own columns are
//! documented in `docs/xlsform.md`.

use std::collections::{BTreeMap, HashMap, HashSet};

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use voices_core::check;
use voices_core::expr;
use voices_core::form::{
    Choice, Condition, Consent, Direction, Disaggregation, Field, FieldType, Form, Group, Item,
    Language, Media, PrivacyRequirement, RangeParams, Repeat, SafeExit, Text,
};

use crate::diag::{CellRef, Diagnostic, Severity};
use crate::language::parse_language;
use crate::types::{parse_type, RowType};
use crate::workbook::{Sheet, SheetRow, Workbook};

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// File name without extension; the form id when `settings` has no `form_id`.
    pub source_name: String,
    /// Accept problems pyxform rejects but Voices can recover from (duplicate choice
    /// names), reporting them as warnings instead of errors.
    pub lenient: bool,
}

/// The outcome of an import: the form when there were no errors, and every diagnostic.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub form: Option<Form>,
    pub diagnostics: Vec<Diagnostic>,
    /// Where each item of the form came from: JSON pointer (`/body/2/body/0`) → its row,
    /// and property name → column, so later checks can point at cells.
    pub origins: BTreeMap<String, Origin>,
}

/// The survey row an item came from and the columns of its properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub sheet: String,
    pub row: u32,
    pub columns: BTreeMap<String, u32>,
}

impl Origin {
    /// The cell holding `property` of this item, or its row when unknown.
    pub fn cell(&self, property: Option<&str>) -> CellRef {
        match property.and_then(|p| self.columns.get(p)) {
            Some(col) => CellRef::cell(&self.sheet, self.row, *col),
            None => CellRef::row(&self.sheet, self.row),
        }
    }
}

impl ImportReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// The cell a JSON pointer into the form (as the checker reports it) came from:
    /// the longest item prefix of the pointer, and the property right after it.
    pub fn locate(&self, pointer: &str) -> Option<CellRef> {
        locate_in(&self.origins, pointer)
    }
}

/// Import a workbook already read into cells.
pub fn import_workbook(workbook: &Workbook, options: &ImportOptions) -> ImportReport {
    let mut importer = Importer::new(workbook, options);
    let form = importer.run();
    let mut diagnostics = std::mem::take(&mut importer.diagnostics);
    let origins = std::mem::take(&mut importer.origins);
    if let Some(form) = &form {
        if !diagnostics.iter().any(Diagnostic::is_error) {
            diagnostics.extend(checker_diagnostics(form, &origins));
        }
    }
    diagnostics.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.location.cmp(&b.location))
    });
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    ImportReport {
        form: if has_errors { None } else { form },
        diagnostics,
        origins,
    }
}

/// The engine's form checker on the imported form, its pointers mapped back to cells.
fn checker_diagnostics(form: &Form, origins: &BTreeMap<String, Origin>) -> Vec<Diagnostic> {
    let found = check::check_form(form);
    if found.is_empty() {
        return Vec::new();
    }
    let json = serde_json::to_value(form).unwrap_or_default();
    found
        .into_iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let (Some((start, _)), Some(text)) =
                (d.span, json.pointer(&d.pointer).and_then(|v| v.as_str()))
            {
                let character = text.get(..start).map_or(start, |t| t.chars().count()) + 1;
                message = format!("{message} (character {character} of '{text}')");
            }
            Diagnostic {
                severity: match d.severity {
                    check::Severity::Error => Severity::Error,
                    check::Severity::Warning => Severity::Warning,
                },
                location: locate_in(origins, &d.pointer),
                code: Cow::Owned(d.code.as_str().replace('_', "-")),
                message,
            }
        })
        .collect()
}

/// The cell a JSON pointer into the form came from: the longest recorded prefix, and
/// the property right after it.
fn locate_in(origins: &BTreeMap<String, Origin>, pointer: &str) -> Option<CellRef> {
    let mut best: Option<(&str, &Origin)> = None;
    for (item_ptr, origin) in origins {
        let is_prefix = pointer == item_ptr
            || pointer
                .strip_prefix(item_ptr.as_str())
                .is_some_and(|rest| rest.starts_with('/'));
        if is_prefix && best.is_none_or(|(b, _)| item_ptr.len() > b.len()) {
            best = Some((item_ptr, origin));
        }
    }
    let (item_ptr, origin) = best?;
    let property = pointer[item_ptr.len()..].split('/').nth(1);
    Some(origin.cell(property))
}

/// A sheet's header: column keys (lowercased, de-aliased) with their language suffix.
struct Table<'a> {
    sheet: &'a str,
    header_row: u32,
    columns: Vec<Column>,
    rows: &'a [SheetRow],
}

#[derive(Debug, Clone)]
struct Column {
    index: u32,
    key: String,
    /// Header as written, for choice properties and messages.
    header: String,
    /// Language code of a `::lang` suffix.
    lang: Option<String>,
}

/// A value read from one cell.
#[derive(Debug, Clone)]
struct Cell<'a> {
    text: &'a str,
    at: CellRef,
}

/// Canonical column key for a header (lowercase, pyxform aliases resolved), plus the
/// raw language suffix.
fn split_header(header: &str) -> (String, Option<String>) {
    // Older forms write `label:English`; `jr:constraintMsg` keeps its colon.
    let single_colon;
    let header = match header.split_once(':') {
        Some((base, lang))
            if !header.contains("::")
                && TRANSLATABLE.contains(&base.trim().to_lowercase().as_str()) =>
        {
            single_colon = format!("{base}::{lang}");
            single_colon.as_str()
        }
        _ => header,
    };
    let parts: Vec<&str> = header.split("::").map(str::trim).collect();
    let (base, lang_parts): (String, &[&str]) = match parts.as_slice() {
        [prefix, name, rest @ ..]
            if ["media", "bind", "control", "body"].contains(&prefix.to_lowercase().as_str()) =>
        {
            (name.to_lowercase(), rest)
        }
        [name, rest @ ..] => (name.to_lowercase(), rest),
        [] => (String::new(), &[]),
    };
    let key = match base.as_str() {
        "list name" => "list_name",
        "value" => "name",
        "constraint message" | "jr:constraintmsg" | "constraint_message" => "constraint_message",
        "required message" | "jr:requiredmsg" | "required_message" => "required_message",
        "readonly" | "read only" | "read_only" => "read_only",
        "calculate" | "calculation" => "calculation",
        "count" | "jr:count" | "repeat count" | "repeat_count" => "repeat_count",
        "choice filter" | "choice_filter" => "choice_filter",
        "guidance hint" | "guidance_hint" => "guidance_hint",
        "relevance" | "relevant" => "relevant",
        "caption" => "label",
        "big image" | "big-image" => "big-image",
        "form id" => "form_id",
        "title" | "form title" => "form_title",
        "default language" => "default_language",
        "instance name" => "instance_name",
        other => other,
    }
    .to_owned();
    let lang = if lang_parts.is_empty() {
        None
    } else {
        Some(lang_parts.join("::"))
    };
    (key, lang)
}

impl<'a> Table<'a> {
    fn new(sheet: &'a Sheet, languages: &mut LanguageSet) -> Option<Table<'a>> {
        let (header, rows) = sheet.rows.split_first()?;
        let mut columns = Vec::new();
        for (i, h) in header.cells.iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            let (key, suffix) = split_header(h);
            let lang = suffix.map(|s| languages.add(&s));
            columns.push(Column {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                key,
                header: h.clone(),
                lang,
            });
        }
        Some(Table {
            sheet: &sheet.name,
            header_row: header.number,
            columns,
            rows,
        })
    }

    fn has(&self, key: &str) -> bool {
        self.columns.iter().any(|c| c.key == key)
    }

    /// The untranslated cell for `key` in `row`, when non-empty.
    fn get<'r>(&self, row: &'r SheetRow, key: &str) -> Option<Cell<'r>> {
        self.columns
            .iter()
            .filter(|c| c.key == key && c.lang.is_none())
            .find_map(|c| self.cell(row, c))
    }

    fn cell<'r>(&self, row: &'r SheetRow, column: &Column) -> Option<Cell<'r>> {
        let text = row.cells.get(column.index as usize)?.as_str();
        if text.is_empty() {
            return None;
        }
        Some(Cell {
            text,
            at: CellRef::cell(self.sheet, row.number, column.index),
        })
    }

    /// Translatable text for `key`: a plain string when only the plain column is filled,
    /// otherwise a map by language (a plain cell counts for the default language).
    fn text(&self, row: &SheetRow, key: &str, default_lang: &str) -> Option<(Text, CellRef)> {
        let mut translated = BTreeMap::new();
        let mut first_at = None;
        for column in self.columns.iter().filter(|c| c.key == key) {
            if let (Some(lang), Some(cell)) = (&column.lang, self.cell(row, column)) {
                first_at.get_or_insert(cell.at.clone());
                translated
                    .entry(lang.clone())
                    .or_insert_with(|| cell.text.to_owned());
            }
        }
        let plain = self.get(row, key);
        if translated.is_empty() {
            return plain.map(|c| (Text::Plain(c.text.to_owned()), c.at));
        }
        if let Some(p) = plain {
            first_at = Some(p.at.clone());
            translated
                .entry(default_lang.to_owned())
                .or_insert_with(|| p.text.to_owned());
        }
        Some((Text::Translated(translated), first_at?))
    }

    fn row_ref(&self, row: &SheetRow) -> CellRef {
        CellRef::row(self.sheet, row.number)
    }
}

/// Languages in order of first appearance, keyed by code.
#[derive(Default)]
struct LanguageSet {
    languages: Vec<Language>,
}

impl LanguageSet {
    fn add(&mut self, suffix: &str) -> String {
        let language = parse_language(suffix);
        let code = language.code.clone();
        if !self.languages.iter().any(|l| l.code == code) {
            self.languages.push(language);
        } else if let Some(existing) = self.languages.iter_mut().find(|l| l.code == code) {
            // Prefer a name given with an explicit code: `English (en)` over `en`.
            if existing.name == existing.code && language.name != language.code {
                existing.name = language.name;
            }
        }
        code
    }
}

/// An open `begin group` / `begin repeat` waiting for its `end`.
struct Open {
    container: Container,
    items: Vec<Item>,
    row: u32,
    origin_ptr: String,
}

enum Container {
    /// pyxform's `begin loop over list`: expanded into one group per choice when closed.
    Loop(Group, String),
    Group(Group),
    Repeat(Repeat),
}

impl Container {
    fn word(&self) -> &'static str {
        match self {
            Container::Group(_) => "group",
            Container::Repeat(_) => "repeat",
            Container::Loop(..) => "loop",
        }
    }
}

struct Importer<'a> {
    workbook: &'a Workbook,
    options: &'a ImportOptions,
    diagnostics: Vec<Diagnostic>,
    origins: BTreeMap<String, Origin>,
    languages: LanguageSet,
    default_lang: String,
    choices: BTreeMap<String, Vec<Choice>>,
    /// Choice list name → where it was first defined (for messages).
    choice_lists: HashSet<String>,
    /// Names by repeat scope: the innermost scope is last.
    scopes: Vec<HashMap<String, (CellRef, u32)>>,
    /// (triggering question, triggered field, cell) to check once all fields are known.
    triggers: Vec<(String, String, CellRef)>,
    /// Range `tick_labelset` lists to check once the choices are known.
    tick_checks: Vec<TickCheck>,
    /// `save_to` cells: (target, cell, on a group/repeat row).
    save_to: Vec<(String, CellRef, bool)>,
    /// Each field's type and whether it is computed (a calculation), for trigger checks.
    field_kinds: HashMap<String, (FieldType, bool)>,
    /// Open groups and repeats: (id, name); names declared inside belong to the last.
    parents: Vec<(u32, String)>,
    next_parent_id: u32,
    /// Names used more than once (in different groups); references to them are ambiguous.
    ambiguous: HashSet<String>,
    /// Every name defined anywhere (for `${ref}` checks).
    all_names: HashSet<String>,
    /// `${ref}` uses to check once every name is known.
    references: Vec<(String, CellRef)>,
    /// Select fields' list references to check against the choices.
    list_uses: Vec<(String, CellRef)>,
}

fn yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" | "y" => Some(true),
        "no" | "false" | "false()" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// A field name XLSForm accepts: an XML name without a colon.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Whether a `default` cell is an expression (evaluated) rather than literal text.
/// Follows pyxform: references, function calls and arithmetic make it dynamic.
pub(crate) fn default_is_dynamic(text: &str) -> bool {
    if text.contains("${") {
        return true;
    }
    let bytes: Vec<char> = text.chars().collect();
    // A function call: a name directly followed by `(`.
    for (i, c) in bytes.iter().enumerate() {
        if *c == '(' && i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_') {
            return true;
        }
    }
    let padded = format!(" {text} ");
    [
        " + ", " - ", " * ", " div ", " mod ", " = ", " != ", " and ", " or ",
    ]
    .iter()
    .any(|op| padded.contains(op))
}

/// A literal default as a Voices expression: numbers stay numbers, text is quoted.
pub(crate) fn quote_literal(text: &str) -> String {
    let is_number = !text.is_empty()
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|c| *c == '.').count() <= 1
        && text
            .trim_start_matches('-')
            .starts_with(|c: char| c.is_ascii_digit());
    if is_number {
        text.to_owned()
    } else if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// `${name}` references in an expression.
fn references_in(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].trim());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Parse a `parameters` cell: `key=value` pairs separated by spaces, `,` or `;`.
fn parse_parameters(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut normalized = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '=' {
            while normalized.ends_with(' ') {
                normalized.pop();
            }
            normalized.push('=');
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else if c == ',' || c == ';' || c.is_whitespace() {
            normalized.push(' ');
        } else {
            normalized.push(c);
        }
    }
    let mut out = BTreeMap::new();
    for pair in normalized.split_whitespace() {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("parameter '{pair}' is not of the form key=value"));
        };
        if k.is_empty() {
            return Err(format!("parameter '{pair}' has no name"));
        }
        out.insert(k.to_lowercase(), v.to_owned());
    }
    Ok(out)
}

/// Parameters each type accepts (pyxform rejects others for these types).
fn accepted_parameters(kind: FieldType) -> Option<&'static [&'static str]> {
    match kind {
        FieldType::Range => Some(&[
            "start",
            "end",
            "step",
            "tick_interval",
            "placeholder",
            "tick_labelset",
        ]),
        FieldType::Image => Some(&["max-pixels", "app"]),
        FieldType::Audio => Some(&["quality"]),
        FieldType::Video => Some(&["quality"]),
        FieldType::Geopoint => Some(&[
            "capture-accuracy",
            "warning-accuracy",
            "allow-mock-accuracy",
        ]),
        FieldType::Geotrace | FieldType::Geoshape => Some(&["allow-mock-accuracy", "incremental"]),
        FieldType::SelectOne | FieldType::SelectMultiple | FieldType::Rank => {
            Some(&["randomize", "seed", "value", "label"])
        }
        _ => None,
    }
}

impl<'a> Importer<'a> {
    fn new(workbook: &'a Workbook, options: &'a ImportOptions) -> Self {
        Importer {
            workbook,
            options,
            diagnostics: Vec::new(),
            origins: BTreeMap::new(),
            languages: LanguageSet::default(),
            default_lang: String::new(),
            choices: BTreeMap::new(),
            choice_lists: HashSet::new(),
            scopes: vec![HashMap::new()],
            triggers: Vec::new(),
            field_kinds: HashMap::new(),
            save_to: Vec::new(),
            tick_checks: Vec::new(),
            parents: Vec::new(),
            next_parent_id: 1,
            ambiguous: HashSet::new(),
            all_names: HashSet::new(),
            references: Vec::new(),
            list_uses: Vec::new(),
        }
    }

    fn error(&mut self, at: Option<CellRef>, code: &'static str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(at, code, message));
    }

    fn warn(&mut self, at: Option<CellRef>, code: &'static str, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::warning(at, code, message));
    }

    fn run(&mut self) -> Option<Form> {
        let workbook = self.workbook;
        let Some(survey_sheet) = workbook.sheet("survey") else {
            let names: Vec<&str> = workbook.sheets.iter().map(|s| s.name.as_str()).collect();
            self.error(
                None,
                "missing-survey",
                format!(
                    "the workbook has no 'survey' sheet (sheets found: {})",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            );
            return None;
        };
        // Headers first, so every language is known before any text is read.
        let mut languages = std::mem::take(&mut self.languages);
        let survey = Table::new(survey_sheet, &mut languages);
        let choices = workbook
            .sheet("choices")
            .and_then(|s| Table::new(s, &mut languages));
        let external = workbook
            .sheet("external_choices")
            .and_then(|s| Table::new(s, &mut languages));
        let entities = workbook
            .sheet("entities")
            .and_then(|s| Table::new(s, &mut languages));
        let settings = workbook
            .sheet("settings")
            .and_then(|s| Table::new(s, &mut languages));
        self.languages = languages;
        let Some(survey) = survey else {
            self.error(
                Some(CellRef::sheet(&survey_sheet.name)),
                "empty-survey",
                "the 'survey' sheet is empty: it needs a header row with at least 'type' and 'name'",
            );
            return None;
        };
        for table in [
            Some(&survey),
            choices.as_ref(),
            external.as_ref(),
            settings.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            self.check_headers(table);
        }
        let settings_row = settings.as_ref().and_then(|t| t.rows.first());
        self.resolve_default_language(settings.as_ref(), settings_row);

        if let Some(table) = &choices {
            self.read_choices(table, "choices");
        }
        if let Some(table) = &external {
            self.read_choices(table, "external_choices");
        }
        for name in ["entities", "osm"] {
            if let Some(sheet) = workbook.sheet(name) {
                if sheet.rows.len() > 1 {
                    self.warn(
                        Some(CellRef::sheet(&sheet.name)),
                        "unsupported-sheet",
                        format!(
                            "the '{}' sheet is not used by Voices and is ignored",
                            sheet.name
                        ),
                    );
                }
            }
        }
        let body = self.read_survey(&survey);
        if let Some(table) = &entities {
            self.check_entities(table);
        } else if let Some((_, at, _)) = self.save_to.first() {
            let at = at.clone();
            self.error(
                Some(at),
                "missing-entities",
                "save_to is used but there is no 'entities' sheet declaring the entity",
            );
        }
        let mut form = self.read_settings(settings.as_ref(), settings_row, body)?;
        self.check_references();
        form.choices = std::mem::take(&mut self.choices);
        Some(form)
    }

    /// ODK entities are not used by Voices, but a declaration pyxform would reject is
    /// still reported so the designer is not misled.
    fn check_entities(&mut self, table: &Table) {
        const COLUMNS: &[&str] = &["list_name", "label", "create_if", "update_if", "entity_id"];
        for column in &table.columns {
            if !COLUMNS.contains(&column.key.as_str()) || column.lang.is_some() {
                self.error(
                    Some(CellRef::cell(table.sheet, table.header_row, column.index)),
                    "bad-entities",
                    format!(
                        "the entities sheet has an unexpected column '{}' (allowed: {})",
                        column.header,
                        COLUMNS.join(", ")
                    ),
                );
            }
        }
        let mut declared: HashMap<String, CellRef> = HashMap::new();
        for row in table.rows {
            let at = table.row_ref(row);
            for key in ["label", "create_if", "update_if", "entity_id"] {
                if let Some(c) = table.get(row, key) {
                    for r in references_in(c.text) {
                        self.references.push((r.to_owned(), c.at.clone()));
                    }
                }
            }
            let Some(list) = table.get(row, "list_name") else {
                self.error(Some(at), "bad-entities", "this entity has no list_name");
                continue;
            };
            let name = list.text;
            if !valid_name(name) || name.contains('.') || name.starts_with("__") {
                self.error(
                    Some(list.at.clone()),
                    "bad-entities",
                    format!(
                        "entity list name '{name}' must be a valid name without '.' and not start with '__'"
                    ),
                );
            }
            if let Some(first) = declared.get(name) {
                let message = format!("entity list '{name}' is already declared at {first}");
                self.error(Some(list.at.clone()), "bad-entities", message);
            } else {
                declared.insert(name.to_owned(), list.at.clone());
            }
            let has = |k: &str| table.get(row, k).is_some();
            if !has("label") && !has("entity_id") {
                self.error(
                    Some(at.clone()),
                    "bad-entities",
                    "an entity that is created needs a label",
                );
            }
            if has("entity_id") && has("create_if") && !has("update_if") {
                self.error(
                    Some(at.clone()),
                    "bad-entities",
                    "an entity with entity_id and create_if also needs update_if",
                );
            }
            if has("update_if") && !has("entity_id") {
                self.error(
                    Some(at),
                    "bad-entities",
                    "an entity with update_if needs an entity_id",
                );
            }
        }
        let save_to = std::mem::take(&mut self.save_to);
        let mut properties: HashMap<(String, String), CellRef> = HashMap::new();
        for (target, at, container) in save_to {
            if container {
                self.error(
                    Some(at),
                    "bad-entities",
                    "save_to belongs on question rows, not on group or repeat rows",
                );
                continue;
            }
            let (entity, property) = match target.split_once('#') {
                Some((e, p)) => (e.to_owned(), p.to_owned()),
                None if declared.len() == 1 => (
                    declared.keys().next().cloned().unwrap_or_default(),
                    target.clone(),
                ),
                None => {
                    self.error(
                        Some(at),
                        "bad-entities",
                        format!("with several entities, save_to must name one: 'entity#{target}'"),
                    );
                    continue;
                }
            };
            if !declared.contains_key(&entity) {
                self.error(
                    Some(at),
                    "bad-entities",
                    format!("save_to names the entity '{entity}', which the entities sheet does not declare"),
                );
                continue;
            }
            if property.starts_with("__") || ["name", "label"].contains(&property.as_str()) {
                self.error(
                    Some(at),
                    "bad-entities",
                    format!("'{property}' is reserved and cannot be an entity property"),
                );
                continue;
            }
            let key = (entity, property.clone());
            if let Some(first) = properties.get(&key) {
                let message = format!("entity property '{property}' is already saved from {first}");
                self.error(Some(at), "bad-entities", message);
            } else {
                properties.insert(key, at);
            }
        }
    }

    /// Two columns meaning the same (`name` and its alias `value`, or a header written
    /// twice) would make a row ambiguous.
    fn check_headers(&mut self, table: &Table) {
        let mut seen: HashMap<(&str, Option<&str>), &Column> = HashMap::new();
        for column in &table.columns {
            let key = (column.key.as_str(), column.lang.as_deref());
            if let Some(first) = seen.get(&key) {
                self.error(
                    Some(CellRef::cell(table.sheet, table.header_row, column.index)),
                    "duplicate-column",
                    format!(
                        "column '{}' means the same as column '{}' ({}): keep only one",
                        column.header,
                        first.header,
                        crate::workbook::column_letters(first.index)
                    ),
                );
            } else {
                seen.insert(key, column);
            }
        }
    }

    fn resolve_default_language(&mut self, settings: Option<&Table>, row: Option<&SheetRow>) {
        let declared = match (settings, row) {
            (Some(t), Some(r)) => t.get(r, "default_language").map(|c| c.text.to_owned()),
            _ => None,
        };
        self.default_lang = match declared {
            Some(d) if d.eq_ignore_ascii_case("default") => self.first_language_or_und(),
            Some(d) => self.languages.add(&d),
            None => self.first_language_or_und(),
        };
    }

    fn first_language_or_und(&mut self) -> String {
        match self.languages.languages.first() {
            Some(l) => l.code.clone(),
            None => {
                self.languages.languages.push(Language {
                    code: "und".to_owned(),
                    name: "Default".to_owned(),
                    direction: voices_core::form::Direction::Ltr,
                });
                "und".to_owned()
            }
        }
    }

    fn media(&mut self, table: &Table, row: &SheetRow) -> Option<Media> {
        let media = Media {
            image: self.text(table, row, "image"),
            audio: self.text(table, row, "audio"),
            video: self.text(table, row, "video"),
        };
        (media.image.is_some() || media.audio.is_some() || media.video.is_some()).then_some(media)
    }

    fn read_choices(&mut self, table: &Table, sheet_kind: &str) {
        if !table.has("list_name") {
            self.error(
                Some(CellRef::sheet(table.sheet)),
                "missing-column",
                format!("the '{sheet_kind}' sheet has no 'list_name' column"),
            );
            return;
        }
        if !table.has("name") {
            self.error(
                Some(CellRef::sheet(table.sheet)),
                "missing-column",
                format!("the '{sheet_kind}' sheet has no 'name' column"),
            );
            return;
        }
        let allow_duplicates = self.allow_choice_duplicates();
        let reserved = [
            "list_name",
            "name",
            "label",
            "image",
            "audio",
            "video",
            "big-image",
        ];
        let mut seen: HashMap<(String, String), CellRef> = HashMap::new();
        for row in table.rows {
            let Some(list) = table.get(row, "list_name") else {
                if row.cells.iter().any(|c| !c.is_empty()) {
                    self.error(
                        Some(table.row_ref(row)),
                        "missing-list-name",
                        "this choice has no list_name",
                    );
                }
                continue;
            };
            let list_name = list.text.to_owned();
            let Some(name) = table.get(row, "name") else {
                self.error(
                    Some(table.row_ref(row)),
                    "missing-choice-name",
                    format!("a choice in list '{list_name}' has no name"),
                );
                continue;
            };
            let label = match table.text(row, "label", &self.default_lang) {
                Some((text, at)) => {
                    self.text_references(&text, &at);
                    text
                }
                None => {
                    if self.media(table, row).is_none() {
                        self.warn(
                            Some(table.row_ref(row)),
                            "missing-choice-label",
                            format!(
                                "choice '{}' in list '{list_name}' has no label; its name is shown instead",
                                name.text
                            ),
                        );
                    }
                    Text::Plain(name.text.to_owned())
                }
            };
            let key = (list_name.clone(), name.text.to_owned());
            let mut merge = false;
            if let Some(first) = seen.get(&key) {
                let message = format!(
                    "choice list '{list_name}' has the name '{}' twice (first at {first}): \
                     duplicate names cannot be told apart in the data",
                    name.text
                );
                if allow_duplicates || self.options.lenient {
                    merge = true;
                    self.warn(
                        Some(name.at.clone()),
                        "duplicate-choice",
                        format!(
                            "{message}; this row is merged into the first (only the \
                             translations, media and properties the first lacks are kept)"
                        ),
                    );
                } else {
                    self.error(
                        Some(name.at.clone()),
                        "duplicate-choice",
                        format!("{message} (use --lenient to import anyway)"),
                    );
                }
            } else {
                seen.insert(key, name.at.clone());
            }
            let mut properties = BTreeMap::new();
            for column in &table.columns {
                if column.lang.is_some() || reserved.contains(&column.key.as_str()) {
                    continue;
                }
                if let Some(cell) = table.cell(row, column) {
                    properties.insert(column.header.clone(), cell.text.to_owned());
                }
            }
            self.choice_lists.insert(list_name.clone());
            if merge {
                let media = self.media(table, row);
                if let Some(first) = self
                    .choices
                    .get_mut(&list_name)
                    .and_then(|list| list.iter_mut().find(|c| c.name == name.text))
                {
                    merge_choice(first, label, media, properties);
                }
                continue;
            }
            let index = self.choices.get(&list_name).map_or(0, Vec::len);
            let mut columns = BTreeMap::new();
            for column in &table.columns {
                if table.cell(row, column).is_none() {
                    continue;
                }
                let property = match column.key.as_str() {
                    "list_name" => continue,
                    "name" | "label" => column.key.clone(),
                    "image" | "audio" | "video" => "media".to_owned(),
                    _ => column.header.clone(),
                };
                columns.entry(property).or_insert(column.index);
            }
            self.origins.insert(
                format!("/choices/{}/{index}", pointer_escape(&list_name)),
                Origin {
                    sheet: table.sheet.to_owned(),
                    row: row.number,
                    columns,
                },
            );
            let media = self.media(table, row);
            self.choices.entry(list_name).or_default().push(Choice {
                name: name.text.to_owned(),
                label,
                media,
                properties,
            });
        }
    }

    fn allow_choice_duplicates(&self) -> bool {
        let Some(sheet) = self.workbook.sheet("settings") else {
            return false;
        };
        let Some((header, rest)) = sheet.rows.split_first() else {
            return false;
        };
        let Some(col) = header
            .cells
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case("allow_choice_duplicates"))
        else {
            return false;
        };
        rest.first()
            .and_then(|r| r.cells.get(col))
            .is_some_and(|v| yes_no(v) == Some(true))
    }

    /// Declare a name in the current repeat scope and return the name to use. A name
    /// already used in another group of the same scope (pyxform allows that, Voices does
    /// not) is renamed `group_name`, with a warning; in the same group it is an error.
    fn declare(&mut self, name: &str, at: &CellRef) -> String {
        self.all_names.insert(name.to_owned());
        if name == "meta" {
            self.error(
                Some(at.clone()),
                "reserved-name",
                "'meta' is reserved for the form's metadata; choose another name",
            );
        }
        let (parent_id, parent_name) = self.parents.last().cloned().unwrap_or((0, String::new()));
        let scope = self
            .scopes
            .last_mut()
            .expect("the form scope is never popped");
        let Some(first) = scope.get(name).cloned() else {
            scope.insert(name.to_owned(), (at.clone(), parent_id));
            return name.to_owned();
        };
        if first.1 == parent_id || parent_name.is_empty() {
            let message = format!(
                "the name '{name}' is already used at {}; names must be unique \
                 (outside of repeats, groups do not separate names in Voices)",
                first.0
            );
            self.error(Some(at.clone()), "duplicate-name", message);
            return name.to_owned();
        }
        let base = format!("{parent_name}_{name}");
        let mut renamed = base.clone();
        let mut n = 2;
        while scope.contains_key(&renamed) {
            renamed = format!("{base}_{n}");
            n += 1;
        }
        scope.insert(renamed.clone(), (at.clone(), parent_id));
        self.ambiguous.insert(name.to_owned());
        self.all_names.insert(renamed.clone());
        self.warn(
            Some(at.clone()),
            "renamed",
            format!(
                "'{name}' is also the name at {}: Voices needs names unique outside repeats, \
                 so this one is imported as '{renamed}'",
                first.0
            ),
        );
        renamed
    }

    /// An expression cell, translated where Voices writes a construct differently.
    fn expression(&mut self, cell: &Cell) -> String {
        let mut text = cell.text.trim().to_owned();
        let mut last_saved = Vec::new();
        for r in references_in(&text) {
            match r.strip_prefix("last-saved#") {
                Some(name) => {
                    self.references.push((name.to_owned(), cell.at.clone()));
                    last_saved.push(r.to_owned());
                }
                None => self.references.push((r.to_owned(), cell.at.clone())),
            }
        }
        for r in last_saved {
            // ODK fills this from the previous saved submission on the device; Voices does
            // not carry answers from one interview to the next (a privacy choice).
            text = text.replace(&format!("${{{r}}}"), "''");
            self.warn(
                Some(cell.at.clone()),
                "unsupported-last-saved",
                format!(
                    "${{{r}}} (the answer saved in the previous interview) is not available in \
                     Voices and is replaced by ''"
                ),
            );
        }
        self.check_expression(&text, &cell.at);
        text
    }

    /// Parse with the engine's parser; report syntax errors, unknown functions and wrong
    /// argument counts with the character position inside the cell.
    fn check_expression(&mut self, text: &str, at: &CellRef) {
        let position = |byte: usize| text.get(..byte).map_or(byte, |t| t.chars().count()) + 1;
        let parsed = match expr::parse(text) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.error(
                    Some(at.clone()),
                    "bad-expression",
                    format!(
                        "{} (character {} of '{text}')",
                        e.message,
                        position(e.span.start)
                    ),
                );
                return;
            }
        };
        for site in parsed.calls() {
            let call = site.call;
            let Some(function) = call.function else {
                self.error(
                    Some(at.clone()),
                    "unknown-function",
                    format!(
                        "Voices has no function {}() (character {} of '{text}')",
                        call.name,
                        position(call.name_span.start)
                    ),
                );
                continue;
            };
            let signature = function.signature();
            let n = call.args.len();
            let too_few = n < signature.min_args;
            let too_many = signature.max_args.is_some_and(|max| n > max);
            if too_few || too_many {
                let expected = match signature.max_args {
                    Some(max) if max == signature.min_args => format!("{max}"),
                    Some(max) => format!("{} to {max}", signature.min_args),
                    None => format!("at least {}", signature.min_args),
                };
                self.error(
                    Some(at.clone()),
                    "bad-arguments",
                    format!(
                        "{}() takes {expected} argument(s), not {n} (character {} of '{text}')",
                        call.name,
                        position(call.name_span.start)
                    ),
                );
            }
        }
    }

    fn condition(&mut self, cell: &Cell) -> Condition {
        match yes_no(cell.text) {
            Some(b) => Condition::Always(b),
            None => Condition::Expression(self.expression(cell)),
        }
    }

    fn flag(&mut self, table: &Table, row: &SheetRow, key: &str) -> bool {
        let Some(cell) = table.get(row, key) else {
            return false;
        };
        match yes_no(cell.text) {
            Some(b) => b,
            None => {
                self.error(
                    Some(cell.at),
                    "bad-flag",
                    format!("'{key}' must be yes or no, not '{}'", cell.text),
                );
                false
            }
        }
    }

    /// The `disaggregation` column: `sex`, `age` or `disability` (the checker then says
    /// whether the field's type can carry it).
    fn disaggregation(&mut self, table: &Table, row: &SheetRow) -> Option<Disaggregation> {
        let cell = table.get(row, "disaggregation")?;
        let parsed = Disaggregation::parse(&cell.text.to_ascii_lowercase());
        if parsed.is_none() {
            self.error(
                Some(cell.at),
                "bad-disaggregation",
                format!(
                    "'disaggregation' must be sex, age or disability, not '{}'",
                    cell.text
                ),
            );
        }
        parsed
    }

    fn check_references(&mut self) {
        let references = std::mem::take(&mut self.references);
        for (name, at) in references {
            if self.ambiguous.contains(&name) {
                self.error(
                    Some(at),
                    "ambiguous-reference",
                    format!("${{{name}}} is ambiguous: several questions, groups or repeats are named '{name}'"),
                );
            } else if !self.all_names.contains(&name) {
                self.error(
                    Some(at),
                    "unknown-reference",
                    format!("${{{name}}} refers to no question, group or repeat in the form"),
                );
            }
        }
        let triggers = std::mem::take(&mut self.triggers);
        for (source, target, at) in triggers {
            if let Some((kind, computed)) = self.field_kinds.get(&source) {
                if !kind.is_shown_question() || *computed {
                    self.error(
                        Some(at),
                        "bad-trigger",
                        format!(
                            "${{{source}}} is not shown to the enumerator, so it cannot trigger ${{{target}}}"
                        ),
                    );
                }
            }
        }
        for check in std::mem::take(&mut self.tick_checks) {
            let Some(choices) = self.choices.get(&check.list) else {
                continue;
            };
            for choice in choices {
                let Ok(value) = choice.name.parse::<f64>() else {
                    self.error(
                        Some(check.at.clone()),
                        "bad-parameters",
                        format!(
                            "tick_labelset '{}' has the choice '{}', which is not a number",
                            check.list, choice.name
                        ),
                    );
                    break;
                };
                // With no-ticks only the two ends of the scale carry labels.
                if check.no_ticks && value != check.start && value != check.end {
                    self.error(
                        Some(check.at.clone()),
                        "bad-parameters",
                        format!(
                            "with appearance no-ticks, tick_labelset '{}' may only label the start \
                             ({}) and end ({}) of the range, not {}",
                            check.list, check.start, check.end, choice.name
                        ),
                    );
                    break;
                }
            }
        }
        let uses = std::mem::take(&mut self.list_uses);
        for (list, at) in uses {
            if !self.choice_lists.contains(&list) {
                self.error(
                    Some(at),
                    "missing-choice-list",
                    format!("choice list '{list}' is not defined on the choices sheet"),
                );
            }
        }
    }

    fn read_survey(&mut self, table: &Table) -> Vec<Item> {
        if !table.has("type") {
            self.error(
                Some(CellRef::sheet(table.sheet)),
                "missing-column",
                "the 'survey' sheet has no 'type' column",
            );
            return Vec::new();
        }
        let known: HashSet<&str> = crate::export::SURVEY_COLUMNS
            .iter()
            .chain(READ_ONLY_SURVEY_COLUMNS)
            .copied()
            .collect();
        for column in &table.columns {
            if !known.contains(column.key.as_str()) && !column.key.starts_with("instance::") {
                let used = table.rows.iter().any(|r| table.cell(r, column).is_some());
                if used {
                    self.warn(
                        Some(CellRef::cell(table.sheet, table.header_row, column.index)),
                        "unused-column",
                        format!(
                            "column '{}' has no meaning in Voices and is ignored",
                            column.header
                        ),
                    );
                }
            }
        }
        let mut stack: Vec<Open> = Vec::new();
        let mut top: Vec<Item> = Vec::new();
        for row in table.rows {
            let Some(type_cell) = table.get(row, "type") else {
                if table.get(row, "name").is_some() || table.get(row, "label").is_some() {
                    self.warn(
                        Some(table.row_ref(row)),
                        "missing-type",
                        "this row has a name or label but no type; it is ignored",
                    );
                }
                continue;
            };
            let Some(row_type) = parse_type(type_cell.text) else {
                self.error(
                    Some(type_cell.at.clone()),
                    "unknown-type",
                    format!("unknown question type '{}'", type_cell.text),
                );
                continue;
            };
            if let Some(save_to) = table.get(row, "save_to") {
                let container = matches!(
                    row_type,
                    RowType::BeginGroup
                        | RowType::EndGroup
                        | RowType::BeginRepeat
                        | RowType::EndRepeat
                        | RowType::BeginLoop(_)
                        | RowType::EndLoop
                );
                self.save_to
                    .push((save_to.text.to_owned(), save_to.at, container));
            }
            let ptr = {
                let base = stack
                    .last()
                    .map_or("/body".to_owned(), |o| format!("{}/body", o.origin_ptr));
                let len = stack.last().map_or(top.len(), |o| o.items.len());
                format!("{base}/{len}")
            };
            let item = match row_type {
                RowType::BeginGroup | RowType::BeginRepeat | RowType::BeginLoop(_) => {
                    let repeat = row_type == RowType::BeginRepeat;
                    if stack.len() >= MAX_NESTING {
                        self.error(
                            Some(type_cell.at.clone()),
                            "too-deep",
                            format!("groups and repeats are nested more than {MAX_NESTING} deep"),
                        );
                        continue;
                    }
                    let in_loop = stack
                        .iter()
                        .any(|o| matches!(o.container, Container::Loop(..)));
                    if repeat && in_loop {
                        self.error(
                            Some(type_cell.at.clone()),
                            "repeat-in-loop",
                            "a repeat cannot be inside a loop",
                        );
                    }
                    let container = self
                        .begin(table, row, repeat)
                        .map(|c| match (c, &row_type) {
                            (Container::Group(g), RowType::BeginLoop(list)) => {
                                Container::Loop(g, list.clone())
                            }
                            (c, _) => c,
                        });
                    if let Some(container) = container {
                        self.record_origin(table, row, &ptr);
                        if repeat {
                            self.scopes.push(HashMap::new());
                        }
                        let name = match &container {
                            Container::Group(g) | Container::Loop(g, _) => g.name.clone(),
                            Container::Repeat(r) => r.name.clone(),
                        };
                        self.parents.push((self.next_parent_id, name));
                        self.next_parent_id += 1;
                        stack.push(Open {
                            container,
                            items: Vec::new(),
                            row: row.number,
                            origin_ptr: ptr,
                        });
                    }
                    continue;
                }
                RowType::EndGroup | RowType::EndRepeat | RowType::EndLoop => {
                    let word = match row_type {
                        RowType::EndGroup => "group",
                        RowType::EndRepeat => "repeat",
                        _ => "loop",
                    };
                    match stack.pop() {
                        None => {
                            self.error(
                                Some(type_cell.at.clone()),
                                "unbalanced",
                                format!("'end {word}' without a matching 'begin {word}'"),
                            );
                            continue;
                        }
                        Some(open) if open.container.word() != word => {
                            self.error(
                                Some(type_cell.at.clone()),
                                "unbalanced",
                                format!(
                                    "'end {word}' closes the 'begin {}' at row {}",
                                    open.container.word(),
                                    open.row
                                ),
                            );
                            let item = self.close(open);
                            match stack.last_mut() {
                                Some(parent) => parent.items.push(item),
                                None => top.push(item),
                            }
                            continue;
                        }
                        Some(open) => {
                            let item = self.close(open);
                            match stack.last_mut() {
                                Some(parent) => parent.items.push(item),
                                None => top.push(item),
                            }
                            continue;
                        }
                    }
                }
                RowType::Unsupported(why) => {
                    self.warn(
                        Some(type_cell.at.clone()),
                        "unsupported-type",
                        format!("'{}' ignored: {why}", type_cell.text),
                    );
                    if let Some(name) = table.get(row, "name") {
                        self.all_names.insert(name.text.to_owned());
                    }
                    self.check_unsupported_row(table, row, type_cell.text);
                    continue;
                }
                RowType::ExternalInstance => {
                    self.warn(
                        Some(type_cell.at.clone()),
                        "external-instance",
                        format!(
                            "'{}' attaches an external data file, which Voices does not load; \
                             expressions using instance('{}') will not work",
                            type_cell.text,
                            table.get(row, "name").map_or("", |c| c.text)
                        ),
                    );
                    continue;
                }
                RowType::Consent => match self.consent(table, row) {
                    Some(c) => Item::Consent(c),
                    None => continue,
                },
                RowType::UncollectedProperty(what) => {
                    self.warn(
                        Some(type_cell.at.clone()),
                        "uncollected-property",
                        format!(
                            "Voices does not collect {what}; '{}' is imported as an empty hidden field",
                            type_cell.text
                        ),
                    );
                    match self.field(table, row, FieldType::Hidden, None) {
                        Some(f) => Item::Field(f),
                        None => continue,
                    }
                }
                RowType::Field(kind) => match self.field(table, row, kind, None) {
                    Some(f) => Item::Field(f),
                    None => continue,
                },
                RowType::Select {
                    kind,
                    ref list,
                    or_other,
                    from_file,
                    external,
                } => {
                    let select = SelectSpec {
                        list: list.clone(),
                        from_file,
                        external,
                        at: type_cell.at.clone(),
                    };
                    let Some(field) = self.field(table, row, kind, Some(&select)) else {
                        continue;
                    };
                    if or_other {
                        let other = self.or_other(table, row, &field);
                        self.record_origin(table, row, &ptr);
                        let parent = match stack.last_mut() {
                            Some(p) => &mut p.items,
                            None => &mut top,
                        };
                        parent.push(Item::Field(field));
                        if let Some(other) = other {
                            let other_ptr = {
                                let (base, _) = ptr.rsplit_once('/').unwrap_or(("/body", ""));
                                format!("{base}/{}", parent.len())
                            };
                            parent.push(Item::Field(other));
                            self.record_origin(table, row, &other_ptr);
                        }
                        continue;
                    }
                    Item::Field(field)
                }
            };
            self.record_origin(table, row, &ptr);
            match stack.last_mut() {
                Some(parent) => parent.items.push(item),
                None => top.push(item),
            }
        }
        while let Some(open) = stack.pop() {
            self.error(
                Some(CellRef::row(table.sheet, open.row)),
                "unbalanced",
                format!(
                    "'begin {}' at row {} has no matching 'end {}'",
                    open.container.word(),
                    open.row,
                    open.container.word()
                ),
            );
            let item = self.close(open);
            match stack.last_mut() {
                Some(parent) => parent.items.push(item),
                None => top.push(item),
            }
        }
        top
    }

    fn record_origin(&mut self, table: &Table, row: &SheetRow, ptr: &str) {
        let mut columns = BTreeMap::new();
        for column in &table.columns {
            if table.cell(row, column).is_none() {
                continue;
            }
            let property = match column.key.as_str() {
                "guidance_hint" => "guidance",
                "repeat_count" => "count",
                "calculation" => "calculation",
                "list_name" => continue,
                "type" => "type",
                "image" | "audio" | "video" => "media",
                "consent_version" => "text_version",
                other => other,
            };
            columns.entry(property.to_owned()).or_insert(column.index);
        }
        if let Some(type_col) = columns.get("type").copied() {
            columns.entry("choices".to_owned()).or_insert(type_col);
        }
        self.origins.insert(
            ptr.to_owned(),
            Origin {
                sheet: table.sheet.to_owned(),
                row: row.number,
                columns,
            },
        );
    }

    fn name(&mut self, table: &Table, row: &SheetRow, what: &str) -> Option<(String, CellRef)> {
        let Some(cell) = table.get(row, "name") else {
            self.error(
                Some(table.row_ref(row)),
                "missing-name",
                format!("this {what} has no name"),
            );
            return None;
        };
        if !valid_name(cell.text) {
            self.error(
                Some(cell.at.clone()),
                "bad-name",
                format!(
                    "'{}' is not a valid name: start with a letter or '_', then use letters, \
                     digits, '_', '-' or '.'",
                    cell.text
                ),
            );
            return None;
        }
        let name = self.declare(cell.text, &cell.at);
        Some((name, cell.at))
    }

    /// Translatable text; `${name}` references in it (shown answers) are checked too.
    fn text(&mut self, table: &Table, row: &SheetRow, key: &str) -> Option<Text> {
        let (text, at) = table.text(row, key, &self.default_lang)?;
        self.text_references(&text, &at);
        Some(text)
    }

    fn text_references(&mut self, text: &Text, at: &CellRef) {
        let values: Vec<&String> = match text {
            Text::Plain(s) => vec![s],
            Text::Translated(m) => m.values().collect(),
        };
        for value in values {
            for r in references_in(value) {
                let name = r.strip_prefix("last-saved#").unwrap_or(r);
                self.references.push((name.to_owned(), at.clone()));
            }
        }
    }

    fn begin(&mut self, table: &Table, row: &SheetRow, repeat: bool) -> Option<Container> {
        let what = if repeat { "repeat" } else { "group" };
        let (name, _) = self.name(table, row, what)?;
        let relevant = table.get(row, "relevant").map(|c| self.expression(&c));
        let privacy = match table.get(row, "privacy") {
            None => None,
            Some(c) if c.text.eq_ignore_ascii_case("required") => {
                Some(PrivacyRequirement::Required)
            }
            Some(c) if yes_no(c.text) == Some(false) => None,
            Some(c) => {
                self.error(
                    Some(c.at),
                    "bad-privacy",
                    format!("'privacy' must be 'required' or empty, not '{}'", c.text),
                );
                None
            }
        };
        let sensitive = self.flag(table, row, "sensitive");
        let label = self.text(table, row, "label");
        let hint = self.text(table, row, "hint");
        let appearance = table.get(row, "appearance").map(|c| c.text.to_owned());
        let privacy_prompt = self.text(table, row, "privacy_prompt");
        for key in [
            "calculation",
            "constraint",
            "required",
            "default",
            "choice_filter",
        ] {
            if let Some(c) = table.get(row, key) {
                self.warn(
                    Some(c.at),
                    "ignored-cell",
                    format!("'{key}' has no meaning on a begin {what} row and is ignored"),
                );
            }
        }
        if repeat {
            let count = table.get(row, "repeat_count").map(|c| self.expression(&c));
            if let Some(c) = &count {
                if let Some(r) = references_in(c).first() {
                    let _ = r;
                }
            }
            let min = self.count_column(table, row, "repeat_min");
            let max = self.count_column(table, row, "repeat_max");
            Some(Container::Repeat(Repeat {
                name,
                label,
                hint,
                relevant,
                appearance,
                count,
                min,
                max,
                add_label: self.text(table, row, "add_label"),
                privacy,
                privacy_prompt,
                sensitive,
                body: Vec::new(),
            }))
        } else {
            if let Some(c) = table.get(row, "repeat_count") {
                self.error(
                    Some(c.at),
                    "ignored-cell",
                    "repeat_count on a group: did you mean 'begin repeat'?",
                );
            }
            let page = match table.get(row, "page") {
                None => true,
                Some(c) => match yes_no(c.text) {
                    Some(b) => b,
                    None => {
                        self.error(
                            Some(c.at),
                            "bad-flag",
                            format!("'page' must be yes or no, not '{}'", c.text),
                        );
                        true
                    }
                },
            };
            Some(Container::Group(Group {
                name,
                label,
                hint,
                relevant,
                appearance,
                page,
                privacy,
                privacy_prompt,
                sensitive,
                body: Vec::new(),
            }))
        }
    }

    fn count_column(&mut self, table: &Table, row: &SheetRow, key: &str) -> Option<u32> {
        let cell = table.get(row, key)?;
        match cell.text.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.error(
                    Some(cell.at),
                    "bad-number",
                    format!("'{key}' must be a whole number, not '{}'", cell.text),
                );
                None
            }
        }
    }

    fn close(&mut self, open: Open) -> Item {
        self.parents.pop();
        match open.container {
            Container::Loop(g, list) => {
                self.expand_loop(g, &list, open.items, &open.origin_ptr, open.row)
            }
            Container::Group(mut g) => {
                g.body = open.items;
                Item::Group(g)
            }
            Container::Repeat(mut r) => {
                r.body = open.items;
                if self.scopes.len() > 1 {
                    self.scopes.pop();
                }
                Item::Repeat(r)
            }
        }
    }

    /// pyxform's loop: the body repeated once per choice of `list`, each copy in a group
    /// named `loop_choice`, its names prefixed `choice_`, and `%(label)s` in its texts
    /// replaced by the choice's label. References into the body are ambiguous.
    fn expand_loop(
        &mut self,
        mut group: Group,
        list: &str,
        items: Vec<Item>,
        ptr: &str,
        row: u32,
    ) -> Item {
        let Some(choices) = self.choices.get(list).cloned() else {
            self.error(
                Some(CellRef::row("survey", row)),
                "missing-choice-list",
                format!("loop over '{list}': the list is not defined on the choices sheet"),
            );
            group.body = items;
            return Item::Group(group);
        };
        let mut names = Vec::new();
        collect_names(&items, &mut names);
        self.warn(
            Some(CellRef::row("survey", row)),
            "loop-expanded",
            format!(
                "loop '{}' is expanded into one group per choice of '{list}'; the questions in it \
                 are named after the choice, e.g. '{}_{}'",
                group.name,
                choices.first().map_or("choice", |c| c.name.as_str()),
                names.first().map_or("question", String::as_str)
            ),
        );
        self.ambiguous.extend(names);
        let prefix = format!("{ptr}/body/");
        let inner: Vec<(String, Origin)> = self
            .origins
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k[prefix.len()..].to_owned(), v.clone()))
            .collect();
        for (suffix, _) in &inner {
            self.origins.remove(&format!("{prefix}{suffix}"));
        }
        let loop_origin = self.origins.get(ptr).cloned();
        let default_lang = self.default_lang.clone();
        for (index, choice) in choices.iter().enumerate() {
            let mut body = items.clone();
            let substitute = |text: &Text| -> Text {
                let label_in = |lang: &str| choice.label.get(lang, &default_lang).to_owned();
                match text {
                    Text::Plain(s) => Text::Plain(
                        s.replace("%(label)s", &label_in(&default_lang))
                            .replace("%(name)s", &choice.name),
                    ),
                    Text::Translated(m) => Text::Translated(
                        m.iter()
                            .map(|(lang, s)| {
                                (
                                    lang.clone(),
                                    s.replace("%(label)s", &label_in(lang))
                                        .replace("%(name)s", &choice.name),
                                )
                            })
                            .collect(),
                    ),
                }
            };
            rewrite_items(&mut body, &choice.name, &substitute);
            let copy_ptr = format!("{prefix}{index}");
            if let Some(origin) = &loop_origin {
                self.origins.insert(copy_ptr.clone(), origin.clone());
            }
            for (suffix, origin) in &inner {
                self.origins
                    .insert(format!("{copy_ptr}/body/{suffix}"), origin.clone());
            }
            let mut copy_names = Vec::new();
            collect_names(&body, &mut copy_names);
            let at = CellRef::row("survey", row);
            for name in copy_names {
                self.declare(&name, &at);
            }
            group.body.push(Item::Group(Group {
                name: format!("{}_{}", group.name, choice.name),
                label: Some(choice.label.clone()),
                hint: None,
                relevant: None,
                appearance: None,
                page: true,
                privacy: None,
                privacy_prompt: None,
                sensitive: false,
                body,
            }));
        }
        Item::Group(group)
    }

    fn consent(&mut self, table: &Table, row: &SheetRow) -> Option<Consent> {
        let name = match table.get(row, "name") {
            Some(_) => self.name(table, row, "consent block")?.0,
            None => {
                let at = table.row_ref(row);
                self.declare("consent", &at)
            }
        };
        let Some(text) = self.text(table, row, "label") else {
            self.error(
                Some(table.row_ref(row)),
                "missing-label",
                "the consent row needs the consent statement in its label",
            );
            return None;
        };
        let Some(version) = table.get(row, "consent_version") else {
            self.error(
                Some(table.row_ref(row)),
                "missing-consent-version",
                "the consent row needs a consent_version (change it whenever the statement changes)",
            );
            return None;
        };
        Some(Consent {
            name,
            text_version: version.text.to_owned(),
            label: self.text(table, row, "consent_title"),
            text,
            question: self.text(table, row, "consent_question"),
            agree_label: self.text(table, row, "consent_agree"),
            decline_label: self.text(table, row, "consent_decline"),
            decline_message: self.text(table, row, "consent_decline_message"),
            relevant: table.get(row, "relevant").map(|c| self.expression(&c)),
        })
    }

    fn field(
        &mut self,
        table: &Table,
        row: &SheetRow,
        kind: FieldType,
        select: Option<&SelectSpec>,
    ) -> Option<Field> {
        let (name, _) = self.name(table, row, "question")?;
        let label = self.text(table, row, "label");
        let hint = self.text(table, row, "hint");
        let media = self.media(table, row);
        if let Some((_, at)) = table.text(row, "big-image", &self.default_lang) {
            if media.as_ref().is_none_or(|m| m.image.is_none()) {
                self.error(
                    Some(at),
                    "missing-image",
                    "a big-image needs an image too (the image is shown, the big image on request)",
                );
            } else {
                self.warn(
                    Some(at),
                    "ignored-cell",
                    "big-image is not shown by Voices; the image is",
                );
            }
        }
        // A computed or triggered value needs no label: it is not asked.
        let computed =
            table.get(row, "calculation").is_some() || table.get(row, "trigger").is_some();
        if kind.is_shown_question()
            && !computed
            && label.is_none()
            && hint.is_none()
            && media.is_none()
        {
            // pyxform requires a label or hint once the sheet has a label column, and
            // guidance alone is never enough.
            if table.has("label") || table.get(row, "guidance_hint").is_some() {
                self.error(
                    Some(table.row_ref(row)),
                    "missing-label",
                    format!("question '{name}' has no label or hint"),
                );
            } else {
                self.warn(
                    Some(table.row_ref(row)),
                    "missing-label",
                    format!(
                        "question '{name}' has no label or hint: the enumerator sees only its name"
                    ),
                );
            }
        }
        let has_calculation = table.get(row, "calculation").is_some();
        self.field_kinds
            .insert(name.clone(), (kind, has_calculation));
        let required = table.get(row, "required").map(|c| self.condition(&c));
        let read_only = table.get(row, "read_only").map(|c| self.condition(&c));
        let relevant = table.get(row, "relevant").map(|c| self.expression(&c));
        let constraint = table.get(row, "constraint").map(|c| self.expression(&c));
        let calculation = table.get(row, "calculation").map(|c| self.expression(&c));
        let choice_filter = table.get(row, "choice_filter").map(|c| self.expression(&c));
        let default = table.get(row, "default").map(|c| {
            if default_is_dynamic(c.text) {
                self.expression(&c)
            } else {
                quote_literal(c.text)
            }
        });
        let dynamic_default = table
            .get(row, "default")
            .is_some_and(|c| default_is_dynamic(c.text));
        if kind == FieldType::Calculate && calculation.is_none() && !dynamic_default {
            self.error(
                Some(table.row_ref(row)),
                "missing-calculation",
                format!("calculate '{name}' has no calculation"),
            );
        }
        if let Some(c) = table.get(row, "trigger") {
            self.trigger(&c, &name);
        }
        let mut parameters = BTreeMap::new();
        if let Some(cell) = table.get(row, "parameters") {
            match parse_parameters(cell.text) {
                Ok(p) => parameters = p,
                Err(e) => self.error(Some(cell.at.clone()), "bad-parameters", e),
            }
            if let Some(accepted) = accepted_parameters(kind) {
                let bad: Vec<&String> = parameters
                    .keys()
                    .filter(|k| !accepted.contains(&k.as_str()))
                    .collect();
                if !bad.is_empty() {
                    let bad: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
                    self.error(
                        Some(cell.at.clone()),
                        "bad-parameters",
                        format!(
                            "{} does not accept the parameter(s) {}; accepted: {}",
                            kind.as_str(),
                            bad.join(", "),
                            accepted.join(", ")
                        ),
                    );
                }
            }
            self.check_parameter_values(kind, &parameters, &cell.at);
        }
        if let (Some(list), Some(cell)) = (
            parameters.get("tick_labelset"),
            table.get(row, "parameters"),
        ) {
            self.list_uses.push((list.clone(), cell.at.clone()));
        }
        let no_ticks = table
            .get(row, "appearance")
            .is_some_and(|c| c.text.split_whitespace().any(|a| a == "no-ticks"));
        let tick_labelset = parameters.get("tick_labelset").cloned();
        let range = if kind == FieldType::Range {
            let mut number = |key: &str, fallback: f64| -> f64 {
                match parameters.remove(key) {
                    None => fallback,
                    Some(v) => match v.parse::<f64>() {
                        Ok(n) if n.is_finite() => n,
                        _ => {
                            let at = table.get(row, "parameters").map(|c| c.at);
                            self.diagnostics.push(Diagnostic::error(
                                at,
                                "bad-parameters",
                                format!("range {key} must be a number, not '{v}'"),
                            ));
                            fallback
                        }
                    },
                }
            };
            let start = number("start", 1.0);
            let end = number("end", 10.0);
            let step = number("step", 1.0);
            if step == 0.0 {
                let at = table.get(row, "parameters").map(|c| c.at);
                self.error(at, "bad-parameters", "range step must not be 0");
            }
            if let (Some(list), Some(cell)) = (tick_labelset, table.get(row, "parameters")) {
                self.tick_checks.push(TickCheck {
                    list,
                    start,
                    end,
                    no_ticks,
                    at: cell.at,
                });
            }
            Some(RangeParams { start, end, step })
        } else {
            None
        };
        let (mut choices, mut choices_file) = (None, None);
        if let Some(select) = select {
            if select.from_file {
                let ext_ok = [".csv", ".xml", ".geojson"]
                    .iter()
                    .any(|e| select.list.to_lowercase().ends_with(e));
                if !ext_ok {
                    self.error(
                        Some(select.at.clone()),
                        "bad-choices-file",
                        format!("'{}' is not a .csv, .xml or .geojson file", select.list),
                    );
                }
                self.warn(
                    Some(select.at.clone()),
                    "external-choices-file",
                    format!(
                        "the choices of '{name}' come from the file '{}', which must be attached to the form",
                        select.list
                    ),
                );
                choices_file = Some(select.list.clone());
            } else {
                if select.external {
                    self.warn(
                        Some(select.at.clone()),
                        "external-choices",
                        format!(
                            "'{name}' uses external choices: Voices keeps the list '{}' from the external_choices sheet inside the form",
                            select.list
                        ),
                    );
                }
                self.list_uses
                    .push((select.list.clone(), select.at.clone()));
                choices = Some(select.list.clone());
            }
        }
        Some(Field {
            kind,
            name,
            label,
            hint,
            guidance: self.text(table, row, "guidance_hint"),
            required,
            required_message: self.text(table, row, "required_message"),
            relevant,
            constraint,
            constraint_message: self.text(table, row, "constraint_message"),
            calculation,
            default,
            read_only,
            appearance: table.get(row, "appearance").map(|c| c.text.to_owned()),
            choices,
            choices_file,
            choice_filter,
            range,
            parameters,
            media,
            pii: self.flag(table, row, "pii"),
            sensitive: self.flag(table, row, "sensitive"),
            disaggregation: self.disaggregation(table, row),
        })
    }

    fn check_parameter_values(
        &mut self,
        kind: FieldType,
        parameters: &BTreeMap<String, String>,
        at: &CellRef,
    ) {
        for (key, value) in parameters {
            let problem = match (kind, key.as_str()) {
                (FieldType::Image, "max-pixels")
                    if value.parse::<u32>().map_or(true, |n| n == 0) =>
                {
                    Some("max-pixels must be a whole number greater than 0")
                }
                (_, "capture-accuracy" | "warning-accuracy")
                    if value.parse::<f64>().map_or(true, |n| n < 0.0) =>
                {
                    Some("accuracy must be a positive number")
                }
                (_, "allow-mock-accuracy") if yes_no(value).is_none() => {
                    Some("allow-mock-accuracy must be true or false")
                }
                (_, "randomize") if yes_no(value).is_none() => {
                    Some("randomize must be true or false")
                }
                (_, "seed")
                    if value.parse::<f64>().is_err()
                        && !(value.starts_with("${")
                            && value.ends_with('}')
                            && references_in(value).len() == 1) =>
                {
                    Some("seed must be a number or a reference to another field such as ${seed}")
                }
                (_, "seed") if !parameters.contains_key("randomize") => {
                    Some("seed needs randomize=true")
                }
                (FieldType::Audio | FieldType::Video, "quality")
                    if !["voice-only", "low", "normal", "external"].contains(&value.as_str()) =>
                {
                    Some("quality must be voice-only, low, normal or external")
                }
                _ => None,
            };
            if let Some(p) = problem {
                self.error(
                    Some(at.clone()),
                    "bad-parameters",
                    format!("{p} (got '{value}')"),
                );
            }
        }
    }

    /// `trigger`: pyxform's "set this value when that question changes". Voices has no
    /// equivalent; the reference is still checked so the designer learns of mistakes.
    fn trigger(&mut self, cell: &Cell, name: &str) {
        let refs = references_in(cell.text);
        let single = refs.len() == 1 && cell.text.starts_with("${") && cell.text.ends_with('}');
        if !single {
            self.error(
                Some(cell.at.clone()),
                "bad-trigger",
                format!(
                    "trigger must name one question, like ${{q1}}, not '{}'",
                    cell.text
                ),
            );
            return;
        }
        self.references.push((refs[0].to_owned(), cell.at.clone()));
        self.triggers
            .push((refs[0].to_owned(), name.to_owned(), cell.at.clone()));
        self.warn(
            Some(cell.at.clone()),
            "unsupported-trigger",
            "'trigger' (set a value when another question changes) is not supported by Voices \
             and is ignored; use a calculation",
        );
    }

    /// Rows Voices ignores are still checked as pyxform checks them, so a form that
    /// pyxform rejects is not silently accepted.
    fn check_unsupported_row(&mut self, table: &Table, row: &SheetRow, type_text: &str) {
        let at = table.row_ref(row);
        let params = match table.get(row, "parameters") {
            Some(c) => match parse_parameters(c.text) {
                Ok(p) => p,
                Err(e) => {
                    self.error(Some(c.at), "bad-parameters", e);
                    return;
                }
            },
            None => BTreeMap::new(),
        };
        let mut problems: Vec<String> = Vec::new();
        match type_text.trim() {
            "audit" => {
                if table.get(row, "name").is_some_and(|n| n.text != "audit") {
                    problems.push("audits must always be named 'audit'".into());
                }
                let location = [
                    "location-priority",
                    "location-min-interval",
                    "location-max-age",
                ];
                let given = location.iter().filter(|k| params.contains_key(**k)).count();
                if given != 0 && given != 3 {
                    problems.push(
                        "'location-priority', 'location-min-interval' and 'location-max-age' go together".into(),
                    );
                }
                if let Some(p) = params.get("location-priority") {
                    if !["no-power", "low-power", "balanced", "high-accuracy"].contains(&p.as_str())
                    {
                        problems.push("location-priority must be no-power, low-power, balanced or high-accuracy".into());
                    }
                }
                let number = |k: &str| params.get(k).and_then(|v| v.parse::<f64>().ok());
                if number("location-min-interval").is_some_and(|n| n < 0.0) {
                    problems.push("location-min-interval must be 0 or more".into());
                }
                if let (Some(min), Some(max)) =
                    (number("location-min-interval"), number("location-max-age"))
                {
                    if max < min {
                        problems
                            .push("location-max-age must be at least location-min-interval".into());
                    }
                }
                for key in ["track-changes", "identify-user"] {
                    if params.get(key).is_some_and(|v| yes_no(v).is_none()) {
                        problems.push(format!("{key} must be true or false"));
                    }
                }
                if params
                    .get("track-changes-reasons")
                    .is_some_and(|v| v != "on-form-edit")
                {
                    problems.push("track-changes-reasons must be on-form-edit".into());
                }
            }
            "background-audio"
                if params
                    .get("quality")
                    .is_some_and(|q| !["voice-only", "low", "normal"].contains(&q.as_str())) =>
            {
                problems.push("quality must be voice-only, low or normal".into());
            }
            "background-geopoint" => match table.get(row, "trigger") {
                None => {
                    problems.push("background-geopoint needs a trigger naming a question".into())
                }
                Some(c) => {
                    if table.get(row, "calculation").is_some() {
                        problems.push("background-geopoint cannot have a calculation".into());
                    }
                    let refs = references_in(c.text);
                    if refs.len() == 1 {
                        self.references.push((refs[0].to_owned(), c.at.clone()));
                    } else {
                        problems.push("the trigger must name one question, like ${q1}".into());
                    }
                }
            },
            _ => {}
        }
        for p in problems {
            self.error(Some(at.clone()), "bad-parameters", p);
        }
    }

    /// pyxform's `or_other`: an `other` choice and a text question shown when it is chosen.
    fn or_other(&mut self, table: &Table, row: &SheetRow, field: &Field) -> Option<Field> {
        let list = field.choices.clone()?;
        if field.choice_filter.is_some() {
            self.error(
                Some(table.row_ref(row)),
                "or-other-with-filter",
                "or_other cannot be combined with a choice_filter: add an 'other' choice to the list instead",
            );
        }
        let other_label = match self.languages.languages.len() {
            0 | 1 if self.languages.languages.iter().all(|l| l.code == "und") => {
                Text::Plain("Other".to_owned())
            }
            _ => Text::Translated(
                self.languages
                    .languages
                    .iter()
                    .map(|l| (l.code.clone(), "Other".to_owned()))
                    .collect(),
            ),
        };
        let specify_label = match &other_label {
            Text::Plain(_) => Text::Plain("Specify other.".to_owned()),
            Text::Translated(m) => Text::Translated(
                m.keys()
                    .map(|k| (k.clone(), "Specify other.".to_owned()))
                    .collect(),
            ),
        };
        if let Some(choices) = self.choices.get_mut(&list) {
            if !choices.iter().any(|c| c.name == "other") {
                choices.push(Choice {
                    name: "other".to_owned(),
                    label: other_label,
                    media: None,
                    properties: BTreeMap::new(),
                });
            }
        }
        let other_name = format!("{}_other", field.name);
        let at = table.row_ref(row);
        let other_name = self.declare(&other_name, &at);
        Some(Field {
            kind: FieldType::Text,
            name: other_name,
            label: Some(specify_label),
            hint: None,
            guidance: None,
            required: None,
            required_message: None,
            relevant: Some(format!("selected(${{{}}}, 'other')", field.name)),
            constraint: None,
            constraint_message: None,
            calculation: None,
            default: None,
            read_only: None,
            appearance: None,
            choices: None,
            choices_file: None,
            choice_filter: None,
            range: None,
            parameters: BTreeMap::new(),
            media: None,
            pii: false,
            sensitive: field.sensitive,
            disaggregation: None,
        })
    }

    fn read_settings(
        &mut self,
        table: Option<&Table>,
        row: Option<&SheetRow>,
        body: Vec<Item>,
    ) -> Option<Form> {
        let get = |key: &str| match (table, row) {
            (Some(t), Some(r)) => t.get(r, key),
            _ => None,
        };
        let default_lang = self.default_lang.clone();
        let text = |key: &str| match (table, row) {
            (Some(t), Some(r)) => t.text(r, key, &default_lang).map(|t| t.0),
            _ => None,
        };
        let id = match get("form_id") {
            Some(c) if valid_form_id(c.text) => c.text.to_owned(),
            Some(c) => {
                let id = form_id_from(c.text);
                self.warn(
                    Some(c.at.clone()),
                    "form-id-changed",
                    format!(
                        "form_id '{}' may only use letters, digits, '_', '.' or '-': using '{id}'",
                        c.text
                    ),
                );
                id
            }
            None => form_id_from(&self.options.source_name),
        };
        let version = match get("version") {
            Some(c) => c.text.to_owned(),
            None => {
                let derived = derived_version(self.workbook);
                self.warn(
                    Some(CellRef::sheet(table.map_or("settings", |t| t.sheet))),
                    "derived-version",
                    format!(
                        "no version in settings: using '{derived}', derived from the workbook's content; \
                         set 'version' so you control it"
                    ),
                );
                derived
            }
        };
        if let Some(c) = get("name") {
            if !valid_name(c.text) {
                self.error(
                    Some(c.at.clone()),
                    "bad-name",
                    format!("settings name '{}' is not a valid name", c.text),
                );
            }
        }
        if let (Some(t), Some(r)) = (table, row) {
            let mut columns = BTreeMap::new();
            for column in &t.columns {
                if t.cell(r, column).is_none() {
                    continue;
                }
                let property = match column.key.as_str() {
                    "form_id" => "id",
                    "form_title" => "title",
                    "safe_exit_title" | "safe_exit_message" | "safe_exit_decoy_group" => {
                        "safe_exit"
                    }
                    "default_language" => "default_language",
                    other => other,
                };
                columns.entry(property.to_owned()).or_insert(column.index);
            }
            if let Some(col) = columns.get("default_language").copied() {
                columns.entry("languages".to_owned()).or_insert(col);
            }
            self.origins.insert(
                String::new(),
                Origin {
                    sheet: t.sheet.to_owned(),
                    row: r.number,
                    columns,
                },
            );
        }
        let title = text("form_title").unwrap_or_else(|| Text::Plain(id.clone()));
        let instance_name = get("instance_name").map(|c| self.expression(&c));
        let safe_exit = text("safe_exit_title").map(|title| SafeExit {
            title,
            message: text("safe_exit_message"),
            decoy_group: get("safe_exit_decoy_group").map(|c| c.text.to_owned()),
        });
        if safe_exit.is_none() {
            for key in ["safe_exit_message", "safe_exit_decoy_group"] {
                if let Some(c) = get(key).or_else(|| {
                    table.zip(row).and_then(|(t, r)| {
                        t.columns
                            .iter()
                            .filter(|col| col.key == key)
                            .find_map(|col| t.cell(r, col))
                    })
                }) {
                    self.error(
                        Some(c.at),
                        "missing-safe-exit-title",
                        format!("{key} needs safe_exit_title"),
                    );
                }
            }
        }
        // `direction::Name (code)`: a writing direction other than the code implies.
        if let (Some(t), Some(r)) = (table, row) {
            for column in t.columns.iter().filter(|c| c.key == "direction") {
                let (Some(code), Some(cell)) = (&column.lang, t.cell(r, column)) else {
                    continue;
                };
                let direction = match cell.text.to_lowercase().as_str() {
                    "rtl" => Direction::Rtl,
                    "ltr" => Direction::Ltr,
                    _ => {
                        self.error(
                            Some(cell.at),
                            "bad-direction",
                            format!("direction must be rtl or ltr, not '{}'", cell.text),
                        );
                        continue;
                    }
                };
                if let Some(l) = self
                    .languages
                    .languages
                    .iter_mut()
                    .find(|l| &l.code == code)
                {
                    l.direction = direction;
                }
            }
        }
        // Keep only languages the form uses; `und` only when nothing is translated.
        let mut languages = self.languages.languages.clone();
        if languages.len() > 1 {
            languages.retain(|l| l.code != "und" || l.code == self.default_lang);
        }
        Some(Form {
            schema: None,
            id,
            version,
            title,
            description: text("description"),
            languages,
            default_language: self.default_lang.clone(),
            instance_name,
            safe_exit,
            body,
            choices: BTreeMap::new(),
        })
    }
}

/// Every name declared by `items`, depth first.
fn collect_names(items: &[Item], out: &mut Vec<String>) {
    for item in items {
        out.push(item.name().to_owned());
        match item {
            Item::Group(g) => collect_names(&g.body, out),
            Item::Repeat(r) => collect_names(&r.body, out),
            Item::Field(_) | Item::Consent(_) => {}
        }
    }
}

/// Prefix every name with `prefix_` and rewrite every text with `substitute`.
fn rewrite_items(items: &mut [Item], prefix: &str, substitute: &dyn Fn(&Text) -> Text) {
    let sub = |t: &mut Option<Text>| {
        if let Some(text) = t {
            *text = substitute(text);
        }
    };
    for item in items {
        match item {
            Item::Field(f) => {
                f.name = format!("{prefix}_{}", f.name);
                sub(&mut f.label);
                sub(&mut f.hint);
                sub(&mut f.guidance);
                sub(&mut f.constraint_message);
                sub(&mut f.required_message);
            }
            Item::Group(g) => {
                g.name = format!("{prefix}_{}", g.name);
                sub(&mut g.label);
                sub(&mut g.hint);
                rewrite_items(&mut g.body, prefix, substitute);
            }
            Item::Repeat(r) => {
                r.name = format!("{prefix}_{}", r.name);
                sub(&mut r.label);
                sub(&mut r.hint);
                rewrite_items(&mut r.body, prefix, substitute);
            }
            Item::Consent(c) => {
                c.name = format!("{prefix}_{}", c.name);
                c.text = substitute(&c.text);
                sub(&mut c.label);
            }
        }
    }
}

struct TickCheck {
    list: String,
    start: f64,
    end: f64,
    no_ticks: bool,
    at: CellRef,
}

struct SelectSpec {
    list: String,
    from_file: bool,
    external: bool,
    at: CellRef,
}

/// Fill what `first` lacks from a later duplicate of it: translations, media, properties.
fn merge_choice(
    first: &mut Choice,
    label: Text,
    media: Option<Media>,
    properties: BTreeMap<String, String>,
) {
    if let (Text::Translated(have), Text::Translated(more)) = (&mut first.label, label) {
        for (lang, text) in more {
            have.entry(lang).or_insert(text);
        }
    }
    if first.media.is_none() {
        first.media = media;
    }
    for (key, value) in properties {
        first.properties.entry(key).or_insert(value);
    }
}

/// A JSON pointer segment (RFC 6901).
fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn valid_form_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A form id from a file name: characters outside `[A-Za-z0-9_.-]` become `_`.
fn form_id_from(source: &str) -> String {
    let mut id: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    if id == "_" {
        "form".to_owned()
    } else {
        id
    }
}

/// A version that changes whenever any cell changes: a digest of every sheet's cells.
fn derived_version(workbook: &Workbook) -> String {
    let mut hasher = Sha256::new();
    for sheet in &workbook.sheets {
        hasher.update(sheet.name.as_bytes());
        hasher.update([0]);
        for row in &sheet.rows {
            hasher.update(row.number.to_le_bytes());
            for cell in &row.cells {
                hasher.update(cell.as_bytes());
                hasher.update([0]);
            }
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha-{hex}")
}

/// Deepest nesting of groups and repeats; deeper is an error (and keeps every recursive
/// walk of the form far from the stack limit).
const MAX_NESTING: usize = 64;

/// Columns whose header may carry a language suffix.
const TRANSLATABLE: &[&str] = &[
    "label",
    "hint",
    "guidance_hint",
    "constraint_message",
    "required_message",
    "image",
    "audio",
    "video",
    "big-image",
    "form_title",
];

/// Survey columns that are read but never written by the exporter; together with
/// the exporter's [`crate::export::SURVEY_COLUMNS`] they are every survey column
/// with a meaning in Voices (canonical keys).
const READ_ONLY_SURVEY_COLUMNS: &[&str] = &[
    "big-image",
    "trigger",
    "media",
    // ODK entities: checked, not used.
    "save_to",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_literal_unless_they_compute() {
        assert!(!default_is_dynamic("hello world"));
        assert!(!default_is_dynamic("2020-01-01"));
        assert!(default_is_dynamic("today()"));
        assert!(default_is_dynamic("${a} + 1"));
        assert!(default_is_dynamic("1 + 2"));
        assert_eq!(quote_literal("none"), "'none'");
        assert_eq!(quote_literal("12"), "12");
        assert_eq!(quote_literal("-1.5"), "-1.5");
        assert_eq!(quote_literal("it's"), "\"it's\"");
        assert_eq!(quote_literal("2020-01-01"), "'2020-01-01'");
    }

    #[test]
    fn parameters_accept_pyxform_separators() {
        let p = parse_parameters("start=1 end = 10;step=2").unwrap();
        assert_eq!(p["start"], "1");
        assert_eq!(p["end"], "10");
        assert_eq!(p["step"], "2");
        assert!(parse_parameters("start").is_err());
    }

    #[test]
    fn form_ids_come_from_file_names() {
        assert_eq!(form_id_from("My Survey 2024"), "My_Survey_2024");
        assert_eq!(form_id_from("2024 survey"), "_2024_survey");
    }
}
