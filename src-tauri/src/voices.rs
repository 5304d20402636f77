//! The app's behaviour, independent of Tauri: forms on the device, interviews,
//! autosave, consent, privacy checks, finalizing. Commands are thin wrappers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use voices_core::engine::{self, AnswerPath, CompiledForm, Session};
use voices_core::form::{Form, Item};
use voices_core::response::{ConsentRecord, PrivacyOutcome, PrivacyRecord, Response};

use crate::env::{now, DeviceEnvironment};
use crate::error::{Error, Result};
use crate::paths;
use crate::store::{AttachedFile, ResponseStatus, Store, Stored};
use crate::view::{self, Issue, LanguageView, OutlineEntry, PageView};

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
    pub page_count: u32,
    pub edit_count: u32,
}

/// The page as it now stands after a change (answer, instance, privacy outcome).
#[derive(Debug, Clone, Serialize, TS)]
pub struct PageUpdate {
    /// When the change was committed to disk.
    pub saved_at: String,
    pub page: PageView,
    pub page_count: u32,
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
    /// Short neutral label: "#3f2a9c" (no answer text can leak into lists).
    pub label: String,
    pub edit_count: u32,
}

/// What the screen shows during a safe exit.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecoyView {
    pub title: String,
    pub message: String,
    pub fields: Vec<view::FieldView>,
    /// The language the decoy is written in (the interview's, when the form has it), so
    /// the screen does not switch language, or direction, when it appears.
    pub language: String,
    pub rtl: bool,
}

/// The app's own settings, restored when the app starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppSettings {
    /// The language of the app's own wording, chosen in the header (a language tag such
    /// as `ar`); `null` until the enumerator picks one.
    pub language: Option<String>,
}

/// The settings key of the app's own language.
const APP_LANGUAGE_KEY: &str = "app_language";

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

/// An open interview: the engine's session plus what the store knows of it.
struct Open {
    session: Session,
    language: String,
}

pub struct Voices {
    store: Mutex<Store>,
    attachments_dir: PathBuf,
    forms: Mutex<HashMap<(String, String), Arc<CompiledForm>>>,
    /// Interviews being worked on, kept in step with the store after each commit.
    open: Mutex<HashMap<String, Open>>,
    env: Mutex<DeviceEnvironment>,
    sync: crate::sync::SyncShared,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves data that was committed to SQLite intact;
    // carry on with what is in memory rather than failing every later command.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn engine_error(e: engine::EngineError) -> Error {
    match e {
        engine::EngineError::UnknownPath(_) => Error::NotFound(e.to_string()),
        engine::EngineError::FormMismatch { .. } => Error::Corrupt(e.to_string()),
        engine::EngineError::RepeatLimit { .. }
        | engine::EngineError::RepeatControlled(_)
        | engine::EngineError::NotRelevant(_)
        | engine::EngineError::ReadOnly(_) => Error::Conflict(e.to_string()),
        _ => Error::InvalidInput(e.to_string()),
    }
}

fn parse_path(text: &str) -> Result<AnswerPath> {
    // The app's own parser gives the clearer message; the engine's type is what it needs.
    paths::AnswerPath::parse(text)?;
    text.parse::<AnswerPath>()
        .map_err(|e| Error::InvalidInput(format!("answer path `{text}`: {e}")))
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
        let mut store = Store::open(&data_dir.join("voices.sqlite"))?;
        let device_id = match store.setting("device_id")? {
            Some(id) => id,
            None => {
                let id = format!("voices:{}", uuid::Uuid::new_v4());
                store.set_setting("device_id", &id)?;
                id
            }
        };
        let username = store.setting("username")?;
        // A sync cut off by the app being killed left entries `sending`: due again.
        store.reset_sending()?;
        let voices = Voices {
            store: Mutex::new(store),
            attachments_dir,
            forms: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            env: Mutex::new(DeviceEnvironment {
                device_id: Some(device_id),
                username,
            }),
            sync: crate::sync::SyncShared::default(),
        };
        voices.load_examples()?;
        Ok(voices)
    }

    /// The running state of sync (status, wake-ups, events).
    pub fn sync(&self) -> &crate::sync::SyncShared {
        &self.sync
    }

    /// Shift the clock that stamps this device's revisions (see
    /// [`crate::sync::SyncShared::set_clock_skew`]).
    pub fn set_clock_skew_for(&self, skew: chrono::Duration) {
        self.sync.set_clock_skew(skew);
    }

    /// A form version's title in its default language (its id when unreadable).
    pub fn form_title(&self, form_id: &str, version: &str) -> String {
        match self.form(form_id, version) {
            Ok(compiled) => {
                let form = compiled.form();
                form.title
                    .get(&form.default_language, &form.default_language)
                    .to_owned()
            }
            Err(_) => form_id.to_owned(),
        }
    }

    /// Where the file with this SHA-256 is kept.
    pub fn attachment_file(&self, sha256: &str) -> PathBuf {
        self.attachments_dir.join(sha256)
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

    /// Check a form document with the engine's checker and keep it if it has no errors.
    pub fn import_text(&self, file: &str, text: &str, source: &str) -> Result<FileReport> {
        let report = voices_core::check::check_source(text);
        let diagnostics: Vec<Diagnostic> = report
            .diagnostics
            .iter()
            .map(|d| Diagnostic {
                severity: if d.is_error() { "error" } else { "warning" }.to_owned(),
                pointer: d.pointer.clone(),
                line: d.line.unwrap_or(0) as u32,
                column: d.column.unwrap_or(0) as u32,
                code: d.code.to_string(),
                message: d.message.clone(),
            })
            .collect();
        let mut out = FileReport {
            file: file.to_owned(),
            outcome: "rejected".to_owned(),
            form_id: report.form.as_ref().map(|f| f.id.clone()),
            version: report.form.as_ref().map(|f| f.version.clone()),
            diagnostics,
        };
        let Some(form) = report.form.as_ref().filter(|_| !report.has_errors()) else {
            return Ok(out);
        };
        let canonical =
            serde_json::to_string(form).map_err(|e| Error::InvalidForm(format!("{file}: {e}")))?;
        let stored =
            lock(&self.store).put_form_version(&form.id, &form.version, &canonical, source, &now());
        match stored {
            Ok(Stored::Added) => out.outcome = "added".to_owned(),
            Ok(Stored::AlreadyPresent) => out.outcome = "already_present".to_owned(),
            Err(Error::Conflict(message)) => out.diagnostics.push(Diagnostic {
                severity: "error".to_owned(),
                pointer: "/version".to_owned(),
                line: 0,
                column: 0,
                code: "version_reused".to_owned(),
                message,
            }),
            Err(e) => return Err(e),
        }
        Ok(out)
    }

    /// [`Voices::import_spreadsheet`] for bytes the UI sent as base64.
    pub fn import_spreadsheet_base64(&self, file: &str, data_base64: &str) -> Result<FileReport> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64)
            .map_err(|e| Error::InvalidInput(format!("spreadsheet `{file}`: {e}")))?;
        self.import_spreadsheet(file, &bytes)
    }

    /// Import an XLSForm spreadsheet the user picked. The converted form goes through the
    /// same checks and storage as a JSON form; importer problems come back as diagnostics
    /// naming the cell (shown as `file.xlsx:survey!C42: message`); nothing is stored then.
    pub fn import_spreadsheet(&self, file: &str, bytes: &[u8]) -> Result<FileReport> {
        let stem = Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("form")
            .to_owned();
        let options = voices_xlsform::ImportOptions {
            source_name: stem,
            lenient: false,
        };
        let rejected = |diagnostics| FileReport {
            file: file.to_owned(),
            outcome: "rejected".to_owned(),
            form_id: None,
            version: None,
            diagnostics,
        };
        let report = match voices_xlsform::import_spreadsheet_bytes(bytes, &options) {
            Ok(report) => report,
            Err(e) => {
                return Ok(rejected(vec![Diagnostic {
                    severity: "error".to_owned(),
                    pointer: String::new(),
                    line: 0,
                    column: 0,
                    code: "unreadable-spreadsheet".to_owned(),
                    message: e.to_string(),
                }]))
            }
        };
        let xls_diagnostics: Vec<Diagnostic> = report
            .diagnostics
            .iter()
            .map(|d| Diagnostic {
                severity: if d.is_error() { "error" } else { "warning" }.to_owned(),
                // The cell (`survey!C42`) stands where a JSON form's pointer does; the UI
                // shows it after the file name, as `file.xlsx:survey!C42`.
                pointer: d
                    .location
                    .as_ref()
                    .map(|at| at.to_string())
                    .unwrap_or_default(),
                line: 0,
                column: 0,
                code: d.code.to_string(),
                message: d.message.clone(),
            })
            .collect();
        let Some(form) = report.form.as_ref().filter(|_| !report.has_errors()) else {
            return Ok(rejected(xls_diagnostics));
        };
        let json =
            serde_json::to_string(form).map_err(|e| Error::InvalidForm(format!("{file}: {e}")))?;
        let mut out = self.import_text(file, &json, "xlsform")?;
        let mut diagnostics = xls_diagnostics;
        diagnostics.append(&mut out.diagnostics);
        out.diagnostics = diagnostics;
        Ok(out)
    }

    /// Import one form file, or every form file in a folder: JSON forms (`.json`) and
    /// XLSForm workbooks (`.xlsx`, `.xls`). In a folder, a file that cannot be read is
    /// reported as rejected with the reason and the others are still imported.
    pub fn import_path(&self, path: &Path) -> Result<ImportReport> {
        if !path.exists() {
            return Err(Error::NotFound(format!(
                "no file or folder at {}",
                path.display()
            )));
        }
        let files: Vec<PathBuf> = if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| Error::file(format!("reading folder {}", path.display()), e))?;
            let mut files = Vec::new();
            for entry in entries {
                let entry =
                    entry.map_err(|e| Error::file(format!("reading {}", path.display()), e))?;
                let p = entry.path();
                if p.is_file() && is_form_file(&p) {
                    files.push(p);
                }
            }
            if files.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "no form files (.json, .xlsx, .xls) in the folder {}",
                    path.display()
                )));
            }
            files.sort();
            files
        } else {
            vec![path.to_owned()]
        };
        let single = files.len() == 1 && !path.is_dir();
        let mut reports = Vec::new();
        for file in files {
            let name = file.display().to_string();
            let spreadsheet = has_extension(&file, &["xlsx", "xls"]);
            let report = match std::fs::read(&file) {
                Err(e) if single => {
                    return Err(Error::file(format!("reading {name}"), e));
                }
                Err(e) => unreadable(&name, format!("cannot read the file: {e}")),
                Ok(bytes) if spreadsheet => self.import_spreadsheet(&name, &bytes)?,
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => self.import_text(&name, &text, "file")?,
                    Err(e) => unreadable(
                        &name,
                        format!(
                            "not a JSON form: not UTF-8 text (byte {})",
                            e.utf8_error().valid_up_to() + 1
                        ),
                    ),
                },
            };
            reports.push(report);
        }
        Ok(ImportReport { files: reports })
    }

    fn form(&self, form_id: &str, version: &str) -> Result<Arc<CompiledForm>> {
        let key = (form_id.to_owned(), version.to_owned());
        if let Some(f) = lock(&self.forms).get(&key) {
            return Ok(f.clone());
        }
        let definition = lock(&self.store).form_definition(form_id, version)?;
        let form = Form::from_json(&definition)
            .map_err(|e| Error::Corrupt(format!("stored form `{form_id}` `{version}`: {e}")))?;
        let compiled = CompiledForm::compile(form).map_err(|diagnostics| {
            let first = diagnostics
                .first()
                .map(|d| d.to_string())
                .unwrap_or_default();
            Error::InvalidForm(format!(
                "form `{form_id}` `{version}` no longer compiles: {first}"
            ))
        })?;
        let compiled = Arc::new(compiled);
        lock(&self.forms).insert(key, compiled.clone());
        Ok(compiled)
    }

    pub fn list_forms(&self) -> Result<Vec<FormSummary>> {
        let (versions, counts) = {
            let store = lock(&self.store);
            (store.form_versions()?, store.response_counts()?)
        };
        let mut out: Vec<FormSummary> = Vec::new();
        for row in versions {
            let compiled = self.form(&row.form_id, &row.version)?;
            let form = compiled.form();
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
                languages: view::languages(form),
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
        let compiled = self.form(form_id, &version)?;
        let language = self.language_or_default(compiled.form(), language)?;
        let id = uuid::Uuid::now_v7().to_string();
        let response = Response {
            id: id.clone(),
            form_id: form_id.to_owned(),
            form_version: version.clone(),
            answers: Default::default(),
            consent: None,
            privacy: Default::default(),
        };
        let mut session = {
            let mut env = lock(&self.env);
            Session::new(compiled, response, &mut *env).map_err(engine_error)?
        };
        session.set_language(&language);
        let at = now();
        {
            let mut store = lock(&self.store);
            store.create_response(&id, form_id, &version, &language, &at)?;
            store.replace_answers(&id, &paths::to_rows(&session.response().answers), &at)?;
            store.add_paradata(&id, "opened", None, &at)?;
        }
        lock(&self.open).insert(id.clone(), Open { session, language });
        self.state(&id, 0, None)
    }

    /// Load an interview's session from the store unless it is open already.
    fn ensure_open(&self, id: &str) -> Result<()> {
        if lock(&self.open).contains_key(id) {
            return Ok(());
        }
        let (row, answers, consent, checks) = {
            let store = lock(&self.store);
            let row = store.response(id)?;
            let answers = paths::from_rows(&store.answers(id)?)?;
            (row, answers, store.consent(id)?, store.privacy_checks(id)?)
        };
        let compiled = self.form(&row.form_id, &row.form_version)?;
        let mut privacy = std::collections::BTreeMap::new();
        for (group, outcome, at) in checks {
            let outcome = match outcome.as_str() {
                "private" => PrivacyOutcome::Private,
                "not_private" => PrivacyOutcome::NotPrivate,
                _ => PrivacyOutcome::Interrupted,
            };
            privacy.insert(group, PrivacyRecord { outcome, at });
        }
        let response = Response {
            id: row.id.clone(),
            form_id: row.form_id.clone(),
            form_version: row.form_version.clone(),
            answers,
            consent: consent.map(|c| ConsentRecord {
                given: c.given,
                at: c.at,
                text_version: c.text_version,
            }),
            privacy,
        };
        let mut session = {
            let mut env = lock(&self.env);
            Session::new(compiled, response, &mut *env).map_err(engine_error)?
        };
        session.set_language(&row.language);
        lock(&self.open).insert(
            id.to_owned(),
            Open {
                session,
                language: row.language,
            },
        );
        Ok(())
    }

    /// Run `f` on an open interview's session.
    fn with_open<T>(&self, id: &str, f: impl FnOnce(&mut Open) -> Result<T>) -> Result<T> {
        self.ensure_open(id)?;
        let mut open = lock(&self.open);
        let entry = open
            .get_mut(id)
            .ok_or_else(|| Error::NotFound(format!("response `{id}` is not open")))?;
        f(entry)
    }

    /// Forget the in-memory session (after a failed write, so the store is the truth again).
    fn evict(&self, id: &str) {
        lock(&self.open).remove(id);
    }

    fn page_update(&self, id: &str, page: u32, saved_at: String) -> Result<PageUpdate> {
        self.with_open(id, |o| {
            let v = o.session.view(&o.language);
            let page = self.page_of(&v, o.session.form().form(), page)?;
            Ok(PageUpdate {
                saved_at,
                page_count: v.pages.len() as u32,
                outline: view::outline(&v),
                page,
            })
        })
    }

    /// Page `index` of a view (clamped to the last page), marked when inside a privacy group.
    fn page_of(&self, v: &engine::FormView, form: &Form, index: u32) -> Result<PageView> {
        let count = v.pages.len().max(1);
        let index = (index as usize).min(count - 1);
        let mut page = view::page(v, index)
            .ok_or_else(|| Error::InvalidForm(format!("form `{}` has no questions", form.id)))?;
        if page.kind == view::PageKind::Questions {
            page.privacy_group = form.body.iter().find_map(|item| match item {
                Item::Group(g)
                    if g.privacy.is_some()
                        && (page.key == format!("/{}", g.name)
                            || page.key.starts_with(&format!("/{}/", g.name))) =>
                {
                    Some(format!("/{}", g.name))
                }
                _ => None,
            });
        }
        Ok(page)
    }

    /// The interview screen for a response at `page`, switching language when asked.
    pub fn state(&self, id: &str, page: u32, language: Option<&str>) -> Result<InterviewState> {
        let row = lock(&self.store).response(id)?;
        if let Some(lang) = language {
            let compiled = self.form(&row.form_id, &row.form_version)?;
            let lang = self.language_or_default(compiled.form(), Some(lang))?;
            if lang != row.language {
                lock(&self.store).set_language(id, &lang)?;
            }
            self.with_open(id, |o| {
                o.session.set_language(&lang);
                o.language = lang;
                Ok(())
            })?;
        }
        self.with_open(id, |o| {
            let v = o.session.view(&o.language);
            let form = o.session.form().form();
            Ok(InterviewState {
                response_id: id.to_owned(),
                form_id: row.form_id.clone(),
                form_version: row.form_version.clone(),
                form_title: v.title.clone(),
                status: row.status,
                language: o.language.clone(),
                rtl: v.direction == voices_core::form::Direction::Rtl,
                languages: view::languages(form),
                outline: view::outline(&v),
                page_count: v.pages.len() as u32,
                page: self.page_of(&v, form, page)?,
                edit_count: row.edit_count,
            })
        })
    }

    /// Reopen an interview where it was left (the last page entered, when it still
    /// applies; e.g. the check of a section that was interrupted) and record that.
    pub fn open_interview(&self, id: &str, language: Option<&str>) -> Result<InterviewState> {
        let last_page = {
            let mut store = lock(&self.store);
            let last = store.last_paradata_path(id, "page_enter")?;
            store.add_paradata(id, "opened", None, &now())?;
            last
        };
        let index = match last_page {
            None => 0,
            Some(key) => self.with_open(id, |o| {
                let v = o.session.view(&o.language);
                Ok(v.pages
                    .iter()
                    .enumerate()
                    .position(|(i, p)| {
                        p.path
                            .as_ref()
                            .map_or_else(|| format!("page-{i}"), |path| path.to_string())
                            == key
                    })
                    .unwrap_or(0))
            })?,
        };
        self.state(id, index as u32, language)
    }

    pub fn page(&self, id: &str, page: u32) -> Result<PageView> {
        self.with_open(id, |o| {
            let v = o.session.view(&o.language);
            self.page_of(&v, o.session.form().form(), page)
        })
    }

    /// Save one answer. Returns after the answer (and every value it changed) is on disk.
    pub fn set_answer(
        &self,
        id: &str,
        path: &str,
        value: Option<&str>,
        page: u32,
    ) -> Result<PageUpdate> {
        let parsed = parse_path(path)?;
        let value = value.filter(|v| !v.is_empty()).map(str::to_owned);
        let at = now();
        let written = self.with_open(id, |o| {
            let changes = {
                let mut env = lock(&self.env);
                o.session
                    .set_answer(&parsed, value.clone(), &mut *env)
                    .map_err(engine_error)?
            };
            let mut store = lock(&self.store);
            if changes.instances_added.is_empty() && changes.instances_removed.is_empty() {
                let mut rows = vec![(path.to_owned(), value.clone())];
                rows.extend(
                    changes
                        .values
                        .iter()
                        .map(|c| (c.path.to_string(), c.value.clone())),
                );
                store.apply_answers(id, &rows, &at)
            } else {
                store.replace_answers(id, &paths::to_rows(&o.session.response().answers), &at)
            }
        });
        if let Err(e) = written {
            self.evict(id);
            return Err(e);
        }
        self.page_update(id, page, at)
    }

    /// Write the whole response after a structural change (instances, consent, privacy).
    fn persist_all(&self, id: &str, at: &str) -> Result<()> {
        let result = self.with_open(id, |o| {
            lock(&self.store).replace_answers(
                id,
                &paths::to_rows(&o.session.response().answers),
                at,
            )
        });
        if result.is_err() {
            self.evict(id);
        }
        result
    }

    /// Add an instance to an enumerator-controlled repeat (`/members`).
    pub fn add_repeat_instance(
        &self,
        id: &str,
        repeat_path: &str,
        page: u32,
    ) -> Result<PageUpdate> {
        let parsed = parse_path(repeat_path)?;
        let at = now();
        self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .add_repeat_instance(&parsed, &mut *env)
                .map(|_| ())
                .map_err(engine_error)
        })?;
        self.persist_all(id, &at)?;
        self.page_update(id, page, at)
    }

    /// Remove one instance (`/members[2]`); later instances move up.
    pub fn remove_repeat_instance(
        &self,
        id: &str,
        instance_path: &str,
        page: u32,
    ) -> Result<PageUpdate> {
        let parsed = parse_path(instance_path)?;
        let at = now();
        self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .remove_repeat_instance(&parsed, &mut *env)
                .map(|_| ())
                .map_err(engine_error)
        })?;
        self.persist_all(id, &at)?;
        self.page_update(id, page, at)
    }

    /// Record the consent answer; declining keeps only the refusal.
    pub fn record_consent(&self, id: &str, given: bool) -> Result<InterviewState> {
        let at = now();
        let (record, consent_path) = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .record_consent(given, &mut *env)
                .map_err(engine_error)?;
            let record = o
                .session
                .response()
                .consent
                .clone()
                .ok_or_else(|| Error::Corrupt("the consent was not recorded".to_owned()))?;
            let name = o.session.form().form().body.iter().find_map(consent_name);
            Ok((record, name.map(|n| format!("/{n}"))))
        })?;
        if given {
            let written =
                lock(&self.store).record_consent(id, true, &record.at, &record.text_version);
            if let Err(e) = written {
                self.evict(id);
                return Err(e);
            }
            self.persist_all(id, &at)?;
            self.state(id, 1, None)
        } else {
            lock(&self.store).record_consent_answer(
                id,
                false,
                &record.at,
                &record.text_version,
                consent_path.as_deref(),
            )?;
            // Nothing but the refusal is kept: drop the in-memory answers too.
            self.evict(id);
            self.after_finalize();
            self.state(id, 0, None)
        }
    }

    /// Record a privacy check outcome for a group (`/experiences`).
    pub fn record_privacy(
        &self,
        id: &str,
        group_path: &str,
        outcome: &str,
        page: u32,
    ) -> Result<PageUpdate> {
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
        let parsed = parse_path(group_path)?;
        let at = now();
        let record_at = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .record_privacy(&parsed, parsed_outcome, &mut *env)
                .map_err(engine_error)?;
            Ok(o.session
                .response()
                .privacy
                .get(group_path)
                .map(|r| r.at.clone())
                .unwrap_or_else(|| at.clone()))
        })?;
        if let Err(e) = lock(&self.store).record_privacy(id, group_path, outcome, &record_at) {
            self.evict(id);
            return Err(e);
        }
        self.persist_all(id, &at)?;
        self.page_update(id, page, at)
    }

    pub fn review(&self, id: &str) -> Result<Review> {
        self.with_open(id, |o| {
            let v = o.session.view(&o.language);
            let violations = o.session.validate(&o.language);
            let issues = view::issues(&v, &violations);
            Ok(Review {
                can_finalize: issues.is_empty(),
                issues,
            })
        })
    }

    /// Finalize when nothing is missing or invalid; otherwise return what is.
    pub fn finalize(&self, id: &str) -> Result<Review> {
        let review = self.review(id)?;
        if !review.can_finalize {
            return Ok(review);
        }
        let at = now();
        self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session.finalize(&mut *env);
            Ok(())
        })?;
        self.persist_all(id, &at)?;
        let mut store = lock(&self.store);
        store.transition(id, &[ResponseStatus::Draft], ResponseStatus::Finalized, &at)?;
        store.transition(
            id,
            &[ResponseStatus::Finalized],
            ResponseStatus::Queued,
            &at,
        )?;
        store.add_paradata(id, "finalized", None, &at)?;
        drop(store);
        self.after_finalize();
        Ok(review)
    }

    /// Make a finalized response editable again. A sent one too: finalizing the edit
    /// makes a new revision with only what changed, which the server merges.
    pub fn reopen(&self, id: &str) -> Result<InterviewState> {
        let at = now();
        {
            let mut store = lock(&self.store);
            store.transition(
                id,
                &[
                    ResponseStatus::Finalized,
                    ResponseStatus::Queued,
                    ResponseStatus::Sent,
                ],
                ResponseStatus::Draft,
                &at,
            )?;
            store.add_paradata(id, "reopened", None, &at)?;
        }
        self.state(id, 0, None)
    }

    pub fn list_responses(&self) -> Result<Vec<ResponseSummary>> {
        let rows = lock(&self.store).responses()?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let title = match self.form(&row.form_id, &row.form_version) {
                Ok(compiled) => {
                    let form = compiled.form();
                    form.title
                        .get(&form.default_language, &form.default_language)
                        .to_owned()
                }
                Err(_) => row.form_id.clone(),
            };
            out.push(ResponseSummary {
                label: neutral_label(&row.id),
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

    /// Enter a safe exit (with a response: recorded) or prepare its screen (form only),
    /// in `language` when the form has it (else the form's default language).
    pub fn safe_exit(
        &self,
        id: Option<&str>,
        form_id: Option<&str>,
        language: Option<&str>,
    ) -> Result<DecoyView> {
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
        Ok(decoy(form.as_ref(), language))
    }

    /// Keep a file (content-addressed by SHA-256) as the answer to a media field.
    pub fn attach(
        &self,
        id: &str,
        path: &str,
        upload: &Upload<'_>,
        page: u32,
    ) -> Result<PageUpdate> {
        let Upload {
            file_name,
            media_type,
            data_base64,
        } = *upload;
        let parsed = parse_path(path)?;
        let row = lock(&self.store).response(id)?;
        let compiled = self.form(&row.form_id, &row.form_version)?;
        let is_media = compiled
            .form()
            .body
            .iter()
            .any(|item| media_field_named(item, parsed.name().unwrap_or_default()));
        if !is_media {
            return Err(Error::InvalidInput(format!(
                "`{path}` is not a file attachment question"
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
        self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .set_answer(&parsed, Some(safe_name.clone()), &mut *env)
                .map(|_| ())
                .map_err(engine_error)
        })?;
        let stored = lock(&self.store).attach(
            id,
            path,
            &AttachedFile {
                sha256: &sha,
                media_type,
                size: bytes.len() as u64,
                file_name: &safe_name,
            },
            &at,
        );
        if let Err(e) = stored {
            self.evict(id);
            return Err(e);
        }
        self.persist_all(id, &at)?;
        self.page_update(id, page, at)
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

    pub fn app_settings(&self) -> Result<AppSettings> {
        Ok(AppSettings {
            language: self.with_store(|s| s.setting(APP_LANGUAGE_KEY))?,
        })
    }

    /// Keep the app's own language for the next start. Only the shape of the tag is
    /// checked: which languages the app speaks is the UI's business (it falls back to
    /// English for one it does not know).
    pub fn set_app_language(&self, tag: &str) -> Result<AppSettings> {
        let tag = tag.trim();
        if !is_language_tag(tag) {
            return Err(Error::InvalidInput(format!(
                "app language `{tag}` is not a language tag such as `en`, `ar` or `pt-BR`"
            )));
        }
        self.with_store(|s| s.set_setting(APP_LANGUAGE_KEY, tag))?;
        self.app_settings()
    }

    /// Direct store access for tests and measurements.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        f(&mut lock(&self.store))
    }
}

/// A form file a folder import picks up: JSON forms and XLSForm workbooks, not the
/// lock files office programs leave beside an open workbook (`~$form.xlsx`) nor hidden files.
fn is_form_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.') || n.starts_with("~$"));
    !hidden && has_extension(path, &["json", "xlsx", "xls"])
}

fn has_extension(path: &Path, wanted: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| wanted.iter().any(|w| e.eq_ignore_ascii_case(w)))
}

/// The report of a file that could not be read as a form at all.
fn unreadable(file: &str, message: String) -> FileReport {
    FileReport {
        file: file.to_owned(),
        outcome: "rejected".to_owned(),
        form_id: None,
        version: None,
        diagnostics: vec![Diagnostic {
            severity: "error".to_owned(),
            pointer: String::new(),
            line: 0,
            column: 0,
            code: "unreadable-file".to_owned(),
            message,
        }],
    }
}

/// A BCP 47-shaped tag: a primary subtag of 2–8 letters, then subtags of 1–8 letters or
/// digits, joined by `-`, 35 characters at most.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && tag.len() <= 35
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The short neutral label lists show for a response: "#3f2a9c" (no answer text).
pub fn neutral_label(response_id: &str) -> String {
    let start = response_id
        .char_indices()
        .rev()
        .nth(5)
        .map_or(0, |(i, _)| i);
    format!("#{}", &response_id[start..])
}

/// The name of the consent block's answer, wherever it sits (groups do not nest answers).
fn consent_name(item: &Item) -> Option<&str> {
    match item {
        Item::Consent(c) => Some(&c.name),
        Item::Group(g) => g.body.iter().find_map(consent_name),
        Item::Field(_) | Item::Repeat(_) => None,
    }
}

fn media_field_named(item: &Item, name: &str) -> bool {
    match item {
        Item::Field(f) => f.name == name && f.kind.is_media(),
        Item::Group(g) => g.body.iter().any(|i| media_field_named(i, name)),
        Item::Repeat(r) => r.body.iter().any(|i| media_field_named(i, name)),
        Item::Consent(_) => false,
    }
}

/// SHA-256 of `bytes`, lowercase hex (how files and form documents are addressed).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The neutral screen shown during a safe exit: the form's decoy title, message and
/// the innocuous questions of its decoy group (never a pii or sensitive field).
pub fn decoy(compiled: Option<&Arc<CompiledForm>>, language: Option<&str>) -> DecoyView {
    // Without a form's decoy: an empty "Notes" screen in the language on screen.
    let generic_language = language
        .map(|l| l.split('-').next().unwrap_or(l))
        .and_then(|base| view::UI_LANGUAGES.iter().find(|l| **l == base))
        .copied()
        .unwrap_or("en");
    let generic = DecoyView {
        title: view::ui_text(generic_language, "notes").to_owned(),
        message: String::new(),
        fields: Vec::new(),
        language: generic_language.to_owned(),
        rtl: generic_language == "ar",
    };
    let Some(compiled) = compiled else {
        return generic;
    };
    let form = compiled.form();
    let Some(safe) = &form.safe_exit else {
        return generic;
    };
    let languages = view::languages(form);
    let chosen = language
        .and_then(|code| languages.iter().find(|l| l.code == code))
        .or_else(|| languages.iter().find(|l| l.code == form.default_language));
    let lang = chosen.map_or_else(|| form.default_language.clone(), |l| l.code.clone());
    let rtl = chosen.is_some_and(|l| l.rtl);
    let empty = Response {
        id: "decoy".to_owned(),
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        answers: Default::default(),
        consent: None,
        privacy: Default::default(),
    };
    // A throwaway session: nothing of it is stored, it only lays out the decoy questions.
    let mut env = voices_core::env::FixedEnvironment::new(chrono::Local::now().fixed_offset(), 0);
    let session = Session::new(compiled.clone(), empty, &mut env).map(|mut s| {
        // Pages after a consent block only appear once consent is given.
        s.record_consent(true, &mut env).ok();
        s
    });
    let fields = match (&safe.decoy_group, session) {
        (Some(group), Ok(session)) => {
            let v = session.view(&lang);
            let key = format!("/{group}");
            v.pages
                .iter()
                .filter(|p| p.path.as_ref().is_some_and(|p| p.to_string() == key))
                .flat_map(|p| p.items.iter())
                .filter_map(|item| match item {
                    engine::ItemView::Field(f) if !f.pii && !f.sensitive => {
                        Some(view::field(f, None))
                    }
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    DecoyView {
        title: safe.title.get(&lang, &form.default_language).to_owned(),
        message: safe
            .message
            .as_ref()
            .map(|m| m.get(&lang, &form.default_language).to_owned())
            .unwrap_or_default(),
        fields,
        language: lang,
        rtl,
    }
}

/// The request to save one answer.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetAnswerRequest {
    pub response_id: String,
    pub path: String,
    pub value: Option<String>,
    /// The page the UI shows, returned refreshed.
    pub page: u32,
}
