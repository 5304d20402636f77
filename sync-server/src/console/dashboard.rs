//! A form's dashboard from the counts the store keeps: responses over time and by
//! enumerator, and every choice question's counts in total and by sex, age band and
//! disability. Counts of 1 to 4 are replaced by `"<5"` here, on the server, so no small
//! group of respondents can be singled out from what reaches the browser.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use voices_core::form::{Disaggregation, Form, Text, AGE_BANDS};

use crate::store::console::DashboardCounts;
use crate::store::projection::FormIndex;

/// Cells below this are suppressed.
pub const SMALLEST_SHOWN: u64 = 5;

/// A count as shown: exact from 5 on, `"<5"` below.
pub fn shown(count: u64) -> Value {
    if count < SMALLEST_SHOWN {
        json!("<5")
    } else {
        json!(count)
    }
}

/// Text as `{language: text}` (a plain text under the form's default language).
pub fn text_map(text: Option<&Text>, default_language: &str) -> Value {
    match text {
        None => json!({}),
        Some(Text::Plain(s)) => json!({ default_language: s }),
        Some(Text::Translated(map)) => json!(map),
    }
}

/// The dashboard of `form` (the version whose questions and labels are shown).
pub fn dashboard(form: &Form, index: &FormIndex, counts: &DashboardCounts) -> Value {
    let total: u64 = counts.days.iter().map(|(_, n)| n).sum();
    let mut by_enumerator: Vec<&(String, u64)> =
        counts.enumerators.iter().filter(|(_, n)| *n > 0).collect();
    by_enumerator.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let lang = &form.default_language;
    // question → (dimension → (group, choice) → count), and totals by choice.
    type Cells = BTreeMap<(String, String), u64>;
    let mut totals: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut by: BTreeMap<&str, [Cells; 3]> = BTreeMap::new();
    for (question, choice, sex, age, disability, n) in &counts.tallies {
        *totals
            .entry(question)
            .or_default()
            .entry(choice)
            .or_default() += n;
        let cells = by.entry(question).or_default();
        for (i, group) in [sex, age, disability].into_iter().enumerate() {
            *cells[i].entry((group.clone(), choice.clone())).or_default() += n;
        }
    }
    let questions: Vec<Value> = index
        .questions
        .iter()
        .filter_map(|path| index.field(path))
        .map(|field| {
            let choices: Vec<Value> = field
                .choices
                .as_ref()
                .and_then(|list| form.choices.get(list))
                .map(|list| {
                    list.iter()
                        .map(|c| json!({"name": c.name, "label": text_map(Some(&c.label), lang)}))
                        .collect()
                })
                .unwrap_or_default();
            let total: Vec<Value> = totals
                .get(field.path.as_str())
                .map(|t| {
                    t.iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(choice, n)| json!({"choice": choice, "count": shown(*n)}))
                        .collect()
                })
                .unwrap_or_default();
            let empty: [Cells; 3] = Default::default();
            let cells = by.get(field.path.as_str()).unwrap_or(&empty);
            let mut by_json = serde_json::Map::new();
            for (i, mark) in Disaggregation::ALL.into_iter().enumerate() {
                // A dimension the form does not mark has no groups to show.
                let marked = index.mark("", mark).is_some()
                    || field
                        .repeat
                        .as_deref()
                        .is_some_and(|scope| index.mark(scope, mark).is_some());
                let list: Vec<Value> = if marked {
                    cells[i]
                        .iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|((group, choice), n)| {
                            json!({"group": group, "choice": choice, "count": shown(*n)})
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let key = match mark {
                    Disaggregation::Age => "age_band",
                    other => other.as_str(),
                };
                by_json.insert(key.to_owned(), Value::Array(list));
            }
            json!({
                "path": field.path,
                "label": text_map(field.label.as_ref(), lang),
                "choices": choices,
                "total": total,
                "by": by_json,
            })
        })
        .collect();
    let marked_path = |mark| {
        index
            .mark("", mark)
            .map(|name| marked_field_path(index, name))
    };
    json!({
        "total": total,
        "over_time": counts.days.iter().filter(|(_, n)| *n > 0)
            .map(|(day, n)| json!({"day": day, "count": n})).collect::<Vec<_>>(),
        "by_enumerator": by_enumerator.iter()
            .map(|(e, n)| json!({"enumerator": e, "count": n})).collect::<Vec<_>>(),
        "disaggregation": {
            "sex": marked_path(Disaggregation::Sex),
            "age": marked_path(Disaggregation::Age),
            "disability": marked_path(Disaggregation::Disability),
        },
        "age_bands": AGE_BANDS.iter().map(|(label, _, _)| *label).collect::<Vec<_>>(),
        "questions": questions,
    })
}

/// The path of a top-level field by its answer key (its name, or `group/name` for a name
/// used in two groups).
fn marked_field_path(index: &FormIndex, name: &str) -> String {
    index
        .field(&format!("/{name}"))
        .map(|f| f.path.clone())
        .unwrap_or_else(|| format!("/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_suppressed_and_totals_add_up_before() {
        let form = Form::from_json(
            r#"{"id":"f","version":"1","title":"T","languages":[{"code":"en","name":"E"}],
            "default_language":"en","body":[
              {"type":"select_one","name":"sex","choices":"sex","disaggregation":"sex"},
              {"type":"select_one","name":"water","label":"Water","choices":"w"}],
            "choices":{"sex":[{"name":"f","label":"F"},{"name":"m","label":"M"}],
              "w":[{"name":"piped","label":"Piped"},{"name":"well","label":"Well"}]}}"#,
        )
        .unwrap();
        let index = FormIndex::new(&form);
        let t = |q: &str, c: &str, s: &str, n| {
            (
                q.to_owned(),
                c.to_owned(),
                s.to_owned(),
                "unknown".to_owned(),
                "unknown".to_owned(),
                n,
            )
        };
        let counts = DashboardCounts {
            days: vec![("2026-11-26".into(), 3), ("2026-11-27".into(), 9)],
            enumerators: vec![("Ana".into(), 2), ("Bo".into(), 10)],
            tallies: vec![
                t("/water", "piped", "f", 3),
                t("/water", "piped", "m", 3),
                t("/water", "well", "f", 6),
            ],
        };
        let d = dashboard(&form, &index, &counts);
        assert_eq!(d["total"], 12);
        assert_eq!(
            d["by_enumerator"][0],
            json!({"enumerator": "Bo", "count": 10})
        );
        let water = &d["questions"][1];
        assert_eq!(water["label"], json!({"en": "Water"}));
        // 3 + 3 = 6 in total: shown, though each part is suppressed.
        assert_eq!(
            water["total"],
            json!([{"choice": "piped", "count": 6}, {"choice": "well", "count": 6}])
        );
        assert_eq!(
            water["by"]["sex"],
            json!([{"group": "f", "choice": "piped", "count": "<5"},
                   {"group": "f", "choice": "well", "count": 6},
                   {"group": "m", "choice": "piped", "count": "<5"}])
        );
        assert_eq!(water["by"]["age_band"], json!([]));
        assert_eq!(
            d["disaggregation"],
            json!({"sex": "/sex", "age": null, "disability": null})
        );
    }
}
