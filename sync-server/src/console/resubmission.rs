//! What changed in a response since it was last sent back: the answers then (the
//! revisions its send-back's context covers, merged again) against the answers now,
//! with the send-back's comments and whether the device has sent it again.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use voices_core::answer::Sealed;
use voices_core::sync::protocol::ReviewState;
use voices_core::sync::{ResponseState, Revision, VersionVector};

use super::mask::{flat_value, sealed_value};
use super::response::index_of;
use crate::store::console::ReviewEntry;
use crate::store::projection::{FormIndex, IndexCache};
use crate::store::Store;
use crate::Result;

/// The merge of the revisions `context` covers (what the response was when it had
/// received exactly those edits).
pub fn state_at(bodies: &[String], context: &VersionVector) -> Option<ResponseState> {
    let mut state: Option<ResponseState> = None;
    for body in bodies {
        let Ok(revision) = serde_json::from_str::<Revision>(body) else {
            continue;
        };
        if !context.covers(&revision.dot()) {
            continue;
        }
        let state = state.get_or_insert_with(|| ResponseState::for_revision(&revision));
        // Stored revisions merged once already; one that fails now changed nothing then.
        let _ = state.apply(&revision);
    }
    state
}

/// The answers that differ between two states, by flat path, each `{path, before,
/// after}` (`null` for no answer), pii masked unless `pii`. A sealed answer is compared
/// by its ciphertext (a new seal is a change) and shown as it (the page may open it).
pub fn changes(
    before: Option<&ResponseState>,
    after: &ResponseState,
    index: Option<&FormIndex>,
    pii: bool,
) -> Vec<Value> {
    // Compared as stored (a masked value may still have changed), shown after the pii rule.
    let values = |state: &ResponseState| -> BTreeMap<String, Result<String, Sealed>> {
        let mut values: BTreeMap<String, Result<String, Sealed>> = state
            .answers()
            .iter()
            .map(|(path, text)| (path.to_string(), Ok(text.to_owned())))
            .collect();
        for (path, sealed) in state.sealed() {
            values.insert(path.to_string(), Err(sealed.clone()));
        }
        values
    };
    let before = before.map(values).unwrap_or_default();
    let after = values(after);
    let show = |path: &str, value: Option<&Result<String, Sealed>>| match value {
        None => Value::Null,
        Some(Ok(text)) => flat_value(index, path, text, pii),
        Some(Err(sealed)) => sealed_value(index, path, sealed, pii),
    };
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let (was, now) = (before.get(path), after.get(path));
            (was != now)
                .then(|| json!({"path": path, "before": show(path, was), "after": show(path, now)}))
        })
        .collect()
}

/// `GET /responses/{id}/resubmission`: `None` without such a response, `Some(None)` if
/// it was never sent back.
pub fn since_sent_back(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    id: &str,
    pii: bool,
) -> Result<Option<Option<Value>>> {
    let Some(row) = store.get_response(project, id)? else {
        return Ok(None);
    };
    let reviews = store.reviews_of(project, id)?;
    let is = |r: &ReviewEntry, state| crate::store::console::parse_review(&r.state) == Some(state);
    let Some(last) = reviews.iter().rposition(|r| is(r, ReviewState::SentBack)) else {
        return Ok(Some(None));
    };
    let sent_back = &reviews[last];
    let resubmitted = reviews[last..]
        .iter()
        .rfind(|r| is(r, ReviewState::Resubmitted))
        .map(|r| r.at.clone());
    let version = row.state.form_version().unwrap_or_default().to_owned();
    let index = index_of(store, indexes, project, &row.state.form, &version)?;
    let bodies = store.revisions_of(project, id)?;
    let then = sent_back
        .context
        .as_ref()
        .and_then(|context| state_at(&bodies, context));
    Ok(Some(Some(json!({
        "review_state": row.review_state.wire_name(),
        "sent_back": sent_back.transition(),
        "resubmitted_at": resubmitted,
        "changes": changes(then.as_ref(), &row.state, index.as_deref(), pii),
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use voices_core::answer::AnswerValue;
    use voices_core::sync::Hlc;

    fn body(
        id: &str,
        actor: &str,
        seq: u64,
        seen: &[(&str, u64)],
        set: &[(&str, Option<&str>)],
    ) -> String {
        let mut vv = VersionVector::new();
        for (a, s) in seen {
            vv.observe(a, *s);
        }
        serde_json::to_string(&Revision {
            id: id.into(),
            response: "r".into(),
            form: "f".into(),
            version: "1".into(),
            actor: actor.into(),
            seq,
            hlc: Hlc::new(seq * 1_000, 0),
            seen: vv,
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(|v| AnswerValue::Text(v.to_owned()))))
                .collect(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
            status: None,
            validated: false,
            files: Default::default(),
        })
        .unwrap()
    }

    #[test]
    fn the_diff_starts_at_what_the_send_back_had_seen() {
        let bodies = vec![
            body(
                "a",
                "tab",
                1,
                &[],
                &[("/age", Some("7")), ("/village", Some("Kolo"))],
            ),
            body(
                "b",
                "user:cora",
                1,
                &[("tab", 1)],
                &[("/village", Some("Kolo West"))],
            ),
            // After the send-back: the enumerator fixes the age and clears a note.
            body("c", "tab", 2, &[("user:cora", 1)], &[("/age", Some("70"))]),
        ];
        let mut at_send_back = VersionVector::new();
        at_send_back.observe("tab", 1);
        at_send_back.observe("user:cora", 1);
        let then = state_at(&bodies, &at_send_back).unwrap();
        let now = state_at(&bodies, &{
            let mut all = at_send_back.clone();
            all.observe("tab", 2);
            all
        })
        .unwrap();
        let diff = changes(Some(&then), &now, None, true);
        assert_eq!(
            diff,
            vec![json!({"path": "/age", "before": "7", "after": "70"})]
        );
        // Without the pii permission, values no form vouches for are masked.
        let masked = changes(Some(&then), &now, None, false);
        assert_eq!(masked[0]["after"], json!({"masked": true}));
        // A send-back with nothing covered diffs from an empty response.
        assert_eq!(changes(None, &now, None, true).len(), 2);
    }
}
