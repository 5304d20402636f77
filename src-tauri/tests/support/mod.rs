//! A real `voices-server` (the `voices_server` router, served by tokio on a loopback
//! port, SQLite in a temporary directory or a throwaway PostgreSQL database) and real
//! app stores (`Voices` on their own data directories) for the sync tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;
use voices_app::store::ResponseStatus;
use voices_app::voices::Upload;
use voices_app::Voices;
use voices_core::response::PrivacyOutcome;
use voices_core::sync::protocol::ProvisioningCode;
use voices_server::store::{Device as ServerDevice, Role, Store, TokenSubject};
use voices_server::{app, auth, AppState};

pub const PROJECT: &str = "p1";
pub const FORM: &str = "app_fixture_household";
pub const VERSION: &str = "2026-01";

pub fn fixture_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/household.json");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the fixture form is missing at {} ({e})", path.display()))
}

/// The fixture form under another version (and title), as JSON text.
pub fn fixture_version(version: &str, title: &str) -> String {
    let mut form: Value = serde_json::from_str(&fixture_text()).unwrap();
    form["version"] = Value::String(version.to_owned());
    form["title"] = serde_json::json!({ "en": title, "ar": title });
    serde_json::to_string_pretty(&form).unwrap()
}

pub enum Backend {
    Sqlite,
    Postgres(pgdb::TestDatabase),
}

#[path = "../../../sync-server/tests/pgdb/mod.rs"]
pub mod pgdb;
pub mod proxy;

/// A server on 127.0.0.1:0 with project `p1`, a designer and a coordinator, and the
/// fixture form published.
pub struct TestServer {
    _dir: tempfile::TempDir,
    _backend: Backend,
    pub store: Arc<dyn Store>,
    pub url: String,
    pub port: u16,
    pub designer: String,
    pub coordinator: String,
    http: reqwest::Client,
}

fn user_token(store: &dyn Store, name: &str, role: Role) -> String {
    let now = voices_server::now_text();
    store.add_user(name, role, "unused", &now).unwrap();
    store.add_membership(name, PROJECT).unwrap();
    let token = auth::random_secret("vs_").unwrap();
    store
        .add_token(
            &auth::secret_hash(&token),
            &TokenSubject::User(name.into()),
            &voices_server::time_from_now(chrono::Duration::hours(2)),
            &now,
        )
        .unwrap();
    token
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_on(Backend::Sqlite, true).await
    }

    /// A server that offers and accepts gzip but not zstd (`serve --no-zstd`).
    pub async fn start_gzip_only() -> TestServer {
        TestServer::start_on(Backend::Sqlite, false).await
    }

    pub async fn start_postgres() -> TestServer {
        let db = tokio::task::spawn_blocking(pgdb::TestDatabase::create)
            .await
            .unwrap();
        TestServer::start_on(Backend::Postgres(db), true).await
    }

    async fn start_on(backend: Backend, zstd: bool) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_path = dir.path().join("server.sqlite3");
        let pg_url = match &backend {
            Backend::Sqlite => None,
            Backend::Postgres(db) => Some(db.url.clone()),
        };
        // The storage calls block (PostgreSQL's client runs its own runtime): off the
        // async threads, as the server itself does.
        let (store, designer, coordinator) = tokio::task::spawn_blocking(move || {
            let store: Arc<dyn Store> = match pg_url {
                None => {
                    Arc::new(voices_server::store::sqlite::SqliteStore::open(&sqlite_path).unwrap())
                }
                Some(url) => {
                    Arc::new(voices_server::store::postgres::PostgresStore::open(&url).unwrap())
                }
            };
            let now = voices_server::now_text();
            store.add_project(PROJECT, "Project one", &now).unwrap();
            let designer = user_token(store.as_ref(), "dana", Role::Designer);
            let coordinator = user_token(store.as_ref(), "cora", Role::Coordinator);
            // The coordinator of these tests reads pii (a grant of its own).
            store.set_pii_grant("cora", PROJECT, true).unwrap();
            (store, designer, coordinator)
        })
        .await
        .unwrap();
        let state = AppState::new(store.clone());
        let router = app(if zstd { state } else { state.without_zstd() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let server = TestServer {
            _dir: dir,
            _backend: backend,
            store,
            url: format!("http://127.0.0.1:{port}"),
            port,
            designer,
            coordinator,
            http: reqwest::Client::new(),
        };
        server.publish(&fixture_text()).await;
        server
    }

    /// The folder of the server's SQLite files (when on SQLite).
    pub fn files(&self) -> &Path {
        self._dir.path()
    }

    /// Add a recipient key to the project, as an admin does.
    pub async fn add_key(&self, recipient: &str) {
        let (store, recipient) = (self.store.clone(), recipient.to_owned());
        tokio::task::spawn_blocking(move || {
            voices_server::keys::add(
                store.as_ref(),
                PROJECT,
                &recipient,
                "test",
                "admin",
                &voices_server::now_text(),
            )
            .unwrap();
        })
        .await
        .unwrap();
    }

    /// Retire a recipient key of the project.
    pub async fn retire_key(&self, recipient: &str) {
        let (store, recipient) = (self.store.clone(), recipient.to_owned());
        tokio::task::spawn_blocking(move || {
            voices_server::keys::retire(
                store.as_ref(),
                PROJECT,
                &recipient,
                "admin",
                &voices_server::now_text(),
            )
            .unwrap();
        })
        .await
        .unwrap();
    }

    /// A GET as the coordinator: the status and the body's bytes.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.coordinator)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.bytes().await.unwrap().to_vec()
    }

    /// A GET as the coordinator: only its status.
    pub async fn status_of(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.coordinator)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn publish(&self, form: &str) {
        let r = self
            .http
            .post(format!("{}/api/v1/projects/{PROJECT}/forms", self.url))
            .bearer_auth(&self.designer)
            .header("content-type", "application/json")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "publish: {}",
            r.text().await.unwrap()
        );
    }

    /// Register a device; its one-time provisioning code, naming `server_url`.
    pub async fn device_code(&self, id: &str, server_url: &str) -> String {
        let store = self.store.clone();
        let id = id.to_owned();
        let code = tokio::task::spawn_blocking(move || {
            let now = voices_server::now_text();
            let code = auth::random_secret("").unwrap();
            store
                .add_device(
                    &ServerDevice {
                        id: id.clone(),
                        project: PROJECT.into(),
                        enumerator: format!("Enumerator {id}"),
                        revoked_at: None,
                        wipe_requested_at: None,
                    },
                    &auth::secret_hash(&code),
                    &voices_server::time_from_now(chrono::Duration::days(1)),
                    &now,
                )
                .unwrap();
            code
        })
        .await
        .unwrap();
        ProvisioningCode {
            server: server_url.into(),
            project: PROJECT.into(),
            code,
            certificate_sha256: None,
        }
        .to_text()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.coordinator)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A PUT of `body` as the coordinator: the status.
    pub async fn put_json(&self, path: &str, body: Value) -> u16 {
        let r = self
            .http
            .put(format!("{}{path}", self.url))
            .bearer_auth(&self.coordinator)
            .json(&body)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }

    /// A coordinator's JSON request: the status and the body (`null` when empty).
    pub async fn coordinator_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.coordinator);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Upload revisions as the coordinator (`user:cora`); the acknowledgement.
    pub async fn coordinator_upload(&self, revisions: &[voices_core::sync::Revision]) -> Value {
        let body: String = revisions
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        let r = self
            .http
            .post(format!("{}/api/v1/projects/{PROJECT}/revisions", self.url))
            .bearer_auth(&self.coordinator)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.json().await.unwrap()
    }

    /// Every response in the coordinator feed, read from the start.
    pub async fn pull_all(&self) -> Vec<Value> {
        let mut items = Vec::new();
        let mut after = String::new();
        loop {
            let query = if after.is_empty() {
                "limit=500".to_owned()
            } else {
                format!("after={after}&limit=500")
            };
            let page = self
                .get_json(&format!("/api/v1/projects/{PROJECT}/responses?{query}"))
                .await;
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            after = page["next"].as_str().unwrap().to_owned();
            if !page["more"].as_bool().unwrap() {
                return items;
            }
        }
    }
}

/// Run an async test body on a fresh runtime and drop what it returns (the server and
/// its throwaway database, whose clean-up blocks) after the runtime is gone.
pub fn run<T>(body: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(body);
    drop(runtime);
    out
}

/// An app store on its own data directory.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub voices: Voices,
}

impl Device {
    pub fn open() -> Device {
        let dir = tempfile::tempdir().unwrap();
        let voices =
            voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
        let report = voices
            .forms()
            .import_text("household.json", &fixture_text(), "file")
            .unwrap();
        assert_eq!(report.outcome, "added", "{report:?}");
        Device { dir, voices }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Interview on `version` (newest when `None`) with consent, village and size, a
    /// privacy check answered "not private", finalized; its id.
    pub fn interview(&self, village: &str, version: Option<&str>) -> String {
        interview_on(&self.voices, village, version)
    }

    /// Attach `bytes` as the house photo of a draft.
    pub fn attach_photo(&self, id: &str, bytes: &[u8]) {
        attach_photo_on(&self.voices, id, bytes)
    }

    /// Reopen a finalized (or sent) response, change the village, finalize again.
    pub fn edit_village(&self, id: &str, village: &str) {
        let v = &self.voices;
        v.reopen(id).unwrap();
        v.set_answer(id, "/village", Some(village), 1).unwrap();
        assert!(v.finalize(id).unwrap().can_finalize);
    }

    /// What this device holds: finalized (or refused) response id → village.
    pub fn records(&self) -> BTreeMap<String, String> {
        records(&self.voices)
    }

    pub fn revision_counts(&self) -> BTreeMap<String, usize> {
        revision_counts(&self.voices)
    }
}

/// What a device holds: finalized response id → village.
pub fn records(voices: &Voices) -> BTreeMap<String, String> {
    voices
        .with_store(|s| {
            let mut out = BTreeMap::new();
            for row in s.responses()? {
                if matches!(
                    row.status,
                    ResponseStatus::Queued | ResponseStatus::Sent | ResponseStatus::Refused
                ) {
                    let village = s
                        .answers(&row.id)?
                        .get("/village")
                        .unwrap_or_default()
                        .to_owned();
                    out.insert(row.id, village);
                }
            }
            Ok(out)
        })
        .unwrap()
}

/// Revisions built on a device per response.
pub fn revision_counts(voices: &Voices) -> BTreeMap<String, usize> {
    let ids: Vec<String> = records(voices).into_keys().collect();
    voices
        .with_store(|s| {
            ids.iter()
                .map(|id| Ok((id.clone(), s.revisions(id)?.len())))
                .collect()
        })
        .unwrap()
}

/// Attach `bytes` as the house photo of a draft.
pub fn attach_photo_on(v: &Voices, id: &str, bytes: &[u8]) {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    v.attach(
        id,
        "/photo",
        &Upload {
            file_name: "house.jpg",
            media_type: "image/jpeg",
            data_base64: &data,
        },
        1,
    )
    .unwrap();
}

/// A finalized interview with `photo` attached as the house photo; its id.
pub fn interview_with_photo_on(v: &Voices, village: &str, photo: &[u8]) -> String {
    let id = v.start(FORM, None, Some("en")).unwrap().response_id;
    v.record_consent(&id, true).unwrap();
    attach_photo_on(v, &id, photo);
    v.set_answer(&id, "/village", Some(village), 1).unwrap();
    v.set_answer(&id, "/hh_size", Some("1"), 1).unwrap();
    let safety = page_index(v, &id, "/safety");
    v.record_privacy(&id, "/safety", PrivacyOutcome::NotPrivate, safety)
        .unwrap();
    let review = v.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    id
}

/// Interview on `version` (newest when `None`) with consent, village and size, a
/// privacy check answered "not private", finalized; its id.
pub fn interview_on(v: &Voices, village: &str, version: Option<&str>) -> String {
    let id = v.start(FORM, version, Some("en")).unwrap().response_id;
    v.record_consent(&id, true).unwrap();
    v.set_answer(&id, "/village", Some(village), 1).unwrap();
    v.set_answer(&id, "/hh_size", Some("3"), 1).unwrap();
    let safety = page_index(v, &id, "/safety");
    v.record_privacy(&id, "/safety", PrivacyOutcome::NotPrivate, safety)
        .unwrap();
    let review = v.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    id
}

pub fn page_index(v: &Voices, id: &str, key: &str) -> u32 {
    let count = v.state(id, 0, None).unwrap().page_count;
    (0..count)
        .find(|&i| v.page(id, i).unwrap().key == key)
        .unwrap_or_else(|| panic!("no page {key}"))
}

/// The server holds every device record exactly once with the device's last value,
/// and as many revisions as the device built. Returns (responses, revisions) checked.
pub async fn assert_server_matches(server: &TestServer, devices: &[&Device]) -> (usize, usize) {
    let voices: Vec<&Voices> = devices.iter().map(|d| &d.voices).collect();
    assert_server_holds(server, &voices).await
}

/// [`assert_server_matches`] for bare stores.
pub async fn assert_server_holds(server: &TestServer, devices: &[&Voices]) -> (usize, usize) {
    let items = server.pull_all().await;
    let mut on_server: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for item in &items {
        let id = item["response"]["id"].as_str().unwrap().to_owned();
        let village = item["response"]["answers"]["village"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let revisions = item["revisions"].as_u64().unwrap();
        assert!(
            on_server.insert(id.clone(), (village, revisions)).is_none(),
            "response {id} appears twice in one read of the feed"
        );
    }
    let mut expected = BTreeMap::new();
    let mut revisions = 0;
    for d in devices {
        let counts = revision_counts(d);
        for (id, village) in records(d) {
            let built = counts[&id];
            revisions += built;
            expected.insert(id, (village, built as u64));
        }
    }
    let lost: Vec<_> = expected
        .keys()
        .filter(|id| !on_server.contains_key(*id))
        .collect();
    assert!(lost.is_empty(), "lost on the way: {lost:?}");
    let unknown: Vec<_> = on_server
        .keys()
        .filter(|id| !expected.contains_key(*id))
        .collect();
    assert!(
        unknown.is_empty(),
        "the server has responses no device made: {unknown:?}"
    );
    assert_eq!(
        on_server, expected,
        "server state differs from the devices' records"
    );
    (expected.len(), revisions)
}
