//! Flat answer paths: how a revision names the answers it changes.
//!
//! A response's answers are a tree (repeats hold instances). A revision changes single
//! values, so each value gets a flat key: `/name` at the top level and
//! `/members[2]/age` inside a repeat instance (1-based, the same text as the engine's
//! `AnswerPath`). The number of instances of a repeat is a value of its own,
//! `/members[]`, so an instance with no answers yet still exists. Field names are
//! unique within a repeat scope (groups do not nest answers), so these keys are unique.

use std::collections::BTreeMap;

use crate::response::{Answer, Answers};

/// Most instances one repeat may have, and so the highest instance number a path may
/// name, where the form sets no lower `repeat_count`. A path or count beyond it is refused
/// when a revision is checked, and nothing is ever allocated for more than this many.
pub const MAX_INSTANCES: usize = 1_000;

/// Why a text is not an answer path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is not an answer path: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: &'static str,
}

/// The number of instances a repeat count `name[]` holds, if it is a whole number.
pub fn parse_count(value: &str) -> Option<usize> {
    let value = value.trim();
    if value.is_empty() || value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// One step of a parsed answer path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// Into instance `index` (1-based) of repeat `name`.
    Instance(&'a str, usize),
    /// The value of field `name` (last step only).
    Value(&'a str),
    /// The number of instances of repeat `name` (last step only).
    Count(&'a str),
}

fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Parse `/a[1]/b[2]/c`, `/a[]` and the like; every step but the last must be an instance.
pub fn parse(path: &str) -> Result<Vec<Step<'_>>, PathError> {
    let err = |reason| PathError {
        path: path.chars().take(200).collect(),
        reason,
    };
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| err("it must start with `/`"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let mut steps = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let step = match part.split_once('[') {
            None => Step::Value(part),
            Some((name, index)) => {
                let index = index
                    .strip_suffix(']')
                    .ok_or_else(|| err("`[` without a closing `]`"))?;
                if index.is_empty() {
                    Step::Count(name)
                } else if index.bytes().all(|b| b.is_ascii_digit()) && index.len() <= 9 {
                    let n: usize = index.parse().map_err(|_| err("bad instance number"))?;
                    if n == 0 {
                        return Err(err("instance numbers start at 1"));
                    }
                    if n > MAX_INSTANCES {
                        return Err(err(
                            "an instance number may be at most 1000 (the limit of instances in a repeat)",
                        ));
                    }
                    Step::Instance(name, n)
                } else {
                    return Err(err("an instance number must be a positive integer"));
                }
            }
        };
        let name = match step {
            Step::Instance(n, _) | Step::Value(n) | Step::Count(n) => n,
        };
        if !is_name(name) {
            return Err(err("each step must be a field or repeat name"));
        }
        match (&step, last) {
            (Step::Instance(..), true) => {
                return Err(err(
                    "it must end with a field name or a repeat count `name[]`",
                ))
            }
            (Step::Value(_) | Step::Count(_), false) => {
                return Err(err(
                    "only repeat instances `name[n]` can have steps below them",
                ))
            }
            _ => {}
        }
        steps.push(step);
    }
    Ok(steps)
}

/// Every value of `answers` by flat path, repeat counts included.
pub fn flatten(answers: &Answers) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten_into(answers, "", &mut out);
    out
}

fn flatten_into(answers: &Answers, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (name, answer) in &answers.0 {
        match answer {
            Answer::Value(v) => {
                out.insert(format!("{prefix}/{name}"), v.clone());
            }
            Answer::Repeat(instances) => {
                out.insert(format!("{prefix}/{name}[]"), instances.len().to_string());
                for (i, instance) in instances.iter().enumerate() {
                    flatten_into(instance, &format!("{prefix}/{name}[{}]", i + 1), out);
                }
            }
        }
    }
}

/// Rebuild the answer tree from flat values. Paths that do not parse are skipped (the
/// merge only ever holds parsed ones); a repeat has as many instances as its count says,
/// or more if values exist for higher instance numbers, so no value is dropped.
pub fn unflatten<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Answers {
    let mut root = Answers::default();
    for (path, value) in values {
        if let Ok(steps) = parse(path) {
            insert(&mut root, &steps, value);
        }
    }
    root
}

fn insert(scope: &mut Answers, steps: &[Step<'_>], value: &str) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    match *first {
        Step::Value(name) => {
            // A value never replaces repeat instances that hold answers.
            if !matches!(scope.0.get(name), Some(Answer::Repeat(_))) {
                scope
                    .0
                    .insert(name.to_owned(), Answer::Value(value.to_owned()));
            }
        }
        Step::Count(name) => {
            let count = parse_count(value).unwrap_or(0).min(MAX_INSTANCES);
            let instances = repeat_mut(scope, name);
            if instances.len() < count {
                instances.resize_with(count, Answers::default);
            }
        }
        Step::Instance(name, index) => {
            let instances = repeat_mut(scope, name);
            if instances.len() < index {
                instances.resize_with(index, Answers::default);
            }
            insert(&mut instances[index - 1], rest, value);
        }
    }
}

fn repeat_mut<'s>(scope: &'s mut Answers, name: &str) -> &'s mut Vec<Answers> {
    let entry = scope
        .0
        .entry(name.to_owned())
        .or_insert_with(|| Answer::Repeat(Vec::new()));
    if !matches!(entry, Answer::Repeat(_)) {
        *entry = Answer::Repeat(Vec::new());
    }
    match entry {
        Answer::Repeat(instances) => instances,
        Answer::Value(_) => unreachable!("replaced by a repeat just above"),
    }
}

/// The changes that turn `before` into `after`: new or changed values, and `None` for
/// values that were removed.
pub fn diff(before: &Answers, after: &Answers) -> BTreeMap<String, Option<String>> {
    let old = flatten(before);
    let new = flatten(after);
    let mut changes = BTreeMap::new();
    for (path, value) in &new {
        if old.get(path) != Some(value) {
            changes.insert(path.clone(), Some(value.clone()));
        }
    }
    for path in old.keys() {
        if !new.contains_key(path) {
            changes.insert(path.clone(), None);
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Answers {
        serde_json::from_value(serde_json::json!({
            "village": "Kisumu",
            "members": [
                {"name": "Achieng", "age": "34"},
                {"name": "Otieno"},
                {}
            ],
            "crops": "maize beans"
        }))
        .unwrap()
    }

    #[test]
    fn flatten_names_values_and_repeat_counts() {
        let flat = flatten(&sample());
        let keys: Vec<&str> = flat.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "/crops",
                "/members[1]/age",
                "/members[1]/name",
                "/members[2]/name",
                "/members[]",
                "/village"
            ]
        );
        assert_eq!(flat["/members[]"], "3");
    }

    #[test]
    fn unflatten_inverts_flatten_including_empty_instances() {
        let answers = sample();
        let flat = flatten(&answers);
        let back = unflatten(flat.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(back, answers);
    }

    #[test]
    fn diff_lists_changed_added_and_removed_values() {
        let before = sample();
        let mut after = sample();
        after
            .0
            .insert("village".into(), Answer::Value("Kakamega".into()));
        after.0.remove("crops");
        let changes = diff(&before, &after);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes["/village"], Some("Kakamega".into()));
        assert_eq!(changes["/crops"], None);
    }

    #[test]
    fn parse_rejects_malformed_paths_with_a_reason() {
        for bad in [
            "village",
            "/",
            "/members[0]/age",
            "/members[x]/age",
            "/members[2]",
            "/members[]/age",
            "/village/age",
            "/1abc",
            "/members[2/age",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(!e.reason.is_empty(), "{bad}");
        }
        assert_eq!(
            parse("/a[2]/b[1]/c").unwrap(),
            [
                Step::Instance("a", 2),
                Step::Instance("b", 1),
                Step::Value("c")
            ]
        );
    }

    #[test]
    fn instance_numbers_above_the_limit_are_refused_and_never_allocated() {
        let at_limit = format!("/members[{MAX_INSTANCES}]/age");
        assert_eq!(
            parse(&at_limit).unwrap()[0],
            Step::Instance("members", MAX_INSTANCES)
        );
        let e = parse("/members[999999999]/age").unwrap_err();
        assert!(e.reason.contains("1000"), "{}", e.reason);
        // A stored count or path beyond the limit (an older server's data) rebuilds at
        // most the limit's worth of instances.
        let back = unflatten([("/members[]", "999999999"), ("/members[1000001]/age", "3")]);
        match &back.0["members"] {
            Answer::Repeat(instances) => assert_eq!(instances.len(), MAX_INSTANCES),
            other => panic!("{other:?}"),
        }
    }
}
