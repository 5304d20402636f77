//! A question row into a field: its texts, conditions, expressions, parameters and
//! choices, and pyxform's `or_other` companion question.

use std::collections::BTreeMap;

use voices_core::form::{
    Choice, Disaggregation, Field, FieldType, ReferralParams, SelectionMethod, SelectionParams,
    Text,
};

use super::table::Table;
use super::Importer;
use crate::columns::{default_is_dynamic, quote_literal};
use crate::diag::CellRef;
use crate::workbook::SheetRow;

/// A select row's type cell: its list (or file) and where it is read from.
pub(super) struct SelectSpec {
    pub(super) list: String,
    /// `select_one_from_file`: the choices are in a file attached to the form.
    pub(super) from_file: bool,
    /// `select_one_external`: the list is on the `external_choices` sheet.
    pub(super) external: bool,
    pub(super) at: CellRef,
}

impl Importer<'_> {
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

    /// The `selection_roster`, `selection_eligible` and `selection_method` columns of a
    /// `respondent_selection` row (the checker says what a row without a roster lacks).
    fn selection(&mut self, table: &Table, row: &SheetRow) -> Option<SelectionParams> {
        let roster = table.get(row, "selection_roster");
        let eligible = table.get(row, "selection_eligible");
        let method_cell = table.get(row, "selection_method");
        if roster.is_none() && eligible.is_none() && method_cell.is_none() {
            return None;
        }
        let method = match method_cell {
            None => SelectionMethod::default(),
            Some(cell) => match SelectionMethod::parse(&cell.text.to_ascii_lowercase()) {
                Some(method) => method,
                None => {
                    self.error(
                        Some(cell.at),
                        "bad-selection-method",
                        format!(
                            "'selection_method' must be uniform or kish, not '{}'",
                            cell.text
                        ),
                    );
                    SelectionMethod::default()
                }
            },
        };
        Some(SelectionParams {
            roster: roster.map(|c| c.text.to_owned()).unwrap_or_default(),
            eligible: eligible.map(|c| c.text.to_owned()),
            method,
        })
    }

    /// The `referral_area` and `referral_needs` of a referral step's row, as expressions.
    fn referral(&mut self, table: &Table, row: &SheetRow) -> Option<ReferralParams> {
        let area = table.get(row, "referral_area");
        let needs = table.get(row, "referral_needs");
        if area.is_none() && needs.is_none() {
            return None;
        }
        Some(ReferralParams {
            area: area.map(|c| self.expression(&c)).unwrap_or_default(),
            needs: needs.map(|c| self.expression(&c)),
        })
    }

    /// A question row as a field, with every problem in it reported; `select` for a
    /// select row.
    pub(super) fn field(
        &mut self,
        table: &Table,
        row: &SheetRow,
        kind: FieldType,
        select: Option<&SelectSpec>,
    ) -> Option<Field> {
        let (name, _) = self.name(table, row, "question")?;
        let label = self.text(table, row, "label");
        let implied = table.get(row, "type").and_then(|t| implied_by_type(t.text));
        let hint = self.text(table, row, "hint").or_else(|| {
            implied
                .and_then(|(_, hint)| hint)
                .map(|h| Text::Plain(h.to_owned()))
        });
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
        // pyxform's start-geopoint is captured when the form opens, with no question and
        // so no label; Voices captures no location in the background and asks it here.
        let start_geopoint = table
            .get(row, "type")
            .is_some_and(|t| t.text.trim().eq_ignore_ascii_case("start-geopoint"));
        if start_geopoint {
            self.warn(
                Some(table.row_ref(row)),
                "start-geopoint",
                format!(
                    "Voices captures no location in the background: '{name}' is asked as a \
                     location question here"
                ),
            );
        }
        if kind.is_shown_question()
            && !computed
            && !start_geopoint
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
        let relevant = table.get(row, "relevant").map(|c| self.bind_expression(&c));
        let constraint = table
            .get(row, "constraint")
            .map(|c| self.bind_expression(&c))
            .or_else(|| implied.map(|(constraint, _)| constraint.to_owned()));
        let calculation = table
            .get(row, "calculation")
            .map(|c| self.bind_expression(&c));
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
        let (parameters, range) = self.parameters(table, row, kind);
        let (choices, choices_file, choices_from) = match select {
            Some(select) => self.select_choices(&name, select),
            None => (None, None, None),
        };
        if let Some(select) = select {
            self.note_search(table, row, &name, select);
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
            choices_from,
            choice_filter,
            range,
            selection: self.selection(table, row),
            referral: self.referral(table, row),
            parameters,
            media,
            pii: self.flag(table, row, "pii"),
            sensitive: self.flag(table, row, "sensitive"),
            disaggregation: self.disaggregation(table, row),
            save_to: table.get(row, "save_to").map(|c| c.text.trim().to_owned()),
        })
    }

    /// ODK Collect's `search()` appearance takes a select's choices from a CSV file by the
    /// list's name; pyxform refuses it on a select from a file, and on a list that a
    /// select without `search()` also uses (checked once every select is read).
    fn note_search(&mut self, table: &Table, row: &SheetRow, name: &str, select: &SelectSpec) {
        let search = table
            .get(row, "appearance")
            .is_some_and(|c| c.text.contains("search(") && c.text.contains(')'));
        if search && select.from_file {
            self.error(
                Some(select.at.clone()),
                "bad-search",
                format!("'{name}' is a select from a file and uses search(): ODK does not support the two together"),
            );
        } else if !select.from_file {
            if !search && !select.external && !select.list.starts_with("${") {
                self.choice_list_instance(&select.list, &select.at);
            }
            self.search_uses.push((
                select.list.clone(),
                search,
                name.to_owned(),
                select.at.clone(),
            ));
        }
    }

    /// A list used by a `search()` select and by another select without it.
    pub(super) fn check_search_lists(&mut self) {
        let uses = std::mem::take(&mut self.search_uses);
        for (list, search, name, at) in &uses {
            if !search {
                continue;
            }
            if let Some((_, _, other, _)) = uses.iter().find(|(l, s, _, _)| l == list && !s) {
                self.error(
                    Some(at.clone()),
                    "bad-search",
                    format!(
                        "'{name}' uses search() with the list '{list}', which '{other}' uses without \
                         search(): ODK cannot show one list both ways; give '{other}' a copy of the list"
                    ),
                );
            }
        }
    }

    /// A select's choices: a list on the choices sheets (checked once they are all
    /// read), a file attached to the form, or the answers of a field inside a repeat
    /// (`select_one ${name}`), as (list, file, field).
    fn select_choices(
        &mut self,
        name: &str,
        select: &SelectSpec,
    ) -> (Option<String>, Option<String>, Option<String>) {
        let from_field = select
            .list
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
            .map(str::trim);
        if let (Some(field), false) = (from_field, select.from_file || select.external) {
            self.references.push((field.to_owned(), select.at.clone()));
            return (None, None, Some(field.to_owned()));
        }
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
            self.file_instance(&select.list, &select.at);
            (None, Some(select.list.clone()), None)
        } else {
            let mut list = select.list.clone();
            if select.external {
                if let Some(kept) = self.external_lists.get(&list) {
                    list = kept.clone();
                }
                let kept_as = if list == select.list {
                    String::new()
                } else {
                    format!(
                        " (as '{list}': the choices sheet has a list '{}' too)",
                        select.list
                    )
                };
                self.warn(
                    Some(select.at.clone()),
                    "external-choices",
                    format!(
                        "'{name}' uses external choices: Voices keeps the list '{}' from the external_choices sheet inside the form{kept_as}",
                        select.list
                    ),
                );
            }
            self.list_uses.push((list.clone(), select.at.clone()));
            (Some(list), None, None)
        }
    }

    /// pyxform's `or_other`: an `other` choice and a text question shown when it is chosen.
    pub(super) fn or_other(
        &mut self,
        table: &Table,
        row: &SheetRow,
        field: &Field,
    ) -> Option<Field> {
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
            choices_from: None,
            choice_filter: None,
            range: None,
            selection: None,
            referral: None,
            parameters: BTreeMap::new(),
            media: None,
            pii: false,
            sensitive: field.sensitive,
            disaggregation: None,
            save_to: None,
        })
    }
}

/// pyxform's legacy types that carry a constraint (and a hint) of their own, as its
/// `question_type_dictionary` has them; the row's own columns win.
fn implied_by_type(type_cell: &str) -> Option<(&'static str, Option<&'static str>)> {
    // Most rows are other types: leave them before any allocation.
    if !type_cell.trim_start().starts_with(['p', 'P', 'n', 'N']) {
        return None;
    }
    let collapsed = type_cell.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match collapsed.to_lowercase().as_str() {
        "phone number" => (r"regex(., '^\d*$')", Some("Enter numbers only.")),
        "percentage" => ("0 <= . and . <= 100", None),
        "number of days in last month" => ("0 <= . and . <= 31", Some("Enter a number 0-31.")),
        "number of days in last six months" => {
            ("0 <= . and . <= 183", Some("Enter a number 0-183."))
        }
        "number of days in last year" => ("0 <= . and . <= 365", Some("Enter a number 0-365.")),
        _ => return None,
    })
}
