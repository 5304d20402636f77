//! A response's history: its revisions in the order their editors made them, each as the
//! answers it changed (the value shown before it, the value it wrote), and the review
//! decisions, oldest first.

use serde_json::{json, Value};
use voices_core::answer::AnswerValue;
use voices_core::sync::merge::Value as Register;
use voices_core::sync::{ResponseState, Revision};

use super::mask::{flat_value, sealed_value};
use crate::store::console::ReviewEntry;
use crate::store::projection::{status_text, FormIndex};
use crate::store::Withdrawal;

pub use crate::store::COORDINATOR_ACTOR_PREFIX;

pub fn actor_kind(actor: &str) -> &'static str {
    if actor.starts_with(COORDINATOR_ACTOR_PREFIX) {
        "coordinator"
    } else {
        "device"
    }
}

/// The history entries of stored revisions (canonical JSON), reviews and a withdrawal.
/// Revisions that do not parse are skipped (they were checked when they arrived; a
/// purged one is empty). Once the respondent withdrew, revisions are listed without the
/// answers they changed.
pub fn history(
    bodies: &[String],
    reviews: &[ReviewEntry],
    withdrawal: Option<&Withdrawal>,
    index: Option<&FormIndex>,
    pii: bool,
) -> Vec<Value> {
    let mut revisions: Vec<Revision> = bodies
        .iter()
        .filter_map(|body| serde_json::from_str(body).ok())
        .collect();
    // The order the edits were made in (the merge itself never depends on it).
    revisions.sort_by(|a, b| (a.hlc, &a.actor, a.seq).cmp(&(b.hlc, &b.actor, b.seq)));
    let mut entries: Vec<(String, Value)> = Vec::new();
    let mut state: Option<ResponseState> = None;
    for revision in &revisions {
        let state = state.get_or_insert_with(|| ResponseState::for_revision(revision));
        let changes: Vec<Value> = revision
            .set
            .iter()
            .map(|(path, after)| {
                let before = match state.answer(path) {
                    Some(Register::Text(Some(text))) => flat_value(index, path, text, pii),
                    Some(Register::Sealed(s)) => sealed_value(index, path, s, pii),
                    _ => Value::Null,
                };
                let after = match after {
                    Some(AnswerValue::Text(text)) => flat_value(index, path, text, pii),
                    Some(AnswerValue::Sealed(s)) => sealed_value(index, path, s, pii),
                    None => Value::Null,
                };
                json!({"path": path, "before": before, "after": after})
            })
            .collect();
        if state.apply(revision).is_err() {
            continue;
        }
        let at = crate::time_text(
            chrono::DateTime::from_timestamp_millis(revision.hlc.wall_ms as i64)
                .unwrap_or_default(),
        );
        let mut entry = json!({
            "kind": "revision",
            "revision": revision.id,
            "actor": revision.actor,
            "actor_kind": actor_kind(&revision.actor),
            "at": at,
            "changes": changes,
        });
        if let Some(status) = status_text(revision.status) {
            entry["status"] = json!(status);
        }
        if withdrawal.is_some() {
            entry["changes"] = json!([]);
        }
        entries.push((at, entry));
    }
    if let Some(w) = withdrawal {
        entries.push((
            w.at.clone(),
            json!({
                "kind": "withdrawal",
                "actor": format!("{COORDINATOR_ACTOR_PREFIX}{}", w.by),
                "actor_kind": "coordinator",
                "at": w.at,
                "reason": w.reason,
                "purged_at": w.purged_at,
            }),
        ));
    }
    for review in reviews {
        // A resubmission is the device's doing; every other decision a person's.
        let transition = review.transition();
        let mut entry = json!({
            "kind": "review",
            "actor_kind": actor_kind(&transition.by),
            "actor": transition.by,
            "at": review.at,
            "state": transition.state.wire_name(),
            "comment": review.comment,
        });
        if !review.fields.is_empty() {
            entry["fields"] = json!(review.fields);
        }
        entries.push((review.at.clone(), entry));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().map(|(_, entry)| entry).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use voices_core::sync::{Hlc, VersionVector};

    fn revision(
        id: &str,
        actor: &str,
        seq: u64,
        wall: u64,
        set: &[(&str, Option<&str>)],
    ) -> String {
        serde_json::to_string(&Revision {
            id: id.into(),
            response: "r".into(),
            form: "f".into(),
            version: "1".into(),
            actor: actor.into(),
            seq,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(wall, 0),
            seen: VersionVector::default(),
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(AnswerValue::from)))
                .collect(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
            status: None,
        })
        .unwrap()
    }

    #[test]
    fn changes_show_the_value_before_and_after_in_edit_order() {
        // Arrival order differs from edit order.
        let bodies = vec![
            revision("b", "dev", 2, 2_000, &[("/age", Some("35")), ("/x", None)]),
            revision(
                "a",
                "dev",
                1,
                1_000,
                &[("/age", Some("34")), ("/x", Some("1"))],
            ),
            revision("c", "user:cora", 1, 3_000, &[("/age", Some("36"))]),
        ];
        let reviews = vec![ReviewEntry {
            state: "approved".into(),
            comment: Some("ok".into()),
            by: "cora".into(),
            at: "2100-01-01T00:00:00.000Z".into(),
            fields: Default::default(),
            context: None,
        }];
        let h = history(&bodies, &reviews, None, None, true);
        assert_eq!(h.len(), 4);
        assert_eq!(h[0]["revision"], "a");
        assert_eq!(h[0]["at"], "1970-01-01T00:00:01.000Z");
        assert_eq!(
            h[1]["changes"],
            json!([
                {"path": "/age", "before": "34", "after": "35"},
                {"path": "/x", "before": "1", "after": null}
            ])
        );
        assert_eq!(h[2]["actor_kind"], "coordinator");
        assert_eq!(h[2]["changes"][0]["before"], "35");
        assert_eq!(h[3]["kind"], "review");
        assert_eq!(h[3]["actor"], "user:cora");
        // Without the pii permission, values of fields no form vouches for are masked.
        let masked = history(&bodies, &[], None, None, false);
        assert_eq!(masked[1]["changes"][0]["after"], json!({"masked": true}));
        assert_eq!(masked[1]["changes"][1]["after"], Value::Null);
    }
}
