//! The CSV export's layout, as analysts' scripts know it from ODK Central: one table of
//! responses and one per repeat, their columns and the cells of one response.
//!
//! Pure, so that the server's export (which streams the tables into a zip) and the
//! designer's preview in the browser (which shows one test response as the export would)
//! lay a response out the same way.
//!
//! `FORM.csv` holds one row per response, `FORM-REPEAT.csv` one row per repeat instance,
//! joined by `KEY` / `PARENT_KEY` (`uuid:ID` for a response, `uuid:ID/member[2]` for an
//! instance). Columns of fields inside groups are named `group-field`. `select_multiple`
//! answers appear as the space-separated value plus one 0/1 column per choice
//! (`field/choice`). A `referral` step's outcome (`accepted`, `declined`, `no_service`)
//! is in its column and the services accepted in `field/services`. Fields marked `pii`
//! are left out unless asked for.

use std::borrow::Cow;

use crate::collections::Set;
use crate::form::{answer_key, repeated_names, FieldType, Form, Item};
use std::collections::BTreeMap;

use crate::answer::AnswerPath;
use crate::referral::ReferralAnswer;
use crate::response::{Answer, Answers, ConsentRecord, MatchingRecord, OutcomeRecord};

/// Columns of the main table before the answers.
pub const MAIN_LEADING: [&str; 1] = ["SubmissionDate"];
/// Columns of the main table after the answers; `Outcome`, `ResultCode` and
/// `ReturnVisit` say how the interview ended ([`outcome_cells`]), `ConsentVersion` which
/// consent text the respondent heard ([`consent_cell`]), `AssentVersion` which assent text
/// a minor heard ([`assent_cell`]), the last what happened at each section with a `match`
/// rule ([`matching_cell`]).
pub const MAIN_TRAILING: [&str; 14] = [
    "KEY",
    "DeviceID",
    "Enumerator",
    "FormVersion",
    "ReviewState",
    "Status",
    "Conflict",
    "Quarantine",
    "Outcome",
    "ResultCode",
    "ReturnVisit",
    "ConsentVersion",
    "AssentVersion",
    "Matching",
];
/// Columns of a repeat table after the answers.
pub const REPEAT_TRAILING: [&str; 2] = ["PARENT_KEY", "KEY"];

/// An answer's column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    /// Where the answer is in its scope's answers (see [`crate::form::answer_key`]).
    pub key: String,
    pub kind: FieldType,
    /// The field's choices (name, label in the default language), looked up once
    /// rather than per cell.
    pub choices: Vec<(String, String)>,
}

/// One CSV file: the main table or a repeat's.
#[derive(Debug, Clone)]
pub struct Table {
    pub file: String,
    /// Repeat keys from the top level down to this table's repeat (empty: main table).
    pub repeats: Vec<String>,
    pub columns: Vec<Column>,
}

/// The tables of a form's export: the main table first, then each repeat's in form order.
pub fn tables(form: &Form, include_pii: bool) -> Vec<Table> {
    let mut tables = vec![Table {
        file: format!("{}.csv", form.id),
        repeats: Vec::new(),
        columns: Vec::new(),
    }];
    let scope = Scope {
        repeats: Vec::new(),
        repeated: repeated_names(&form.body),
        groups: Vec::new(),
    };
    walk(&form.body, "", 0, &scope, include_pii, form, &mut tables);
    tables
}

/// Where `walk` is: the repeat keys from the top down to the current table's repeat,
/// the names used twice in that repeat's scope and the groups opened since it began.
struct Scope<'a> {
    repeats: Vec<String>,
    repeated: Set<&'a str>,
    groups: Vec<&'a str>,
}

impl Scope<'_> {
    fn key(&self, name: &str) -> String {
        answer_key(&self.groups, name, self.repeated.contains(name))
    }
}

fn walk<'a>(
    items: &'a [Item],
    prefix: &str,
    table: usize,
    scope: &Scope<'a>,
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
                let choices = if f.kind.uses_choices() {
                    choice_names(form, f.choices.as_deref())
                } else {
                    Vec::new()
                };
                tables[table].columns.push(Column {
                    header: format!("{prefix}{}", f.name),
                    key: scope.key(&f.name),
                    kind: f.kind,
                    choices,
                });
            }
            Item::Group(g) => {
                let mut groups = scope.groups.clone();
                groups.push(&g.name);
                let inner = Scope {
                    repeats: scope.repeats.clone(),
                    repeated: scope.repeated.clone(),
                    groups,
                };
                walk(
                    &g.body,
                    &format!("{prefix}{}-", g.name),
                    table,
                    &inner,
                    include_pii,
                    form,
                    tables,
                )
            }
            Item::Repeat(r) => {
                let mut repeats = scope.repeats.clone();
                repeats.push(scope.key(&r.name));
                let names: Vec<&str> = repeats
                    .iter()
                    .map(|k| k.rsplit('/').next().unwrap_or(k))
                    .collect();
                tables.push(Table {
                    file: format!("{}-{}.csv", form.id, names.join("-")),
                    repeats: repeats.clone(),
                    columns: Vec::new(),
                });
                let index = tables.len() - 1;
                let inner = Scope {
                    repeats,
                    repeated: repeated_names(&r.body),
                    groups: Vec::new(),
                };
                walk(&r.body, "", index, &inner, include_pii, form, tables);
            }
            // The consent answer (`yes`/`no`) is a column like any text question.
            Item::Consent(c) => tables[table].columns.push(Column {
                header: format!("{prefix}{}", c.name),
                key: scope.key(&c.name),
                kind: FieldType::Text,
                choices: Vec::new(),
            }),
        }
    }
}

fn choice_names(form: &Form, list: Option<&str>) -> Vec<(String, String)> {
    list.and_then(|list| form.choices.get(list))
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

/// The answer's text and whether it is sealed: a sealed answer is its ciphertext, in the
/// field's own column (`voices decrypt` opens it).
fn value<'a>(answers: &'a Answers, key: &str) -> (&'a str, bool) {
    match answers.0.get(key) {
        Some(Answer::Value(v)) => (v, false),
        Some(Answer::Sealed(sealed)) => (sealed.as_str(), true),
        _ => ("", false),
    }
}

fn label_of<'a>(choices: &'a [(String, String)], name: &'a str) -> &'a str {
    choices
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, l)| l.as_str())
        .unwrap_or(name)
}

impl Table {
    /// The headers of this table's answer columns (without the metadata columns).
    pub fn headers(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.columns {
            out.push(c.header.clone());
            if c.kind == FieldType::Referral {
                out.push(format!("{}/services", c.header));
            }
            if c.kind == FieldType::SelectMultiple {
                for (name, _) in &c.choices {
                    out.push(format!("{}/{name}", c.header));
                }
            }
        }
        out
    }

    /// Each answer cell of one scope's answers, in header order, made spreadsheet-safe;
    /// `labels` shows choice labels instead of choice names.
    pub fn each_cell<E>(
        &self,
        answers: &Answers,
        labels: bool,
        mut cell: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        for c in &self.columns {
            let (raw, sealed) = value(answers, &c.key);
            if c.kind == FieldType::Referral {
                // The outcome in the field's column, the services accepted in the next:
                // what an analyst counts and what they look up.
                match ReferralAnswer::parse(raw) {
                    Ok(answer) if !sealed => {
                        cell(answer.outcome())?;
                        cell(&spreadsheet_safe(&answer.services().join(" ")))?;
                    }
                    _ => {
                        cell(&spreadsheet_safe(raw))?;
                        cell("")?;
                    }
                }
                continue;
            }
            match c.kind {
                _ if sealed => cell(raw)?,
                FieldType::SelectOne if labels && !raw.is_empty() => {
                    cell(&spreadsheet_safe(label_of(&c.choices, raw)))?
                }
                FieldType::SelectMultiple if labels => {
                    let shown: Vec<&str> = raw
                        .split_whitespace()
                        .map(|n| label_of(&c.choices, n))
                        .collect();
                    cell(&spreadsheet_safe(&shown.join(" ")))?
                }
                _ => cell(&spreadsheet_safe(raw))?,
            }
            if c.kind == FieldType::SelectMultiple {
                for (name, _) in &c.choices {
                    // Which choices a sealed answer holds is what is sealed.
                    cell(if raw.is_empty() || sealed {
                        ""
                    } else if raw.split_whitespace().any(|n| n == name) {
                        "1"
                    } else {
                        "0"
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The answer cells of one scope's answers as a row.
    pub fn cells(&self, answers: &Answers, labels: bool) -> Vec<String> {
        let mut row = Vec::with_capacity(self.columns.len());
        let _ = self.each_cell::<std::convert::Infallible>(answers, labels, |c| {
            row.push(c.to_owned());
            Ok(())
        });
        row
    }

    /// This table's repeat instances in a response's answers, each as (PARENT_KEY, KEY,
    /// the instance's answers); `key` is the response's KEY (`uuid:ID`).
    pub fn instances<'a>(&self, answers: &'a Answers, key: &str) -> Vec<Instance<'a>> {
        let mut out = Vec::new();
        instances(answers, &self.repeats, key.to_owned(), &mut out);
        out
    }
}

/// A repeat instance of a response as its table's row sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance<'a> {
    pub parent_key: String,
    pub key: String,
    pub answers: &'a Answers,
}

fn instances<'a>(answers: &'a Answers, path: &[String], key: String, out: &mut Vec<Instance<'a>>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if let Some(Answer::Repeat(list)) = answers.0.get(first) {
        for (i, instance) in list.iter().enumerate() {
            // The instance's answer path, as in ODK Central's KEY (`uuid:ID/member[2]`).
            let child = format!("{key}/{first}[{}]", i + 1);
            if rest.is_empty() {
                out.push(Instance {
                    parent_key: key.clone(),
                    key: child,
                    answers: instance,
                });
            } else {
                instances(instance, rest, child, out);
            }
        }
    }
}

/// The `ConsentVersion` cell: the consent block's `text_version` the respondent heard,
/// empty for a response without consent.
pub fn consent_cell(consent: Option<&ConsentRecord>) -> String {
    consent.map_or(String::new(), |c| {
        spreadsheet_safe(&c.text_version).into_owned()
    })
}

/// The `AssentVersion` cell: the assent block's `text_version` a minor heard after the
/// guardian's consent, empty when no assent was asked.
pub fn assent_cell(consent: Option<&ConsentRecord>) -> String {
    consent
        .and_then(|c| c.assent.as_ref())
        .map_or(String::new(), |a| {
            spreadsheet_safe(&a.text_version).into_owned()
        })
}

/// The `Matching` cell: each section with a `match` rule and what happened there, by
/// group path: `/experiences=handed_over:female:Amal; /other=matched`; empty without one.
pub fn matching_cell(matching: &BTreeMap<AnswerPath, MatchingRecord>) -> String {
    let text = matching
        .iter()
        .map(|(group, record)| format!("{group}={}", record.cell()))
        .collect::<Vec<_>>()
        .join("; ");
    spreadsheet_safe(&text).into_owned()
}

/// The `Outcome` (`completed`, `refused`…), `ResultCode` (DHS-style: 1 completed … 96
/// other) and `ReturnVisit` cells of a response, empty while it has no outcome.
pub fn outcome_cells(outcome: Option<&OutcomeRecord>) -> [String; 3] {
    match outcome {
        Some(o) => [
            o.outcome.as_str().to_owned(),
            o.outcome.code().to_string(),
            o.return_visit.clone().unwrap_or_default(),
        ],
        None => Default::default(),
    }
}

/// A cell as a spreadsheet will not run it: text starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'`, as OWASP recommends against CSV injection
/// (device text such as `=HYPERLINK(…)` would otherwise run as a formula when an analyst
/// opens the file). Numbers stay numbers: `-3`, `+2547…` and a geopoint's
/// `-0.1 36.8 1500 5` (numbers separated by single spaces or `;`) are left alone.
pub fn spreadsheet_safe(text: &str) -> Cow<'_, str> {
    let risky = match text.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !numbers_only(text),
        _ => false,
    };
    if risky {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `text` is one or more decimal numbers separated by one space or `;`.
fn numbers_only(text: &str) -> bool {
    text.split([' ', ';']).all(|part| {
        let digits = part.strip_prefix(['+', '-']).unwrap_or(part);
        digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            && part.parse::<f64>().is_ok_and(f64::is_finite)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name used in two groups of one scope: each column (named after its groups, as
    /// ODK Central names them) reads its own answer, at the key `group/name`.
    #[test]
    fn names_used_in_two_groups_have_their_own_columns_and_answers() {
        let form = Form::from_json(
            r#"{"id": "f", "version": "1", "title": "F",
              "languages": [{"code": "en", "name": "English"}], "default_language": "en",
              "body": [
                {"type": "group", "name": "head", "body": [{"type": "text", "name": "name"}]},
                {"type": "group", "name": "spouse", "body": [{"type": "text", "name": "name"}]},
                {"type": "repeat", "name": "kids", "body": [
                  {"type": "group", "name": "a", "body": [{"type": "text", "name": "x"}]},
                  {"type": "group", "name": "b", "body": [{"type": "text", "name": "x"}]}
                ]}
              ]}"#,
        )
        .unwrap();
        let tables = tables(&form, true);
        assert_eq!(tables[0].headers(), ["head-name", "spouse-name"]);
        assert_eq!(tables[1].headers(), ["a-x", "b-x"]);
        assert_eq!(tables[1].file, "f-kids.csv");
        let answers: Answers = serde_json::from_value(serde_json::json!({
            "head/name": "Achieng", "spouse/name": "Otieno",
            "kids": [{"a/x": "1", "b/x": "2"}]
        }))
        .unwrap();
        assert_eq!(tables[0].cells(&answers, false), ["Achieng", "Otieno"]);
        let found = tables[1].instances(&answers, "uuid:r");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].parent_key, "uuid:r");
        assert_eq!(found[0].key, "uuid:r/kids[1]");
        assert_eq!(tables[1].cells(found[0].answers, false), ["1", "2"]);
    }

    #[test]
    fn choices_pii_and_formulas() {
        let form = Form::from_json(
            r#"{"id": "f", "version": "1", "title": "F",
              "languages": [{"code": "en", "name": "English"}], "default_language": "en",
              "choices": {"yn": [{"name": "y", "label": "Yes"}, {"name": "n", "label": "No"}]},
              "body": [
                {"type": "select_multiple", "name": "m", "choices": "yn"},
                {"type": "select_one", "name": "o", "choices": "yn"},
                {"type": "text", "name": "who", "pii": true},
                {"type": "note", "name": "read", "label": "Read this"},
                {"type": "text", "name": "t"}
              ]}"#,
        )
        .unwrap();
        let without_pii = tables(&form, false);
        assert_eq!(without_pii[0].headers(), ["m", "m/y", "m/n", "o", "t"]);
        let with_pii = tables(&form, true);
        assert_eq!(with_pii[0].headers(), ["m", "m/y", "m/n", "o", "who", "t"]);
        let answers: Answers = serde_json::from_value(
            serde_json::json!({"m": "n", "o": "y", "who": "Amina", "t": "=1+1"}),
        )
        .unwrap();
        assert_eq!(
            without_pii[0].cells(&answers, false),
            ["n", "0", "1", "y", "'=1+1"]
        );
        assert_eq!(
            without_pii[0].cells(&answers, true),
            ["No", "0", "1", "Yes", "'=1+1"]
        );
        let empty = Answers::default();
        assert_eq!(without_pii[0].cells(&empty, false), ["", "", "", "", ""]);
    }

    #[test]
    fn a_referral_has_its_outcome_and_the_services_accepted() {
        let form = Form::from_json(
            r#"{"id": "f", "version": "1", "title": "F",
              "languages": [{"code": "en", "name": "English"}], "default_language": "en",
              "body": [
                {"type": "text", "name": "area"},
                {"type": "referral", "name": "ref", "referral": {"area": "${area}"}}
              ]}"#,
        )
        .unwrap();
        let t = &tables(&form, false)[0];
        assert_eq!(t.headers(), ["area", "ref", "ref/services"]);
        let row = |v: serde_json::Value| t.cells(&serde_json::from_value(v).unwrap(), false);
        assert_eq!(
            row(serde_json::json!({"area": "north", "ref": "accepted hotline north_clinic"})),
            ["north", "accepted", "hotline north_clinic"]
        );
        assert_eq!(
            row(serde_json::json!({"area": "north", "ref": "declined"})),
            ["north", "declined", ""]
        );
        assert_eq!(
            row(serde_json::json!({"ref": "no_service"})),
            ["", "no_service", ""]
        );
        assert_eq!(row(serde_json::json!({})), ["", "", ""]);
        // A sealed answer stays whole (and unread) in the field's column.
        assert_eq!(
            row(serde_json::json!({"ref": {"sealed": "YWdlLWVuY3J5cHRpb24="}})),
            ["", "YWdlLWVuY3J5cHRpb24=", ""]
        );
    }

    #[test]
    fn numbers_are_not_formulas() {
        for safe in ["-3", "+254700000000", "-0.1 36.8 1500 5", "1;2", "plain"] {
            assert_eq!(spreadsheet_safe(safe), safe);
        }
        for risky in ["=SUM(A1)", "@x", "-x", "+1+", "\tx"] {
            assert_eq!(spreadsheet_safe(risky), format!("'{risky}"));
        }
    }
}
