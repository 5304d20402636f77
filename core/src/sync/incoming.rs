//! Coordinators' edits reaching the device that started a response (the device feed):
//! the device merges them into its stored revisions with the same merge as the server,
//! and into the answers it holds now without losing what the enumerator changed since.
//!
//! Pure: the device folds its stored revisions before and after adding the edits, and
//! hands in what it holds now.

use super::clock::ActorId;
use super::merge::ResponseState;
use super::register::{Register, Value};
use crate::answer::{AnswerPath, FlatAnswers};

/// An answer with more than one value the enumerator must see: the device's (kept, shown)
/// and the others with who wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConflict {
    pub path: AnswerPath,
    /// The value the device holds now (`None`: no answer).
    pub yours: Option<String>,
    /// The other values, each with the actor that wrote it (`user:NAME` for a coordinator).
    pub theirs: Vec<(ActorId, Option<String>)>,
    /// Who wrote a value the device cannot open (sealed to the project's keys by someone
    /// else): listed so the enumerator sees the answer was changed, never taken in place
    /// of the device's value.
    pub sealed: Vec<ActorId>,
}

/// The device's answers after the merge, and the conflicts to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMerge {
    pub answers: FlatAnswers,
    pub conflicts: Vec<LocalConflict>,
}

/// The device's answers once `after` (its revisions and the coordinators' edits) replaces
/// `before` (its revisions without the new edits), given what it holds now (`local`, which
/// may hold edits not yet in a revision):
/// - an answer only the coordinators changed takes their value;
/// - an answer the enumerator changed since `before` and a coordinator changed to another
///   value keeps the enumerator's value and is a conflict;
/// - an answer that is a conflict in `after` (both edits were sent without seeing each
///   other, so the server holds the same conflict) keeps the device's value and is a
///   conflict listing the other values;
/// - an answer holding a value another actor sealed (the device cannot open it: `before`
///   holds the device's own answers in clear) keeps the device's value and is a conflict
///   naming who sealed it.
///
/// Nothing is lost: every value is the answer, or listed in a conflict, or was replaced
/// by an edit that had seen it.
pub fn merge_local(
    local: &FlatAnswers,
    before: &ResponseState,
    after: &ResponseState,
    me: &str,
) -> LocalMerge {
    let (was, now) = (before.answers(), after.answers());
    let mut answers = local.clone();
    let mut conflicts: Vec<LocalConflict> = Vec::new();
    // Registers holding concurrent values: the device keeps its own (below), whichever
    // value the merge would display.
    let concurrent = after.conflicts();
    let is_concurrent = |path: &AnswerPath| {
        concurrent
            .iter()
            .any(|c| matches!(&c.key, Register::Answer(p) if p == path))
    };
    // Sealed values of other actors: the device cannot open them (a sealed answer is not
    // among `answers()`, so it would read as an answer taken away).
    let sealed_by = |path: &AnswerPath| -> Vec<ActorId> {
        let mut actors: Vec<ActorId> = Vec::new();
        for entry in after
            .registers
            .get(&Register::Answer(path.clone()))
            .into_iter()
            .flatten()
        {
            if matches!(entry.value, Value::Sealed(_))
                && entry.dot.actor != me
                && !actors.contains(&entry.dot.actor)
            {
                actors.push(entry.dot.actor.clone());
            }
        }
        actors
    };
    let paths: std::collections::BTreeSet<&AnswerPath> =
        was.iter().chain(now.iter()).map(|(p, _)| p).collect();
    for path in paths {
        let (old, new, mine) = (
            was.get(path.as_str()),
            now.get(path.as_str()),
            local.get(path.as_str()),
        );
        if old == new || mine == new || is_concurrent(path) || !sealed_by(path).is_empty() {
            continue;
        }
        if mine == old {
            // Paths come from merged states, which hold only answer keys.
            let _ = answers.set(path.clone(), new.map(str::to_owned));
        } else {
            let writer = after
                .registers
                .get(&Register::Answer(path.clone()))
                .and_then(|entries| entries.iter().find(|e| text(&e.value) == new))
                .map(|e| e.dot.actor.clone())
                .unwrap_or_default();
            conflicts.push(LocalConflict {
                path: path.clone(),
                yours: mine.map(str::to_owned),
                theirs: vec![(writer, new.map(str::to_owned))],
                sealed: Vec::new(),
            });
        }
    }
    for conflict in concurrent {
        let Register::Answer(path) = &conflict.key else {
            continue;
        };
        if conflicts.iter().any(|c| &c.path == path) {
            continue;
        }
        let yours = answers.get(path.as_str()).map(str::to_owned);
        let mut theirs: Vec<(ActorId, Option<String>)> = Vec::new();
        for value in &conflict.values {
            if matches!(value.value, Value::Sealed(_)) {
                continue; // listed below, by who sealed it
            }
            let value_text = text(&value.value).map(str::to_owned);
            if value.dot.actor != me
                && value_text != yours
                && !theirs.iter().any(|(_, v)| *v == value_text)
            {
                theirs.push((value.dot.actor.clone(), value_text));
            }
        }
        if !theirs.is_empty() {
            conflicts.push(LocalConflict {
                path: path.clone(),
                yours,
                theirs,
                sealed: Vec::new(),
            });
        }
    }
    for key in after.registers.keys() {
        let Register::Answer(path) = key else {
            continue;
        };
        let sealed = sealed_by(path);
        if sealed.is_empty() {
            continue;
        }
        match conflicts.iter_mut().find(|c| &c.path == path) {
            Some(conflict) => conflict.sealed = sealed,
            None => conflicts.push(LocalConflict {
                path: path.clone(),
                yours: answers.get(path.as_str()).map(str::to_owned),
                theirs: Vec::new(),
                sealed,
            }),
        }
    }
    conflicts.sort_by(|a, b| a.path.cmp(&b.path));
    LocalMerge { answers, conflicts }
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::Text(text) => text.as_deref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::answer::AnswerValue;
    use crate::sync::{Hlc, Revision, VersionVector};

    fn flat(pairs: &[(&str, &str)]) -> FlatAnswers {
        let mut out = FlatAnswers::new();
        for (path, value) in pairs {
            out.insert(path.parse().unwrap(), value.to_string())
                .unwrap();
        }
        out
    }

    fn rev(
        id: &str,
        actor: &str,
        seq: u64,
        seen: &[(&str, u64)],
        set: &[(&str, Option<&str>)],
    ) -> Revision {
        Revision {
            id: id.into(),
            response: "r".into(),
            form: "f".into(),
            version: "1".into(),
            actor: actor.into(),
            seq,
            hlc: Hlc::new(1_000 * seq, 0),
            seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(|v| AnswerValue::Text(v.to_owned()))))
                .collect::<BTreeMap<_, _>>(),
            consent: None,
            privacy: BTreeMap::new(),
            selections: BTreeMap::new(),
            matching: BTreeMap::new(),
            outcome: None,
            status: None,
            validated: false,
            files: Default::default(),
        }
    }

    fn fold(revisions: &[&Revision]) -> ResponseState {
        let mut state = ResponseState::new("r", "f");
        for r in revisions {
            state.apply(r).unwrap();
        }
        state
    }

    #[test]
    fn a_coordinators_edit_replaces_what_the_enumerator_left_alone() {
        let mine = rev(
            "a1",
            "tab",
            1,
            &[],
            &[("/age", Some("7")), ("/village", Some("Kolo"))],
        );
        let theirs = rev(
            "c1",
            "user:cora",
            1,
            &[("tab", 1)],
            &[("/village", Some("Kolo West"))],
        );
        let merged = merge_local(
            &flat(&[("/age", "7"), ("/village", "Kolo")]),
            &fold(&[&mine]),
            &fold(&[&mine, &theirs]),
            "tab",
        );
        assert_eq!(
            merged.answers,
            flat(&[("/age", "7"), ("/village", "Kolo West")])
        );
        assert!(merged.conflicts.is_empty());
    }

    #[test]
    fn an_answer_changed_on_both_sides_keeps_the_enumerators_and_is_a_conflict() {
        let mine = rev(
            "a1",
            "tab",
            1,
            &[],
            &[("/age", Some("7")), ("/note", Some("x"))],
        );
        let theirs = rev(
            "c1",
            "user:cora",
            1,
            &[("tab", 1)],
            &[("/age", Some("70")), ("/note", None)],
        );
        // The enumerator changed the age on the device (not sent yet) and left the note.
        let merged = merge_local(
            &flat(&[("/age", "17"), ("/note", "x")]),
            &fold(&[&mine]),
            &fold(&[&mine, &theirs]),
            "tab",
        );
        assert_eq!(
            merged.answers,
            flat(&[("/age", "17")]),
            "the note is cleared"
        );
        assert_eq!(
            merged.conflicts,
            vec![LocalConflict {
                path: "/age".parse().unwrap(),
                yours: Some("17".into()),
                theirs: vec![("user:cora".into(), Some("70".into()))],
                sealed: Vec::new(),
            }]
        );
    }

    #[test]
    fn edits_sent_without_seeing_each_other_conflict_on_the_device_as_on_the_server() {
        let first = rev("a1", "tab", 1, &[], &[("/age", Some("7"))]);
        // Both edited the age after the first revision, neither seeing the other.
        let mine = rev("a2", "tab", 2, &[], &[("/age", Some("8"))]);
        let theirs = rev("c1", "user:cora", 1, &[("tab", 1)], &[("/age", Some("70"))]);
        let after = fold(&[&first, &mine, &theirs]);
        assert!(after.has_conflicts(), "the server's merge holds both");
        let merged = merge_local(
            &flat(&[("/age", "8")]),
            &fold(&[&first, &mine]),
            &after,
            "tab",
        );
        assert_eq!(
            merged.answers.get("/age"),
            Some("8"),
            "never silently replaced"
        );
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].yours.as_deref(), Some("8"));
        assert_eq!(
            merged.conflicts[0].theirs,
            vec![("user:cora".to_string(), Some("70".to_string()))]
        );
    }

    #[test]
    fn a_later_stamped_coordinator_value_never_displaces_the_devices_in_a_conflict() {
        let first = rev("a1", "tab", 1, &[], &[("/age", Some("7"))]);
        let mine = rev("a2", "tab", 2, &[], &[("/age", Some("8"))]);
        // Stamped long after the device's edit: the merge displays it.
        let theirs = Revision {
            hlc: Hlc::new(9_000_000, 0),
            ..rev("c1", "user:cora", 1, &[("tab", 1)], &[("/age", Some("70"))])
        };
        let after = fold(&[&first, &mine, &theirs]);
        assert_eq!(after.answers().get("/age"), Some("70"));
        let merged = merge_local(
            &flat(&[("/age", "8")]),
            &fold(&[&first, &mine]),
            &after,
            "tab",
        );
        assert_eq!(merged.answers.get("/age"), Some("8"));
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].yours.as_deref(), Some("8"));
        assert_eq!(
            merged.conflicts[0].theirs,
            vec![("user:cora".to_string(), Some("70".to_string()))]
        );
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        let mine = rev("a1", "tab", 1, &[], &[("/age", Some("7"))]);
        let theirs = rev("c1", "user:cora", 1, &[("tab", 1)], &[("/age", Some("70"))]);
        let merged = merge_local(
            &flat(&[("/age", "70")]),
            &fold(&[&mine]),
            &fold(&[&mine, &theirs]),
            "tab",
        );
        assert_eq!(merged.answers, flat(&[("/age", "70")]));
        assert!(merged.conflicts.is_empty());
    }

    fn sealed_rev(id: &str, actor: &str, seq: u64, seen: &[(&str, u64)], path: &str) -> Revision {
        let mut revision = rev(id, actor, seq, seen, &[]);
        revision.set.insert(
            path.to_owned(),
            Some(AnswerValue::Sealed(
                crate::answer::Sealed::new(format!("YWdl{id}")).unwrap(),
            )),
        );
        revision.validated = true;
        revision
    }

    #[test]
    fn a_coordinators_sealed_edit_keeps_the_devices_value_and_is_a_conflict_naming_who_sealed_it() {
        // The device folds its own revisions in clear; the coordinator's value is sealed.
        let mine = rev(
            "a1",
            "tab",
            1,
            &[],
            &[("/phone", Some("0700")), ("/age", Some("7"))],
        );
        let theirs = sealed_rev("c1", "user:cora", 1, &[("tab", 1)], "/phone");
        let local = flat(&[("/phone", "0700"), ("/age", "7")]);
        let merged = merge_local(&local, &fold(&[&mine]), &fold(&[&mine, &theirs]), "tab");
        assert_eq!(
            merged.answers, local,
            "never silently replaced or taken away"
        );
        assert_eq!(
            merged.conflicts,
            vec![LocalConflict {
                path: "/phone".parse().unwrap(),
                yours: Some("0700".into()),
                theirs: Vec::new(),
                sealed: vec!["user:cora".into()],
            }]
        );
    }

    #[test]
    fn a_sealed_value_in_a_concurrent_conflict_is_named_not_shown_as_empty() {
        let first = rev("a1", "tab", 1, &[], &[("/phone", Some("0700"))]);
        let mine = rev("a2", "tab", 2, &[], &[("/phone", Some("0711"))]);
        let theirs = sealed_rev("c1", "user:cora", 1, &[("tab", 1)], "/phone");
        let after = fold(&[&first, &mine, &theirs]);
        assert!(after.has_conflicts());
        let merged = merge_local(
            &flat(&[("/phone", "0711")]),
            &fold(&[&first, &mine]),
            &after,
            "tab",
        );
        assert_eq!(merged.answers.get("/phone"), Some("0711"));
        assert_eq!(merged.conflicts.len(), 1);
        assert!(
            merged.conflicts[0].theirs.is_empty(),
            "no empty value invented"
        );
        assert_eq!(merged.conflicts[0].sealed, vec!["user:cora".to_string()]);
    }
}
