//! What a draft changes since the last published version of its form, for the
//! workbench's publish step: questions added, removed and retyped, choices added and
//! removed, and a warning wherever the change breaks what exists already (export
//! columns analysts' scripts read, answers collected, drafts on devices).

use serde::Serialize;
use voices_core::collections::Map;

use voices_core::form::{answer_key, repeated_names, FieldType, Form, Item};

/// A question of a form by its answer path (`/age`, `/members/age`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    pub path: String,
    pub kind: String,
    /// The choice list it uses.
    #[serde(skip)]
    pub list: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retyped {
    pub path: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceChange {
    pub list: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    pub form: String,
    pub from_version: String,
    pub to_version: String,
    pub added: Vec<Question>,
    pub removed: Vec<Question>,
    pub retyped: Vec<Retyped>,
    pub choices: Vec<ChoiceChange>,
    /// What the change breaks, one sentence each.
    pub warnings: Vec<String>,
}

/// Every answered item of a form (fields and the consent answer) by answer path, in order.
fn questions(form: &Form) -> Vec<Question> {
    fn walk(
        items: &[Item],
        scope: &str,
        groups: &mut Vec<String>,
        repeated: &voices_core::collections::Set<&str>,
        out: &mut Vec<Question>,
    ) {
        for item in items {
            match item {
                Item::Field(f) => {
                    if f.kind != FieldType::Note {
                        let key = answer_key(groups, &f.name, repeated.contains(f.name.as_str()));
                        out.push(Question {
                            path: format!("{scope}/{key}"),
                            kind: f.kind.as_str().to_owned(),
                            list: f.choices.clone(),
                        });
                    }
                }
                Item::Consent(c) => {
                    let key = answer_key(groups, &c.name, repeated.contains(c.name.as_str()));
                    out.push(Question {
                        path: format!("{scope}/{key}"),
                        kind: "consent".to_owned(),
                        list: None,
                    });
                }
                Item::Group(g) => {
                    groups.push(g.name.clone());
                    walk(&g.body, scope, groups, repeated, out);
                    groups.pop();
                }
                Item::Repeat(r) => {
                    let key = answer_key(groups, &r.name, repeated.contains(r.name.as_str()));
                    let inner = repeated_names(&r.body);
                    walk(
                        &r.body,
                        &format!("{scope}/{key}"),
                        &mut Vec::new(),
                        &inner,
                        out,
                    );
                }
            }
        }
    }
    let mut out = Vec::new();
    let repeated = repeated_names(&form.body);
    walk(&form.body, "", &mut Vec::new(), &repeated, &mut out);
    out
}

/// What `draft` changes since `published`.
pub fn changes(published: &Form, draft: &Form) -> Changes {
    let before = questions(published);
    let after = questions(draft);
    let old: Map<&str, &str> = before
        .iter()
        .map(|q| (q.path.as_str(), q.kind.as_str()))
        .collect();
    let new: Map<&str, &str> = after
        .iter()
        .map(|q| (q.path.as_str(), q.kind.as_str()))
        .collect();
    let added: Vec<Question> = after
        .iter()
        .filter(|q| !old.contains_key(q.path.as_str()))
        .cloned()
        .collect();
    let removed: Vec<Question> = before
        .iter()
        .filter(|q| !new.contains_key(q.path.as_str()))
        .cloned()
        .collect();
    let retyped: Vec<Retyped> = after
        .iter()
        .filter_map(|q| {
            let was = old.get(q.path.as_str())?;
            (*was != q.kind).then(|| Retyped {
                path: q.path.clone(),
                from: (*was).to_owned(),
                to: q.kind.clone(),
            })
        })
        .collect();
    let mut choices = Vec::new();
    let mut names: Vec<&String> = published
        .choices
        .keys()
        .chain(draft.choices.keys())
        .collect();
    names.sort();
    names.dedup();
    for list in names {
        let names_of = |form: &Form| -> Vec<String> {
            form.choices
                .get(list)
                .map(|cs| cs.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default()
        };
        let (was, now) = (names_of(published), names_of(draft));
        let added: Vec<String> = now.iter().filter(|n| !was.contains(n)).cloned().collect();
        let removed: Vec<String> = was.iter().filter(|n| !now.contains(n)).cloned().collect();
        if !added.is_empty() || !removed.is_empty() {
            choices.push(ChoiceChange {
                list: list.clone(),
                added,
                removed,
            });
        }
    }

    let mut warnings = Vec::new();
    if published.version == draft.version {
        warnings.push(format!(
            "version {} is already published: give the draft a new `version`, or the server \
             refuses a different form under the same version",
            draft.version
        ));
    }
    for q in &removed {
        warnings.push(format!(
            "{} is removed: its column leaves the export of new responses (scripts that read \
             it break), and drafts on devices keep answers the new version does not ask",
            q.path
        ));
    }
    for r in &retyped {
        warnings.push(format!(
            "{} changes from {} to {}: answers already collected may not be valid {} answers, \
             and the export column changes meaning",
            r.path, r.from, r.to, r.to
        ));
    }
    for c in choices.iter().filter(|c| !c.removed.is_empty()) {
        let by: Vec<&str> = after
            .iter()
            .filter(|q| q.list.as_deref() == Some(c.list.as_str()))
            .map(|q| q.path.as_str())
            .collect();
        let by = by.join(", ");
        warnings.push(format!(
            "choices {} leave the list `{}`{}: answers already collected with them no longer \
             match a choice, and the export's 0/1 columns for them disappear",
            c.removed.join(", "),
            c.list,
            if by.is_empty() {
                String::new()
            } else {
                format!(" (used by {by})")
            }
        ));
    }
    Changes {
        form: draft.id.clone(),
        from_version: published.version.clone(),
        to_version: draft.version.clone(),
        added,
        removed,
        retyped,
        choices,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(version: &str, body: &str, choices: &str) -> Form {
        Form::from_json(&format!(
            r#"{{"id": "f", "version": "{version}", "title": "F",
              "languages": [{{"code": "en", "name": "English"}}], "default_language": "en",
              "choices": {choices}, "body": {body}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn questions_added_removed_retyped_and_choices_changed() {
        let before = form(
            "1",
            r#"[{"type": "integer", "name": "age"},
                {"type": "text", "name": "note_me"},
                {"type": "repeat", "name": "kids", "body": [
                  {"type": "select_one", "name": "sex", "choices": "sex"}]}]"#,
            r#"{"sex": [{"name": "f", "label": "F"}, {"name": "m", "label": "M"}]}"#,
        );
        let after = form(
            "2",
            r#"[{"type": "decimal", "name": "age"},
                {"type": "note", "name": "intro", "label": "Hello"},
                {"type": "repeat", "name": "kids", "body": [
                  {"type": "select_one", "name": "sex", "choices": "sex"},
                  {"type": "date", "name": "born"}]}]"#,
            r#"{"sex": [{"name": "f", "label": "F"}, {"name": "x", "label": "X"}]}"#,
        );
        let c = changes(&before, &after);
        assert_eq!(
            c.added,
            vec![Question {
                path: "/kids/born".into(),
                kind: "date".into(),
                list: None
            }]
        );
        assert_eq!(
            c.removed,
            vec![Question {
                path: "/note_me".into(),
                kind: "text".into(),
                list: None
            }]
        );
        assert_eq!(
            c.retyped,
            vec![Retyped {
                path: "/age".into(),
                from: "integer".into(),
                to: "decimal".into()
            }]
        );
        assert_eq!(
            c.choices,
            vec![ChoiceChange {
                list: "sex".into(),
                added: vec!["x".into()],
                removed: vec!["m".into()]
            }]
        );
        assert_eq!(c.warnings.len(), 3, "{:#?}", c.warnings);
        assert!(
            c.warnings[2].contains("used by /kids/sex"),
            "{}",
            c.warnings[2]
        );
    }

    #[test]
    fn the_same_version_is_a_warning_and_no_change_is_none() {
        let f = form("1", r#"[{"type": "text", "name": "a"}]"#, "{}");
        let c = changes(&f, &f);
        assert!(c.added.is_empty() && c.removed.is_empty() && c.retyped.is_empty());
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("already published"));
    }
}
