//! The store's own tests: migrations, state changes, and what the sync client relies on,
//! one module per area; this file holds the shared fixtures.

use super::*;
use voices_core::answer::{AnswerPath, FlatAnswers};
use voices_core::response::{PrivacyOutcome, PrivacyRecord};
use voices_core::sync::protocol::AckStatus;

const NOW: &str = "2026-01-05T10:00:00.000+03:00";

mod encryption;
mod interviews;
mod migrations;
mod outbox;
mod retention;
mod withdrawn;

fn p(text: &str) -> AnswerPath {
    text.parse().unwrap()
}

fn flat(values: &[(&str, &str)]) -> FlatAnswers {
    let mut out = FlatAnswers::new();
    for (path, value) in values {
        out.insert(p(path), value.to_string()).unwrap();
    }
    out
}

fn test_key() -> DataKey {
    DataKey::from_bytes([7; 32])
}

fn store_with_draft() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
    s.create_response("r1", "f", "1", "en", NOW).unwrap();
    s
}

/// `r1` finalized and queued in the outbox.
fn store_with_queued_response() -> Store {
    let mut s = store_with_draft();
    s.transition(
        "r1",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    s.transition(
        "r1",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    s
}

fn revision(id: &str, response: &str, seq: u64) -> RevisionRow {
    RevisionRow {
        id: id.to_owned(),
        response_id: response.to_owned(),
        actor: "tab-a".to_owned(),
        seq,
        body: format!(r#"{{"id":"{id}","response":"{response}","seq":{seq}}}"#),
        ack: None,
        code: None,
        reasons: Vec::new(),
        attempts: 0,
    }
}

fn ack(id: &str, ack: &str, reasons: &[&str]) -> RevisionAck {
    let ack = AckStatus::from_name(ack).unwrap();
    RevisionAck {
        revision_id: id.to_owned(),
        ack,
        code: (ack == AckStatus::Rejected).then(|| "revision_id_conflict".to_owned()),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

fn outbox_state(s: &Store, response: &str) -> (String, Vec<String>) {
    let e = s
        .outbox_entries()
        .unwrap()
        .into_iter()
        .find(|e| e.response_id == response)
        .unwrap();
    (e.state, e.reasons)
}

/// Whether any file in `dir` holds `needle` anywhere in its bytes.
fn bytes_in_dir(dir: &Path, needle: &[u8]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).ok()?;
            bytes
                .windows(needle.len())
                .any(|w| w == needle)
                .then(|| path.display().to_string())
        })
        .collect()
}
