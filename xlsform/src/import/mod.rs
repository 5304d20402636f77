//! XLSForm workbook → Voices form.
//!
//! Reads the `survey`, `choices`, `settings` (and `external_choices`, `entities`) sheets,
//! reports every problem at once with the cell it is in, and builds a [`Form`] when there
//! is no error. Column names follow pyxform (with its aliases, see [`crate::columns`]);
//! Voices' own columns are documented in `docs/xlsform.md`.
//!
//! One `Importer` walks the workbook. Its work is split by sheet ([`survey`],
//! [`choices`], [`settings`], [`entities`]) and by concern: [`table`] (a sheet's header
//! and cells), [`types`] (type names), [`fields`] and [`parameters`] (question rows),
//! [`nesting`] (groups, repeats and loops), [`names`] (name scopes), [`expressions`],
//! [`references`] (checks that wait until the whole workbook is read), [`languages`]
//! (translated columns) and [`origins`] (the cell behind each part of the form, to
//! which the checker's diagnostics are mapped back).

mod choices;
mod entities;
mod entity_scopes;
mod expressions;
mod fields;
mod instances;
mod languages;
mod names;
mod nesting;
mod origins;
mod parameters;
mod references;
mod settings;
mod survey;
mod table;
mod types;

use std::collections::{BTreeMap, HashMap, HashSet};

use voices_core::form::{Choice, Entity, FieldType, Form};

use crate::diag::{CellRef, Diagnostic};
use crate::workbook::Workbook;

pub use origins::Origin;

use entity_scopes::ContainerPath;
use instances::InstanceSource;
use languages::LanguageSet;
use parameters::TickCheck;
use table::Table;

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
        origins::locate_in(&self.origins, pointer)
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
            diagnostics.extend(origins::checker_diagnostics(form, &origins));
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

/// The sheets pyxform reads by name.
const SHEETS: &[&str] = &[
    "survey",
    "choices",
    "settings",
    "external_choices",
    "entities",
    "osm",
];

/// One import under way: what has been read so far and the checks waiting for the
/// rest of the workbook. Its methods are in the module of their sheet or concern.
struct Importer<'a> {
    workbook: &'a Workbook,
    options: &'a ImportOptions,
    diagnostics: Vec<Diagnostic>,
    origins: BTreeMap<String, Origin>,
    languages: LanguageSet,
    default_lang: String,
    choices: BTreeMap<String, Vec<Choice>>,
    /// Names of the choice lists defined (on `choices` or `external_choices`).
    choice_lists: HashSet<String>,
    /// `external_choices` lists whose name is also a list of the `choices` sheet (pyxform
    /// keeps the two apart; Voices has one set of lists): name → the name it is kept under.
    external_lists: HashMap<String, String>,
    /// Open groups and repeats: (id, name); names declared inside belong to the last.
    parents: Vec<(u32, String)>,
    /// Whether each of `parents` is a repeat (the scopes of entity references).
    parent_repeats: Vec<bool>,
    /// Every name declared, with its cell and the groups and repeats around it, for the
    /// scope of the entity references to it.
    declared_paths: Vec<(String, CellRef, ContainerPath)>,
    /// The workbook has an `entities` sheet (only then are `declared_paths` kept).
    has_entities: bool,
    next_parent_id: u32,
    /// Every place each name is declared: a name declared more than once cannot be
    /// referenced (pyxform's rule).
    declared: HashMap<String, Vec<CellRef>>,
    /// Names inside a loop over several choices (one copy per choice), with the loop's
    /// row: references to them are ambiguous.
    loop_names: HashMap<String, CellRef>,
    /// Every name defined anywhere (for `${ref}` checks).
    all_names: HashSet<String>,
    /// (parent group/repeat id, name) of every item, with its cell: names are unique
    /// within their parent.
    names_in_parent: HashMap<(u32, String), CellRef>,
    /// Repeat names: pyxform needs them unique in the whole form.
    repeat_names: HashMap<String, CellRef>,
    /// `NAME_count` nodes pyxform generates for a computed repeat count: (parent id,
    /// generated name, repeat_count cell), checked once every name is known.
    generated_counts: Vec<(u32, String, CellRef)>,
    /// `${ref}` uses to check once every name is known.
    references: Vec<(String, CellRef)>,
    /// Select fields' list references to check against the choices.
    list_uses: Vec<(String, CellRef)>,
    /// What ODK would load as secondary instances, for their ids (`instances.rs`).
    instances: Vec<InstanceSource>,
    /// The first cell using `${last-saved#name}`.
    last_saved_at: Option<CellRef>,
    /// Selects by list: (list, uses `search()`, question, type cell).
    search_uses: Vec<(String, bool, String, CellRef)>,
    /// (triggering question, triggered field, cell) to check once all fields are known.
    triggers: Vec<(String, String, CellRef)>,
    /// Each field's type and whether it is computed (a calculation), for trigger checks.
    field_kinds: HashMap<String, (FieldType, bool)>,
    /// Range `tick_labelset` lists to check once the choices are known.
    tick_checks: Vec<TickCheck>,
    /// The entity lists of the `entities` sheet, for the form.
    entities: Vec<Entity>,
    /// `save_to` cells: (target, cell, on a group/repeat row, groups and repeats around it).
    save_to: Vec<(String, CellRef, bool, ContainerPath)>,
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
            external_lists: HashMap::new(),
            names_in_parent: HashMap::new(),
            repeat_names: HashMap::new(),
            generated_counts: Vec::new(),
            triggers: Vec::new(),
            field_kinds: HashMap::new(),
            save_to: Vec::new(),
            entities: Vec::new(),
            tick_checks: Vec::new(),
            parents: Vec::new(),
            parent_repeats: Vec::new(),
            declared_paths: Vec::new(),
            has_entities: workbook.sheet("entities").is_some(),
            next_parent_id: 1,
            declared: HashMap::new(),
            loop_names: HashMap::new(),
            all_names: HashSet::new(),
            references: Vec::new(),
            list_uses: Vec::new(),
            instances: Vec::new(),
            last_saved_at: None,
            search_uses: Vec::new(),
        }
    }

    pub(super) fn error(
        &mut self,
        at: Option<CellRef>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic::error(at, code, message));
    }

    /// Errors reported so far.
    pub(super) fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub(super) fn warn(
        &mut self,
        at: Option<CellRef>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.diagnostics
            .push(Diagnostic::warning(at, code, message));
    }

    fn run(&mut self) -> Option<Form> {
        let workbook = self.workbook;
        // As pyxform: a workbook of one sheet with another name is its survey.
        let only_sheet = match workbook.sheets.as_slice() {
            [only]
                if !SHEETS
                    .iter()
                    .any(|s| only.name.trim().eq_ignore_ascii_case(s)) =>
            {
                Some(only)
            }
            _ => None,
        };
        let Some(survey_sheet) = workbook.sheet("survey").or(only_sheet) else {
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
        let mut table = |name: &str| {
            workbook
                .sheet(name)
                .and_then(|s| Table::new(s, &mut languages))
        };
        let choices = table("choices");
        let external = table("external_choices");
        let entities = table("entities");
        let settings = table("settings");
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
                        if name == "entities" {
                            format!(
                                "the '{}' sheet is kept in the form and exported back, but Voices \
                                 does not create or update entities",
                                sheet.name
                            )
                        } else {
                            format!(
                                "the '{}' sheet is not used by Voices and is ignored",
                                sheet.name
                            )
                        },
                    );
                }
            }
        }
        let body = self.read_survey(&survey);
        self.check_entities(entities.as_ref());
        let mut form = self.read_settings(settings.as_ref(), settings_row, body);
        self.check_instance_ids();
        self.check_references();
        self.check_generated_counts();
        self.check_search_lists();
        form.choices = std::mem::take(&mut self.choices);
        form.entities = std::mem::take(&mut self.entities);
        Some(form)
    }
}
