//! A response: the answers one respondent gave to one form version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answer::AnswerPath;
pub use crate::answer::{Answer, Answers};
pub use crate::matching::{MatchingOutcome, MatchingRecord};
use crate::selection::{KishTable, SelectionMethod};

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
    /// What happened at each group with a `match` rule, keyed by the group's path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matching: BTreeMap<AnswerPath, MatchingRecord>,
    /// Each respondent selection's draw, keyed by the selection field's path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selections: BTreeMap<AnswerPath, SelectionRecord>,
    /// How the interview ended, and the return visit agreed if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeRecord>,
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
    /// A minor's own assent, asked after this (the guardian's) consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assent: Option<AssentRecord>,
}

/// A minor's assent after the guardian's consent: a refusal ends the interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssentRecord {
    pub given: bool,
    /// When the answer was given (RFC 3339, device local offset).
    pub at: String,
    /// The assent block's `text_version` that was read to the minor.
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

/// How an interview ended: the standard list of survey practice, each with its result
/// code as DHS questionnaires print them (1 completed … 96 other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterviewOutcome {
    Completed,
    PartlyCompleted,
    Refused,
    NobodyAtHome,
    RespondentNotAvailable,
    /// Stopped because continuing was not safe (someone came in, the respondent was at risk).
    InterruptedForSafety,
    Other,
}

impl InterviewOutcome {
    pub const ALL: [InterviewOutcome; 7] = [
        InterviewOutcome::Completed,
        InterviewOutcome::PartlyCompleted,
        InterviewOutcome::Refused,
        InterviewOutcome::NobodyAtHome,
        InterviewOutcome::RespondentNotAvailable,
        InterviewOutcome::InterruptedForSafety,
        InterviewOutcome::Other,
    ];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            InterviewOutcome::Completed => "completed",
            InterviewOutcome::PartlyCompleted => "partly_completed",
            InterviewOutcome::Refused => "refused",
            InterviewOutcome::NobodyAtHome => "nobody_at_home",
            InterviewOutcome::RespondentNotAvailable => "respondent_not_available",
            InterviewOutcome::InterruptedForSafety => "interrupted_for_safety",
            InterviewOutcome::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<InterviewOutcome> {
        InterviewOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == name)
    }

    /// The result code analysts' tables use (DHS numbering: 1 completed, 2 nobody at
    /// home, 3 respondent not available (postponed), 4 refused, 5 partly completed;
    /// 6 interrupted for safety, for which DHS prints no code of its own; 96 other).
    pub fn code(self) -> u8 {
        match self {
            InterviewOutcome::Completed => 1,
            InterviewOutcome::NobodyAtHome => 2,
            InterviewOutcome::RespondentNotAvailable => 3,
            InterviewOutcome::Refused => 4,
            InterviewOutcome::PartlyCompleted => 5,
            InterviewOutcome::InterruptedForSafety => 6,
            InterviewOutcome::Other => 96,
        }
    }

    /// Whether the interview ended before its end: questions left unanswered are
    /// then part of the record, not mistakes to fix.
    pub fn ended_early(self) -> bool {
        self != InterviewOutcome::Completed
    }
}

/// How an interview ended, recorded when it ends (and again when a return visit ends it
/// another way: the last outcome stands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRecord {
    pub outcome: InterviewOutcome,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// What happened, for `other` (and any outcome the enumerator wants to explain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the enumerator agreed to come back (RFC 3339), if a return visit was agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_visit: Option<String>,
}

impl OutcomeRecord {
    /// The return visit's time, when one was agreed (and is readable).
    pub fn return_visit_at(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        self.return_visit
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    }

    /// Whether a return visit is still to be made: agreed, and the interview not
    /// completed since.
    pub fn visit_pending(&self) -> bool {
        self.outcome != InterviewOutcome::Completed && self.return_visit_at().is_some()
    }
}

/// The draw of a `respondent_selection` field: everything needed to redo it.
///
/// `voices_core::selection::draw(method, seed, &eligible)` gives `selected` again;
/// the server checks that it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionRecord {
    pub method: SelectionMethod,
    /// The seed from the device's random source, as sixteen hex digits.
    pub seed: String,
    /// How many members the roster had when the draw was made.
    pub roster_size: u32,
    /// The instance numbers of the members who were eligible, in roster order.
    pub eligible: Vec<u32>,
    /// The instance number drawn (also the field's answer).
    pub selected: u32,
    /// The Kish table drawn (`kish` method only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kish_table: Option<KishTable>,
    /// When the draw was made (RFC 3339).
    pub at: String,
}

impl SelectionRecord {
    /// Whether the recorded seed and eligible list give the recorded person.
    pub fn reproduces(&self) -> bool {
        let Some(seed) = crate::selection::parse_seed(&self.seed) else {
            return false;
        };
        let eligible_in_roster = self
            .eligible
            .iter()
            .all(|&i| i >= 1 && i <= self.roster_size)
            && self.eligible.windows(2).all(|w| w[0] < w[1]);
        eligible_in_roster
            && crate::selection::draw(self.method, seed, &self.eligible)
                .is_some_and(|d| d.selected == self.selected && d.kish_table == self.kish_table)
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

    #[test]
    fn outcome_names_are_serdes_and_codes_are_distinct() {
        let mut codes = std::collections::BTreeSet::new();
        for outcome in InterviewOutcome::ALL {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
            assert_eq!(InterviewOutcome::from_name(outcome.as_str()), Some(outcome));
            assert!(codes.insert(outcome.code()), "{outcome:?}");
            assert_eq!(
                outcome.ended_early(),
                outcome != InterviewOutcome::Completed
            );
        }
        assert_eq!(InterviewOutcome::Completed.code(), 1);
        assert_eq!(InterviewOutcome::Other.code(), 96);
    }

    #[test]
    fn a_selection_record_reproduces_only_its_own_draw() {
        let draw = crate::selection::draw(SelectionMethod::Kish, 7, &[1, 3, 4]).unwrap();
        let record = SelectionRecord {
            method: SelectionMethod::Kish,
            seed: crate::selection::seed_text(7),
            roster_size: 4,
            eligible: vec![1, 3, 4],
            selected: draw.selected,
            kish_table: draw.kish_table,
            at: "2026-12-07T10:00:00+00:00".into(),
        };
        assert!(record.reproduces());
        let other = [1, 3, 4].into_iter().find(|&i| i != draw.selected).unwrap();
        assert!(!SelectionRecord {
            selected: other,
            ..record.clone()
        }
        .reproduces());
        assert!(!SelectionRecord {
            seed: "7".into(),
            ..record.clone()
        }
        .reproduces());
        assert!(!SelectionRecord {
            roster_size: 3,
            ..record.clone()
        }
        .reproduces());
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["method"], "kish");
        assert_eq!(json["seed"], "0000000000000007");
        assert_eq!(
            serde_json::from_value::<SelectionRecord>(json).unwrap(),
            record
        );
    }
}
