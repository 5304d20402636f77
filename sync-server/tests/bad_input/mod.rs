//! The bad input table of docs/protocol.md, data-driven: one row per case, each a
//! request against the real router with the answer the app or console can branch on
//! (status and problem `code`, or each line's acknowledgement). `bad_input_sqlite.rs`
//! and `bad_input_postgres.rs` run every row on their backend, one server per backend.
//!
//! After every row the stored data is compared with what was there before it: a refused
//! request stored nothing (in its project or any other), an upload stored exactly the
//! lines it acknowledged as stored, each readable afterwards. The table in
//! docs/protocol.md is rendered from [`cases`]; `VOICES_BLESS=1` rewrites it.
//!
//! Rows are grouped by category (the order of [`Category`]); add a row to its group.

#![allow(dead_code)]

mod cases;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voices_core::sync::protocol::{ProvisioningCode, NDJSON};
use voices_core::sync::Revision;
use voices_server::sample::household_revision;
use voices_server::store::{Device, Role, Store, TokenSubject};
use voices_server::{app, auth, AppState};

pub use cases::cases;

pub const FORM: &str = "household_survey";
pub const VERSION: &str = "2026112601";
const PROJECTS: [&str; 2] = ["p1", "p2"];

/// Run store calls made by the test itself outside the async executor: the blocking
/// PostgreSQL client runs a runtime of its own.
fn sync<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join().unwrap())
}

/// What a row is about; the table lists the groups in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Sizes,
    Depth,
    Encodings,
    Bombs,
    ContentTypes,
    Cursors,
    Paths,
    Ids,
    Clocks,
    Replay,
    Projects,
    Teams,
}

impl Category {
    fn name(self) -> &'static str {
        match self {
            Category::Sizes => "sizes",
            Category::Depth => "depth",
            Category::Encodings => "encodings",
            Category::Bombs => "bombs",
            Category::ContentTypes => "content types",
            Category::Cursors => "cursors",
            Category::Paths => "paths",
            Category::Ids => "ids",
            Category::Clocks => "clocks",
            Category::Replay => "replay and reordering",
            Category::Projects => "projects",
            Category::Teams => "teams",
        }
    }
}

/// Who sends the request.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    Nobody,
    /// Device tab-a of p1.
    Device,
    /// Device tab-b of p1.
    DeviceB,
    /// A coordinator of p1.
    Coordinator,
    Admin,
}

/// A request to send.
pub struct Sent {
    pub method: &'static str,
    pub uri: String,
    pub caller: Caller,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Sent {
    pub fn get(caller: Caller, uri: impl Into<String>) -> Sent {
        Sent {
            method: "GET",
            uri: uri.into(),
            caller,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn post(caller: Caller, uri: impl Into<String>, content_type: &str, body: Vec<u8>) -> Sent {
        Sent {
            method: "POST",
            uri: uri.into(),
            caller,
            headers: vec![("content-type", content_type.to_owned())],
            body,
        }
    }

    /// An NDJSON upload to p1 by device tab-a, as is.
    pub fn upload(body: Vec<u8>) -> Sent {
        Sent::post(
            Caller::Device,
            "/api/v1/projects/p1/revisions",
            NDJSON,
            body,
        )
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Sent {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    pub fn without(mut self, name: &'static str) -> Sent {
        self.headers.retain(|(n, _)| *n != name);
        self
    }
}

/// An ack's status, as the app reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    Accepted,
    Duplicate,
    Quarantined,
    Rejected(&'static str),
}

impl Ack {
    fn status(self) -> &'static str {
        match self {
            Ack::Accepted => "accepted",
            Ack::Duplicate => "duplicate",
            Ack::Quarantined => "quarantined",
            Ack::Rejected(_) => "rejected",
        }
    }

    fn code(self) -> Option<&'static str> {
        match self {
            Ack::Rejected(code) => Some(code),
            Ack::Quarantined => Some("quarantined"),
            Ack::Accepted | Ack::Duplicate => None,
        }
    }

    fn text(self) -> String {
        match self {
            Ack::Rejected(code) => format!("`rejected` / `{code}`"),
            other => format!("`{}`", other.status()),
        }
    }
}

/// The answer a row expects.
pub enum Expect {
    /// Refused as a whole with this status and problem `code`: nothing stored.
    Refused(u16, &'static str),
    /// `200` with one ack per line, in order; `incomplete` as given. Exactly the lines
    /// acknowledged `accepted` or `quarantined` are new revisions.
    Acks { acks: Vec<Ack>, incomplete: bool },
    /// `200`, every line acknowledged so (how many lines there are is the input's
    /// business, as for a compressed stream read as text); none stored.
    EveryLine(Ack),
    /// A read answered with this success status; nothing stored. `items`: the number of
    /// feed items it must hold, where it is a pull.
    Read { status: u16, items: Option<usize> },
}

impl Expect {
    pub fn acks(acks: &[Ack]) -> Expect {
        Expect::Acks {
            acks: acks.to_vec(),
            incomplete: false,
        }
    }

    fn text(&self) -> String {
        match self {
            Expect::Refused(status, code) => format!("`{status} {code}`; nothing stored"),
            Expect::Acks { acks, incomplete } => {
                let mut parts: Vec<String> = Vec::new();
                let mut i = 0;
                while i < acks.len() {
                    let run = acks[i..].iter().take_while(|a| **a == acks[i]).count();
                    parts.push(if run > 1 {
                        format!("{run} × {}", acks[i].text())
                    } else {
                        acks[i].text()
                    });
                    i += run;
                }
                let lines = if parts.is_empty() {
                    "no records".to_owned()
                } else {
                    parts.join(", ")
                };
                let cut = if *incomplete {
                    ", `incomplete: true`"
                } else {
                    ""
                };
                format!("`200`{cut}; {lines}")
            }
            Expect::EveryLine(ack) => format!("`200`; every line {}", ack.text()),
            Expect::Read { status, items } => match items {
                Some(n) => format!("`{status}`, {n} items"),
                None => format!("`{status}`"),
            },
        }
    }
}

/// What a row may set up before it is sent (stored first, must be accepted).
pub struct Setup {
    pub caller: Caller,
    pub revisions: Vec<Revision>,
}

/// One row of the table.
pub struct Case {
    pub name: &'static str,
    pub category: Category,
    /// The input, as the table says it.
    pub input: &'static str,
    /// What else the answer does or means, for the table (may be empty).
    pub note: &'static str,
    /// Revisions uploaded before the row (by a device of p1), for replays and conflicts.
    pub setup: fn(u64) -> Option<Setup>,
    /// The request; its argument numbers this row's revisions apart from the others'.
    pub send: fn(u64) -> Sent,
    pub expect: Expect,
}

pub fn nothing(_: u64) -> Option<Setup> {
    None
}

/// A household revision of device tab-a, numbered for row `n`.
pub fn revision(n: u64) -> Revision {
    household_revision(n, "tab-a", VERSION)
}

pub fn line(revision: &Revision) -> Vec<u8> {
    let mut out = serde_json::to_vec(revision).unwrap();
    out.push(b'\n');
    out
}

pub fn lines(revisions: &[Revision]) -> Vec<u8> {
    revisions.iter().flat_map(line).collect()
}

/// A revision as JSON to edit.
pub fn json_of(revision: &Revision) -> Value {
    serde_json::to_value(revision).unwrap()
}

pub fn json_line(value: &Value) -> Vec<u8> {
    let mut out = value.to_string().into_bytes();
    out.push(b'\n');
    out
}

/// A server on `store` with projects p1 and p2 (the household form in both), a
/// coordinator of p1, an admin and two devices of p1.
pub struct Server {
    store: Arc<dyn Store>,
    router: Router,
    device: String,
    device_b: String,
    coordinator: String,
    admin: String,
}

fn person(store: &dyn Store, name: &str, role: Role, project: Option<&str>) -> String {
    let now = voices_server::now_text();
    store.add_user(name, role, "unused", &now).unwrap();
    if let Some(p) = project {
        store.add_membership(name, p).unwrap();
    }
    let token = auth::random_secret("vs_").unwrap();
    store
        .add_token(
            &auth::secret_hash(&token),
            &TokenSubject::User(name.into()),
            &voices_server::time_from_now(chrono::Duration::hours(1)),
            &now,
        )
        .unwrap();
    token
}

/// The answer: status and JSON body (or the text as a JSON string).
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Server {
    pub async fn new(store: Arc<dyn Store>) -> Server {
        let (coordinator, admin) = sync(|| {
            let now = voices_server::now_text();
            for p in PROJECTS {
                store.add_project(p, p, &now).unwrap();
            }
            (
                person(store.as_ref(), "cora", Role::Coordinator, Some("p1")),
                person(store.as_ref(), "admin", Role::Admin, None),
            )
        });
        let router = app(AppState::new(store.clone()));
        let mut server = Server {
            store,
            router,
            device: String::new(),
            device_b: String::new(),
            coordinator,
            admin,
        };
        server.device = server.provision("tab-a").await;
        server.device_b = server.provision("tab-b").await;
        let form = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../schemas/forms/household-survey.json"),
        )
        .unwrap();
        for p in PROJECTS {
            let sent = Sent::post(
                Caller::Admin,
                format!("/api/v1/projects/{p}/forms"),
                "application/json",
                form.clone().into_bytes(),
            );
            let answer = server.send(sent).await;
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        }
        server
    }

    async fn provision(&self, id: &str) -> String {
        let code = auth::random_secret("").unwrap();
        sync(|| {
            self.store
                .add_device(
                    &Device {
                        id: id.into(),
                        project: "p1".into(),
                        enumerator: format!("Enumerator {id}"),
                        revoked_at: None,
                        wipe_requested_at: None,
                    },
                    &auth::secret_hash(&code),
                    &voices_server::time_from_now(chrono::Duration::days(1)),
                    &voices_server::now_text(),
                )
                .unwrap()
        });
        let text = ProvisioningCode {
            server: "http://127.0.0.1".into(),
            project: "p1".into(),
            code,
            certificate_sha256: None,
        }
        .to_text();
        let sent = Sent::post(
            Caller::Nobody,
            "/api/v1/provision",
            "application/json",
            json!({ "code": text }).to_string().into_bytes(),
        );
        let answer = self.send(sent).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn send(&self, sent: Sent) -> Answer {
        let mut request = Request::builder().method(sent.method).uri(&sent.uri);
        let token = match sent.caller {
            Caller::Nobody => None,
            Caller::Device => Some(&self.device),
            Caller::DeviceB => Some(&self.device_b),
            Caller::Coordinator => Some(&self.coordinator),
            Caller::Admin => Some(&self.admin),
        };
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in &sent.headers {
            request = request.header(*name, value.as_bytes());
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(sent.body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer { status, body }
    }

    /// Every stored response of every project: (project, id) → (feed position,
    /// revisions merged, stored state as JSON); and each project's device policy, under
    /// an id no response can have (ids hold no NUL).
    fn stored(&self) -> BTreeMap<(String, String), (i64, usize, String)> {
        sync(|| {
            let mut all = BTreeMap::new();
            for p in PROJECTS {
                let policy = self.store.device_policy(p).unwrap();
                all.insert(
                    (p.to_owned(), "\0device policy".to_owned()),
                    (0, 0, serde_json::to_string(&policy).unwrap()),
                );
                for r in self.store.pull(p, 0, 100_000).unwrap() {
                    all.insert(
                        (p.to_owned(), r.state.response.clone()),
                        (
                            r.feed_seq,
                            r.state.revision_count(),
                            serde_json::to_string(&r.state).unwrap(),
                        ),
                    );
                }
            }
            all
        })
    }

    /// Run one row; what went wrong, if anything.
    async fn run(&self, n: u64, case: &Case) -> Result<(), String> {
        if let Some(setup) = (case.setup)(n) {
            let sent = Sent {
                caller: setup.caller,
                ..Sent::upload(lines(&setup.revisions))
            };
            let answer = self.send(sent).await;
            let stored = answer.body["accepted"].as_u64().unwrap_or_default()
                + answer.body["quarantined"].as_u64().unwrap_or_default();
            if answer.status != StatusCode::OK || stored != setup.revisions.len() as u64 {
                return Err(format!("setup not stored: {}", answer.body));
            }
        }
        let before = self.stored();
        let answer = self.send((case.send)(n)).await;
        let after = self.stored();
        let status = answer.status.as_u16();
        let body = &answer.body;
        let code = body["code"].as_str().unwrap_or_default();
        let shown = || {
            let text = body.to_string();
            text.chars().take(600).collect::<String>()
        };
        match &case.expect {
            Expect::Refused(want_status, want_code) => {
                if (status, code) != (*want_status, *want_code) {
                    return Err(format!(
                        "expected {want_status} {want_code}, got {status} {code}: {}",
                        shown()
                    ));
                }
                if body["detail"].as_str().unwrap_or_default().is_empty() {
                    return Err(format!("the problem says nothing: {}", shown()));
                }
                if before != after {
                    return Err("refused, but the stored data changed".into());
                }
            }
            Expect::Read {
                status: want,
                items,
            } => {
                if status != *want {
                    return Err(format!("expected {want}, got {status}: {}", shown()));
                }
                if let Some(n) = items {
                    let got = body["items"].as_array().map_or(0, Vec::len);
                    if got != *n {
                        return Err(format!("expected {n} items, got {got}: {}", shown()));
                    }
                }
                if before != after {
                    return Err("a read changed the stored data".into());
                }
            }
            Expect::EveryLine(ack) => {
                let records = body["records"].as_array().cloned().unwrap_or_default();
                let all = records.iter().all(|r| {
                    r["status"].as_str() == Some(ack.status()) && r["code"].as_str() == ack.code()
                });
                if status != 200 || records.is_empty() || !all {
                    return Err(format!(
                        "expected 200, every line {}: {}",
                        ack.text(),
                        shown()
                    ));
                }
                if before != after {
                    return Err(
                        "nothing acknowledged as stored, but the stored data changed".into(),
                    );
                }
            }
            Expect::Acks { acks, incomplete } => {
                if status != 200 {
                    return Err(format!("expected 200, got {status}: {}", shown()));
                }
                let records = body["records"].as_array().cloned().unwrap_or_default();
                let got: Vec<(String, Option<String>)> = records
                    .iter()
                    .map(|r| {
                        (
                            r["status"].as_str().unwrap_or_default().to_owned(),
                            r["code"].as_str().map(str::to_owned),
                        )
                    })
                    .collect();
                let want: Vec<(String, Option<String>)> = acks
                    .iter()
                    .map(|a| (a.status().to_owned(), a.code().map(str::to_owned)))
                    .collect();
                if got != want {
                    return Err(format!("expected acks {want:?}, got {got:?}: {}", shown()));
                }
                if body["incomplete"].as_bool().unwrap_or(false) != *incomplete {
                    return Err(format!("expected incomplete {incomplete}: {}", shown()));
                }
                for record in &records {
                    let status = record["status"].as_str().unwrap_or_default();
                    let reasons = record["reasons"].as_array().map_or(0, Vec::len);
                    if matches!(status, "rejected" | "quarantined") && reasons == 0 {
                        return Err(format!("a {status} record gives no reason: {record}"));
                    }
                }
                // Exactly the stored lines are new revisions, none elsewhere.
                let count = |m: &BTreeMap<(String, String), (i64, usize, String)>| -> usize {
                    m.values().map(|(_, revisions, _)| revisions).sum()
                };
                let new = acks
                    .iter()
                    .filter(|a| matches!(a, Ack::Accepted | Ack::Quarantined))
                    .count();
                if count(&after) != count(&before) + new {
                    return Err(format!(
                        "{new} lines acknowledged as stored, but the store holds {} more revisions",
                        count(&after) as i64 - count(&before) as i64
                    ));
                }
                let ids: Vec<String> = records
                    .iter()
                    .filter(|r| {
                        matches!(
                            r["status"].as_str(),
                            Some("accepted" | "quarantined" | "duplicate")
                        )
                    })
                    .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
                    .collect();
                let known = sync(|| self.store.known_revisions("p1", &ids).unwrap());
                if known.len() != ids.len() {
                    return Err(format!("acknowledged {ids:?}, the store knows {known:?}"));
                }
                let untouched_elsewhere = |m: &BTreeMap<(String, String), (i64, usize, String)>| {
                    m.iter()
                        .filter(|((p, _), _)| p != "p1")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<Vec<_>>()
                };
                if untouched_elsewhere(&before) != untouched_elsewhere(&after) {
                    return Err("an upload to p1 changed another project".into());
                }
                // Every response the server holds still reads.
                for (project, id) in after.keys() {
                    if before.contains_key(&(project.clone(), id.clone())) {
                        continue;
                    }
                    let uri = format!("/api/v1/projects/{project}/responses/{id}");
                    let read = self.send(Sent::get(Caller::Admin, uri)).await;
                    if read.status != StatusCode::OK {
                        return Err(format!(
                            "stored response {id} does not read: {} {}",
                            read.status, read.body
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Run every row on `store`; every failure is reported at once.
pub async fn run_all(store: Arc<dyn Store>) {
    let server = Server::new(store).await;
    let mut failures = Vec::new();
    for (i, case) in cases().iter().enumerate() {
        let n = 1_000_000 + 1_000 * i as u64;
        if let Err(e) = server.run(n, case).await {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
}

const TABLE_START: &str = "<!-- bad input table: rendered by sync-server/tests/bad_input (VOICES_BLESS=1 rewrites it) -->";
const TABLE_END: &str = "<!-- end of bad input table -->";

/// The table as docs/protocol.md shows it.
pub fn render() -> String {
    let mut out = String::from("| category | input | answer | row |\n| --- | --- | --- | --- |\n");
    for case in cases() {
        let note = if case.note.is_empty() {
            String::new()
        } else {
            format!("; {}", case.note)
        };
        let _ = writeln!(
            &mut out as &mut dyn std::fmt::Write,
            "| {} | {} | {}{} | `{}` |",
            case.category.name(),
            case.input,
            case.expect.text(),
            note,
            case.name
        );
    }
    out
}

/// The table in docs/protocol.md is the one [`cases`] renders, rows grouped by category
/// and named once each.
pub fn check_the_documented_table() {
    let rows = cases();
    assert!(rows.len() >= 60, "the table has {} rows", rows.len());
    for pair in rows.windows(2) {
        assert!(
            pair[0].category <= pair[1].category,
            "row `{}` ({}) comes after a row of {}: keep rows grouped by category",
            pair[1].name,
            pair[1].category.name(),
            pair[0].category.name()
        );
    }
    let mut names: Vec<&str> = rows.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "two rows share a name");

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find(TABLE_START).expect("the table's start marker") + TABLE_START.len();
    let end = doc.find(TABLE_END).expect("the table's end marker");
    let rendered = render();
    if doc[start..end].trim() == rendered.trim() {
        return;
    }
    if std::env::var_os("VOICES_BLESS").is_some() {
        let text = format!("{}\n{}{}", &doc[..start], rendered, &doc[end..]);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .unwrap();
        return;
    }
    panic!(
        "docs/protocol.md's bad input table differs from the rows in tests/bad_input; \
         run with VOICES_BLESS=1 to rewrite it. The table:\n{rendered}"
    );
}
