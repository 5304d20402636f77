//! `voices-core` in the browser: the form designer's workbench in the console checks,
//! previews and lays out test responses with the very engine the app and the server run.
//!
//! A thin shell: each export calls one function of [`workbench`] and answers with its
//! JSON envelope (`{"ok": …}` or `{"error": {"kind", "message"}}`), which the console's
//! `lib/workbench/core.ts` unwraps. `scripts/build-wasm.sh` builds it for
//! `wasm32-unknown-unknown` and runs `wasm-bindgen --target web` into `wasm/pkg/`.

use base64::Engine as _;
use serde_json::Value as Json;
use wasm_bindgen::prelude::wasm_bindgen;

pub mod changes;
pub mod screens;
pub mod unseal;
pub mod workbench;

/// The app's interview pages as its screens draw them: `src-tauri/src/view.rs`, one
/// source compiled into the app and into this crate, so the console's preview gets the
/// very shapes the app's Svelte components take (`screens` builds on it).
#[allow(dead_code)]
#[path = "../../src-tauri/src/view.rs"]
mod view;

/// The neutral screen of a quick hide: `src-tauri/src/decoy.rs`, the app's own, so the
/// preview hides behind the very screen the app shows.
#[path = "../../src-tauri/src/decoy.rs"]
mod decoy;

/// What `view.rs` names from the app's commands module: the TypeScript declaration of a
/// privacy outcome (only its derive is used).
mod commands {
    #[allow(dead_code)]
    #[derive(ts_rs::TS)]
    pub enum PrivacyChoice {
        Private,
        NotPrivate,
        Interrupted,
    }

    /// A matching outcome (only its derive is used).
    #[allow(dead_code)]
    #[derive(ts_rs::TS)]
    pub enum MatchingChoice {
        Matched,
        HandedOver,
        HandOverRefused,
        Skipped,
    }
}

use workbench::envelope;

/// The checker's findings in form source text (see [`workbench::check`]).
#[wasm_bindgen]
pub fn check(source: &str) -> String {
    envelope(Ok(workbench::check(source)))
}

/// One round of the engine's warm-up while the page is idle (see [`workbench::warm_up`]).
#[wasm_bindgen]
pub fn warm_up() -> String {
    envelope(Ok(workbench::warm_up()))
}

/// What a draft changes since the published version (see [`changes::changes`]).
#[wasm_bindgen]
pub fn changes(published: &str, draft: &str) -> String {
    envelope(workbench::changes(published, draft))
}

/// One expression with an instance of path → value(s) (see [`workbench::evaluate`]).
#[wasm_bindgen]
pub fn evaluate(expression: &str, instance_json: &str, now: &str, seed: u32) -> String {
    envelope(
        serde_json::from_str::<Json>(instance_json)
            .map_err(|e| workbench::Error::InvalidInput(format!("the instance is not JSON: {e}")))
            .and_then(|instance| workbench::evaluate(expression, &instance, now, seed)),
    )
}

/// A test response being filled in the page: the engine's operations (see
/// [`workbench::Preview`]) and the app's interview screens over them (`screen_*`, see
/// [`screens::Screens`]).
#[wasm_bindgen]
pub struct Preview {
    inner: Option<screens::Screens>,
    refused: String,
}

#[wasm_bindgen]
impl Preview {
    /// Start filling the form in `source`, going on with the test response `previous`
    /// (JSON from `response()`) when given. Never throws: a form that cannot be filled
    /// gives a preview whose `started()` answers the refusal.
    #[wasm_bindgen(constructor)]
    pub fn new(
        source: &str,
        response_id: &str,
        previous: Option<String>,
        now: &str,
        seed: u32,
    ) -> Preview {
        match workbench::Preview::resume(source, response_id, previous.as_deref(), now, seed)
            .and_then(|p| screens::Screens::new(p, None))
        {
            Ok(inner) => Preview {
                inner: Some(inner),
                refused: String::new(),
            },
            Err(e) => Preview {
                inner: None,
                refused: envelope(Err(e)),
            },
        }
    }

    /// `{"ok": null}` when the session started, else why not.
    pub fn started(&self) -> String {
        match self.inner {
            Some(_) => envelope(Ok(Json::Null)),
            None => self.refused.clone(),
        }
    }

    pub fn set_now(&mut self, now: &str) -> String {
        self.with(|p| p.set_now(now))
    }

    pub fn view(&mut self, lang: &str) -> String {
        self.with(|p| Ok(p.view(lang)))
    }

    /// `value` undefined or null clears the answer.
    pub fn set_answer(&mut self, path: &str, value: Option<String>) -> String {
        self.with(|p| p.set_answer(path, value))
    }

    pub fn add_instance(&mut self, path: &str) -> String {
        self.with(|p| p.add_instance(path))
    }

    pub fn remove_instance(&mut self, path: &str) -> String {
        self.with(|p| p.remove_instance(path))
    }

    pub fn record_consent(&mut self, given: bool) -> String {
        self.with(|p| p.record_consent(given))
    }

    pub fn record_assent(&mut self, given: bool) -> String {
        self.with(|p| p.record_assent(given))
    }

    pub fn record_privacy(&mut self, path: &str, outcome: &str) -> String {
        self.with(|p| p.record_privacy(path, outcome))
    }

    pub fn check_matching(&mut self, path: &str) -> String {
        self.with(|p| p.check_matching(path))
    }

    /// `languages` space-separated.
    pub fn hand_over(
        &mut self,
        path: &str,
        by: &str,
        sex: Option<String>,
        languages: &str,
        area: Option<String>,
    ) -> String {
        self.with(|p| p.hand_over(path, by, sex, languages, area))
    }

    pub fn skip_matching(&mut self, path: &str) -> String {
        self.with(|p| p.skip_matching(path))
    }

    /// The enumerator the designer previews as: the profile's JSON, or none.
    pub fn set_enumerator(&mut self, profile: Option<String>) -> String {
        self.with(|p| p.set_enumerator(profile.as_deref()))
    }

    /// The project's referral directory (its published JSON) for referral steps, or none.
    pub fn set_directory(&mut self, directory: Option<String>) -> String {
        self.screens(|s| s.set_directory(directory.as_deref()))
    }

    pub fn validate(&mut self, lang: &str) -> String {
        self.with(|p| Ok(p.validate(lang)))
    }

    pub fn finalize(&mut self) -> String {
        self.with(|p| Ok(p.finalize()))
    }

    pub fn response(&mut self) -> String {
        self.with(|p| Ok(p.response()))
    }

    pub fn export_layout(&mut self, include_pii: bool, labels: bool) -> String {
        self.with(|p| Ok(p.export_layout(include_pii, labels)))
    }

    // The app's interview screens (the answers of its commands of the same names); `now`
    // is the browser's clock as the engine takes it (RFC 3339 with the local offset).

    /// `interview_state`: the whole screen at `page`, in `language` when given.
    pub fn screen_state(&mut self, page: u32, language: Option<String>) -> String {
        self.screens(|s| s.state(page, language.as_deref()))
    }

    /// `get_page`.
    pub fn screen_page(&mut self, page: u32) -> String {
        self.screens(|s| s.page(page))
    }

    /// `set_answer`: an empty or absent value clears the answer.
    pub fn screen_set_answer(
        &mut self,
        path: &str,
        value: Option<String>,
        page: u32,
        now: &str,
    ) -> String {
        self.screens(|s| s.set_answer(path, value, page, now))
    }

    /// `add_repeat_instance`.
    pub fn screen_add_instance(&mut self, path: &str, page: u32, now: &str) -> String {
        self.screens(|s| s.add_instance(path, page, now))
    }

    /// `remove_repeat_instance`.
    pub fn screen_remove_instance(&mut self, path: &str, page: u32, now: &str) -> String {
        self.screens(|s| s.remove_instance(path, page, now))
    }

    /// `record_consent`.
    pub fn screen_record_consent(&mut self, given: bool, now: &str) -> String {
        self.screens(|s| s.record_consent(given, now))
    }

    /// `record_assent`.
    pub fn screen_record_assent(&mut self, given: bool, page: u32, now: &str) -> String {
        self.screens(|s| s.record_assent(given, page, now))
    }

    /// `record_privacy`.
    pub fn screen_record_privacy(
        &mut self,
        group: &str,
        outcome: &str,
        page: u32,
        now: &str,
    ) -> String {
        self.screens(|s| s.record_privacy(group, outcome, page, now))
    }

    /// `check_matching`, with the profile previewed as.
    pub fn screen_check_matching(&mut self, group: &str, page: u32, now: &str) -> String {
        self.screens(|s| s.check_matching(group, page, now))
    }

    /// `hand_over` (`languages` space-separated).
    #[allow(clippy::too_many_arguments)]
    pub fn screen_hand_over(
        &mut self,
        group: &str,
        by: &str,
        sex: Option<String>,
        languages: &str,
        area: Option<String>,
        page: u32,
        now: &str,
    ) -> String {
        self.screens(|s| s.hand_over(group, by, sex, languages, area, page, now))
    }

    /// `skip_matching`.
    pub fn screen_skip_matching(&mut self, group: &str, page: u32, now: &str) -> String {
        self.screens(|s| s.skip_matching(group, page, now))
    }

    /// `draw_selection`: the draw's seed comes from the preview's random numbers.
    pub fn screen_draw_selection(&mut self, path: &str, page: u32, now: &str) -> String {
        self.screens(|s| s.draw_selection(path, page, now))
    }

    /// `end_interview`.
    pub fn screen_end_interview(
        &mut self,
        outcome: &str,
        note: Option<String>,
        return_visit: Option<String>,
        now: &str,
    ) -> String {
        self.screens(|s| s.end_interview(outcome, note, return_visit, now))
    }

    /// `review`.
    pub fn screen_review(&mut self) -> String {
        self.screens(|s| Ok(s.review()))
    }

    /// `finalize`.
    pub fn screen_finalize(&mut self, now: &str) -> String {
        self.screens(|s| s.finalize(now))
    }

    /// `reopen`.
    pub fn screen_reopen(&mut self) -> String {
        self.screens(|s| s.reopen())
    }

    /// `safe_exit`: the screen a quick hide shows, in the language on screen.
    pub fn screen_safe_exit(&mut self, now: &str) -> String {
        self.screens(|s| s.safe_exit(now))
    }
}

impl Preview {
    fn with(
        &mut self,
        op: impl FnOnce(&mut workbench::Preview) -> workbench::Result<Json>,
    ) -> String {
        self.screens(|s| op(s.preview_mut()))
    }

    fn screens(
        &mut self,
        op: impl FnOnce(&mut screens::Screens) -> workbench::Result<Json>,
    ) -> String {
        match self.inner.as_mut() {
            Some(s) => envelope(op(s)),
            None => self.refused.clone(),
        }
    }
}

/// The coordinator's identity, opened in the page to read sealed answers (see
/// [`unseal`]). Held only in the module's memory; the console frees it (`free()`) when
/// the coordinator forgets the key or signs out, and never sends it anywhere.
#[wasm_bindgen]
pub struct Keyring {
    inner: Result<unseal::Identities, String>,
}

#[wasm_bindgen]
impl Keyring {
    /// Open the identity file's bytes with its passphrase. Never throws: `opened()`
    /// answers the public keys or why the file did not open.
    #[wasm_bindgen(constructor)]
    pub fn new(file: &[u8], passphrase: &str) -> Keyring {
        Keyring {
            inner: unseal::Identities::open(file, passphrase).map_err(|e| unseal::envelope(Err(e))),
        }
    }

    /// `{"ok": {"recipients": ["age1…"]}}`, or the error that kept the file closed.
    pub fn opened(&self) -> String {
        match &self.inner {
            Ok(identities) => unseal::envelope(Ok(
                serde_json::json!({ "recipients": identities.recipients() }),
            )),
            Err(refused) => refused.clone(),
        }
    }

    /// One sealed answer's clear text: `{"ok": "…"}` or an error (`not_yours`, `not_sealed`).
    pub fn open(&self, sealed: &str) -> String {
        match &self.inner {
            Ok(identities) => unseal::envelope(identities.open_sealed(sealed).map(Json::from)),
            Err(refused) => refused.clone(),
        }
    }

    /// The name a sealed file answer's file goes by on the server (`sealed-….age`, the
    /// core's `Sealed::file_name`): `{"ok": "sealed-….age"}`, or `not_sealed`.
    pub fn file_name(&self, sealed: &str) -> String {
        unseal::envelope(unseal::file_name(sealed).map(Json::from))
    }

    /// One sealed file's clear bytes (the age file as the server serves it), base64:
    /// `{"ok": "…"}` or an error (`not_yours`, `not_sealed`).
    pub fn open_file(&self, sealed: &[u8]) -> String {
        match &self.inner {
            Ok(identities) => {
                unseal::envelope(identities.open_file(sealed).map(|clear| {
                    Json::from(base64::engine::general_purpose::STANDARD.encode(clear))
                }))
            }
            Err(refused) => refused.clone(),
        }
    }

    /// Many sealed answers (a JSON array of texts): `{"ok": [each as open() answers it]}`.
    pub fn open_each(&self, sealed_json: &str) -> String {
        match &self.inner {
            Ok(identities) => unseal::envelope(
                serde_json::from_str::<Vec<String>>(sealed_json)
                    .map_err(|e| {
                        unseal::Error::NotSealed(format!(
                            "the sealed answers are a JSON array of texts: {e}"
                        ))
                    })
                    .map(|texts| Json::from(identities.open_each(&texts))),
            ),
            Err(refused) => refused.clone(),
        }
    }
}
