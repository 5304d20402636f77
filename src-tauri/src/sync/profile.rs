//! What the device presents, taken from the server at each sync and kept in the
//! settings: its enumerator's profile (which sections' `match` rules read through the
//! engine's environment) and the project's neutral name (the window title, the name on
//! screen and reminders use it instead of the app's own).

use voices_core::matching::EnumeratorProfile;

use super::Syncer;
use crate::error::{Error, Result};
use crate::store::Store;

/// The settings key of the enumerator profile (JSON).
pub(crate) const PROFILE_KEY: &str = "device.enumerator_profile";
/// The settings key of the project's neutral name.
pub(crate) const NEUTRAL_NAME_KEY: &str = "device.neutral_name";
/// The app's own name, shown when the project gives no neutral name.
pub const APP_NAME: &str = "Voices";

impl Syncer {
    /// Keep the profile and the neutral name the server gave (no name: the app's own).
    pub(crate) fn keep_profile(
        &self,
        enumerator: &EnumeratorProfile,
        neutral_name: Option<&str>,
    ) -> Result<()> {
        let json = serde_json::to_string(enumerator)
            .map_err(|e| Error::Corrupt(format!("enumerator profile: {e}")))?;
        self.store.with(|s| {
            s.set_setting(PROFILE_KEY, &json)?;
            match neutral_name.map(str::trim).filter(|n| !n.is_empty()) {
                Some(name) => s.set_setting(NEUTRAL_NAME_KEY, name),
                None => s.delete_setting(NEUTRAL_NAME_KEY),
            }
        })
    }
}

/// Forget the profile and the neutral name (a link made or undone: they were the
/// project's).
pub(crate) fn forget(store: &mut Store) -> Result<()> {
    store.delete_setting(PROFILE_KEY)?;
    store.delete_setting(NEUTRAL_NAME_KEY)
}

/// The enumerator profile kept on the device; `None` before a sync brought one (or
/// when the server knows nothing of the enumerator).
pub(crate) fn enumerator_profile(store: &Store) -> Result<Option<EnumeratorProfile>> {
    let Some(json) = store.setting(PROFILE_KEY)? else {
        return Ok(None);
    };
    let profile: EnumeratorProfile = serde_json::from_str(&json)
        .map_err(|e| Error::Corrupt(format!("the kept enumerator profile: {e}")))?;
    Ok((!profile.is_empty()).then_some(profile))
}

/// The name the app shows: the project's neutral name, or its own.
pub(crate) fn shown_name(store: &Store) -> Result<String> {
    Ok(store
        .setting(NEUTRAL_NAME_KEY)?
        .unwrap_or_else(|| APP_NAME.to_owned()))
}
