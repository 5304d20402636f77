//! The app's own settings (its language, the idle time before it locks), kept in the
//! store for the next start.

use serde::Serialize;
use ts_rs::TS;
use voices_core::sync::protocol::DevicePolicy;

use super::Voices;
use crate::error::{Error, Result};
use crate::sync::policy::IDLE_LOCK_KEY;

/// The app's own settings, restored when the app starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppSettings {
    /// The language of the app's own wording, chosen in the header (a language tag such
    /// as `ar`); `null` until the enumerator picks one.
    pub language: Option<String>,
}

/// The settings key of the app's own language.
const APP_LANGUAGE_KEY: &str = "app_language";
/// Idle time before the app locks when the project sets none: 5 minutes.
pub const DEFAULT_IDLE_LOCK_SECONDS: u32 = DevicePolicy::DEFAULT_IDLE_LOCK_SECONDS;

impl Voices {
    /// Idle time before the app locks itself: the project's setting (taken at each
    /// sync), else the default; never shorter than the policy's minimum.
    pub fn idle_lock_seconds(&self) -> Result<u32> {
        let stored = self.store.with(|s| s.setting(IDLE_LOCK_KEY))?;
        Ok(stored
            .and_then(|v| v.parse::<u32>().ok())
            .map(|v| v.max(DevicePolicy::MIN_IDLE_LOCK_SECONDS))
            .unwrap_or(DEFAULT_IDLE_LOCK_SECONDS))
    }

    pub fn app_settings(&self) -> Result<AppSettings> {
        Ok(AppSettings {
            language: self.store.with(|s| s.setting(APP_LANGUAGE_KEY))?,
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
        self.store.with(|s| s.set_setting(APP_LANGUAGE_KEY, tag))?;
        self.app_settings()
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
