//! The one flat encoding of a response's answers.
//!
//! A response's answers are a tree (repeats hold instances, see [`Answers`]); flat, each
//! value has its path as key: `/village`, `/members[2]/age` (`/grp_a/name` for a tree
//! key `grp_a/name`, a name used in two groups of one scope). The number of instances of
//! a repeat is a value of its own, `/members[]`, so an instance with no answers yet
//! still exists. The app stores a response this way (one row per value, so autosave
//! writes one row), a revision carries changes of it, and the merge keeps one register
//! per key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::instances::MAX_RESPONSE_INSTANCES;
use super::path::{AnswerPath, PathError, PathKind, Step, MAX_INSTANCES};
use super::sealed::Sealed;
use super::tree::{Answer, Answers};

/// The number of instances a repeat count `name[]` holds, if it is a whole number.
pub fn parse_count(value: &str) -> Option<usize> {
    let value = value.trim();
    if value.is_empty() || value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Every value of a response by path, repeat counts included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<AnswerPath, String>")]
pub struct FlatAnswers(BTreeMap<AnswerPath, String>);

impl TryFrom<BTreeMap<AnswerPath, String>> for FlatAnswers {
    type Error = PathError;

    fn try_from(values: BTreeMap<AnswerPath, String>) -> Result<FlatAnswers, PathError> {
        if let Some(bad) = values.keys().find(|p| !is_key(p)) {
            return Err(not_a_key(bad));
        }
        Ok(FlatAnswers(values))
    }
}

/// Whether `path` can key a value: a field (`/a[1]/name`) or a repeat count (`/m[]`).
pub fn is_key(path: &AnswerPath) -> bool {
    matches!(path.kind(), PathKind::Name | PathKind::Count)
}

fn not_a_key(path: &AnswerPath) -> PathError {
    PathError::new(
        path.as_str(),
        "it must end with a field name or a repeat count `name[]`",
    )
}

impl FlatAnswers {
    pub fn new() -> FlatAnswers {
        FlatAnswers::default()
    }

    /// Every value of `answers`, repeat counts included. Fails on a name that cannot be
    /// part of a path (answers read from a document, not made by the engine).
    pub fn from_tree(answers: &Answers) -> Result<FlatAnswers, PathError> {
        let mut out = BTreeMap::new();
        flatten_into(answers, &AnswerPath::root(), &mut out)?;
        Ok(FlatAnswers(out))
    }

    /// The answers as a tree. A repeat has as many instances as its count says, or more
    /// if values exist for higher instance numbers, so no value is dropped; never more
    /// than [`MAX_INSTANCES`] (see [`tree_from`]).
    pub fn to_tree(&self) -> Answers {
        tree_from(self.iter())
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }

    /// Set a value; `path` must be a field or a repeat count.
    pub fn insert(&mut self, path: AnswerPath, value: String) -> Result<(), PathError> {
        if !is_key(&path) {
            return Err(not_a_key(&path));
        }
        self.0.insert(path, value);
        Ok(())
    }

    /// Set (`Some`) or clear (`None`) a value; `path` must be a field or a repeat count.
    pub fn set(&mut self, path: AnswerPath, value: Option<String>) -> Result<(), PathError> {
        match value {
            Some(v) => self.insert(path, v),
            None => {
                self.0.remove(path.as_str());
                Ok(())
            }
        }
    }

    pub fn remove(&mut self, path: &str) -> Option<String> {
        self.0.remove(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&AnswerPath, &str)> + '_ {
        self.0.iter().map(|(p, v)| (p, v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The changes that turn `self` into `after`: new or changed values, and `None` for
    /// values that are gone.
    pub fn changes_to(&self, after: &FlatAnswers) -> BTreeMap<AnswerPath, Option<String>> {
        let mut changes = BTreeMap::new();
        for (path, value) in &after.0 {
            if self.0.get(path) != Some(value) {
                changes.insert(path.clone(), Some(value.clone()));
            }
        }
        for path in self.0.keys() {
            if !after.0.contains_key(path) {
                changes.insert(path.clone(), None);
            }
        }
        changes
    }
}

impl IntoIterator for FlatAnswers {
    type Item = (AnswerPath, String);
    type IntoIter = std::collections::btree_map::IntoIter<AnswerPath, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

fn flatten_into(
    answers: &Answers,
    base: &AnswerPath,
    out: &mut BTreeMap<AnswerPath, String>,
) -> Result<(), PathError> {
    for (key, answer) in &answers.0 {
        let path = base.try_keyed(key, None)?;
        match answer {
            Answer::Value(v) => {
                out.insert(path, v.clone());
            }
            // Sealed answers are not clear values: the engine and the device never see
            // them here (see `tree_with_sealed`).
            Answer::Sealed(_) => {}
            Answer::Repeat(instances) => {
                let repeat = path;
                if let Some(count) = repeat.count() {
                    out.insert(count, instances.len().to_string());
                }
                for (i, instance) in instances.iter().enumerate() {
                    flatten_into(instance, &base.keyed(key, Some(i + 1)), out)?;
                }
            }
        }
    }
    Ok(())
}

/// The tree of flat values given in path order (see [`FlatAnswers::to_tree`]); keys that
/// are neither fields nor counts are skipped. Nothing is allocated past
/// [`MAX_INSTANCES`] in one repeat nor past [`MAX_RESPONSE_INSTANCES`] in all: a count
/// above the first makes that many instances, and a value of an instance beyond either
/// (in a state stored before the limits) is left out of the tree.
pub fn tree_from<'a>(values: impl IntoIterator<Item = (&'a AnswerPath, &'a str)>) -> Answers {
    tree_with_sealed(values, [])
}

/// [`tree_from`], with sealed answers in their fields' places (`{"sealed": …}`).
pub fn tree_with_sealed<'a>(
    values: impl IntoIterator<Item = (&'a AnswerPath, &'a str)>,
    sealed: impl IntoIterator<Item = (&'a AnswerPath, &'a Sealed)>,
) -> Answers {
    let mut root = Answers::default();
    let mut budget = MAX_RESPONSE_INSTANCES;
    for (path, value) in values {
        insert(&mut root, path, Leaf::Text(value), &mut budget);
    }
    for (path, value) in sealed {
        insert(&mut root, path, Leaf::Sealed(value), &mut budget);
    }
    root
}

#[derive(Clone, Copy)]
enum Leaf<'a> {
    Text(&'a str),
    Sealed(&'a Sealed),
}

/// Place one value; `budget`: the instances that may still be made.
fn insert(root: &mut Answers, path: &AnswerPath, value: Leaf<'_>, budget: &mut usize) {
    let mut scope = root;
    let mut steps = path.steps().peekable();
    // Group steps gathered for the key of the item below them (`grp_a/name`).
    let mut key = String::new();
    while let Some(step) = steps.next() {
        let last = steps.peek().is_none();
        key.push_str(step.name());
        match step {
            Step::Instance(_, index) if index == 0 || index > MAX_INSTANCES => return,
            Step::Instance(_, index) if !last => {
                let instances = repeat_mut(scope, &key);
                if instances.len() < index {
                    let more = index - instances.len();
                    if more > *budget {
                        return;
                    }
                    *budget -= more;
                    instances.resize_with(index, Answers::default);
                }
                scope = &mut instances[index - 1];
                key.clear();
            }
            Step::Name(_) if !last => key.push('/'),
            Step::Name(_) => {
                // A value never replaces repeat instances that hold answers.
                if !matches!(scope.0.get(&key), Some(Answer::Repeat(_))) {
                    let answer = match value {
                        Leaf::Text(text) => Answer::Value(text.to_owned()),
                        Leaf::Sealed(sealed) => Answer::Sealed(sealed.clone()),
                    };
                    scope.0.insert(key, answer);
                }
                return;
            }
            Step::Count(_) if last => {
                // A count is never sealed (a revision sealing one is refused).
                let Leaf::Text(value) = value else { return };
                let count = parse_count(value).unwrap_or(0).min(MAX_INSTANCES);
                let instances = repeat_mut(scope, &key);
                if instances.len() < count {
                    let more = (count - instances.len()).min(*budget);
                    *budget -= more;
                    let count = instances.len() + more;
                    instances.resize_with(count, Answers::default);
                }
            }
            // Not a key (an instance or the root): nothing to place.
            _ => return,
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
        // Replaced by a repeat just above.
        Answer::Value(_) | Answer::Sealed(_) => {
            unreachable!("a value was just replaced by a repeat")
        }
    }
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

    fn path(text: &str) -> AnswerPath {
        AnswerPath::parse(text).unwrap()
    }

    #[test]
    fn from_tree_names_values_and_repeat_counts() {
        let flat = FlatAnswers::from_tree(&sample()).unwrap();
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
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
        assert_eq!(flat.get("/members[]"), Some("3"));
    }

    #[test]
    fn to_tree_inverts_from_tree_including_empty_instances() {
        let answers = sample();
        let flat = FlatAnswers::from_tree(&answers).unwrap();
        assert_eq!(flat.to_tree(), answers);
    }

    #[test]
    fn values_beyond_the_count_are_kept_and_counts_are_capped() {
        let mut flat = FlatAnswers::new();
        flat.insert(path("/m[]"), "1".into()).unwrap();
        flat.insert(path("/m[3]/age"), "7".into()).unwrap();
        flat.insert(path("/r[]"), "999999999".into()).unwrap();
        let tree = flat.to_tree();
        let Some(Answer::Repeat(m)) = tree.0.get("m") else {
            panic!("{tree:?}")
        };
        assert_eq!(m.len(), 3);
        let Some(Answer::Repeat(r)) = tree.0.get("r") else {
            panic!("{tree:?}")
        };
        assert_eq!(r.len(), MAX_INSTANCES);
        // A value of an instance beyond the limit (stored before it) allocates nothing.
        let old = AnswerPath::parse_stored("/m[1000001]/age").unwrap();
        let tree = tree_from([(&path("/m[]"), "999999999"), (&old, "3")]);
        let Some(Answer::Repeat(m)) = tree.0.get("m") else {
            panic!("{tree:?}")
        };
        assert_eq!(m.len(), MAX_INSTANCES);
        assert!(m.iter().all(|i| i.0.is_empty()));
    }

    #[test]
    fn nested_repeats_never_make_more_than_the_response_limit() {
        // A million instances named by paths each within the per-repeat limit (as a state
        // stored before the response limit may hold) build at most the response limit.
        let keys: Vec<AnswerPath> = (1..=1_000)
            .map(|k| path(&format!("/a[{k}]/b[1000]/x")))
            .collect();
        let tree = tree_from(keys.iter().map(|k| (k, "1")));
        let Some(Answer::Repeat(a)) = tree.0.get("a") else {
            panic!("no repeat a")
        };
        let made: usize = a.len()
            + a.iter()
                .map(|i| match i.0.get("b") {
                    Some(Answer::Repeat(b)) => b.len(),
                    _ => 0,
                })
                .sum::<usize>();
        assert!(made <= MAX_RESPONSE_INSTANCES, "{made} instances made");
        assert!(made > MAX_RESPONSE_INSTANCES - MAX_INSTANCES - 1_000);
        let counts: Vec<AnswerPath> = (1..=100).map(|k| path(&format!("/c[{k}]/d[]"))).collect();
        let tree = tree_from(counts.iter().map(|k| (k, "1000")));
        let Some(Answer::Repeat(c)) = tree.0.get("c") else {
            panic!("no repeat c")
        };
        let made: usize = c.len()
            + c.iter()
                .map(|i| match i.0.get("d") {
                    Some(Answer::Repeat(d)) => d.len(),
                    _ => 0,
                })
                .sum::<usize>();
        assert_eq!(made, MAX_RESPONSE_INSTANCES);
    }

    #[test]
    fn only_fields_and_counts_are_keys() {
        let mut flat = FlatAnswers::new();
        for bad in ["/", "/m[2]"] {
            let err = flat.insert(path(bad), "x".into()).unwrap_err();
            assert!(err.to_string().contains("must end with"), "{err}");
        }
        assert!(serde_json::from_str::<FlatAnswers>(r#"{"/m[2]":"x"}"#).is_err());
        let ok: FlatAnswers = serde_json::from_str(r#"{"/m[]":"2","/a":"x"}"#).unwrap();
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn a_name_that_cannot_be_a_path_is_an_error() {
        let answers: Answers =
            serde_json::from_value(serde_json::json!({"m": [{"a//b": "x"}]})).unwrap();
        let err = FlatAnswers::from_tree(&answers).unwrap_err();
        assert_eq!(err.path, "/m[1]/a//b");
        let answers: Answers = serde_json::from_value(serde_json::json!({"a b": "x"})).unwrap();
        assert_eq!(FlatAnswers::from_tree(&answers).unwrap_err().path, "/a b");
    }

    #[test]
    fn keys_with_groups_become_paths_through_those_groups_and_back() {
        let answers: Answers = serde_json::from_value(serde_json::json!({
            "grp_a/name": "Achieng",
            "grp_b/name": "Otieno",
            "g/members": [{"grp_a/age": "34", "grp_b/age": "7"}]
        }))
        .unwrap();
        let flat = FlatAnswers::from_tree(&answers).unwrap();
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "/g/members[1]/grp_a/age",
                "/g/members[1]/grp_b/age",
                "/g/members[]",
                "/grp_a/name",
                "/grp_b/name"
            ]
        );
        assert_eq!(flat.to_tree(), answers);
    }

    #[test]
    fn changes_list_changed_added_and_removed_values() {
        let before = FlatAnswers::from_tree(&sample()).unwrap();
        let mut after = before.clone();
        after
            .set(path("/village"), Some("Kakamega".into()))
            .unwrap();
        after.set(path("/crops"), None).unwrap();
        after
            .set(path("/members[4]/name"), Some("Anyango".into()))
            .unwrap();
        after.set(path("/members[]"), Some("4".into())).unwrap();
        let changes = before.changes_to(&after);
        assert_eq!(changes.len(), 4);
        assert_eq!(changes["/village"], Some("Kakamega".into()));
        assert_eq!(changes["/crops"], None);
        assert_eq!(changes["/members[]"], Some("4".into()));
        assert!(after.changes_to(&after).is_empty());
    }
}
