//! The app's behaviour, independent of Tauri: forms on the device, interviews,
//! autosave, consent, privacy checks, finalizing. Commands are thin wrappers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use voices_core::form::{FieldType, Form, Item};
use voices_core::response::{
    Answer, Answers, ConsentRecord, PrivacyOutcome, PrivacyRecord, Response,
};

use crate::error::{Error, Result};
use crate::paths::{self, AnswerPath};
use crate::store::{AttachedFile, ResponseStatus, Store, Stored};
use crate::view::{self, Issue, LanguageView, PageView, StaticRules, ViewBuilder};

/// Example forms shipped inside the app: `(file name, JSON)`.
pub const EXAMPLES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/examples.rs"));

#[derive(Debug, Clone, Serialize, TS)]
pub struct FormSummary {
    pub form_id: String,
    pub version: String,
    /// Title in the form's default language (titles must be neutral).
    pub title: String,
    pub languages: Vec<LanguageView>,
    pub default_language: String,
    pub drafts: u32,
    pub finalized: u32,
    /// Versions of this form on the device (the newest is listed).
    pub versions: u32,
}

/// One problem in a form document, located precisely.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// JSON pointer of the offending value (empty when unknown).
    pub pointer: String,
    pub line: u32,
    pub column: u32,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileReport {
    pub file: String,
    /// `added`, `already_present`, `rejected`.
    pub outcome: String,
    pub form_id: Option<String>,
    pub version: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct OutlineEntry {
    pub index: u32,
    pub title: String,
    pub relevant: bool,
}

/// Everything the interview screen needs after opening or a structural change.
#[derive(Debug, Clone, Serialize, TS)]
pub struct InterviewState {
    pub response_id: String,
    pub form_id: String,
    pub form_version: String,
    pub form_title: String,
    pub status: ResponseStatus,
    pub language: String,
    pub rtl: bool,
    pub languages: Vec<LanguageView>,
    pub outline: Vec<OutlineEntry>,
    pub page: PageView,
    pub edit_count: u32,
}

/// The answer is on disk; here is the page as it now stands.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AnswerSaved {
    pub saved_at: String,
    pub page: PageView,
    pub outline: Vec<OutlineEntry>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Review {
    pub issues: Vec<Issue>,
    pub can_finalize: bool,
}

/// A response in lists: never an answer value, only neutral facts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ResponseSummary {
    pub response_id: String,
    pub form_id: String,
    pub form_version: String,
    pub form_title: String,
    pub status: ResponseStatus,
    pub created_at: String,
    pub updated_at: String,
    /// Short neutral label: "Interview 3f2a…" (no answer text can leak into lists).
    pub label: String,
    pub edit_count: u32,
}

/// What the screen shows during a safe exit.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecoyView {
    pub title: String,
    pub message: String,
    pub fields: Vec<view::FieldView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AttachmentData {
    pub file_name: String,
    pub media_type: String,
    pub data_base64: String,
}

/// A file the enumerator picked, as the UI sends it.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub media_type: &'a str,
    pub data_base64: &'a str,
}

pub struct Voices {
    store: Mutex<Store>,
    attachments_dir: PathBuf,
    forms: Mutex<HashMap<(String, String), Arc<Form>>>,
    /// Responses being worked on, kept in step with the store after each commit.
    open: Mutex<HashMap<String, Response>>,
}

/// The device's clock, in its local offset, as RFC 3339.
pub fn now() -> String {
    chrono::Local::now()
        .fixed_offset()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves data that was committed to SQLite intact;
    // carry on with what is in memory rather than failing every later command.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Voices {
    /// Open the data directory (creating it), its database and attachment folder,
    /// and make sure the example forms are there.
    pub fn open(data_dir: &Path) -> Result<Voices> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::file(format!("creating {}", data_dir.display()), e))?;
        let attachments_dir = data_dir.join("attachments");
        std::fs::create_dir_all(&attachments_dir)
            .map_err(|e| Error::file(format!("creating {}", attachments_dir.display()), e))?;
        let store = Store::open(&data_dir.join("voices.sqlite"))?;
        let voices = Voices {
            store: Mutex::new(store),
            attachments_dir,
            forms: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
        };
        voices.load_examples()?;
        Ok(voices)
    }

    /// Add the embedded example forms (each version once).
    pub fn load_examples(&self) -> Result<ImportReport> {
        let files = EXAMPLES
            .iter()
            .map(|(name, text)| self.import_text(name, text, "example"))
            .collect::<Result<Vec<_>>>()?;
        Ok(ImportReport { files })
    }

    pub fn integrity_check(&self) -> Result<String> {
        lock(&self.store).integrity_check()
    }

    /// Check a form document and keep it if it has no errors.
    pub fn import_text(&self, file: &str, text: &str, source: &str) -> Result<FileReport> {
        let mut report = FileReport {
            file: file.to_owned(),
            outcome: "rejected".to_owned(),
            form_id: None,
            version: None,
            diagnostics: Vec::new(),
        };
        let form = match check_form_source(text) {
            Ok(form) => form,
            Err(diagnostics) => {
                report.diagnostics = diagnostics;
                return Ok(report);
            }
        };
        report.form_id = Some(form.id.clone());
        report.version = Some(form.version.clone());
        let canonical =
            serde_json::to_string(&form).map_err(|e| Error::InvalidForm(format!("{file}: {e}")))?;
        let stored =
            lock(&self.store).put_form_version(&form.id, &form.version, &canonical, source, &now());
        match stored {
            Ok(Stored::Added) => report.outcome = "added".to_owned(),
            Ok(Stored::AlreadyPresent) => report.outcome = "already_present".to_owned(),
            Err(Error::Conflict(message)) => report.diagnostics.push(Diagnostic {
                severity: "error".to_owned(),
                pointer: "/version".to_owned(),
                line: 0,
                column: 0,
                code: "version_reused".to_owned(),
                message,
            }),
            Err(e) => return Err(e),
        }
        Ok(report)
    }

    /// Import one form file or every `*.json` in a folder.
    pub fn import_path(&self, path: &Path) -> Result<ImportReport> {
        let mut files: Vec<PathBuf> = if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| Error::file(format!("reading folder {}", path.display()), e))?;
            let mut files = Vec::new();
            for entry in entries {
                let entry =
                    entry.map_err(|e| Error::file(format!("reading {}", path.display()), e))?;
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "json") {
                    files.push(p);
                }
            }
            files
        } else {
            vec![path.to_owned()]
        };
        files.sort();
        let mut reports = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::file(format!("reading {}", file.display()), e))?;
            reports.push(self.import_text(&file.display().to_string(), &text, "file")?);
        }
        Ok(ImportReport { files: reports })
    }

    fn form(&self, form_id: &str, version: &str) -> Result<Arc<Form>> {
        let key = (form_id.to_owned(), version.to_owned());
        if let Some(f) = lock(&self.forms).get(&key) {
            return Ok(f.clone());
        }
        let definition = lock(&self.store).form_definition(form_id, version)?;
        let form =
            Arc::new(Form::from_json(&definition).map_err(|e| {
                Error::Corrupt(format!("stored form `{form_id}` `{version}`: {e}"))
            })?);
        lock(&self.forms).insert(key, form.clone());
        Ok(form)
    }

    pub fn list_forms(&self) -> Result<Vec<FormSummary>> {
        let (versions, counts) = {
            let store = lock(&self.store);
            (store.form_versions()?, store.response_counts()?)
        };
        let mut out: Vec<FormSummary> = Vec::new();
        for row in versions {
            let form = self.form(&row.form_id, &row.version)?;
            let count = |statuses: &[ResponseStatus]| -> u32 {
                counts
                    .iter()
                    .filter(|(f, _, s, _)| f == &row.form_id && statuses.contains(s))
                    .map(|(_, _, _, n)| n)
                    .sum()
            };
            let summary = FormSummary {
                form_id: row.form_id.clone(),
                version: row.version.clone(),
                title: form
                    .title
                    .get(&form.default_language, &form.default_language)
                    .to_owned(),
                languages: view::languages(&form),
                default_language: form.default_language.clone(),
                drafts: count(&[ResponseStatus::Draft]),
                finalized: count(&[
                    ResponseStatus::Finalized,
                    ResponseStatus::Queued,
                    ResponseStatus::Sent,
                ]),
                versions: 1,
            };
            // Rows come oldest first per form: the newest version replaces the entry.
            match out.iter_mut().find(|s| s.form_id == row.form_id) {
                Some(existing) => {
                    let versions = existing.versions + 1;
                    *existing = FormSummary {
                        versions,
                        ..summary
                    };
                }
                None => out.push(summary),
            }
        }
        out.sort_by_key(|a| a.title.to_lowercase());
        Ok(out)
    }

    /// Start an interview on a form version (the newest when `version` is `None`).
    pub fn start(
        &self,
        form_id: &str,
        version: Option<&str>,
        language: Option<&str>,
    ) -> Result<InterviewState> {
        let version = match version {
            Some(v) => v.to_owned(),
            None => lock(&self.store)
                .form_versions()?
                .into_iter()
                .rev()
                .find(|r| r.form_id == form_id)
                .map(|r| r.version)
                .ok_or_else(|| {
                    Error::NotFound(format!("form `{form_id}` is not on this device"))
                })?,
        };
        let form = self.form(form_id, &version)?;
        let language = self.language_or_default(&form, language)?;
        let id = uuid::Uuid::now_v7().to_string();
        let at = now();
        let mut response = Response {
            id: id.clone(),
            form_id: form_id.to_owned(),
            form_version: version.clone(),
            answers: Answers::default(),
            consent: None,
            privacy: Default::default(),
        };
        fill_metadata(&form, &mut response.answers, &at, &self.device_id()?, false);
        {
            let mut store = lock(&self.store);
            store.create_response(&id, form_id, &version, &language, &at)?;
            store.replace_answers(&id, &paths::to_rows(&response.answers), &at)?;
            store.add_paradata(&id, "opened", None, &at)?;
        }
        lock(&self.open).insert(id.clone(), response);
        self.state(&id, 0, Some(&language))
    }

    fn device_id(&self) -> Result<String> {
        let mut store = lock(&self.store);
        if let Some(id) = store.setting("device_id")? {
            return Ok(id);
        }
        let id = format!("voices:{}", uuid::Uuid::new_v4());
        store.set_setting("device_id", &id)?;
        Ok(id)
    }

    fn language_or_default(&self, form: &Form, language: Option<&str>) -> Result<String> {
        match language {
            Some(code) if form.language(code).is_some() => Ok(code.to_owned()),
            Some(code) => Err(Error::InvalidInput(format!(
                "form `{}` is not written in language `{code}`",
                form.id
            ))),
            None => Ok(form.default_language.clone()),
        }
    }

    /// The response as stored, cached while the interview is open.
    fn response(&self, id: &str) -> Result<Response> {
        if let Some(r) = lock(&self.open).get(id) {
            return Ok(r.clone());
        }
        let store = lock(&self.store);
        let row = store.response(id)?;
        let answers = paths::from_rows(&store.answers(id)?)?;
        let consent = store.consent(id)?.map(|c| ConsentRecord {
            given: c.given,
            at: c.at,
            text_version: c.text_version,
        });
        let mut privacy = std::collections::BTreeMap::new();
        for (group, outcome, at) in store.privacy_checks(id)? {
            let outcome = match outcome.as_str() {
                "private" => PrivacyOutcome::Private,
                "not_private" => PrivacyOutcome::NotPrivate,
                _ => PrivacyOutcome::Interrupted,
            };
            privacy.insert(group, PrivacyRecord { outcome, at });
        }
        drop(store);
        let response = Response {
            id: row.id,
            form_id: row.form_id,
            form_version: row.form_version,
            answers,
            consent,
            privacy,
        };
        lock(&self.open).insert(id.to_owned(), response.clone());
        Ok(response)
    }

    fn with_view<T>(
        &self,
        id: &str,
        language: Option<&str>,
        f: impl FnOnce(&ViewBuilder<'_>, &crate::store::ResponseRow) -> Result<T>,
    ) -> Result<T> {
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let response = self.response(id)?;
        let lang = match language {
            Some(l) => self.language_or_default(&form, Some(l))?,
            None => row.language.clone(),
        };
        let builder = ViewBuilder {
            form: &form,
            response: &response,
            lang: &lang,
            rules: &StaticRules,
        };
        f(&builder, &row)
    }

    fn outline(builder: &ViewBuilder<'_>) -> Vec<OutlineEntry> {
        builder
            .outline()
            .into_iter()
            .enumerate()
            .map(|(i, (title, relevant))| OutlineEntry {
                index: i as u32,
                title,
                relevant,
            })
            .collect()
    }

    /// The interview screen for a response, at `page` (clamped to the last page).
    pub fn state(&self, id: &str, page: u32, language: Option<&str>) -> Result<InterviewState> {
        if let Some(lang) = language {
            let row = lock(&self.store).response(id)?;
            let form = self.form(&row.form_id, &row.form_version)?;
            let lang = self.language_or_default(&form, Some(lang))?;
            if lang != row.language {
                lock(&self.store).set_language(id, &lang)?;
            }
        }
        self.with_view(id, None, |b, row| {
            let count = b.page_count().max(1);
            let index = (page as usize).min(count - 1);
            let page = b.page(index).ok_or_else(|| {
                Error::InvalidForm(format!("form `{}` has no questions", b.form.id))
            })?;
            Ok(InterviewState {
                response_id: id.to_owned(),
                form_id: row.form_id.clone(),
                form_version: row.form_version.clone(),
                form_title: b
                    .form
                    .title
                    .get(b.lang, &b.form.default_language)
                    .to_owned(),
                status: row.status,
                language: b.lang.to_owned(),
                rtl: b
                    .form
                    .language(b.lang)
                    .is_some_and(|l| l.direction == voices_core::form::Direction::Rtl),
                languages: view::languages(b.form),
                outline: Self::outline(b),
                page,
                edit_count: row.edit_count,
            })
        })
    }

    /// Reopen an interview (draft or finalized-but-unsent) and record that it was opened.
    pub fn open_interview(&self, id: &str, language: Option<&str>) -> Result<InterviewState> {
        lock(&self.store).add_paradata(id, "opened", None, &now())?;
        self.state(id, 0, language)
    }

    pub fn page(&self, id: &str, page: u32, language: Option<&str>) -> Result<PageView> {
        self.with_view(id, language, |b, _| {
            b.page(page as usize)
                .ok_or_else(|| Error::NotFound(format!("page {page} does not exist")))
        })
    }

    /// Save one answer. Returns after the answer is committed to disk.
    pub fn set_answer(
        &self,
        id: &str,
        path: &str,
        value: Option<&str>,
        page: u32,
        language: Option<&str>,
    ) -> Result<AnswerSaved> {
        let parsed = AnswerPath::parse(path)?;
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let field = view::field_at(&form, &parsed)
            .ok_or_else(|| Error::NotFound(format!("form has no field at `{path}`")))?;
        if !field.kind.is_shown_question() || field.kind == FieldType::Note {
            return Err(Error::InvalidInput(format!(
                "`{path}` is a {} field; the app fills it, not the enumerator",
                field.kind.as_str()
            )));
        }
        let value = value.filter(|v| !v.is_empty());
        let mut response = self.response(id)?;
        if let Some(parent) = parsed.parent() {
            let exists = matches!(
                response.answers.0.get(&parent.steps[0].name),
                Some(Answer::Repeat(list)) if parent.steps[0].index.is_some_and(|i| i <= list.len())
            );
            if !exists {
                return Err(Error::NotFound(format!(
                    "repeat instance `{parent}` does not exist"
                )));
            }
        }
        let at = now();
        lock(&self.store).set_answer(id, path, value, &at)?;
        let scope = paths::instance_scope(
            &mut response.answers,
            &parsed.steps[..parsed.steps.len() - 1],
        )?;
        match value {
            Some(v) => {
                scope
                    .0
                    .insert(parsed.leaf().to_owned(), Answer::Value(v.to_owned()));
            }
            None => {
                scope.0.remove(parsed.leaf());
            }
        }
        lock(&self.open).insert(id.to_owned(), response);
        self.with_view(id, language, |b, _| {
            Ok(AnswerSaved {
                saved_at: at.clone(),
                page: b
                    .page(page as usize)
                    .ok_or_else(|| Error::NotFound(format!("page {page} does not exist")))?,
                outline: Self::outline(b),
            })
        })
    }

    fn rewrite_answers(&self, id: &str, response: Response) -> Result<()> {
        lock(&self.store).replace_answers(id, &paths::to_rows(&response.answers), &now())?;
        lock(&self.open).insert(id.to_owned(), response);
        Ok(())
    }

    /// Add an instance to an enumerator-controlled repeat (`/members`).
    pub fn add_repeat_instance(
        &self,
        id: &str,
        repeat_path: &str,
        page: u32,
        language: Option<&str>,
    ) -> Result<PageView> {
        let parsed = AnswerPath::parse(repeat_path)?;
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let repeat = view::repeat_at(&form, &parsed)
            .ok_or_else(|| Error::NotFound(format!("form has no repeat at `{repeat_path}`")))?;
        let mut response = self.response(id)?;
        let scope = paths::instance_scope(
            &mut response.answers,
            &parsed.steps[..parsed.steps.len() - 1],
        )?;
        let entry = scope
            .0
            .entry(repeat.name.clone())
            .or_insert_with(|| Answer::Repeat(Vec::new()));
        let Answer::Repeat(list) = entry else {
            return Err(Error::Corrupt(format!("`{repeat_path}` holds a value")));
        };
        if let Some(max) = repeat.max {
            if list.len() >= max as usize {
                return Err(Error::Conflict(format!(
                    "`{repeat_path}` allows at most {max} entries"
                )));
            }
        }
        list.push(Answers::default());
        self.rewrite_answers(id, response)?;
        self.page(id, page, language)
    }

    /// Remove one instance (`/members[2]`); later instances move up.
    pub fn remove_repeat_instance(
        &self,
        id: &str,
        instance_path: &str,
        page: u32,
        language: Option<&str>,
    ) -> Result<PageView> {
        let parsed = AnswerPath::parse(instance_path)?;
        let last = parsed.steps.last().and_then(|s| s.index).ok_or_else(|| {
            Error::InvalidInput(format!("`{instance_path}` names no repeat instance"))
        })?;
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let mut bare = parsed.clone();
        if let Some(s) = bare.steps.last_mut() {
            s.index = None;
        }
        let repeat = view::repeat_at(&form, &bare)
            .ok_or_else(|| Error::NotFound(format!("form has no repeat at `{instance_path}`")))?;
        let mut response = self.response(id)?;
        let scope = paths::instance_scope(
            &mut response.answers,
            &parsed.steps[..parsed.steps.len() - 1],
        )?;
        let Some(Answer::Repeat(list)) = scope.0.get_mut(&repeat.name) else {
            return Err(Error::NotFound(format!("`{instance_path}` does not exist")));
        };
        if last > list.len() {
            return Err(Error::NotFound(format!("`{instance_path}` does not exist")));
        }
        if let Some(min) = repeat.min {
            if list.len() <= min as usize {
                return Err(Error::Conflict(format!(
                    "`{}` needs at least {min} entries",
                    bare
                )));
            }
        }
        list.remove(last - 1);
        self.rewrite_answers(id, response)?;
        self.page(id, page, language)
    }

    /// Record the consent answer; declining keeps only the refusal.
    pub fn record_consent(
        &self,
        id: &str,
        given: bool,
        language: Option<&str>,
    ) -> Result<InterviewState> {
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let consent = form
            .body
            .iter()
            .find_map(|i| match i {
                Item::Consent(c) => Some(c),
                _ => None,
            })
            .ok_or_else(|| Error::InvalidInput("this form has no consent block".to_owned()))?;
        let at = now();
        lock(&self.store).record_consent(id, given, &at, &consent.text_version)?;
        let mut response = self.response(id)?;
        if given {
            response.consent = Some(ConsentRecord {
                given,
                at: at.clone(),
                text_version: consent.text_version.clone(),
            });
            lock(&self.open).insert(id.to_owned(), response);
        } else {
            lock(&self.open).remove(id);
        }
        let next = if given { 1 } else { 0 };
        self.state(id, next, language)
    }

    /// Record a privacy check. "Not private" clears and skips the group.
    pub fn record_privacy(
        &self,
        id: &str,
        group_path: &str,
        outcome: &str,
        page: u32,
        language: Option<&str>,
    ) -> Result<PageView> {
        let parsed_outcome = match outcome {
            "private" => PrivacyOutcome::Private,
            "not_private" => PrivacyOutcome::NotPrivate,
            "interrupted" => PrivacyOutcome::Interrupted,
            other => {
                return Err(Error::InvalidInput(format!(
                    "privacy outcome `{other}` is not one of private, not_private, interrupted"
                )))
            }
        };
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let parsed = AnswerPath::parse(group_path)?;
        let group = form
            .body
            .iter()
            .find_map(|i| match i {
                Item::Group(g) if g.name == parsed.leaf() && g.privacy.is_some() => Some(g),
                _ => None,
            })
            .ok_or_else(|| {
                Error::NotFound(format!("form has no privacy-checked group `{group_path}`"))
            })?;
        let at = now();
        let mut response = self.response(id)?;
        if parsed_outcome == PrivacyOutcome::NotPrivate {
            let mut names = Vec::new();
            collect_field_names(&group.body, &mut names);
            for name in names {
                response.answers.0.remove(&name);
            }
            self.rewrite_answers(id, response.clone())?;
        }
        lock(&self.store).record_privacy(id, group_path, outcome, &at)?;
        response.privacy.insert(
            group_path.to_owned(),
            PrivacyRecord {
                outcome: parsed_outcome,
                at,
            },
        );
        lock(&self.open).insert(id.to_owned(), response);
        self.page(id, page, language)
    }

    pub fn review(&self, id: &str, language: Option<&str>) -> Result<Review> {
        self.with_view(id, language, |b, _| {
            let issues = b.issues();
            Ok(Review {
                can_finalize: issues.is_empty(),
                issues,
            })
        })
    }

    /// Finalize when nothing is missing or invalid; otherwise return what is.
    pub fn finalize(&self, id: &str, language: Option<&str>) -> Result<Review> {
        let review = self.review(id, language)?;
        if !review.can_finalize {
            return Ok(review);
        }
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let mut response = self.response(id)?;
        let at = now();
        fill_metadata(&form, &mut response.answers, &at, &self.device_id()?, true);
        self.rewrite_answers(id, response)?;
        let mut store = lock(&self.store);
        store.transition(id, &[ResponseStatus::Draft], ResponseStatus::Finalized, &at)?;
        store.transition(
            id,
            &[ResponseStatus::Finalized],
            ResponseStatus::Queued,
            &at,
        )?;
        store.add_paradata(id, "finalized", None, &at)?;
        Ok(review)
    }

    /// Make a finalized, not yet sent response editable again.
    pub fn reopen(&self, id: &str, language: Option<&str>) -> Result<InterviewState> {
        let at = now();
        {
            let mut store = lock(&self.store);
            store.transition(
                id,
                &[ResponseStatus::Finalized, ResponseStatus::Queued],
                ResponseStatus::Draft,
                &at,
            )?;
            store.add_paradata(id, "reopened", None, &at)?;
        }
        self.state(id, 0, language)
    }

    pub fn list_responses(&self) -> Result<Vec<ResponseSummary>> {
        let rows = lock(&self.store).responses()?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let title = match self.form(&row.form_id, &row.form_version) {
                Ok(form) => form
                    .title
                    .get(&form.default_language, &form.default_language)
                    .to_owned(),
                Err(_) => row.form_id.clone(),
            };
            out.push(ResponseSummary {
                label: format!("#{}", &row.id[row.id.len().saturating_sub(6)..]),
                response_id: row.id,
                form_id: row.form_id,
                form_version: row.form_version,
                form_title: title,
                status: row.status,
                created_at: row.created_at,
                updated_at: row.updated_at,
                edit_count: row.edit_count,
            });
        }
        Ok(out)
    }

    /// Record an interview event (page or question entered/left, closed, safe exit).
    pub fn paradata(&self, id: &str, event: &str, path: Option<&str>) -> Result<()> {
        const EVENTS: &[&str] = &[
            "opened",
            "closed",
            "question_enter",
            "question_leave",
            "page_enter",
            "page_leave",
            "safe_exit",
            "safe_return",
            "language",
        ];
        if !EVENTS.contains(&event) {
            return Err(Error::InvalidInput(format!(
                "unknown interview event `{event}`"
            )));
        }
        lock(&self.store).add_paradata(id, event, path, &now())
    }

    /// Enter a safe exit: record it and return the neutral decoy screen.
    pub fn safe_exit(&self, id: Option<&str>, form_id: Option<&str>) -> Result<DecoyView> {
        let form = match (id, form_id) {
            (Some(id), _) => {
                self.paradata(id, "safe_exit", None)?;
                let row = lock(&self.store).response(id)?;
                Some(self.form(&row.form_id, &row.form_version)?)
            }
            (None, Some(form_id)) => {
                let version = lock(&self.store)
                    .form_versions()?
                    .into_iter()
                    .rev()
                    .find(|r| r.form_id == form_id)
                    .map(|r| r.version);
                match version {
                    Some(v) => Some(self.form(form_id, &v)?),
                    None => None,
                }
            }
            (None, None) => None,
        };
        Ok(decoy(form.as_deref()))
    }

    /// Keep a file (content-addressed by SHA-256) as the answer to a media field.
    pub fn attach(
        &self,
        id: &str,
        path: &str,
        upload: &Upload<'_>,
        page: u32,
        language: Option<&str>,
    ) -> Result<AnswerSaved> {
        let Upload {
            file_name,
            media_type,
            data_base64,
        } = *upload;
        let parsed = AnswerPath::parse(path)?;
        let row = lock(&self.store).response(id)?;
        let form = self.form(&row.form_id, &row.form_version)?;
        let field = view::field_at(&form, &parsed)
            .ok_or_else(|| Error::NotFound(format!("form has no field at `{path}`")))?;
        if !field.kind.is_media() {
            return Err(Error::InvalidInput(format!(
                "`{path}` is a {} field, not a file attachment",
                field.kind.as_str()
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64)
            .map_err(|e| Error::InvalidInput(format!("attachment for `{path}`: {e}")))?;
        let sha = hex(&Sha256::digest(&bytes));
        let target = self.attachments_dir.join(&sha);
        if !target.exists() {
            // Write then rename so a crash never leaves a half file under its hash.
            let partial = self.attachments_dir.join(format!("{sha}.partial"));
            std::fs::write(&partial, &bytes)
                .map_err(|e| Error::file(format!("writing {}", partial.display()), e))?;
            std::fs::rename(&partial, &target)
                .map_err(|e| Error::file(format!("storing {}", target.display()), e))?;
        }
        let safe_name: String = file_name
            .chars()
            .filter(|c| !matches!(c, '/' | '\\' | '\0'))
            .collect();
        let at = now();
        lock(&self.store).attach(
            id,
            path,
            &AttachedFile {
                sha256: &sha,
                media_type,
                size: bytes.len() as u64,
                file_name: &safe_name,
            },
            &at,
        )?;
        lock(&self.open).remove(id);
        self.with_view(id, language, |b, _| {
            Ok(AnswerSaved {
                saved_at: at.clone(),
                page: b
                    .page(page as usize)
                    .ok_or_else(|| Error::NotFound(format!("page {page} does not exist")))?,
                outline: Self::outline(b),
            })
        })
    }

    pub fn attachment(&self, id: &str, path: &str) -> Result<AttachmentData> {
        let (_, sha, file_name, media_type) = lock(&self.store)
            .attachments(id)?
            .into_iter()
            .find(|(p, ..)| p == path)
            .ok_or_else(|| Error::NotFound(format!("no file attached at `{path}`")))?;
        let file = self.attachments_dir.join(&sha);
        let bytes = std::fs::read(&file)
            .map_err(|e| Error::file(format!("reading {}", file.display()), e))?;
        Ok(AttachmentData {
            file_name,
            media_type,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    /// Direct store access for tests and measurements.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        f(&mut lock(&self.store))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn collect_field_names(items: &[Item], out: &mut Vec<String>) {
    for item in items {
        match item {
            Item::Field(f) => out.push(f.name.clone()),
            Item::Group(g) => collect_field_names(&g.body, out),
            Item::Repeat(r) => out.push(r.name.clone()),
            Item::Consent(_) => {}
        }
    }
}

/// Fill top-level metadata fields: `start`, `today`, `deviceid` when an interview
/// starts, `end` when it is finalized.
fn fill_metadata(form: &Form, answers: &mut Answers, at: &str, device_id: &str, finishing: bool) {
    for item in &form.body {
        let Item::Field(f) = item else { continue };
        let value = match (f.kind, finishing) {
            (FieldType::Start, false) => at.to_owned(),
            (FieldType::Today, false) => at.get(..10).unwrap_or(at).to_owned(),
            (FieldType::Deviceid, false) => device_id.to_owned(),
            (FieldType::End, true) => at.to_owned(),
            _ => continue,
        };
        answers.0.insert(f.name.clone(), Answer::Value(value));
    }
}

/// The neutral screen shown during a safe exit.
pub fn decoy(form: Option<&Form>) -> DecoyView {
    let Some(form) = form else {
        return DecoyView {
            title: "Notes".to_owned(),
            message: String::new(),
            fields: Vec::new(),
        };
    };
    let lang = form.default_language.as_str();
    let Some(safe) = &form.safe_exit else {
        return decoy(None);
    };
    let empty = Response {
        id: String::new(),
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
    };
    let builder = ViewBuilder {
        form,
        response: &empty,
        lang,
        rules: &StaticRules,
    };
    let fields = safe
        .decoy_group
        .as_deref()
        .and_then(|name| {
            view::plan(form)
                .iter()
                .position(|p| matches!(p, view::PagePlan::Group(g) if g.name == name))
        })
        .and_then(|i| builder.page(i))
        .map(|p| p.fields)
        .unwrap_or_default();
    DecoyView {
        title: safe.title.get(lang, lang).to_owned(),
        message: view::text(&safe.message, lang, lang),
        fields: fields
            .into_iter()
            .filter(|f| !f.sensitive && !f.pii)
            .collect(),
    }
}

/// Parse a form document; errors located by line and column.
///
/// Replaced by the engine's checker (`voices_core` `check_source`) once it is available,
/// which adds pointers and semantic checks.
pub fn check_form_source(text: &str) -> std::result::Result<Form, Vec<Diagnostic>> {
    match Form::from_json(text) {
        Ok(form) => {
            let mut problems = Vec::new();
            if form.languages.is_empty() {
                problems.push(Diagnostic {
                    severity: "error".to_owned(),
                    pointer: "/languages".to_owned(),
                    line: 0,
                    column: 0,
                    code: "no_languages".to_owned(),
                    message: "a form lists at least one language".to_owned(),
                });
            } else if form.language(&form.default_language).is_none() {
                problems.push(Diagnostic {
                    severity: "error".to_owned(),
                    pointer: "/default_language".to_owned(),
                    line: 0,
                    column: 0,
                    code: "unknown_language".to_owned(),
                    message: format!(
                        "default_language `{}` is not one of the form's languages",
                        form.default_language
                    ),
                });
            }
            if problems.is_empty() {
                Ok(form)
            } else {
                Err(problems)
            }
        }
        Err(e) => Err(vec![Diagnostic {
            severity: "error".to_owned(),
            pointer: String::new(),
            line: e.line() as u32,
            column: e.column() as u32,
            code: "json".to_owned(),
            message: e.to_string(),
        }]),
    }
}

/// Request and response types of commands that take more than an id.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetAnswerRequest {
    pub response_id: String,
    pub path: String,
    pub value: Option<String>,
    pub page: u32,
    pub language: Option<String>,
}
