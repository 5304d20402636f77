//! Fixtures for the HTTP tests: a server on a temporary SQLite database with a project,
//! people, a provisioned device and the household form published.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use voices_core::sync::protocol::{ProvisioningCode, NDJSON};
use voices_core::sync::Revision;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Device, Role, Store, TokenSubject};
use voices_server::{app, auth, AppState};

pub const HOUSEHOLD_VERSION: &str = "2026112601";

pub fn repo_path(relative: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

pub fn household_form() -> String {
    let path = repo_path("schemas/forms/household-survey.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the household benchmark form is missing at {} ({e}); it is part of the repository",
            path.display()
        )
    })
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    pub router: Router,
    pub admin: String,
    pub designer: String,
    pub coordinator: String,
    /// A coordinator of project p2 only.
    pub outsider: String,
    pub device: String,
    pub device_id: String,
    pub device_b: String,
    pub device_b_id: String,
}

fn user_token(store: &dyn Store, name: &str, role: Role, project: Option<&str>) -> String {
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

/// Register a device and provision it through the API, as the app does.
pub async fn provision(fx_router: &Router, store: &dyn Store, id: &str, project: &str) -> String {
    let now = voices_server::now_text();
    let code = auth::random_secret("").unwrap();
    store
        .add_device(
            &Device {
                id: id.into(),
                project: project.into(),
                enumerator: format!("Enumerator {id}"),
                revoked_at: None,
                wipe_requested_at: None,
            },
            &auth::secret_hash(&code),
            &voices_server::time_from_now(chrono::Duration::days(1)),
            &now,
        )
        .unwrap();
    let text = ProvisioningCode {
        server: "http://127.0.0.1".into(),
        project: project.into(),
        code,
        certificate_sha256: None,
    }
    .to_text();
    let (status, body) = call(
        fx_router,
        Request::post("/api/v1/provision")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::json!({ "code": text }).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture::with_state(|state| state).await
    }

    pub async fn with_state(adjust: impl FnOnce(AppState) -> AppState) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("voices.sqlite3")).unwrap());
        let now = voices_server::now_text();
        store.add_project("p1", "Project one", &now).unwrap();
        store.add_project("p2", "Project two", &now).unwrap();
        let admin = user_token(store.as_ref(), "admin", Role::Admin, None);
        let designer = user_token(store.as_ref(), "dana", Role::Designer, Some("p1"));
        let coordinator = user_token(store.as_ref(), "cora", Role::Coordinator, Some("p1"));
        // The coordinator of these tests may read pii (a grant of its own).
        assert!(store.set_pii_grant("cora", "p1", true).unwrap());
        let outsider = user_token(store.as_ref(), "otto", Role::Coordinator, Some("p2"));
        let state = adjust(AppState::new(store.clone()));
        let router = app(state.clone());
        let device = provision(&router, store.as_ref(), "tab-a", "p1").await;
        let device_b = provision(&router, store.as_ref(), "tab-b", "p1").await;
        let fx = Fixture {
            dir,
            store,
            state,
            router,
            admin,
            designer,
            coordinator,
            outsider,
            device,
            device_id: "tab-a".into(),
            device_b,
            device_b_id: "tab-b".into(),
        };
        let (status, body) = fx
            .send(
                Request::post("/api/v1/projects/p1/forms")
                    .header(header::AUTHORIZATION, format!("Bearer {}", fx.designer))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(household_form()))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        fx
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        call(&self.router, request).await
    }

    pub async fn get(&self, token: &str, uri: &str) -> (StatusCode, Value) {
        self.send(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Upload raw NDJSON bytes (optionally compressed already) as `token`.
    pub async fn upload_bytes(
        &self,
        token: &str,
        project: &str,
        body: Vec<u8>,
        encoding: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(format!("/api/v1/projects/{project}/revisions"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, NDJSON);
        if let Some(e) = encoding {
            request = request.header(header::CONTENT_ENCODING, e);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Upload revisions as a zstd-compressed NDJSON batch.
    pub async fn upload(&self, token: &str, revisions: &[Revision]) -> (StatusCode, Value) {
        let packed = zstd::encode_all(&ndjson(revisions)[..], 3).unwrap();
        self.upload_bytes(token, "p1", packed, Some("zstd")).await
    }

    /// Every item of the coordinator feed from `after`, page by page.
    pub async fn pull_all(&self, after: &str, limit: usize) -> (Vec<Value>, String) {
        let mut cursor = after.to_owned();
        let mut items = Vec::new();
        loop {
            let (status, page) = self
                .get(
                    &self.coordinator,
                    &format!("/api/v1/projects/p1/responses?after={cursor}&limit={limit}"),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let batch = page["items"].as_array().unwrap().clone();
            cursor = page["next"].as_str().unwrap().to_owned();
            let more = page["more"].as_bool().unwrap();
            items.extend(batch);
            if !more {
                return (items, cursor);
            }
        }
    }
}

pub fn ndjson(revisions: &[Revision]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in revisions {
        out.extend(serde_json::to_vec(r).unwrap());
        out.push(b'\n');
    }
    out
}

pub async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// A form with three picture questions: `photo` (plain), `face` (pii) and, in a
/// sensitive group, `scar`.
pub fn photo_form() -> String {
    serde_json::json!({
        "id": "photos",
        "version": "1",
        "title": {"en": "Photos"},
        "languages": [{"code": "en", "name": "English"}],
        "default_language": "en",
        "body": [
            {"type": "text", "name": "village", "label": {"en": "Village"}},
            {"type": "image", "name": "photo", "label": {"en": "Photo of the house"}},
            {"type": "image", "name": "face", "label": {"en": "Respondent"}, "pii": true},
            {"type": "group", "name": "health", "label": {"en": "Health"}, "sensitive": true, "body": [
                {"type": "image", "name": "scar", "label": {"en": "Injury"}}
            ]}
        ]
    })
    .to_string()
}

/// A tiny real PNG (1×1, red) and its SHA-256.
pub fn png() -> (Vec<u8>, String) {
    use sha2::Digest;
    let bytes = hex::decode(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de\
         0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082",
    )
    .unwrap();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    (bytes, sha)
}

/// The first revision of a `photos` response `i` by `actor`: every picture question
/// answered with a file of the given hash (`house.png`, `face.png`, `scar.png`).
pub fn photo_revision(i: u64, actor: &str, sha: &str) -> voices_core::sync::Revision {
    let mut revision = voices_server::sample::household_revision(i, actor, "1");
    revision.id = format!("photo-rev-{actor}-{i}");
    revision.response = format!("photo-resp-{actor}-{i}");
    revision.form = "photos".into();
    revision.set = [
        ("/village", "Kolo"),
        ("/photo", "house.png"),
        ("/face", "face.png"),
        ("/scar", "scar.png"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v.into())))
    .collect();
    revision.files = ["house.png", "face.png", "scar.png"]
        .into_iter()
        .map(|n| (n.to_owned(), sha.to_owned()))
        .collect();
    revision
}
