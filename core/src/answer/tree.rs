//! A response's answers as a tree, as they are in JSON: answers by field name in each
//! scope, a repeat holding one such scope per instance.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sealed::Sealed;

/// Answers in one scope: the top level of a response or one repeat instance.
///
/// Groups that are not repeats do not nest answers: the map is keyed by each item's
/// answer key (`voices_core::form::answer_key`): its name, or `grp_a/name` for a name
/// used in two groups of one repeat scope.
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
