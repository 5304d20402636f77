//! The app's interview screens over a test response in the page: the answers of the
//! Tauri commands the interview calls (`InterviewState`, `PageView`, `PageUpdate`,
//! `Review` of `ui/src/lib/bindings.ts`), so the console's preview runs the app's own
//! Svelte components against the WebAssembly engine (`ui/src/lib/wasmBackend.ts`).
//!
//! The shapes are the app's: its `view.rs` (the engine's pages as the screens draw them)
//! is compiled into this crate too, and what `src-tauri/src/voices/interview.rs` adds
//! around it (the state, the page update, the review) is rebuilt here without a store.

use serde_json::{json, Value as Json};
use voices_core::engine::FormView;
use voices_core::form::{Direction, Form, Item};
use voices_core::referral::Directory;

use crate::decoy;
use crate::view::{self, PageKind, PageView};
use crate::workbench::{instant, Error, Preview, Result};

/// Where the test response is in its life (the app's `ResponseStatus` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Draft,
    Queued,
    Refused,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Queued => "queued",
            Status::Refused => "refused",
        }
    }
}

/// One test interview: the preview session, its language and status.
pub struct Screens {
    preview: Preview,
    language: String,
    status: Status,
    edits: u32,
    /// The project's referral directory the designer loaded ([`Screens::set_directory`]).
    directory: Option<Directory>,
}

fn to_json(value: impl serde::Serialize) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}

impl Screens {
    pub fn new(preview: Preview, language: Option<&str>) -> Result<Screens> {
        let mut screens = Screens {
            language: preview.form().default_language.clone(),
            preview,
            status: Status::Draft,
            edits: 0,
            directory: None,
        };
        if let Some(lang) = language {
            screens.set_language(lang)?;
        }
        Ok(screens)
    }

    pub fn preview_mut(&mut self) -> &mut Preview {
        &mut self.preview
    }

    fn set_language(&mut self, lang: &str) -> Result<()> {
        let form = self.preview.form();
        if form.language(lang).is_none() {
            return Err(Error::InvalidInput(format!(
                "form `{}` is not written in language `{lang}`",
                form.id
            )));
        }
        self.language = lang.to_owned();
        Ok(())
    }

    fn view(&self) -> FormView {
        self.preview.session().view(&self.language)
    }

    /// Page `index` of a view (clamped to the last page), marked when inside a privacy
    /// group, as the app's `page_of` does.
    fn page_of(&self, v: &FormView, index: u32) -> Result<PageView> {
        let form = self.preview.form();
        let count = v.pages.len().max(1);
        let index = (index as usize).min(count - 1);
        let mut page = view::page(v, index)
            .ok_or_else(|| Error::InvalidForm(format!("form `{}` has no questions", form.id)))?;
        // The app's own listing (src-tauri's view.rs, core's `Directory::matching`).
        view::list_services(&mut page, v, self.directory.as_ref());
        if page.kind == PageKind::Questions {
            page.privacy_group = privacy_group(form, &page.key);
        }
        Ok(page)
    }

    /// The whole screen at `page`, switching language first when asked.
    pub fn state(&mut self, page: u32, language: Option<&str>) -> Result<Json> {
        if let Some(lang) = language {
            self.set_language(lang)?;
        }
        let v = self.view();
        let form = self.preview.form();
        Ok(json!({
            "response_id": self.preview.session().response().id,
            "form_id": form.id,
            "form_version": form.version,
            "form_title": v.title,
            "status": self.status.as_str(),
            "language": self.language,
            "rtl": v.direction == Direction::Rtl,
            "languages": to_json(view::languages(form)),
            "outline": to_json(view::outline(&v)),
            "page_count": v.pages.len(),
            "page": to_json(self.page_of(&v, page)?),
            "edit_count": self.edits,
        }))
    }

    pub fn page(&self, index: u32) -> Result<Json> {
        Ok(to_json(self.page_of(&self.view(), index)?))
    }

    fn update(&mut self, page: u32, saved_at: &str) -> Result<Json> {
        let v = self.view();
        Ok(json!({
            "saved_at": saved_at,
            "page": to_json(self.page_of(&v, page)?),
            "page_count": v.pages.len(),
            "outline": to_json(view::outline(&v)),
        }))
    }

    fn editable(&self) -> Result<()> {
        match self.status {
            Status::Draft => Ok(()),
            other => Err(Error::InvalidInput(format!(
                "the test response is {}; reopen it to edit",
                other.as_str()
            ))),
        }
    }

    /// An answer (an empty one clears it, as in the app); `now` is when it was given.
    pub fn set_answer(
        &mut self,
        path: &str,
        value: Option<String>,
        page: u32,
        now: &str,
    ) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        let value = value.filter(|v| !v.is_empty());
        self.preview.set_answer(path, value)?;
        self.update(page, now)
    }

    pub fn add_instance(&mut self, path: &str, page: u32, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.add_instance(path)?;
        self.update(page, now)
    }

    pub fn remove_instance(&mut self, path: &str, page: u32, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.remove_instance(path)?;
        self.update(page, now)
    }

    /// Consent given opens the questions (page 1); declined keeps only the refusal.
    pub fn record_consent(&mut self, given: bool, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.record_consent(given)?;
        if given {
            self.state(1, None)
        } else {
            self.status = Status::Refused;
            self.state(0, None)
        }
    }

    /// A minor's assent on page `page`: given goes on to the next page; declined ends
    /// the interview as a consent refusal does.
    pub fn record_assent(&mut self, given: bool, page: u32, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.record_assent(given)?;
        if given {
            self.state(page + 1, None)
        } else {
            self.status = Status::Refused;
            self.state(0, None)
        }
    }

    pub fn record_privacy(
        &mut self,
        group: &str,
        outcome: &str,
        page: u32,
        now: &str,
    ) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.record_privacy(group, outcome)?;
        self.update(page, now)
    }

    /// Check a section's `match` rule with the profile previewed as, as the app's
    /// `check_matching` answers.
    pub fn check_matching(&mut self, group: &str, page: u32, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        let checked = self.preview.check_matching(group)?;
        Ok(json!({
            "matched": checked["matched"],
            "profile_known": self.preview.has_enumerator(),
            "update": self.update(page, now)?,
        }))
    }

    /// Offer a section to a colleague, as the app's `hand_over` answers.
    #[allow(clippy::too_many_arguments)]
    pub fn hand_over(
        &mut self,
        group: &str,
        by: &str,
        sex: Option<String>,
        languages: &str,
        area: Option<String>,
        page: u32,
        now: &str,
    ) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        let done = self.preview.hand_over(group, by, sex, languages, area)?;
        Ok(json!({
            "accepted": done["accepted"],
            "update": self.update(page, now)?,
        }))
    }

    /// Skip a section, as the app's `skip_matching` answers.
    pub fn skip_matching(&mut self, group: &str, page: u32, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.skip_matching(group)?;
        self.update(page, now)
    }

    /// The project's published referral directory (its JSON as `GET …/referrals`
    /// answers: the version and publication time beside the services are read past), for
    /// referral steps to list the matching services as the app does; `None`: none, as on
    /// a device no sync has brought one to. `{"services": n}`.
    pub fn set_directory(&mut self, directory: Option<&str>) -> Result<Json> {
        let refused = |why: String| {
            Error::InvalidInput(format!("the referral directory is not valid: {why}"))
        };
        self.directory = match directory {
            None => None,
            Some(text) => {
                let mut body: Json =
                    serde_json::from_str(text).map_err(|e| refused(e.to_string()))?;
                if let Some(object) = body.as_object_mut() {
                    object.remove("version");
                    object.remove("published_at");
                }
                Some(
                    Directory::from_json(&body.to_string())
                        .map_err(|problems| refused(problems.join("; ")))?,
                )
            }
        };
        Ok(json!({ "services": self.directory.as_ref().map_or(0, |d| d.services.len()) }))
    }

    /// Draw the respondent of a `respondent_selection` field, once.
    pub fn draw_selection(&mut self, path: &str, page: u32, now: &str) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.draw_selection(path)?;
        self.update(page, now)
    }

    /// End the interview early with an outcome: what was never reached is excused, so
    /// the test response counts as queued unless an answer given is wrong (the review
    /// lists it), as in the app.
    pub fn end_interview(
        &mut self,
        outcome: &str,
        note: Option<String>,
        return_visit: Option<String>,
        now: &str,
    ) -> Result<Json> {
        self.editable()?;
        self.preview.set_now(now)?;
        self.preview.end_interview(outcome, note, return_visit)?;
        let review = self.review();
        if review["can_finalize"] == true {
            self.status = Status::Queued;
            self.edits += 1;
        }
        Ok(review)
    }

    pub fn review(&self) -> Json {
        let v = self.view();
        let violations = self.preview.session().validate(&self.language);
        let issues = view::issues(&v, &violations);
        json!({ "can_finalize": issues.is_empty(), "issues": to_json(issues) })
    }

    /// Finalize when nothing is missing or invalid (the test response then counts as
    /// queued, as in the app); otherwise what is.
    pub fn finalize(&mut self, now: &str) -> Result<Json> {
        self.editable()?;
        let review = self.review();
        if review["can_finalize"] == true {
            self.preview.set_now(now)?;
            self.preview.finalize();
            self.status = Status::Queued;
            self.edits += 1;
        }
        Ok(review)
    }

    /// The neutral screen of a quick hide in the language on screen, as the app's
    /// `safe_exit` answers (the preview records no paradata).
    pub fn safe_exit(&self, now: &str) -> Result<Json> {
        let form = self.preview.session().form();
        Ok(to_json(decoy::decoy(
            Some(form),
            Some(&self.language),
            instant(now)?,
        )))
    }

    pub fn reopen(&mut self) -> Result<Json> {
        if self.status == Status::Queued {
            self.status = Status::Draft;
        }
        self.state(0, None)
    }
}

/// The top-level privacy-checked group a page is inside (`/experiences`), if any.
fn privacy_group(form: &Form, key: &str) -> Option<String> {
    form.body.iter().find_map(|item| match item {
        Item::Group(g)
            if g.privacy.is_some()
                && (key == format!("/{}", g.name) || key.starts_with(&format!("/{}/", g.name))) =>
        {
            Some(format!("/{}", g.name))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-12-07T10:00:00+03:00";

    fn example() -> Screens {
        let source = include_str!("../../schemas/forms/human-security-perceptions.json");
        let preview = Preview::start(source, "r1", NOW, 1).unwrap();
        Screens::new(preview, Some("ar")).unwrap()
    }

    #[test]
    fn quick_hide_shows_the_forms_decoy_in_the_language_on_screen() {
        let screens = example();
        let decoy = screens.safe_exit(NOW).unwrap();
        assert_eq!(decoy["title"], "استهلاك الأسرة");
        assert_eq!(decoy["language"], "ar");
        assert_eq!(decoy["rtl"], true);
        // The innocuous questions of the decoy group, and nothing else of the form.
        let paths: Vec<&str> = decoy["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            ["/staple_food", "/meals_yesterday", "/cooking_fuel"],
            "{decoy}"
        );
        assert!(screens.safe_exit("now").is_err());
    }
}
