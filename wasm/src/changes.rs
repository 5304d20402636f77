//! What a draft changes since the last published version of its form, for the
//! workbench's publish step: questions added, removed and retyped, choices added,
//! removed and relabelled, the export's columns added and taken away, and a warning
//! wherever the change breaks what exists already (export columns analysts' scripts
//! read, answers collected, drafts on devices).
//!
//! What breaks follows from how the rest of Voices works: a draft on a device stays on
//! the version it was started on (the app offers a new version only to new interviews),
//! and the server's export lays every response out, earlier versions' too, by the columns
//! of the newest version plus those of the questions earlier versions asked and it no
//! longer does (`Form::with_retired`, `voices-server`'s `export::export_form`): removing a
//! question keeps its column, renaming or moving a group renames its columns.

use serde::Serialize;
use voices_core::collections::Map;
use voices_core::csv_layout;

use voices_core::form::{answer_key, repeated_names, Choice, FieldType, Form, Item};

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
    /// Kept, with another label (in some language) or other properties.
    pub relabelled: Vec<String>,
}

/// One file of the CSV export whose columns change (a file only one version has lists
/// all its columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnChange {
    pub file: String,
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
    /// The CSV export's columns (with pii: the full export), file by file.
    pub columns: Vec<ColumnChange>,
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
        let (was, now) = (published.choices.get(list), draft.choices.get(list));
        let (was, now) = (
            was.map_or(&[][..], Vec::as_slice),
            now.map_or(&[][..], Vec::as_slice),
        );
        let named = |cs: &'_ [Choice], name: &str| cs.iter().find(|c| c.name == name).cloned();
        let added: Vec<String> = now
            .iter()
            .filter(|c| named(was, &c.name).is_none())
            .map(|c| c.name.clone())
            .collect();
        let removed: Vec<String> = was
            .iter()
            .filter(|c| named(now, &c.name).is_none())
            .map(|c| c.name.clone())
            .collect();
        let relabelled: Vec<String> = now
            .iter()
            .filter(|c| named(was, &c.name).is_some_and(|old| old != **c))
            .map(|c| c.name.clone())
            .collect();
        if !added.is_empty() || !removed.is_empty() || !relabelled.is_empty() {
            choices.push(ChoiceChange {
                list: list.clone(),
                added,
                removed,
                relabelled,
            });
        }
    }

    // What the export will lay out once the draft is published: the draft with the
    // published version's retired questions put back.
    let exported = draft.with_retired(std::slice::from_ref(published));
    let columns = column_changes(published, &exported);

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
            "{} is removed: drafts on devices started on version {} still ask it; its \
             answers, theirs and those already collected, stay in the export, in the column \
             it had, empty for responses to the new version",
            q.path, published.version
        ));
    }
    for r in &retyped {
        warnings.push(format!(
            "{} changes from {} to {}: answers already collected, and those drafts on devices \
             still give as {}, may not be valid {} answers, and the export column changes meaning",
            r.path, r.from, r.to, r.from, r.to
        ));
    }
    for c in columns.iter().filter(|c| !c.removed.is_empty()) {
        warnings.push(format!(
            "the export's {} loses the column{} {}: scripts and spreadsheets that read {} break \
             (the export lays every response out by the newest version's groups, so what \
             earlier versions collected there moves to the renamed column)",
            c.file,
            if c.removed.len() == 1 { "" } else { "s" },
            c.removed.join(", "),
            if c.removed.len() == 1 { "it" } else { "them" },
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
            "choices {} leave the list `{}`{}: answers already collected with them, and those \
             drafts on devices can still give, no longer match a choice",
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
        columns,
        warnings,
    }
}

/// The CSV export's columns each version gives, compared file by file (in the draft's
/// order, then files only the published version has).
fn column_changes(published: &Form, draft: &Form) -> Vec<ColumnChange> {
    let headers = |form: &Form| -> Vec<(String, Vec<String>)> {
        csv_layout::tables(form, true)
            .into_iter()
            .map(|t| {
                let headers = t.headers();
                (t.file, headers)
            })
            .collect()
    };
    let (was, now) = (headers(published), headers(draft));
    let columns_of = |tables: &[(String, Vec<String>)], file: &str| -> Vec<String> {
        tables
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, h)| h.clone())
            .unwrap_or_default()
    };
    let mut files: Vec<&str> = now.iter().map(|(f, _)| f.as_str()).collect();
    files.extend(
        was.iter()
            .map(|(f, _)| f.as_str())
            .filter(|f| !now.iter().any(|(n, _)| n == f)),
    );
    files
        .into_iter()
        .filter_map(|file| {
            let (old, new) = (columns_of(&was, file), columns_of(&now, file));
            let added: Vec<String> = new.iter().filter(|h| !old.contains(h)).cloned().collect();
            let removed: Vec<String> = old.iter().filter(|h| !new.contains(h)).cloned().collect();
            (!added.is_empty() || !removed.is_empty()).then(|| ColumnChange {
                file: file.to_owned(),
                added,
                removed,
            })
        })
        .collect()
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
                removed: vec!["m".into()],
                relabelled: vec![],
            }]
        );
        // The removed question keeps its column (the export puts retired questions back).
        assert_eq!(
            c.columns,
            vec![ColumnChange {
                file: "f-kids.csv".into(),
                added: vec!["born".into()],
                removed: vec![]
            }]
        );
        assert_eq!(c.warnings.len(), 3, "{:#?}", c.warnings);
        assert!(c.warnings[0]
            .starts_with("/note_me is removed: drafts on devices started on version 1"));
        assert!(c.warnings[0].contains("stay in the export"));
        assert!(c.warnings[1].starts_with("/age changes from integer to decimal"));
        assert!(
            c.warnings[2].contains("used by /kids/sex"),
            "{}",
            c.warnings[2]
        );
    }

    #[test]
    fn a_renamed_group_moves_export_columns_and_a_relabelled_choice_is_listed() {
        let before = form(
            "1",
            r#"[{"type": "group", "name": "home", "body": [
                  {"type": "select_multiple", "name": "water", "choices": "water"}]}]"#,
            r#"{"water": [{"name": "well", "label": "Well"}, {"name": "pipe", "label": "Pipe"}]}"#,
        );
        let after = form(
            "2",
            r#"[{"type": "group", "name": "house", "body": [
                  {"type": "select_multiple", "name": "water", "choices": "water"}]}]"#,
            r#"{"water": [{"name": "well", "label": "Well"}, {"name": "pipe", "label": "Piped water"}]}"#,
        );
        let c = changes(&before, &after);
        // The answer keeps its path, so no question is added or removed...
        assert!(c.added.is_empty() && c.removed.is_empty() && c.retyped.is_empty());
        assert_eq!(c.choices[0].relabelled, vec!["pipe".to_owned()]);
        // ...but every column of the group is renamed in the export.
        assert_eq!(c.columns.len(), 1);
        assert_eq!(
            c.columns[0].removed,
            ["home-water", "home-water/well", "home-water/pipe"]
        );
        assert_eq!(
            c.columns[0].added,
            ["house-water", "house-water/well", "house-water/pipe"]
        );
        assert_eq!(c.warnings.len(), 1, "{:#?}", c.warnings);
        assert!(c.warnings[0].contains("loses the columns home-water, "));
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
