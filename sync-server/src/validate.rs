//! Checking merged responses against their form version with the form engine
//! (`voices_core::engine::validate_response`), with a cache of compiled forms.
//!
//! Published versions never change, so a compiled form is cached for the life of the
//! process (several processes on one database each keep their own cache: nothing here
//! can go stale). A response failing its version's rules, or naming a version that is not
//! published, is kept and quarantined with the reasons — never dropped.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use voices_core::answer::AnswerValue;
use voices_core::engine::{validate_response, CompiledForm, ViolationCode};
use voices_core::env::FixedEnvironment;
use voices_core::response::Response;
use voices_core::sync::merge::FORM_VERSION_KEY;
use voices_core::sync::{Edits, ResponseState, ResponseStatus, Revision};

use crate::store::{Store, Validation, Validator};

type Key = (String, String, String);

/// Compiled form versions by (project, form, version).
pub struct FormCatalog {
    store: Arc<dyn Store>,
    forms: RwLock<HashMap<Key, Arc<CompiledForm>>>,
}

impl FormCatalog {
    pub fn new(store: Arc<dyn Store>) -> FormCatalog {
        FormCatalog {
            store,
            forms: RwLock::new(HashMap::new()),
        }
    }

    /// The compiled form version, or `None` when it is not published (not cached, since
    /// it may be published later) or does not compile (publishing refuses those).
    pub fn get(&self, project: &str, form: &str, version: &str) -> Option<Arc<CompiledForm>> {
        self.lookup(project, form, version).ok().flatten()
    }

    /// Like `get`, but a failure to read the store (busy, down) is an error, not "not
    /// published".
    fn lookup(
        &self,
        project: &str,
        form: &str,
        version: &str,
    ) -> crate::Result<Option<Arc<CompiledForm>>> {
        let key = (project.to_owned(), form.to_owned(), version.to_owned());
        if let Some(found) = self
            .forms
            .read()
            .map_err(|_| crate::Error::Poisoned)?
            .get(&key)
        {
            return Ok(Some(found.clone()));
        }
        let Some(stored) = self.store.get_form(project, form, version)? else {
            return Ok(None);
        };
        let Ok(parsed) = voices_core::Form::from_json(&stored.document) else {
            return Ok(None);
        };
        let Ok(compiled) = CompiledForm::compile(parsed) else {
            return Ok(None);
        };
        let compiled = Arc::new(compiled);
        if let Ok(mut forms) = self.forms.write() {
            forms.insert(key, compiled.clone());
        }
        Ok(Some(compiled))
    }
}

impl FormCatalog {
    /// A compiled form version already in the cache (never reads the store).
    fn cached(&self, project: &str, form: &str, version: &str) -> Option<Arc<CompiledForm>> {
        let key = (project.to_owned(), form.to_owned(), version.to_owned());
        self.forms.read().ok()?.get(&key).cloned()
    }
}

impl Validator for FormCatalog {
    fn prepare(&self, project: &str, versions: &[(&str, &str)]) {
        for (form, version) in versions {
            self.get(project, form, version);
        }
    }

    fn refuse(&self, project: &str, revision: &Revision, edits: &Edits<'_>) -> Option<String> {
        let form = self.cached(project, &revision.form, &revision.version)?;
        edits.answers.iter().find_map(|(path, value)| {
            // A sealed value is never a count, the only key whose value bounds instances.
            form.check_repeat_bounds(path, value.and_then(AnswerValue::text))
                .err()
                .map(|e| e.to_string())
        })
    }

    fn validate(&self, project: &str, state: &ResponseState, response: &Response) -> Validation {
        let mut reasons = Vec::new();
        if state.conflicts().iter().any(|c| c.key == FORM_VERSION_KEY) {
            reasons.push(
                "edits were made concurrently on different form versions; a coordinator must choose one"
                    .to_owned(),
            );
        }
        let version = &response.form_version;
        let found = match self.lookup(project, &state.form, version) {
            Ok(found) => found,
            Err(e) => {
                return Validation::Unavailable(format!(
                    "form `{}` version `{version}` could not be read to check the response: {e}",
                    state.form
                ))
            }
        };
        let Some(form) = found else {
            reasons.push(format!(
                "form `{}` has no published version `{version}` in this project",
                state.form
            ));
            return Validation::Quarantine(reasons);
        };
        // The engine may evaluate `now()` and `today()`: the server clock, in UTC.
        let mut env = FixedEnvironment::new(chrono::Utc::now().fixed_offset(), 0);
        let language = form.form().default_language.clone();
        let draft = state.status() == Some(ResponseStatus::Draft);
        for violation in validate_response(&form, response, &language, &mut env) {
            // The server holds no key: a sealed answer was validated on the device before
            // it was sealed (its revision says so, or the ingest refused it), and reads
            // as unanswered here.
            if state.is_sealed(&violation.path) {
                continue;
            }
            // A draft is incomplete by nature; what it holds must still fit the form.
            let incomplete = matches!(
                violation.code,
                ViolationCode::Required | ViolationCode::Consent | ViolationCode::PrivacyCheck
            );
            if draft && incomplete {
                continue;
            }
            // Reasons go to devices and coordinators alike: they name the field and the
            // rule, never the answer.
            reasons.push(format!(
                "{}: {}",
                violation.path,
                violation.message_without_answer()
            ));
        }
        if reasons.is_empty() {
            Validation::Valid
        } else {
            Validation::Quarantine(reasons)
        }
    }
}
