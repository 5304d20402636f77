//! The frozen wire: what the app sends and what the server answers, recorded once in
//! `tests/wire/` and replayed against the server on both backends.
//!
//! - `form.json`: the form document the app's tests use (consent, metadata, an image, a
//!   repeat, a privacy-checked sensitive group, a `pii` field).
//! - `batch.ndjson`: one device's upload as the app builds it (canonical `Revision` JSON,
//!   one per line): two first revisions, a diff revision (a cleared value, one more
//!   repeat instance), a resend, and the lines a server must refuse one by one (another
//!   actor's edit, a blank and a broken line, a reused id, a quarantined response, an
//!   edit number 0 and one reused, another form). `coordinator-batch.ndjson`: a
//!   coordinator's concurrent edits.
//! - `answers.json`: every exchange of the session in `wire/script.rs` as the server
//!   answered it: status, the headers clients read, the body with tokens and server
//!   times replaced by placeholders (after checking their shape), and the wire type the
//!   app or a coordinator's tool reads it as (`reads_as`).
//!
//! The server must give the same answers (the upload acks byte for byte), and the wire
//! types must read every recorded answer back unchanged, so today's answers still parse
//! in the app. A deliberate protocol change re-records with `VOICES_RECORD_WIRE=1` and
//! says so in docs/protocol.md; nothing else should ever need it.

mod pgdb;
#[path = "wire/script.rs"]
mod script;

use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use voices_core::sync::protocol::{
    AttachmentStatus, DeviceCredentials, FormVersionSummary, KnownResponse, Problem, PullPage,
    PulledResponse, ServerInfo, SessionToken, UploadAck,
};
use voices_core::sync::Revision;
use voices_server::store::postgres::PostgresStore;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;
use voices_server::{app, AppState};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wire")
        .join(name)
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("frozen wire fixture {} is missing: {e}", path.display()))
}

fn reads_back<T: DeserializeOwned + Serialize>(body: &Value) -> Value {
    let parsed: T = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("the wire type no longer reads the recorded answer: {e}"));
    serde_json::to_value(parsed).unwrap()
}

/// The recorded answer read as the wire type the app (or a coordinator's tool) uses,
/// and written back: `None` for answers no Rust client parses.
fn as_wire_type(reads_as: &str, body: &Value) -> Option<Value> {
    Some(match reads_as {
        "ServerInfo" => reads_back::<ServerInfo>(body),
        "DeviceCredentials" => reads_back::<DeviceCredentials>(body),
        "SessionToken" => reads_back::<SessionToken>(body),
        "Vec<FormVersionSummary>" => reads_back::<Vec<FormVersionSummary>>(body),
        "AttachmentStatus" => reads_back::<AttachmentStatus>(body),
        "UploadAck" => reads_back::<UploadAck>(body),
        "KnownResponse" => reads_back::<KnownResponse>(body),
        "PullPage" => reads_back::<PullPage>(body),
        "PulledResponse" => reads_back::<PulledResponse>(body),
        "Vec<PulledResponse>" => reads_back::<Vec<PulledResponse>>(body),
        "Problem" => reads_back::<Problem>(body),
        "text" | "json" | "empty" | "bytes" | "form document" => return None,
        other => panic!("unknown wire type `{other}` in answers.json"),
    })
}

fn replay(store: Arc<dyn Store>, backend: &str) {
    script::prepare(store.as_ref());
    // `store` outlives the runtime: PostgreSQL's blocking client must not be dropped
    // inside it.
    let router = app(AppState::new(store.clone()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let exchanges = runtime.block_on(script::script(router));
    let answers: Vec<&Value> = exchanges.iter().map(|e| &e.record).collect();
    let path = fixture_path("answers.json");
    if std::env::var_os("VOICES_RECORD_WIRE").is_some() {
        let mut text = serde_json::to_string_pretty(&answers).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        panic!(
            "recorded {} answers into {}: review the change, then run again without VOICES_RECORD_WIRE",
            answers.len(),
            path.display()
        );
    }
    let recorded: Vec<Value> = serde_json::from_slice(&fixture("answers.json")).unwrap();
    for (now, then) in exchanges.iter().zip(&recorded) {
        assert_eq!(
            &now.record,
            then,
            "{backend}: the answer to `{}` changed.\nnow:\n{}\nrecorded:\n{}",
            then["name"],
            serde_json::to_string_pretty(&now.record).unwrap(),
            serde_json::to_string_pretty(then).unwrap()
        );
        // Acks are compared byte for byte too.
        if then["reads_as"] == "UploadAck" {
            assert_eq!(
                String::from_utf8_lossy(&now.bytes),
                serde_json::to_string(&then["body"]).unwrap(),
                "{backend}: the bytes of `{}`",
                then["name"]
            );
        }
    }
    assert_eq!(answers.len(), recorded.len(), "{backend}: exchanges");
}

#[test]
fn the_batch_is_canonical_revisions_as_the_app_builds_them() {
    let batch = String::from_utf8(fixture("batch.ndjson")).unwrap();
    let coordinator = String::from_utf8(fixture("coordinator-batch.ndjson")).unwrap();
    let mut unreadable = Vec::new();
    for (n, line) in batch.lines().chain(coordinator.lines()).enumerate() {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Revision>(line) {
            // The app sends `serde_json::to_string(&revision)`: the recorded bytes must
            // still be exactly that, so the server hashes them as it did.
            Ok(revision) => assert_eq!(serde_json::to_string(&revision).unwrap(), line),
            Err(_) => unreadable.push(n + 1),
        }
    }
    assert_eq!(unreadable, [7], "only the broken line is not a revision");
}

/// `value` as the wire types read it today: a repeat answered with no instances (`[]`)
/// reads back as an empty value (`""`), since `Answer` takes an empty list for an empty
/// choice list. Known and harmless for the app (it never reads answers back from the
/// server); kept here so the check passes on everything else.
fn as_read_today(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    let item = match (key.as_str(), item) {
                        ("answers", Value::Object(answers)) => Value::Object(
                            answers
                                .iter()
                                .map(|(name, answer)| match answer {
                                    Value::Array(list) if list.is_empty() => {
                                        (name.clone(), json!(""))
                                    }
                                    other => (name.clone(), as_read_today(other)),
                                })
                                .collect(),
                        ),
                        _ => as_read_today(item),
                    };
                    (key.clone(), item)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(as_read_today).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_recorded_answer_still_reads_as_its_wire_type() {
    let recorded: Vec<Value> = serde_json::from_slice(&fixture("answers.json")).unwrap();
    assert!(recorded.len() > 40, "{} answers", recorded.len());
    for answer in &recorded {
        let reads_as = answer["reads_as"].as_str().unwrap();
        if let Some(back) = as_wire_type(reads_as, &answer["body"]) {
            assert_eq!(
                back,
                as_read_today(&answer["body"]),
                "`{}` read as {reads_as} and written back differs",
                answer["name"]
            );
        }
    }
}

#[test]
fn sqlite_answers_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("voices.sqlite3")).unwrap();
    replay(Arc::new(store), "sqlite");
}

#[test]
fn postgres_answers_as_recorded() {
    let db = pgdb::TestDatabase::create();
    let store = PostgresStore::open(&db.url)
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL store at {}: {e}", db.url));
    replay(Arc::new(store), "postgres");
}
