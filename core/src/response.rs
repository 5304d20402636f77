//! A response: the answers one respondent gave to one form version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answer::{AnswerPath, Sealed};

/// A respondent's answers to one form version, with consent and privacy outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// UUID (v7) made by the device that started the interview.
    pub id: String,
    pub form_id: String,
    pub form_version: String,
    /// Answers by field name; repeats hold one answer set per instance.
    #[serde(default)]
    pub answers: Answers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
    /// Outcome of each privacy check, keyed by the group's path (`/group` or `/repeat[2]/group`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub privacy: BTreeMap<AnswerPath, PrivacyRecord>,
}

/// Answers in one scope: the top level of a response or one repeat instance.
///
/// Groups that are not repeats do not nest answers: field names are unique
/// within a repeat scope, so the map is keyed by name alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

/// One answer: a value in its canonical text form, or the instances of a repeat.
///
/// Canonical text is what ODK stores: numbers in decimal notation, `select_multiple`
/// as space-separated choice names, dates `YYYY-MM-DD`, times `HH:MM:SS.sss+HH:MM`,
/// geopoints `lat lon alt accuracy`. JSON input may also give numbers, booleans and
/// arrays of choice names; they are normalised to that text. A sealed answer (of a
/// `sensitive` or `pii` field, encrypted on the device) is `{"sealed": "…"}` in its place.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Value(String),
    Repeat(Vec<Answers>),
    Sealed(Sealed),
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        Answer::from_json(v).map_err(D::Error::custom)
    }
}

impl Answer {
    /// Normalise a JSON value to an answer; the error says what was wrong.
    pub fn from_json(v: serde_json::Value) -> Result<Answer, String> {
        use serde_json::Value as J;
        match v {
            J::String(s) => Ok(Answer::Value(s)),
            J::Number(n) => Ok(Answer::Value(n.to_string())),
            J::Bool(b) => Ok(Answer::Value(if b { "true" } else { "false" }.to_owned())),
            J::Null => Ok(Answer::Value(String::new())),
            J::Array(items) if items.iter().all(|i| i.is_object()) && !items.is_empty() => {
                let instances = items
                    .into_iter()
                    .map(|i| serde_json::from_value::<Answers>(i).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Answer::Repeat(instances))
            }
            J::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        J::String(s) => parts.push(s),
                        J::Number(n) => parts.push(n.to_string()),
                        other => {
                            return Err(format!(
                                "a list answer holds choice names (strings) or repeat instances (objects), not {other}"
                            ))
                        }
                    }
                }
                Ok(Answer::Value(parts.join(" ")))
            }
            J::Object(map) if map.contains_key("sealed") => {
                serde_json::from_value::<Sealed>(J::Object(map))
                    .map(Answer::Sealed)
                    .map_err(|e| e.to_string())
            }
            J::Object(_) => Err(
                "an answer is a value, a list of repeat instances or `{\"sealed\": …}`, not another object"
                    .to_owned(),
            ),
        }
    }
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
