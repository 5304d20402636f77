//! Responses the server sent back to the enumerator: the "Returned" list (neutral facts
//! only: no comment text, no answer, as every list) and one response's comments next to
//! the fields they concern, labelled in the interview's language, with the answers the
//! enumerator and a coordinator both changed.

use serde::Serialize;
use ts_rs::TS;
use voices_core::form::{Form, Item};
use voices_core::sync::protocol::{ReviewState, ReviewTransition};

use super::Voices;
use crate::error::Result;
use crate::store::ReturnedRow;
use crate::view;

/// A response sent back, as the list shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReturnedSummary {
    pub response_id: String,
    /// Short neutral label, as in every list ("#3f2a9c").
    pub label: String,
    pub form_title: String,
    /// When the server's word about it arrived on the device.
    pub updated_at: String,
    /// How many comments there are (on the response and on its answers).
    pub comments: u32,
    /// Answers changed on both sides, waiting for the enumerator.
    pub conflicts: u32,
    /// When retention removed its answers from the device: it cannot be fixed here.
    pub purged_at: Option<String>,
}

/// A comment on one answer, with the question it concerns.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FieldComment {
    pub path: String,
    /// The question's label in the interview's language (its name if it has none).
    pub label: String,
    pub comment: String,
}

/// An answer with more than one value: the enumerator's (kept) and the others.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AnswerConflict {
    pub path: String,
    pub label: String,
    pub yours: Option<String>,
    /// The other values, each with who wrote it (`user:NAME`).
    pub theirs: Vec<(String, Option<String>)>,
    /// Who changed it to a value sealed to the project's keys (this device cannot show it).
    pub sealed: Vec<String>,
}

/// What the server said about one response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReturnedDetail {
    pub response_id: String,
    /// `received`, `has_issues`, `sent_back`, `resubmitted`, `approved` or `rejected`.
    pub review_state: String,
    /// The language the interview is in (its labels below are in it), and its direction.
    pub language: String,
    pub rtl: bool,
    /// The last send-back's comment on the response.
    pub comment: Option<String>,
    /// Who sent it back (`user:NAME`) and when.
    pub sent_back_by: Option<String>,
    pub sent_back_at: Option<String>,
    /// The last send-back's comments on single answers, in form order.
    pub fields: Vec<FieldComment>,
    pub conflicts: Vec<AnswerConflict>,
    /// When retention removed its answers from the device: it cannot be fixed here.
    pub purged_at: Option<String>,
}

fn last_send_back(reviews: &[ReviewTransition]) -> Option<&ReviewTransition> {
    reviews
        .iter()
        .rev()
        .find(|r| r.state == ReviewState::SentBack)
}

/// The last name of a flat path (`/member[2]/age` → `age`).
fn field_name(path: &str) -> &str {
    path.rsplit('/')
        .next()
        .unwrap_or(path)
        .split('[')
        .next()
        .unwrap_or_default()
}

/// Every field's name, depth first.
fn names_in_order(items: &[Item]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Field(f) => out.push(f.name.clone()),
            Item::Group(g) => out.extend(names_in_order(&g.body)),
            Item::Repeat(r) => out.extend(names_in_order(&r.body)),
            Item::Consent(_) => {}
        }
    }
    out
}

/// A field's label in `lang`, found by the last name of its flat path; the name itself
/// when the form has no such field or no label.
fn label_of(form: &Form, path: &str, lang: &str) -> String {
    let name = field_name(path);
    fn find<'a>(items: &'a [Item], name: &str) -> Option<&'a voices_core::form::Field> {
        items.iter().find_map(|item| match item {
            Item::Field(f) if f.name == name => Some(f),
            Item::Group(g) => find(&g.body, name),
            Item::Repeat(r) => find(&r.body, name),
            _ => None,
        })
    }
    find(&form.body, name)
        .and_then(|f| f.label.as_ref())
        .map(|t| t.get(lang, &form.default_language).to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| name.to_owned())
}

impl Voices {
    /// Responses sent back and not finalized again: the "Returned" list, oldest first.
    pub fn returned_list(&self) -> Result<Vec<ReturnedSummary>> {
        let rows = self.store.lock().sent_back()?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let comments = last_send_back(&row.reviews)
                .map(|r| r.fields.len() as u32 + u32::from(r.comment.is_some()))
                .unwrap_or(0);
            out.push(ReturnedSummary {
                label: view::neutral_label(&row.response_id),
                form_title: self.forms.title(&row.form_id, &row.form_version),
                updated_at: row.updated_at,
                comments,
                conflicts: row.conflicts.len() as u32,
                purged_at: row.purged_at,
                response_id: row.response_id,
            });
        }
        Ok(out)
    }

    /// What the server said about a response (`None`: nothing), its labels in the
    /// interview's language.
    pub fn returned_detail(&self, id: &str) -> Result<Option<ReturnedDetail>> {
        let Some(row): Option<ReturnedRow> = self.store.lock().returned(id)? else {
            return Ok(None);
        };
        let compiled = self.forms.compiled(&row.form_id, &row.form_version)?;
        let form = compiled.form();
        let lang = row.language.as_str();
        let rtl = form
            .languages
            .iter()
            .any(|l| l.code == lang && l.direction == voices_core::form::Direction::Rtl);
        let sent = last_send_back(&row.reviews);
        let mut fields: Vec<FieldComment> = sent
            .map(|r| {
                r.fields
                    .iter()
                    .map(|(path, comment)| FieldComment {
                        label: label_of(form, path, lang),
                        path: path.clone(),
                        comment: comment.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Form order: by where each question's name first appears, then by path.
        let names = names_in_order(&form.body);
        fields.sort_by_key(|f| {
            let name = field_name(&f.path);
            (
                names.iter().position(|n| n == name).unwrap_or(usize::MAX),
                f.path.clone(),
            )
        });
        Ok(Some(ReturnedDetail {
            response_id: row.response_id,
            review_state: row.review_state.wire_name().to_owned(),
            language: lang.to_owned(),
            rtl,
            comment: sent.and_then(|r| r.comment.clone()),
            sent_back_by: sent.map(|r| r.by.clone()),
            sent_back_at: sent.map(|r| r.at.clone()),
            fields,
            conflicts: row
                .conflicts
                .into_iter()
                .map(|c| AnswerConflict {
                    label: label_of(form, &c.path, lang),
                    path: c.path,
                    yours: c.yours,
                    theirs: c.theirs,
                    sealed: c.sealed,
                })
                .collect(),
            purged_at: row.purged_at,
        }))
    }
}
