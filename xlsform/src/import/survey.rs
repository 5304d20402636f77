//! The `survey` sheet: each row by its type, into the form's body.

use std::collections::{BTreeMap, HashSet};

use voices_core::form::{Consent, ConsentRole, FieldType, Item};

use super::expressions::references_in;
use super::fields::SelectSpec;
use super::nesting::Body;
use super::parameters::parse_parameters;
use super::table::Table;
use super::types::{in_pyxform_case, parse_type, RowType};
use super::Importer;
use crate::columns::{self, yes_no};
use crate::diag::CellRef;
use crate::workbook::SheetRow;

impl Importer<'_> {
    /// The form's body from the survey sheet, one row at a time.
    pub(super) fn read_survey(&mut self, table: &Table) -> Vec<Item> {
        if !table.has("type") {
            self.error(
                Some(CellRef::sheet(table.sheet)),
                "missing-column",
                "the 'survey' sheet has no 'type' column",
            );
            return Vec::new();
        }
        self.check_survey_columns(table);
        let mut body = Body::default();
        for row in table.rows {
            self.survey_row(table, row, &mut body);
        }
        self.finish_body(body, table.sheet)
    }

    /// A column with no meaning in Voices is a warning when any row fills it.
    fn check_survey_columns(&mut self, table: &Table) {
        let known: HashSet<&str> = columns::SURVEY
            .iter()
            .chain(columns::SURVEY_READ_ONLY)
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
    }

    /// One survey row by its type: an item added to `body`, a group or repeat opened
    /// or closed, or a row Voices does not use (with a warning).
    fn survey_row(&mut self, table: &Table, row: &SheetRow, body: &mut Body) {
        let Some(type_cell) = table.get(row, "type") else {
            if table.get(row, "name").is_some() || table.get(row, "label").is_some() {
                self.warn(
                    Some(table.row_ref(row)),
                    "missing-type",
                    "this row has a name or label but no type; it is ignored",
                );
            }
            return;
        };
        let Some(row_type) = parse_type(type_cell.text) else {
            self.error(
                Some(type_cell.at.clone()),
                "unknown-type",
                format!("unknown question type '{}'", type_cell.text),
            );
            return;
        };
        if !in_pyxform_case(type_cell.text) {
            self.warn(
                Some(type_cell.at.clone()),
                "type-case",
                format!(
                    "pyxform reads type names as written and does not know '{}'; Voices reads \
                     it in lower case",
                    type_cell.text
                ),
            );
        }
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
            let path = self.container_path();
            self.save_to
                .push((save_to.text.to_owned(), save_to.at, container, path));
        }
        let ptr = body.next_pointer();
        let item = match row_type {
            RowType::BeginGroup | RowType::BeginRepeat | RowType::BeginLoop(_) => {
                self.open_container(body, table, row, &row_type, &type_cell.at, ptr);
                return;
            }
            RowType::EndGroup | RowType::EndRepeat | RowType::EndLoop => {
                self.end_container(body, &row_type, &type_cell.at);
                return;
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
                return;
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
                self.external_instance(table, row, &type_cell);
                return;
            }
            RowType::Consent => match self.consent(table, row, ConsentRole::Consent) {
                Some(c) => Item::Consent(c),
                None => return,
            },
            RowType::Assent => match self.consent(table, row, ConsentRole::Assent) {
                Some(c) => Item::Consent(c),
                None => return,
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
                    None => return,
                }
            }
            RowType::Field(kind) => match self.field(table, row, kind, None) {
                Some(f) => Item::Field(f),
                None => return,
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
                    return;
                };
                if or_other {
                    // The companion question follows the select, from the same row.
                    let other = self.or_other(table, row, &field);
                    self.record_origin(table, row, &ptr);
                    body.push(Item::Field(field));
                    if let Some(other) = other {
                        let other_ptr = body.next_pointer();
                        body.push(Item::Field(other));
                        self.record_origin(table, row, &other_ptr);
                    }
                    return;
                }
                Item::Field(field)
            }
        };
        self.record_origin(table, row, &ptr);
        body.push(item);
    }

    /// A consent row, or a minor's assent row (the same columns, with `minor` saying
    /// when it is asked instead of `relevant`).
    fn consent(&mut self, table: &Table, row: &SheetRow, role: ConsentRole) -> Option<Consent> {
        let what = role.as_str();
        if role == ConsentRole::Assent {
            // An assent is the minor's own yes or no: nothing may compute, preset or
            // restrict it, and `minor` (not `relevant`) says when it is asked.
            for column in [
                "calculation",
                "default",
                "constraint",
                "required",
                "read_only",
                "choice_filter",
                "relevant",
            ] {
                if let Some(cell) = table.get(row, column) {
                    let why = if column == "relevant" {
                        "an assent row is asked when its `minor` expression is true; put the condition in the `minor` column".to_owned()
                    } else {
                        format!("an assent row takes no {column}: the answer is the minor's own yes or no")
                    };
                    self.error(Some(cell.at.clone()), "assent-misuse", why);
                    return None;
                }
            }
        }
        let name = match table.get(row, "name") {
            Some(_) => self.name(table, row, &format!("{what} block"))?.0,
            None => {
                let at = table.row_ref(row);
                self.declare(what, &at)
            }
        };
        let Some(text) = self.text(table, row, "label") else {
            self.error(
                Some(table.row_ref(row)),
                "missing-label",
                format!("the {what} row needs the {what} statement in its label"),
            );
            return None;
        };
        let Some(version) = table.get(row, "consent_version") else {
            self.error(
                Some(table.row_ref(row)),
                "missing-consent-version",
                format!("the {what} row needs a consent_version (change it whenever the statement changes)"),
            );
            return None;
        };
        let minor = table.get(row, "minor").map(|c| self.bind_expression(&c));
        if role == ConsentRole::Assent && minor.is_none() {
            self.error(
                Some(table.row_ref(row)),
                "missing-minor",
                "the assent row needs `minor`: the expression that says the respondent is a minor (e.g. ${age} < 18)",
            );
            return None;
        }
        Some(Consent {
            role,
            name,
            text_version: version.text.to_owned(),
            label: self.text(table, row, "consent_title"),
            text,
            question: self.text(table, row, "consent_question"),
            agree_label: self.text(table, row, "consent_agree"),
            decline_label: self.text(table, row, "consent_decline"),
            decline_message: self.text(table, row, "consent_decline_message"),
            relevant: table.get(row, "relevant").map(|c| self.bind_expression(&c)),
            minor,
        })
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
}
