//! A response: the answers one respondent gave to one form version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answer::AnswerPath;
pub use crate::answer::{Answer, Answers};

/// A respondent's answers to one form version, with consent and privacy outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// UUID (v7) made by the device that started the interview.
    pub id: String,
    pub form_id: String,
    pub form_version: String,
    /// Answers by field name (`group/name` where a name is used in two groups of one
    /// scope); repeats hold one answer set per instance.
    #[serde(default)]
    pub answers: Answers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
    /// Outcome of each privacy check, keyed by the group's path (`/group` or `/repeat[2]/group`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub privacy: BTreeMap<AnswerPath, PrivacyRecord>,
}

/// The informed-consent outcome, part of every response to a form with a consent block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord {
    pub given: bool,
    /// When the answer was given (RFC 3339, device local offset).
    pub at: String,
    /// The consent block's `text_version` that was read to the respondent.
    pub text_version: String,
}

/// The outcome of a privacy check before a `privacy: required` group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyRecord {
    pub outcome: PrivacyOutcome,
    /// When the outcome was recorded (RFC 3339).
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyOutcome {
    /// The respondent can answer privately: the group is asked.
    Private,
    /// Not private: the group is skipped.
    NotPrivate,
    /// The interview was interrupted inside the group; it may be resumed later.
    Interrupted,
}

impl PrivacyOutcome {
    pub const ALL: [PrivacyOutcome; 3] = [
        PrivacyOutcome::Private,
        PrivacyOutcome::NotPrivate,
        PrivacyOutcome::Interrupted,
    ];

    /// The name serde writes, for storing the outcome as text.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyOutcome::Private => "private",
            PrivacyOutcome::NotPrivate => "not_private",
            PrivacyOutcome::Interrupted => "interrupted",
        }
    }

    /// The outcome a name names.
    pub fn from_name(name: &str) -> Option<PrivacyOutcome> {
        PrivacyOutcome::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_outcome_names_are_serdes() {
        for outcome in PrivacyOutcome::ALL {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
            assert_eq!(PrivacyOutcome::from_name(outcome.as_str()), Some(outcome));
        }
        assert_eq!(PrivacyOutcome::from_name("private "), None);
    }
}
