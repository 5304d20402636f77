//! The neutral screen of a quick hide (safe exit): the form's decoy title, message and
//! innocuous questions, or an empty "Notes" screen. Pure (the form, a language and the
//! clock in; no store), so it is also compiled into `voices-wasm` (`wasm/src/lib.rs`),
//! whose preview hides behind the very screen the app shows: this file may use only
//! `voices_core`, `serde`, `ts_rs`, `chrono` and `crate::view`.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use ts_rs::TS;
use voices_core::engine::{self, CompiledForm, Session};
use voices_core::response::Response;

use crate::view;

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

/// The neutral screen shown during a safe exit: the form's decoy title, message and
/// the innocuous questions of its decoy group (never a pii or sensitive field).
pub fn decoy(
    compiled: Option<&Arc<CompiledForm>>,
    language: Option<&str>,
    now: DateTime<FixedOffset>,
) -> DecoyView {
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
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    };
    // A throwaway session: nothing of it is stored, it only lays out the decoy questions.
    let mut env = voices_core::env::FixedEnvironment::new(now, 0);
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
