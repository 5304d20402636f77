//! Where an item's answer is kept within its repeat instance: its answer key.
//!
//! As in XLSForm, a name is unique within its parent group or repeat, so one repeat
//! scope (the top level, or one repeat's body with the groups inside it) may hold the
//! same name in two groups. An item whose name is used once in its scope is keyed by
//! that name, as every item was before names could repeat, so forms and stored answers
//! keep their paths; an item whose name is used more than once there is keyed by the
//! groups it sits in from the scope down: `grp_a/name`. Repeats start a scope of their
//! own and are not part of a key.

use crate::collections::{Map, Set};

use super::{Form, Item};

impl Form {
    /// Visit every item depth-first with its answer key (see the module); items of
    /// every repeat scope are visited, each key being relative to its scope.
    pub fn walk_keys<'a>(&'a self, mut visit: impl FnMut(&'a Item, &str)) {
        fn go<'a>(
            items: &'a [Item],
            groups: &mut Vec<&'a str>,
            repeated: &Set<&'a str>,
            visit: &mut impl FnMut(&'a Item, &str),
        ) {
            for item in items {
                let name = item.name();
                visit(item, &answer_key(groups, name, repeated.contains(name)));
                match item {
                    Item::Group(g) => {
                        groups.push(name);
                        go(&g.body, groups, repeated, visit);
                        groups.pop();
                    }
                    Item::Repeat(r) => {
                        go(&r.body, &mut Vec::new(), &repeated_names(&r.body), visit)
                    }
                    Item::Field(_) | Item::Consent(_) => {}
                }
            }
        }
        go(
            &self.body,
            &mut Vec::new(),
            &repeated_names(&self.body),
            &mut visit,
        );
    }
}

/// The answer key of an item with `name`, inside the groups `groups` (from its repeat
/// scope down), when `name` is `repeated` in that scope (see the module).
pub fn answer_key<S: AsRef<str>>(groups: &[S], name: &str, repeated: bool) -> String {
    if !repeated || groups.is_empty() {
        return name.to_owned();
    }
    let mut key = String::new();
    for group in groups {
        key.push_str(group.as_ref());
        key.push('/');
    }
    key.push_str(name);
    key
}

/// The names used more than once in the scope whose body is `body`: its items and
/// those of the groups inside it, not those inside its repeats (a scope of their own).
pub fn repeated_names(body: &[Item]) -> Set<&str> {
    let mut count: Map<&str, usize> = Map::default();
    let mut stack: Vec<&Item> = body.iter().collect();
    while let Some(item) = stack.pop() {
        *count.entry(item.name()).or_default() += 1;
        if let Item::Group(g) = item {
            stack.extend(g.body.iter());
        }
    }
    count
        .into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::Form;

    #[test]
    fn names_used_twice_in_a_scope_are_keyed_by_their_groups() {
        let form: Form = serde_json::from_value(serde_json::json!({
            "id": "f", "version": "1", "title": "F",
            "languages": [{"code": "en", "name": "English"}], "default_language": "en",
            "body": [
                {"type": "text", "name": "village", "label": "Village"},
                {"type": "group", "name": "grp_a", "label": "A", "body": [
                    {"type": "text", "name": "name", "label": "Name"}
                ]},
                {"type": "group", "name": "grp_b", "label": "B", "body": [
                    {"type": "text", "name": "name", "label": "Name"},
                    {"type": "repeat", "name": "m", "label": "M", "body": [
                        {"type": "text", "name": "village", "label": "Village"}
                    ]}
                ]}
            ]
        }))
        .unwrap();
        let repeated = repeated_names(&form.body);
        assert_eq!(repeated.into_iter().collect::<Vec<_>>(), ["name"]);
        assert_eq!(answer_key(&["grp_b"], "name", true), "grp_b/name");
        assert_eq!(answer_key(&["grp_b"], "m", false), "m");
        assert_eq!(answer_key::<&str>(&[], "name", true), "name");
        let mut keys = Vec::new();
        form.walk_keys(|_, key| keys.push(key.to_owned()));
        assert_eq!(
            keys,
            [
                "village",
                "grp_a",
                "grp_a/name",
                "grp_b",
                "grp_b/name",
                "m",
                "village"
            ]
        );
    }
}
