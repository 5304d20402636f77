//! What the merge keeps per response: registers, each holding values.
//!
//! Every answer (by its flat key, see [`crate::answer::FlatAnswers`]), the consent
//! record, each privacy outcome, each respondent-selection draw, the status and the form
//! version, and how the interview ended, is a register. Stored and sent as text:
//! `/members[2]/age`, `@consent`, `@outcome`,
//! `@privacy/safety`, `@selection/selected`, `@status`, `@version`; registers order as
//! that text does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::revision::ResponseStatus;
use crate::answer::{AnswerPath, PathError, Sealed};
use crate::response::{
    ConsentRecord, MatchingRecord, OutcomeRecord, PrivacyRecord, SelectionRecord,
};

/// Text of the register holding the form version the response is on.
pub const FORM_VERSION_KEY: &str = "@version";
/// Text of the register holding the consent record.
pub const CONSENT_KEY: &str = "@consent";
/// Text of the register holding how the interview ended.
pub const OUTCOME_KEY: &str = "@outcome";
/// Text of the register holding the response status.
pub const STATUS_KEY: &str = "@status";
/// Prefix of the registers holding privacy outcomes (followed by the group path).
pub const PRIVACY_PREFIX: &str = "@privacy";
/// Prefix of the registers holding respondent-selection draws (followed by the field path).
pub const SELECTION_PREFIX: &str = "@selection";
/// Prefix of the registers holding matching records (followed by the group path).
pub const MATCHING_PREFIX: &str = "@matching";

/// One register of a response. The variants are in the order of their text (`/` sorts
/// before `@`), so deriving `Ord` orders registers as their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Register {
    /// An answer or a repeat count, by its flat key.
    Answer(AnswerPath),
    Consent,
    /// What happened at a group with a `match` rule, by the group's path.
    Matching(AnswerPath),
    /// How the interview ended.
    Outcome,
    /// The privacy outcome of a group, by the group's path.
    Privacy(AnswerPath),
    /// The draw of a respondent selection, by the selection field's path.
    Selection(AnswerPath),
    Status,
    /// The form version.
    Version,
}

/// A register's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// An answer (or the form version); `None` means cleared.
    Text(Option<String>),
    Consent(ConsentRecord),
    Outcome(OutcomeRecord),
    Privacy(PrivacyRecord),
    Matching(MatchingRecord),
    Selection(SelectionRecord),
    Status(ResponseStatus),
    /// A sealed answer: compared with other values as it is (opaque).
    Sealed(Sealed),
}

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Register::Answer(path) => f.write_str(path.as_str()),
            Register::Consent => f.write_str(CONSENT_KEY),
            Register::Matching(group) => write!(f, "{MATCHING_PREFIX}{group}"),
            Register::Outcome => f.write_str(OUTCOME_KEY),
            Register::Privacy(group) => write!(f, "{PRIVACY_PREFIX}{group}"),
            Register::Selection(field) => write!(f, "{SELECTION_PREFIX}{field}"),
            Register::Status => f.write_str(STATUS_KEY),
            Register::Version => f.write_str(FORM_VERSION_KEY),
        }
    }
}

/// Why a text names no register. Registers are read from stored states, so answer
/// paths are read as stored ([`AnswerPath::parse_stored`]): a state an older server
/// stored still reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("`{0}` is not a register: an answer path, `@consent`, `@matching/…`, `@outcome`, `@privacy/…`, `@selection/…`, `@status` or `@version`")]
    Unknown(String),
}

impl FromStr for Register {
    type Err = RegisterError;

    fn from_str(text: &str) -> Result<Register, RegisterError> {
        Ok(match text {
            CONSENT_KEY => Register::Consent,
            OUTCOME_KEY => Register::Outcome,
            STATUS_KEY => Register::Status,
            FORM_VERSION_KEY => Register::Version,
            _ if text.starts_with('/') => Register::Answer(AnswerPath::parse_stored(text)?),
            _ => {
                if let Some(group) = text
                    .strip_prefix(MATCHING_PREFIX)
                    .filter(|g| g.starts_with('/'))
                {
                    Register::Matching(AnswerPath::parse_stored(group)?)
                } else if let Some(group) = text
                    .strip_prefix(PRIVACY_PREFIX)
                    .filter(|g| g.starts_with('/'))
                {
                    Register::Privacy(AnswerPath::parse_stored(group)?)
                } else if let Some(field) = text
                    .strip_prefix(SELECTION_PREFIX)
                    .filter(|f| f.starts_with('/'))
                {
                    Register::Selection(AnswerPath::parse_stored(field)?)
                } else {
                    return Err(RegisterError::Unknown(text.chars().take(200).collect()));
                }
            }
        })
    }
}

/// Compares with a register's text without making it.
impl PartialEq<str> for Register {
    fn eq(&self, text: &str) -> bool {
        match self {
            Register::Answer(path) => path.as_str() == text,
            Register::Consent => text == CONSENT_KEY,
            Register::Matching(group) => text.strip_prefix(MATCHING_PREFIX) == Some(group.as_str()),
            Register::Outcome => text == OUTCOME_KEY,
            Register::Privacy(group) => text.strip_prefix(PRIVACY_PREFIX) == Some(group.as_str()),
            Register::Selection(field) => {
                text.strip_prefix(SELECTION_PREFIX) == Some(field.as_str())
            }
            Register::Status => text == STATUS_KEY,
            Register::Version => text == FORM_VERSION_KEY,
        }
    }
}

impl PartialEq<&str> for Register {
    fn eq(&self, text: &&str) -> bool {
        self == *text
    }
}

impl Serialize for Register {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Register::Answer(path) => s.serialize_str(path.as_str()),
            other => s.collect_str(other),
        }
    }
}

impl<'de> Deserialize<'de> for Register {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.starts_with('/') {
            // Keep the string itself: no copy for the common case.
            return AnswerPath::from_stored(text)
                .map(Register::Answer)
                .map_err(serde::de::Error::custom);
        }
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_round_trip_through_text_and_order_as_it() {
        let texts = [
            "/age",
            "/m[2]/age",
            "/m[]",
            "@consent",
            "@matching/m[1]/violence",
            "@matching/violence",
            "@outcome",
            "@privacy/m[1]/safety",
            "@privacy/safety",
            "@selection/selected",
            "@status",
            "@version",
        ];
        let mut registers: Vec<Register> = texts.iter().map(|t| t.parse().unwrap()).collect();
        for (register, text) in registers.iter().zip(texts) {
            assert_eq!(register.to_string(), text);
            assert_eq!(register, &text);
            let json = serde_json::to_string(register).unwrap();
            assert_eq!(serde_json::from_str::<Register>(&json).unwrap(), *register);
        }
        registers.reverse();
        registers.sort();
        let mut sorted = texts;
        sorted.sort();
        assert_eq!(registers, sorted);
    }

    #[test]
    fn a_state_stored_before_the_instance_limit_still_reads() {
        let old: Register = serde_json::from_str("\"/m[1000001]/age\"").unwrap();
        assert_eq!(old, "/m[1000001]/age");
    }

    #[test]
    fn unknown_register_texts_are_refused() {
        // `/a/b` is a path since names repeat within a scope (`/grp_a/name`); an empty
        // step or a step below a count is not.
        for bad in [
            "@other",
            "@matching",
            "@matchingviolence",
            "@privacy",
            "@privacysafety",
            "@selection",
            "@selectionx",
            "age",
            "/a//b",
            "/m[]/b",
        ] {
            assert!(bad.parse::<Register>().is_err(), "{bad}");
        }
        assert!("/grp_a/name".parse::<Register>().is_ok());
    }
}
