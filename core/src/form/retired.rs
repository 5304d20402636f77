//! A form's questions across its published versions: the newest version, plus every
//! question an earlier version asked and the newest no longer does (a *retired*
//! question), so that an export laid out by the form still carries what those versions
//! collected. ODK Central exports the fields of every published version the same way;
//! dropping them would silently lose answers that were sent and acknowledged.
//!
//! A retired item goes back where it was: after the item that preceded it in the
//! version that had it, in the same group, or at the end of that group when the
//! neighbour moved away. Answers are keyed by name within a repeat scope, whatever
//! groups they sit in, so a question that only moved between groups is the same
//! question and is not retired. A retired group keeps its name unless that name is taken
//! in its scope, in which case its retired questions are placed loose (their answer keys
//! do not depend on the group). Choice lists gain the choices earlier versions had and
//! the newest dropped, so old answers keep their labels and their `field/choice` column.

use crate::collections::Set;

use super::{Form, Item};

impl Form {
    /// This version with the retired questions of `earlier` (given oldest first) put back;
    /// where several earlier versions had a question, the most recent one's definition
    /// (label, `pii`, choices) is kept.
    pub fn with_retired(&self, earlier: &[Form]) -> Form {
        let mut merged = self.clone();
        for old in earlier.iter().rev() {
            let mut names = scope_names(&merged.body);
            merge_into(&mut merged.body, &old.body, &mut names);
            for (list, choices) in &old.choices {
                let kept = merged.choices.entry(list.clone()).or_default();
                for choice in choices {
                    if !kept.iter().any(|k| k.name == choice.name) {
                        kept.push(choice.clone());
                    }
                }
            }
        }
        merged
    }
}

/// Every name used in one repeat scope: the items of `items` and of the groups inside
/// them, not of the repeats inside them (a repeat starts a scope of its own).
fn scope_names(items: &[Item]) -> Set<String> {
    fn go(items: &[Item], names: &mut Set<String>) {
        for item in items {
            names.insert(item.name().to_owned());
            if let Item::Group(g) = item {
                go(&g.body, names);
            }
        }
    }
    let mut names = Set::default();
    go(items, &mut names);
    names
}

/// Put into `kept` (one container of the merged form) the items of `old` (the same
/// container in an earlier version) whose names `names` (the merged scope) lacks.
fn merge_into(kept: &mut Vec<Item>, old: &[Item], names: &mut Set<String>) {
    let mut previous: Option<&str> = None;
    for item in old {
        match item {
            Item::Group(group) => {
                let same = kept
                    .iter_mut()
                    .find(|k| matches!(k, Item::Group(g) if g.name == group.name));
                if let Some(Item::Group(same)) = same {
                    merge_into(&mut same.body, &group.body, names);
                } else {
                    let mut retired = group.clone();
                    retired.body = Vec::new();
                    merge_into(&mut retired.body, &group.body, names);
                    if !retired.body.is_empty() {
                        if names.insert(group.name.clone()) {
                            insert_after(kept, previous, Item::Group(retired));
                        } else {
                            for child in retired.body {
                                let name = child.name().to_owned();
                                insert_after(kept, previous, child);
                                // The loose questions keep their order.
                                previous = old_name(old, &name).or(previous);
                            }
                            continue;
                        }
                    }
                }
            }
            Item::Repeat(repeat) => {
                let same = kept
                    .iter_mut()
                    .find(|k| matches!(k, Item::Repeat(r) if r.name == repeat.name));
                if let Some(Item::Repeat(same)) = same {
                    let mut inner = scope_names(&same.body);
                    merge_into(&mut same.body, &repeat.body, &mut inner);
                } else if names.insert(repeat.name.clone()) {
                    insert_after(kept, previous, item.clone());
                }
            }
            Item::Field(_) | Item::Consent(_) => {
                if names.insert(item.name().to_owned()) {
                    insert_after(kept, previous, item.clone());
                }
            }
        }
        previous = Some(item.name());
    }
}

/// A name of `old`'s items equal to `name`, borrowed from `old` (`None` when a loose
/// question came from deeper down; the next one then follows the last placed).
fn old_name<'a>(old: &'a [Item], name: &str) -> Option<&'a str> {
    fn go<'a>(items: &'a [Item], name: &str) -> Option<&'a str> {
        items.iter().find_map(|item| match item {
            _ if item.name() == name => Some(item.name()),
            Item::Group(g) => go(&g.body, name),
            _ => None,
        })
    }
    go(old, name)
}

/// Insert `item` after the item named `previous` in `kept`, at the start when there
/// is no previous item, at the end when the previous item is not in this container.
fn insert_after(kept: &mut Vec<Item>, previous: Option<&str>, item: Item) {
    let at = match previous {
        None => 0,
        Some(name) => kept
            .iter()
            .position(|k| k.name() == name)
            .map_or(kept.len(), |i| i + 1),
    };
    kept.insert(at, item);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(version: &str, body: &str, choices: &str) -> Form {
        Form::from_json(&format!(
            r#"{{"id": "f", "version": "{version}", "title": "F",
              "languages": [{{"code": "en", "name": "English"}}], "default_language": "en",
              "body": {body}, "choices": {choices}}}"#
        ))
        .unwrap()
    }

    fn names(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Group(g) => format!("{}({})", g.name, names(&g.body).join(" ")),
                Item::Repeat(r) => format!("{}[{}]", r.name, names(&r.body).join(" ")),
                _ => i.name().to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_removed_question_goes_back_after_its_neighbour() {
        let v1 = form(
            "1",
            r#"[{"type": "text", "name": "a"}, {"type": "text", "name": "b"},
                {"type": "integer", "name": "c"}]"#,
            "{}",
        );
        let v2 = form(
            "2",
            r#"[{"type": "text", "name": "a"}, {"type": "integer", "name": "c"},
                {"type": "text", "name": "d"}]"#,
            "{}",
        );
        let merged = v2.with_retired(&[v1]);
        assert_eq!(names(&merged.body), ["a", "b", "c", "d"]);
        assert_eq!(merged.version, "2");
    }

    #[test]
    fn a_question_that_only_moved_between_groups_is_not_retired() {
        let v1 = form(
            "1",
            r#"[{"type": "group", "name": "home", "body": [
                  {"type": "text", "name": "water"}, {"type": "text", "name": "roof"}]}]"#,
            "{}",
        );
        let v2 = form(
            "2",
            r#"[{"type": "group", "name": "house", "body": [{"type": "text", "name": "water"}]}]"#,
            "{}",
        );
        let merged = v2.with_retired(&[v1]);
        // `roof` is gone from version 2; `water` moved. The retired group keeps its name
        // and its place (first).
        assert_eq!(names(&merged.body), ["home(roof)", "house(water)"]);
    }

    #[test]
    fn retired_questions_of_a_group_whose_name_is_taken_are_placed_loose() {
        let v1 = form(
            "1",
            r#"[{"type": "group", "name": "g", "body": [{"type": "text", "name": "x"},
                  {"type": "text", "name": "y"}]}, {"type": "text", "name": "z"}]"#,
            "{}",
        );
        // `g` is now a question; `x` and `y` were dropped.
        let v2 = form(
            "2",
            r#"[{"type": "text", "name": "z"}, {"type": "text", "name": "g"}]"#,
            "{}",
        );
        let merged = v2.with_retired(&[v1]);
        assert_eq!(names(&merged.body), ["x", "y", "z", "g"]);
    }

    #[test]
    fn repeats_merge_inside_their_own_scope_and_a_removed_repeat_comes_back_whole() {
        let v1 = form(
            "1",
            r#"[{"type": "repeat", "name": "members", "body": [
                  {"type": "text", "name": "name"}, {"type": "integer", "name": "age"}]},
                {"type": "repeat", "name": "plots", "body": [{"type": "decimal", "name": "area"}]}]"#,
            "{}",
        );
        let v2 = form(
            "2",
            r#"[{"type": "repeat", "name": "members", "body": [{"type": "text", "name": "name"}]},
                {"type": "integer", "name": "age"}]"#,
            "{}",
        );
        let merged = v2.with_retired(&[v1]);
        // `age` at the top level is another answer than `members[n]/age`.
        assert_eq!(
            names(&merged.body),
            ["members[name age]", "plots[area]", "age"]
        );
    }

    #[test]
    fn the_most_recent_definition_wins_and_choices_come_back() {
        let v1 = form(
            "1",
            r#"[{"type": "select_one", "name": "s", "choices": "yn"}]"#,
            r#"{"yn": [{"name": "y", "label": "Yes"}, {"name": "n", "label": "No"},
                       {"name": "dk", "label": "Don't know"}]}"#,
        );
        let v2 = form(
            "2",
            r#"[{"type": "select_one", "name": "s", "choices": "yn", "pii": true}]"#,
            r#"{"yn": [{"name": "y", "label": "Yes"}, {"name": "n", "label": "No"}]}"#,
        );
        let v3 = form("3", r#"[{"type": "text", "name": "t"}]"#, "{}");
        let merged = v3.with_retired(&[v1, v2]);
        let Item::Field(s) = &merged.body[0] else {
            panic!("{:?}", merged.body)
        };
        assert!(s.pii, "version 2's definition, the most recent, is kept");
        let yn: Vec<&str> = merged.choices["yn"]
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(yn, ["y", "n", "dk"]);
        assert_eq!(names(&merged.body), ["s", "t"]);
    }

    #[test]
    fn a_form_with_nothing_retired_is_unchanged() {
        let v1 = form("1", r#"[{"type": "text", "name": "a"}]"#, "{}");
        let v2 = form(
            "2",
            r#"[{"type": "text", "name": "a"}, {"type": "text", "name": "b"}]"#,
            "{}",
        );
        let merged = v2.with_retired(&[v1]);
        assert_eq!(merged, v2);
    }
}
