//! Checking merged responses against their form version, with a cache of parsed forms.
//!
//! Published versions never change, so a parsed form is cached for the life of the
//! process (several processes on one database each keep their own cache: nothing here
//! can go stale). The checks are structural — every answer names a field of that
//! version at the right place, numbers parse, choices exist — plus the version itself
//! being published. A response failing them is kept and quarantined, never dropped.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use voices_core::form::{FieldType, Form, Item};
use voices_core::response::Response;
use voices_core::sync::merge::FORM_VERSION_KEY;
use voices_core::sync::paths::{self, Step};
use voices_core::sync::ResponseState;

use crate::store::{Store, Validation, Validator};

type Key = (String, String, String);

/// Parsed form versions by (project, form, version).
pub struct FormCatalog {
    store: Arc<dyn Store>,
    forms: RwLock<HashMap<Key, Arc<Form>>>,
}

impl FormCatalog {
    pub fn new(store: Arc<dyn Store>) -> FormCatalog {
        FormCatalog {
            store,
            forms: RwLock::new(HashMap::new()),
        }
    }

    /// The parsed form version, or `None` when it is not published (not cached, since
    /// it may be published later).
    pub fn get(&self, project: &str, form: &str, version: &str) -> Option<Arc<Form>> {
        let key = (project.to_owned(), form.to_owned(), version.to_owned());
        if let Some(found) = self.forms.read().ok()?.get(&key) {
            return Some(found.clone());
        }
        let stored = self.store.get_form(project, form, version).ok()??;
        let parsed = Arc::new(Form::from_json(&stored.document).ok()?);
        if let Ok(mut forms) = self.forms.write() {
            forms.insert(key, parsed.clone());
        }
        Some(parsed)
    }
}

impl Validator for FormCatalog {
    fn validate(&self, project: &str, state: &ResponseState, response: &Response) -> Validation {
        let mut reasons = Vec::new();
        if state.conflicts().iter().any(|c| c.key == FORM_VERSION_KEY) {
            reasons.push(
                "edits were made concurrently on different form versions; a coordinator must choose one"
                    .to_owned(),
            );
        }
        let version = &response.form_version;
        let Some(form) = self.get(project, &state.form, version) else {
            reasons.push(format!(
                "form `{}` has no published version `{version}` in this project",
                state.form
            ));
            return Validation::Quarantine(reasons);
        };
        for (path, value) in state
            .registers
            .keys()
            .filter(|k| k.starts_with('/'))
            .filter_map(|k| match state.current(k) {
                Some(voices_core::sync::Value::Text(Some(v))) => Some((k, v)),
                _ => None,
            })
        {
            if let Err(reason) = check_answer(&form, path, value) {
                reasons.push(format!("{path}: {reason}"));
            }
        }
        if reasons.is_empty() {
            Validation::Valid
        } else {
            Validation::Quarantine(reasons)
        }
    }
}

/// Find the item called `name` in a scope, looking through groups (which do not nest
/// answers) but not into repeats (which do).
fn find<'a>(body: &'a [Item], name: &str) -> Option<&'a Item> {
    for item in body {
        if item.name() == name {
            return Some(item);
        }
        if let Item::Group(g) = item {
            if let Some(found) = find(&g.body, name) {
                return Some(found);
            }
        }
    }
    None
}

fn check_answer(form: &Form, path: &str, value: &str) -> Result<(), String> {
    let steps = paths::parse(path).map_err(|e| e.reason.to_owned())?;
    let mut scope: &[Item] = &form.body;
    for step in steps {
        match step {
            Step::Instance(name, _) => match find(scope, name) {
                Some(Item::Repeat(r)) => scope = &r.body,
                Some(_) => return Err(format!("`{name}` is not a repeat in this form version")),
                None => return Err(format!("no repeat `{name}` in this form version")),
            },
            Step::Count(name) => {
                return match find(scope, name) {
                    Some(Item::Repeat(r)) => {
                        let n: u32 = value
                            .parse()
                            .map_err(|_| format!("instance count `{value}` is not a number"))?;
                        match r.max {
                            Some(max) if n > max => {
                                Err(format!("{n} instances; the form allows at most {max}"))
                            }
                            _ => Ok(()),
                        }
                    }
                    _ => Err(format!("no repeat `{name}` in this form version")),
                };
            }
            Step::Value(name) => {
                return match find(scope, name) {
                    Some(Item::Field(f)) => check_value(form, f, value),
                    Some(Item::Consent(_)) => Ok(()),
                    Some(_) => Err(format!("`{name}` is a group or repeat, not a field")),
                    None => Err(format!("no field `{name}` in this form version")),
                };
            }
        }
    }
    Ok(())
}

fn check_value(form: &Form, field: &voices_core::form::Field, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match field.kind {
        FieldType::Integer => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("`{value}` is not an integer")),
        FieldType::Decimal | FieldType::Range => value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|_| ())
            .ok_or_else(|| format!("`{value}` is not a number")),
        FieldType::SelectOne | FieldType::SelectMultiple | FieldType::Rank => {
            // Lists from external files are not in the form document; only inline
            // lists can be checked here.
            let Some(list) = field.choices.as_ref().and_then(|c| form.choices.get(c)) else {
                return Ok(());
            };
            let picked: Vec<&str> = if field.kind == FieldType::SelectOne {
                vec![value]
            } else {
                value.split_whitespace().collect()
            };
            match picked.iter().find(|p| !list.iter().any(|c| c.name == **p)) {
                Some(unknown) => Err(format!("`{unknown}` is not a choice of this field")),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}
