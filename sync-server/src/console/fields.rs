//! A form version's fields as the columns of the responses table, and finding the form
//! version a page is about.

use serde_json::{json, Value};
use voices_core::form::FieldType;
use voices_core::Form;

use super::dashboard::text_map;
use crate::store::projection::FormIndex;
use crate::store::Store;
use crate::{Error, Result};

/// The form document of `version`, or for all versions the newest published one with the
/// questions of earlier versions kept ([`crate::export::export_form`]): (form, version).
pub fn form_version(
    store: &dyn Store,
    project: &str,
    form: &str,
    version: Option<&str>,
) -> Result<Option<(Form, String)>> {
    let version = match version {
        Some(v) => v.to_owned(),
        None => {
            let Some(latest) = store
                .list_forms(project)?
                .into_iter()
                .filter(|s| s.form == form)
                .max_by(|a, b| a.published_at.cmp(&b.published_at))
            else {
                return Ok(None);
            };
            // Every version's responses: the newest version with the questions earlier
            // ones asked put back, as the export lays them out, so older answers keep a
            // column and a chart.
            let merged = crate::export::export_form(store, project, form)?;
            return Ok(Some((merged, latest.version)));
        }
    };
    let Some(stored) = store.get_form(project, form, &version)? else {
        return Ok(None);
    };
    let parsed = Form::from_json(&stored.document)
        .map_err(|e| Error::Invalid(format!("stored form does not parse: {e}")))?;
    Ok(Some((parsed, version)))
}

/// Every field but notes, in form order, as a column.
pub fn fields_json(form: &Form) -> Value {
    let index = FormIndex::new(form);
    let lang = &form.default_language;
    let columns: Vec<Value> = index
        .fields_in_order(form)
        .into_iter()
        .filter(|f| f.kind != FieldType::Note)
        .map(|f| {
            let choices = f
                .choices
                .as_ref()
                .and_then(|list| form.choices.get(list))
                .map(|list| {
                    list.iter()
                        .map(|c| json!({"name": c.name, "label": text_map(Some(&c.label), lang)}))
                        .collect::<Vec<_>>()
                });
            json!({
                "path": f.path,
                "name": f.name,
                "type": f.kind.as_str(),
                "label": text_map(f.label.as_ref(), lang),
                "group": f.group,
                "repeat": f.repeat,
                "pii": f.pii,
                "sensitive": f.sensitive,
                "disaggregation": f.disaggregation.map(|d| d.as_str()),
                "choices": choices,
            })
        })
        .collect();
    Value::Array(columns)
}
