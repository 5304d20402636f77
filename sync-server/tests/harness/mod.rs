//! Real `voices-server` processes for the story and fault tests: set up through the
//! CLI, served on free loopback ports, killed with SIGKILL and restarted; devices that
//! keep their own records of what they made and upload them until every one is
//! acknowledged; a coordinator that pages through the feed.

#![allow(dead_code)]

pub mod proxy;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use voices_core::sync::protocol::{
    AckStatus, DeviceCredentials, PullPage, PulledResponse, SessionToken, UploadAck, NDJSON,
    PROTOCOL_HEADER,
};
use voices_core::sync::{Hlc, ResponseStatus, Revision, VersionVector};
use voices_server::sample::household_revision;

use crate::pgdb::TestDatabase;

pub const PROJECT: &str = "survey";
pub const FORM_VERSION: &str = "2026112601";
pub const COORDINATOR: &str = "coord";
pub const PASSWORD: &str = "correct horse battery staple";

/// The server binary: this build's, or `VOICES_SERVER_BIN` (another build of it, to
/// compare two versions under the same bench).
fn binary() -> String {
    std::env::var("VOICES_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_voices-server").to_owned())
}

/// Where a server keeps its data.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("temporary directory"))
    }

    pub fn postgres() -> Backend {
        Backend::Postgres(TestDatabase::create())
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    pub fn args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(dir) => vec![
                "--data-dir".into(),
                dir.path().join("data").display().to_string(),
            ],
            Backend::Postgres(db) => vec!["--database-url".into(), db.url.clone()],
        }
    }

    /// Run an admin command; its standard output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(binary())
            .args(self.args())
            .args(args)
            .env("VOICES_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .expect("voices-server runs");
        assert!(
            out.status.success(),
            "voices-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A project with the household form, a coordinator and `devices` registered
    /// devices; their one-time provisioning codes.
    pub fn set_up(&self, devices: usize) -> Vec<String> {
        self.cli(&["project", "add", PROJECT, "--title", "Household survey"]);
        self.cli(&[
            "user",
            "add",
            COORDINATOR,
            "--role",
            "coordinator",
            "--project",
            PROJECT,
        ]);
        self.cli(&["user", "grant-pii", COORDINATOR, "--project", PROJECT]);
        let form = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas/forms/household-survey.json");
        assert!(
            form.exists(),
            "the household form is missing at {}",
            form.display()
        );
        self.cli(&[
            "form",
            "publish",
            &form.display().to_string(),
            "--project",
            PROJECT,
        ]);
        (0..devices)
            .map(|i| {
                let out = self.cli(&[
                    "device",
                    "add",
                    "--project",
                    PROJECT,
                    "--enumerator",
                    &format!("Enumerator {i}"),
                    "--id",
                    &format!("tablet-{i}"),
                ]);
                let mut lines = out.lines();
                lines
                    .by_ref()
                    .find(|l| l.starts_with("one-time provisioning code"))
                    .and_then(|_| lines.next())
                    .map(str::to_owned)
                    .unwrap_or_else(|| panic!("no provisioning code in: {out}"))
            })
            .collect()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A `voices-server serve` process.
pub struct Server {
    child: Option<Child>,
    args: Vec<String>,
    pub port: u16,
    pub url: String,
    pub log: PathBuf,
}

impl Server {
    pub async fn start(backend: &Backend, log_dir: &std::path::Path) -> Server {
        let port = free_port();
        let mut server = Server {
            child: None,
            args: backend.args(),
            port,
            url: format!("http://127.0.0.1:{port}"),
            log: log_dir.join(format!("server-{port}.log")),
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log file");
        let child = Command::new(binary())
            .args(&self.args)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("voices-server starts");
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/health", self.url)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "voices-server exited ({status}) before serving: {}",
                        std::fs::read_to_string(&self.log).unwrap_or_default()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "voices-server did not answer /health within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process id while it runs (for memory figures).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown, no flushing, whatever was in flight.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Anything an HTTP exchange can end in, short of an acknowledgement.
pub type Outcome<T> = Result<T, String>;

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

pub async fn provision(client: &reqwest::Client, base: &str, code: &str) -> DeviceCredentials {
    let r = client
        .post(format!("{base}/api/v1/provision"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .expect("provisioning request");
    assert!(
        r.status().is_success(),
        "provisioning failed: {}",
        r.text().await.unwrap_or_default()
    );
    r.json().await.expect("device credentials")
}

pub async fn login(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({ "user": COORDINATOR, "password": PASSWORD }))
        .send()
        .await
        .expect("login request");
    assert!(
        r.status().is_success(),
        "login failed: {}",
        r.text().await.unwrap_or_default()
    );
    let session: SessionToken = r.json().await.expect("session token");
    session.token
}

/// The batch as the app sends it: NDJSON, zstd-compressed.
pub fn encode_batch(batch: &[Revision]) -> Vec<u8> {
    let mut body = Vec::new();
    for revision in batch {
        serde_json::to_writer(&mut body, revision).expect("revision serializes");
        body.push(b'\n');
    }
    zstd::encode_all(body.as_slice(), 3).expect("zstd")
}

pub async fn upload(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    batch: &[Revision],
) -> Outcome<UploadAck> {
    upload_with(client, base, token, batch, true).await
}

/// Upload, zstd-compressed or as plain NDJSON (which a server can ingest line by line
/// when the body is cut off).
pub async fn upload_with(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    batch: &[Revision],
    compress: bool,
) -> Outcome<UploadAck> {
    let request = client
        .post(format!("{base}/api/v1/projects/{PROJECT}/revisions"))
        .bearer_auth(token)
        .header(PROTOCOL_HEADER, "1")
        .header("content-type", NDJSON);
    let request = if compress {
        request
            .header("content-encoding", "zstd")
            .body(encode_batch(batch))
    } else {
        let mut body = Vec::new();
        for revision in batch {
            serde_json::to_writer(&mut body, revision).expect("revision serializes");
            body.push(b'\n');
        }
        request.body(body)
    };
    let r = loop {
        let attempt = request
            .try_clone()
            .ok_or("the upload request cannot be repeated")?;
        let r = attempt.send().await.map_err(|e| format!("send: {e}"))?;
        // Busy (no free database connection): wait as told, as the app does.
        match retry_after(&r) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => break r,
        }
    };
    let status = r.status();
    let text = r.text().await.map_err(|e| format!("read: {e}"))?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("ack is not JSON ({e}): {text}"))
}

/// A device: every revision it ever made, and which of them the server acknowledged.
pub struct Device {
    pub id: String,
    pub token: String,
    pub made: Vec<Revision>,
    pub acked: HashSet<String>,
    /// The latest value the device set for each (response, path).
    pub latest: HashMap<String, BTreeMap<String, Option<String>>>,
    /// Milliseconds this device's clock is off by.
    pub skew_ms: i64,
    pub rejected: Vec<String>,
    pub quarantined: usize,
}

impl Device {
    pub fn new(credentials: DeviceCredentials, skew_ms: i64) -> Device {
        Device {
            id: credentials.device_id,
            token: credentials.token,
            made: Vec::new(),
            acked: HashSet::new(),
            latest: HashMap::new(),
            skew_ms,
            rejected: Vec::new(),
            quarantined: 0,
        }
    }

    fn record(&mut self, revision: Revision) {
        let latest = self.latest.entry(revision.response.clone()).or_default();
        for (k, v) in &revision.set {
            latest.insert(
                k.clone(),
                v.as_ref().and_then(|v| v.text()).map(str::to_owned),
            );
        }
        self.made.push(revision);
    }

    /// Finalize sample response `i` (unique across devices).
    pub fn interview(&mut self, i: u64) {
        let mut revision = household_revision(i, &self.id, FORM_VERSION);
        revision.hlc = Hlc::new((revision.hlc.wall_ms as i64 + self.skew_ms) as u64, 0);
        self.record(revision);
    }

    /// Edit a response this device made earlier: a new revision on top of its own.
    pub fn edit(&mut self, response: &str, path: &str, value: &str) {
        let previous = self
            .made
            .iter()
            .filter(|r| r.response == response && r.actor == self.id)
            .max_by_key(|r| r.seq)
            .expect("editing a response this device made")
            .clone();
        let mut seen = VersionVector::new();
        seen.observe(&self.id, previous.seq);
        let revision = Revision {
            id: format!("{}-edit-{}", response, previous.seq + 1),
            seq: previous.seq + 1,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(previous.hlc.wall_ms + 1_000, 0),
            seen,
            set: BTreeMap::from([(path.to_owned(), Some(value.into()))]),
            status: Some(ResponseStatus::Finalized),
            ..previous
        };
        self.record(revision);
    }

    pub fn pending(&self) -> Vec<Revision> {
        self.made
            .iter()
            .filter(|r| !self.acked.contains(&r.id))
            .cloned()
            .collect()
    }

    /// Take in an acknowledgement: stored records leave the outbox.
    pub fn take_ack(&mut self, ack: &UploadAck) {
        for record in &ack.records {
            match record.status {
                AckStatus::Accepted | AckStatus::Duplicate => {
                    self.acked.insert(record.id.clone());
                }
                AckStatus::Quarantined => {
                    self.quarantined += 1;
                    self.acked.insert(record.id.clone());
                }
                AckStatus::Rejected => {
                    self.rejected.push(format!(
                        "{}: {:?} {:?}",
                        record.id, record.code, record.reasons
                    ));
                }
            }
        }
    }

    pub fn responses(&self) -> HashSet<String> {
        self.made.iter().map(|r| r.response.clone()).collect()
    }
}

/// Page through the feed, alternating between servers, until a page comes back empty.
/// Fails on a cursor that does not grow or a change delivered twice.
pub async fn pull_all(
    client: &reqwest::Client,
    bases: &[String],
    token: &str,
    after: &mut String,
    seen_changes: &mut HashSet<(String, String)>,
    into: &mut HashMap<String, PulledResponse>,
    limit: usize,
) -> usize {
    let mut pages = 0;
    loop {
        let base = &bases[pages % bases.len()];
        let r = client
            .get(format!(
                "{base}/api/v1/projects/{PROJECT}/responses?after={after}&limit={limit}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("pull request");
        assert!(r.status().is_success(), "pull failed: {}", r.status());
        let page: PullPage = r.json().await.expect("pull page");
        pages += 1;
        let empty = page.items.is_empty();
        for item in page.items {
            let position: i64 = item.cursor.parse().expect("numeric cursor");
            let previous: i64 = after.parse().unwrap_or(0);
            assert!(
                position > previous,
                "the cursor went backwards: {previous} then {position}"
            );
            assert!(
                seen_changes.insert((item.response.id.clone(), item.cursor.clone())),
                "change {} of {} delivered twice",
                item.cursor,
                item.response.id
            );
            *after = item.cursor.clone();
            into.insert(item.response.id.clone(), item);
        }
        if empty {
            return pages;
        }
    }
}

/// Zero lost, zero duplicated: every response a device made is on the server exactly
/// once, with every revision the device made (and `others` made on top), and its last
/// values.
pub async fn check_against_devices(
    backend_name: &str,
    devices: &[Device],
    pulled: &HashMap<String, PulledResponse>,
    others: &HashMap<String, u64>,
) -> (usize, usize) {
    let mut lost = 0;
    let mut duplicated = 0;
    let mut made = 0;
    for device in devices {
        assert!(
            device.rejected.is_empty(),
            "{backend_name}: rejected records: {:?}",
            device.rejected
        );
        for response in device.responses() {
            made += 1;
            let Some(item) = pulled.get(&response) else {
                lost += 1;
                continue;
            };
            let revisions = device
                .made
                .iter()
                .filter(|r| r.response == response)
                .count() as u64
                // Revisions others (a coordinator) added on purpose.
                + others.get(&response).copied().unwrap_or(0);
            if item.revisions > revisions {
                duplicated += 1;
            }
            if item.revisions < revisions {
                lost += 1;
            }
            let flat = voices_core::answer::FlatAnswers::from_tree(&item.response.answers)
                .expect("pulled answers flatten");
            for (path, value) in &device.latest[&response] {
                let on_server = flat.get(path);
                assert_eq!(
                    on_server,
                    value.as_deref(),
                    "{backend_name}: response {response} lost the value of {path}"
                );
            }
        }
    }
    assert_eq!(
        pulled.len(),
        made,
        "{backend_name}: the feed holds responses no device made"
    );
    (lost, duplicated)
}

/// For a 503 answer, how long its `Retry-After` asks the client to wait.
pub fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    if r.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let seconds = r
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// The devices back from the tasks that shared them, once every task is done.
pub fn unwrap_devices(devices: Vec<std::sync::Arc<tokio::sync::Mutex<Device>>>) -> Vec<Device> {
    devices
        .into_iter()
        .map(|d| {
            std::sync::Arc::try_unwrap(d)
                .ok()
                .expect("no other owner")
                .into_inner()
        })
        .collect()
}

/// Provision a device per code, each with `interviews` finalized responses and edits
/// of a fifth of them made before anything was sent; clocks off by `skews` in turn.
pub async fn make_devices(
    client: &reqwest::Client,
    base: &str,
    codes: &[String],
    interviews: u64,
    skews: &[i64],
) -> Vec<std::sync::Arc<tokio::sync::Mutex<Device>>> {
    let mut devices = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let credentials = provision(client, base, code).await;
        let mut device = Device::new(credentials, skews[i % skews.len()]);
        for n in 0..interviews {
            device.interview(i as u64 * 1_000_000 + n);
        }
        // Edits made before anything was sent, so they may well arrive first.
        let mut responses: Vec<String> = device.responses().into_iter().collect();
        responses.sort();
        for response in responses.iter().take(interviews as usize / 5) {
            device.edit(response, "/comments", &format!("edited on {}", device.id));
        }
        devices.push(std::sync::Arc::new(tokio::sync::Mutex::new(device)));
    }
    devices
}

/// Everything in the project's feed, as the coordinator pulls it.
pub async fn pull_everything(
    client: &reqwest::Client,
    base: &str,
) -> HashMap<String, PulledResponse> {
    let token = login(client, base).await;
    let mut pulled = HashMap::new();
    pull_all(
        client,
        &[base.to_owned()],
        &token,
        &mut "0".to_owned(),
        &mut HashSet::new(),
        &mut pulled,
        500,
    )
    .await;
    pulled
}
