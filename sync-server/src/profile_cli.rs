//! `voices-server device profile …`, the profile options of `device add`, and
//! `voices-server project presentation …`: a device's enumerator profile (which a
//! section's `match` rule reads on the device) and a project's neutral name (which the
//! app shows instead of its own). The binary's module: it calls the same store methods
//! as the API's handlers (`http/profile.rs`).

use anyhow::bail;
use clap::Args;
use voices_core::matching::EnumeratorProfile;
use voices_core::sync::protocol::Presentation;
use voices_server::store::Store;

/// The enumerator's profile, as options: each given part replaces the stored one; an
/// empty value (`--area ""`) makes it unknown.
#[derive(Args, Debug, Default)]
pub struct ProfileOptions {
    /// The enumerator's sex: female, male or other.
    #[arg(long)]
    pub sex: Option<String>,
    /// The languages the enumerator interviews in, as codes separated by commas
    /// (`ar,en`).
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    pub languages: Option<Vec<String>>,
    /// The enumerator's home area, as the project names areas.
    #[arg(long)]
    pub area: Option<String>,
}

impl ProfileOptions {
    pub fn is_empty(&self) -> bool {
        self.sex.is_none() && self.languages.is_none() && self.area.is_none()
    }

    /// `profile` with the given parts replaced, checked.
    pub fn apply(&self, profile: &EnumeratorProfile) -> anyhow::Result<EnumeratorProfile> {
        let mut out = profile.clone();
        if let Some(sex) = &self.sex {
            out.sex = Some(sex.clone());
        }
        if let Some(languages) = &self.languages {
            out.languages = languages.clone();
        }
        if let Some(area) = &self.area {
            out.area = Some(area.clone());
        }
        out.normalized().map_err(|e| anyhow::anyhow!(e))
    }
}

/// The profile in words, for the command's answer.
pub fn describe(profile: &EnumeratorProfile) -> String {
    let part = |v: Option<&str>| v.unwrap_or("unknown").to_owned();
    format!(
        "sex {}, languages {}, area {}",
        part(profile.sex.as_deref()),
        if profile.languages.is_empty() {
            "unknown".to_owned()
        } else {
            profile.languages.join(",")
        },
        part(profile.area.as_deref()),
    )
}

/// `device profile ID [--sex …] [--languages …] [--area …]`: print, or change and print.
pub fn device_profile(
    store: &dyn Store,
    id: &str,
    options: &ProfileOptions,
    say: impl Fn(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some(current) = store.device_profile(None, id)? else {
        bail!("there is no device `{id}`");
    };
    let profile = if options.is_empty() {
        current
    } else {
        let profile = options.apply(&current)?;
        if !store.set_device_profile(None, id, &profile)? {
            bail!("there is no device `{id}`");
        }
        profile
    };
    say(&format!(
        "device `{id}`: enumerator {}{}",
        describe(&profile),
        if options.is_empty() {
            ""
        } else {
            " (the device takes it at its next sync)"
        }
    ))
}

/// `project presentation ID [--neutral-name …]`: print, or change and print.
pub fn presentation(
    store: &dyn Store,
    id: &str,
    neutral_name: Option<&str>,
    say: impl Fn(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some(mut presentation) = store.presentation(id)? else {
        bail!("there is no project `{id}`");
    };
    if let Some(name) = neutral_name {
        presentation = Presentation {
            neutral_name: Some(name.to_owned()),
        }
        .normalized()
        .map_err(|e| anyhow::anyhow!(e))?;
        if !store.set_presentation(id, &presentation)? {
            bail!("there is no project `{id}`");
        }
    }
    match &presentation.neutral_name {
        Some(name) => say(&format!(
            "project `{id}`: the app shows itself as \"{name}\"{}",
            if neutral_name.is_some() {
                " from the devices' next sync"
            } else {
                ""
            }
        )),
        None => say(&format!(
            "project `{id}`: no neutral name; the app shows its own name"
        )),
    }
}
