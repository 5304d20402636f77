//! Enumerator–respondent matching in an interview: checking a section's `match` rule
//! with the enumerator profile kept from the last sync; when it is not met, offering the
//! section to a colleague (the same rule, in the core, with the profile they state:
//! accepted or refused, recorded either way) or skipping it; and what the app presents
//! (the project's neutral name and the profile).

use serde::Serialize;
use ts_rs::TS;
use voices_core::matching::{Colleague, EnumeratorProfile, MatchingRecord};

use super::interview::PageUpdate;
use super::{engine_error, parse_path, Voices};
use crate::commands::HandOverRequest;
use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::sync::profile;

/// What checking a section's rule found.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MatchingCheck {
    /// The device's enumerator meets the rule: `matched` is recorded and the section is
    /// open. Otherwise the section stays closed until a hand-over or a skip is recorded.
    pub matched: bool,
    /// The device has an enumerator profile. Without one no rule that names a value is
    /// met, and the screen says so.
    pub profile_known: bool,
    pub update: PageUpdate,
}

/// What offering a section to a colleague did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HandOverResult {
    /// The colleague meets the section's rule: it is handed over and opens. Otherwise
    /// the refusal is recorded and the section stays closed (offer it to someone else,
    /// or skip it).
    pub accepted: bool,
    pub update: PageUpdate,
}

/// What the app shows of itself.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Presentation {
    /// The project's neutral name, or the app's own ("Voices").
    pub name: String,
    /// The enumerator profile kept from the last sync (`None`: none yet).
    #[ts(type = "{ sex?: string, languages?: Array<string>, area?: string } | null")]
    pub enumerator: Option<EnumeratorProfile>,
}

impl Voices {
    /// Check the `match` rule of the section at `group_path` with this device's
    /// enumerator; when it holds, `matched` is recorded (stored before it is shown).
    pub fn check_matching(&self, id: &str, group_path: &str, page: u32) -> Result<MatchingCheck> {
        let group = parse_path(group_path)?;
        let enumerator = self.store.with(|s| profile::enumerator_profile(s))?;
        let profile_known = enumerator.is_some();
        let at = now();
        let record = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            env.enumerator = enumerator;
            let matched = o
                .session
                .check_matching(&group, &mut *env)
                .map_err(engine_error)?;
            Ok(matched.and_then(|_| o.session.matching_record(&group).cloned()))
        })?;
        let matched = record.is_some();
        if let Some(record) = record {
            self.keep_matching(id, &group, &record, &at)?;
        }
        Ok(MatchingCheck {
            matched,
            profile_known,
            update: self.page_update(id, page, at)?,
        })
    }

    /// Offer the section to a colleague: the core evaluates the section's rule with the
    /// profile they state; the record (handed over, or the refusal) is stored before it
    /// is shown.
    pub fn hand_over(&self, request: &HandOverRequest) -> Result<HandOverResult> {
        let group = parse_path(&request.group_path)?;
        let colleague = Colleague {
            by: request.by.clone(),
            profile: EnumeratorProfile {
                sex: request.sex.clone(),
                languages: request.languages.clone(),
                area: request.area.clone(),
            },
        };
        let at = now();
        let (accepted, record) = self.with_open(&request.response_id, |o| {
            let mut env = lock(&self.env);
            let done = o
                .session
                .hand_over(&group, &colleague, &mut *env)
                .map_err(engine_error)?;
            let record = o
                .session
                .matching_record(&group)
                .cloned()
                .ok_or_else(|| Error::Corrupt("the matching record was not kept".to_owned()))?;
            Ok((done.accepted, record))
        })?;
        self.keep_matching(&request.response_id, &group, &record, &at)?;
        Ok(HandOverResult {
            accepted,
            update: self.page_update(&request.response_id, request.page, at)?,
        })
    }

    /// Skip the section at `group_path`: no suitable enumerator.
    pub fn skip_matching(&self, id: &str, group_path: &str, page: u32) -> Result<PageUpdate> {
        let group = parse_path(group_path)?;
        let at = now();
        let record = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .skip_matching(&group, &mut *env)
                .map_err(engine_error)?;
            o.session
                .matching_record(&group)
                .cloned()
                .ok_or_else(|| Error::Corrupt("the matching record was not kept".to_owned()))
        })?;
        self.keep_matching(id, &group, &record, &at)?;
        self.page_update(id, page, at)
    }

    fn keep_matching(
        &self,
        id: &str,
        group: &voices_core::answer::AnswerPath,
        record: &MatchingRecord,
        at: &str,
    ) -> Result<()> {
        if let Err(e) = self.store.lock().record_matching(id, group, record) {
            self.evict(id);
            return Err(e);
        }
        // A skip clears the section's answers.
        self.persist_all(id, at)
    }

    /// The name the app shows and the enumerator profile it holds.
    pub fn presentation(&self) -> Result<Presentation> {
        self.store.with(|s| {
            Ok(Presentation {
                name: profile::shown_name(s)?,
                enumerator: profile::enumerator_profile(s)?,
            })
        })
    }
}
