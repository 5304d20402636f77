//! An interview: starting and reopening it, autosaving each answer, repeat instances,
//! consent and privacy checks, review and finalizing, and the list of responses.

use serde::Serialize;
use ts_rs::TS;
use voices_core::answer::{AnswerPath, FlatAnswers};
use voices_core::engine::{self, Session};
use voices_core::form::{ConsentRole, Form, Item};
use voices_core::response::{InterviewOutcome, PrivacyOutcome, PrivacyRecord, Response};
use voices_core::Environment;

use super::{engine_error, parse_path, Open, Voices};
use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::ResponseStatus;
use crate::view::{self, Issue, LanguageView, OutlineEntry, PageView};

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
    /// What the coordinators decided (`approved`, `rejected`, `sent_back`,
    /// `resubmitted`, …), once the server said so.
    pub review_state: Option<String>,
}

impl Voices {
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
            None => self.forms.newest_version(form_id)?.ok_or_else(|| {
                Error::NotFound(format!("form `{form_id}` is not on this device"))
            })?,
        };
        let compiled = self.forms.compiled(form_id, &version)?;
        let language = self.language_or_default(compiled.form(), language)?;
        let id = uuid::Uuid::now_v7().to_string();
        let response = Response {
            id: id.clone(),
            form_id: form_id.to_owned(),
            form_version: version.clone(),
            answers: Default::default(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
        };
        let mut session = {
            let mut env = lock(&self.env);
            Session::new(compiled, response, &mut *env).map_err(engine_error)?
        };
        session.set_language(&language);
        let at = now();
        {
            let mut store = self.store.lock();
            store.create_response(&id, form_id, &version, &language, &at)?;
            store.replace_answers(&id, &flat(session.response())?, &at)?;
            store.add_paradata(&id, "opened", None, &at)?;
        }
        lock(&self.open).insert(id.clone(), Open { session, language });
        self.state(&id, 0, None)
    }

    /// Load an interview's session from the store unless it is open already.
    fn ensure_open(&self, id: &str) -> Result<()> {
        if self.sync.take_feed_changed(id) {
            // Coordinators' edits were merged into the store meanwhile: read it again
            // (every answer of the session was committed before it was shown as saved).
            self.evict(id);
        }
        if lock(&self.open).contains_key(id) {
            return Ok(());
        }
        let (row, answers, consent, privacy, selections, matching, outcome) = {
            let store = self.store.lock();
            let row = store.response(id)?;
            let answers = store.answers(id)?;
            let (consent, privacy) = (store.consent(id)?, store.privacy_checks(id)?);
            let (selections, outcome) = (store.selections(id)?, store.outcome(id)?);
            let matching = store.matching(id)?;
            (
                row, answers, consent, privacy, selections, matching, outcome,
            )
        };
        let compiled = self.forms.compiled(&row.form_id, &row.form_version)?;
        let response = Response {
            id: row.id.clone(),
            form_id: row.form_id.clone(),
            form_version: row.form_version.clone(),
            answers: answers.to_tree(),
            consent,
            privacy,
            selections,
            matching,
            outcome,
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
    pub(super) fn with_open<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Open) -> Result<T>,
    ) -> Result<T> {
        self.ensure_open(id)?;
        let mut open = lock(&self.open);
        let entry = open
            .get_mut(id)
            .ok_or_else(|| Error::NotFound(format!("response `{id}` is not open")))?;
        f(entry)
    }

    /// Forget the in-memory session (after a failed write, so the store is the truth again).
    pub(super) fn evict(&self, id: &str) {
        lock(&self.open).remove(id);
    }

    pub(super) fn page_update(&self, id: &str, page: u32, saved_at: String) -> Result<PageUpdate> {
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
        if page.fields.iter().any(|f| f.referral.is_some()) {
            // Read when a referral step is on the page: the directory the last sync kept.
            let kept = self.store.lock().directory()?;
            view::list_services(&mut page, v, kept.as_ref().map(|k| &k.directory));
        }
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
        let row = self.store.lock().response(id)?;
        if let Some(lang) = language {
            let compiled = self.forms.compiled(&row.form_id, &row.form_version)?;
            let lang = self.language_or_default(compiled.form(), Some(lang))?;
            if lang != row.language {
                self.store.lock().set_language(id, &lang)?;
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
            let mut store = self.store.lock();
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
            let mut store = self.store.lock();
            if changes.instances_added.is_empty() && changes.instances_removed.is_empty() {
                let mut rows = vec![(&parsed, value.as_deref())];
                rows.extend(changes.values.iter().map(|c| (&c.path, c.value.as_deref())));
                store.apply_answers(id, &rows, &at)
            } else {
                store.replace_answers(id, &flat(o.session.response())?, &at)
            }
        });
        if let Err(e) = written {
            self.evict(id);
            return Err(e);
        }
        self.page_update(id, page, at)
    }

    /// Write the whole response after a structural change (instances, consent, privacy).
    pub(super) fn persist_all(&self, id: &str, at: &str) -> Result<()> {
        let result = self.with_open(id, |o| {
            let answers = flat(o.session.response())?;
            self.store.lock().replace_answers(id, &answers, at)
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
            Ok((record, name.map(AnswerPath::field)))
        })?;
        if given {
            let written =
                self.store
                    .lock()
                    .record_consent(id, true, &record.at, &record.text_version);
            if let Err(e) = written {
                self.evict(id);
                return Err(e);
            }
            self.persist_all(id, &at)?;
            self.state(id, 1, None)
        } else {
            self.store.lock().record_consent_answer(
                id,
                false,
                &record.at,
                &record.text_version,
                consent_path.as_ref(),
            )?;
            // Nothing but the refusal is kept: drop the in-memory answers too.
            self.evict(id);
            self.sync.after_finalize();
            self.state(id, 0, None)
        }
    }

    /// Record a minor's assent on page `page` (after the guardian's consent). Given, the
    /// interview goes on at the next page; declined, it ends as a consent refusal does,
    /// keeping what the session kept (the consent, the screening answers, the `no`).
    pub fn record_assent(&self, id: &str, given: bool, page: u32) -> Result<InterviewState> {
        let at = now();
        let record = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .record_assent(given, &mut *env)
                .map_err(engine_error)?;
            o.session
                .response()
                .consent
                .as_ref()
                .and_then(|c| c.assent.clone())
                .ok_or_else(|| Error::Corrupt("the assent was not recorded".to_owned()))
        })?;
        // The answers first: a refusal has closed (and cleared) everything after it.
        self.persist_all(id, &at)?;
        let written = self.store.lock().record_assent(id, &record);
        if let Err(e) = written {
            self.evict(id);
            return Err(e);
        }
        if given {
            self.state(id, page + 1, None)
        } else {
            self.evict(id);
            self.sync.after_finalize();
            self.state(id, 0, None)
        }
    }

    /// Record a privacy check outcome for a group (`/experiences`).
    pub fn record_privacy(
        &self,
        id: &str,
        group_path: &str,
        outcome: PrivacyOutcome,
        page: u32,
    ) -> Result<PageUpdate> {
        let group = parse_path(group_path)?;
        let at = now();
        let record = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .record_privacy(&group, outcome, &mut *env)
                .map_err(engine_error)?;
            let record_at = o
                .session
                .response()
                .privacy
                .get(&group)
                .map(|r| r.at.clone());
            Ok(PrivacyRecord {
                outcome,
                at: record_at.unwrap_or_else(|| at.clone()),
            })
        })?;
        if let Err(e) = self.store.lock().record_privacy(id, &group, &record) {
            self.evict(id);
            return Err(e);
        }
        self.persist_all(id, &at)?;
        self.page_update(id, page, at)
    }

    /// Draw the respondent of a `respondent_selection` field (`/selected`). The seed
    /// comes from the device's random source; the draw is stored before it is shown
    /// and cannot be made again.
    pub fn draw_selection(&self, id: &str, field_path: &str, page: u32) -> Result<PageUpdate> {
        let field = parse_path(field_path)?;
        let at = now();
        let record = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            let bytes = env.random_bytes();
            let mut eight = [0u8; 8];
            eight.copy_from_slice(&bytes[..8]);
            o.session
                .draw_selection(&field, u64::from_le_bytes(eight), &mut *env)
                .map_err(engine_error)?;
            o.session
                .response()
                .selections
                .get(&field)
                .cloned()
                .ok_or_else(|| Error::Corrupt("the draw was not recorded".to_owned()))
        })?;
        if let Err(e) = self.store.lock().record_selection(id, &field, &record) {
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
        // Finalizing after every question was reached: the interview is completed.
        let outcome = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session.finalize(&mut *env);
            o.session
                .record_outcome(InterviewOutcome::Completed, None, None, &mut *env)
                .map_err(engine_error)?;
            o.session
                .outcome()
                .cloned()
                .ok_or_else(|| Error::Corrupt("the outcome was not recorded".to_owned()))
        })?;
        self.persist_all(id, &at)?;
        self.store.lock().record_outcome(id, &outcome)?;
        self.queue_finished(id, &at)?;
        Ok(review)
    }

    /// Make a finalized response editable again. A sent one too: finalizing the edit
    /// makes a new revision with only what changed, which the server merges.
    pub fn reopen(&self, id: &str) -> Result<InterviewState> {
        let at = now();
        {
            let mut store = self.store.lock();
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
        let (rows, reviews) = {
            let store = self.store.lock();
            (store.responses()?, store.review_states()?)
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let title = self.forms.title(&row.form_id, &row.form_version);
            let review_state = reviews.get(&row.id).map(|s| s.wire_name().to_owned());
            out.push(ResponseSummary {
                label: view::neutral_label(&row.id),
                response_id: row.id,
                form_id: row.form_id,
                form_version: row.form_version,
                form_title: title,
                status: row.status,
                created_at: row.created_at,
                updated_at: row.updated_at,
                edit_count: row.edit_count,
                review_state,
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
        self.store.lock().add_paradata(id, event, path, &now())
    }
}

/// The name of the consent block's answer, wherever it sits (groups do not nest answers).
fn consent_name(item: &Item) -> Option<&str> {
    match item {
        Item::Consent(c) if c.role == ConsentRole::Consent => Some(&c.name),
        Item::Consent(_) => None,
        Item::Group(g) => g.body.iter().find_map(consent_name),
        Item::Field(_) | Item::Repeat(_) => None,
    }
}

/// A session's answers in the store's encoding. Names come from the compiled form, so
/// this fails only on a damaged session.
fn flat(response: &Response) -> Result<FlatAnswers> {
    FlatAnswers::from_tree(&response.answers)
        .map_err(|e| Error::Corrupt(format!("response {}: {e}", response.id)))
}
