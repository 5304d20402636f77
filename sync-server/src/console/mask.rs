//! pii answers replaced by `{"masked": true}` unless the reader asked for them (the rule
//! of the export's `pii=true`: whoever may read responses may ask; nobody gets pii by
//! default). Paths the form version does not know count as pii.

use serde_json::{Map, Value};
use voices_core::sync::merge::Value as Register;
use voices_core::sync::protocol::PulledResponse;

use super::masked;
use crate::store::projection::{is_pii_without_form, FormIndex};

/// Whether the answer at a flat path is pii for this form version (if known).
pub fn is_pii(index: Option<&FormIndex>, flat_path: &str) -> bool {
    // A repeat's number of instances (`/member[]`) identifies nobody.
    if flat_path.ends_with("[]") {
        return false;
    }
    match index {
        Some(index) => index.is_pii(flat_path),
        None => is_pii_without_form(flat_path),
    }
}

/// A flat answer for the table: its text, or the mask.
pub fn flat_value(index: Option<&FormIndex>, path: &str, value: &str, pii: bool) -> Value {
    if !pii && is_pii(index, path) {
        masked()
    } else {
        Value::String(value.to_owned())
    }
}

/// A sealed answer for the table, a history or a resubmission: its ciphertext, or the
/// mask (a sealed pii answer is pii all the same).
pub fn sealed_value(
    index: Option<&FormIndex>,
    path: &str,
    sealed: &voices_core::answer::Sealed,
    pii: bool,
) -> Value {
    if !pii && is_pii(index, path) {
        masked()
    } else {
        super::sealed(sealed)
    }
}

/// A pull item as JSON without its pii answers unless `pii` (as the export leaves them
/// out): the answers and conflicts of pii fields are left out and their paths listed in
/// `masked`, so the item still reads as a `PulledResponse` and a page can say what it
/// holds back.
pub fn pulled_json(item: &PulledResponse, index: Option<&FormIndex>, pii: bool) -> Value {
    let mut json = serde_json::to_value(item).unwrap_or(Value::Null);
    if pii {
        return json;
    }
    let mut left_out = Vec::new();
    if let Some(answers) = json
        .get_mut("response")
        .and_then(|r| r.get_mut("answers"))
        .and_then(Value::as_object_mut)
    {
        leave_out(answers, "", index, &mut left_out);
    }
    if let Some(conflicts) = json.get_mut("conflicts").and_then(Value::as_array_mut) {
        conflicts.retain(|conflict| {
            let key = conflict["key"].as_str().unwrap_or_default();
            let hidden = key.starts_with('/') && is_pii(index, key);
            if hidden {
                left_out.push(key.to_owned());
            }
            !hidden
        });
    }
    left_out.sort();
    left_out.dedup();
    if !left_out.is_empty() {
        json["masked"] = Value::from(left_out);
    }
    json
}

/// Take the pii values out of an answers tree, listing their flat paths. `scope` is the
/// flat path of the repeat instance holding them (`""` at the top, `/member[2]` inside).
fn leave_out(
    answers: &mut Map<String, Value>,
    scope: &str,
    index: Option<&FormIndex>,
    left_out: &mut Vec<String>,
) {
    answers.retain(|name, value| match value {
        Value::Array(instances) if instances.iter().all(Value::is_object) => {
            for (i, instance) in instances.iter_mut().enumerate() {
                if let Some(inner) = instance.as_object_mut() {
                    leave_out(
                        inner,
                        &format!("{scope}/{name}[{}]", i + 1),
                        index,
                        left_out,
                    );
                }
            }
            true
        }
        _ => {
            let path = format!("{scope}/{name}");
            let hidden = is_pii(index, &path);
            if hidden {
                left_out.push(path);
            }
            !hidden
        }
    });
}

/// The text of a register's value (`None` when it holds no answer text).
pub fn register_text(value: &Register) -> Option<&str> {
    match value {
        Register::Text(Some(text)) => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use voices_core::Form;

    #[test]
    fn pii_answers_are_left_out_of_trees_and_repeats_and_listed() {
        let form = Form::from_json(
            r#"{"id":"f","version":"1","title":"T","languages":[{"code":"en","name":"E"}],
            "default_language":"en","body":[
            {"type":"consent","text_version":"1","text":"We ask"},
            {"type":"text","name":"name","pii":true},
            {"type":"text","name":"village"},
            {"type":"repeat","name":"m","body":[{"type":"text","name":"mn","pii":true},
              {"type":"integer","name":"age"}]}]}"#,
        )
        .unwrap();
        let index = FormIndex::new(&form);
        let mut answers = json!({"consent": "yes", "name": "Ana", "village": "K", "unknown": "x",
            "m": [{"mn": "Bo", "age": "3"}, {"age": "4"}]});
        let mut left_out = Vec::new();
        leave_out(
            answers.as_object_mut().unwrap(),
            "",
            Some(&index),
            &mut left_out,
        );
        assert_eq!(
            answers,
            json!({"consent": "yes", "village": "K", "m": [{"age": "3"}, {"age": "4"}]})
        );
        left_out.sort();
        assert_eq!(left_out, ["/m[1]/mn", "/name", "/unknown"]);
        assert_eq!(flat_value(Some(&index), "/m[1]/mn", "Bo", false), masked());
        assert_eq!(
            flat_value(Some(&index), "/m[1]/mn", "Bo", true),
            json!("Bo")
        );
        assert_eq!(flat_value(Some(&index), "/m[]", "2", false), json!("2"));
        assert_eq!(flat_value(None, "/village", "K", false), masked());
    }
}
