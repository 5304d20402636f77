//! The coordinator side of the story against a real server on a loopback port chosen by
//! the OS (`story.rs` runs the device side on SQLite and two PostgreSQL processes):
//! provision devices, publish a form, upload batches with duplicates and reorders, edit
//! one response concurrently on its device and by a coordinator, resolve the conflict as a coordinator, pull
//! every page, export. Ends with zero lost and zero duplicated responses, checked against
//! the devices' own records.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use voices_core::sync::protocol::{ProvisioningCode, NDJSON};
use voices_core::sync::{Hlc, Revision, VersionVector};
use voices_server::sample::household_revision;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Device, Role, Store};
use voices_server::{app, auth, AppState};

struct Server {
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn json(&self, response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let body = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn post_json(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        self.json(request.send().await.unwrap()).await
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        self.json(response).await
    }

    async fn upload(&self, token: &str, revisions: &[Revision]) -> Value {
        let packed = zstd::encode_all(&common::ndjson(revisions)[..], 3).unwrap();
        let response = self
            .http
            .post(format!("{}/api/v1/projects/p1/revisions", self.base))
            .bearer_auth(token)
            .header("content-type", NDJSON)
            .header("content-encoding", "zstd")
            .header("voices-protocol", "1")
            .body(packed)
            .send()
            .await
            .unwrap();
        let (status, ack) = self.json(response).await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        ack
    }
}

fn register_device(store: &dyn Store, id: &str, base: &str) -> String {
    let code = auth::random_secret("").unwrap();
    store
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
        .unwrap();
    ProvisioningCode {
        server: base.into(),
        project: "p1".into(),
        code,
        certificate_sha256: None,
    }
    .to_text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_story_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("voices.sqlite3")).unwrap());
    let now = voices_server::now_text();
    store.add_project("p1", "Pilot", &now).unwrap();
    for (name, role) in [
        ("dana", Role::Designer),
        ("cora", Role::Coordinator),
        ("ada", Role::Admin),
    ] {
        let hash = auth::hash_password("correct horse battery").unwrap();
        store.add_user(name, role, &hash, &now).unwrap();
        store.add_membership(name, "p1").unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(AppState::new(store.clone()));
    let server_task = tokio::spawn(async move { axum::serve(listener, router).await });
    let srv = Server {
        base: base.clone(),
        http: reqwest::Client::new(),
    };

    // People log in; devices are provisioned with their one-time codes.
    let login = |user: &'static str| {
        let srv = &srv;
        async move {
            let (status, session) = srv
                .post_json(
                    None,
                    "/api/v1/login",
                    json!({"user": user, "password": "correct horse battery"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{session}");
            session["token"].as_str().unwrap().to_owned()
        }
    };
    let designer = login("dana").await;
    let coordinator = login("cora").await;
    let mut devices = Vec::new();
    for id in ["tab-a", "tab-b"] {
        let code = register_device(store.as_ref(), id, &base);
        let (status, creds) = srv
            .post_json(None, "/api/v1/provision", json!({ "code": code }))
            .await;
        assert_eq!(status, StatusCode::OK, "{creds}");
        assert_eq!(creds["device_id"], id);
        devices.push(creds["token"].as_str().unwrap().to_owned());
        let (status, _) = srv
            .post_json(None, "/api/v1/provision", json!({ "code": code }))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a code worked twice");
    }
    let (tab_a, tab_b) = (&devices[0], &devices[1]);

    // The designer publishes the household form; devices see it.
    let response = srv
        .http
        .post(format!("{base}/api/v1/projects/p1/forms"))
        .bearer_auth(&designer)
        .body(common::household_form())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, forms) = srv.get(tab_a, "/api/v1/projects/p1/forms").await;
    let version = forms[0]["version"].as_str().unwrap().to_owned();

    // Each device's own records: what it made.
    let a: Vec<Revision> = (0..120)
        .map(|i| household_revision(i, "tab-a", &version))
        .collect();
    let b: Vec<Revision> = (500..560)
        .map(|i| household_revision(i, "tab-b", &version))
        .collect();
    let mut sent = BTreeSet::new();
    sent.extend(a.iter().chain(&b).map(|r| r.response.clone()));

    // Batches arrive duplicated, reordered and interleaved between devices.
    let ack = srv.upload(tab_a, &a[..40]).await;
    assert_eq!(ack["accepted"], 40);
    let ack = srv.upload(tab_a, &a[..40]).await; // the ack was lost; sent again
    assert_eq!(ack["duplicate"], 40);
    let mut reordered = a[40..120].to_vec();
    reordered.reverse();
    let ack = srv.upload(tab_b, &b[..30]).await;
    assert_eq!(ack["accepted"], 30);
    let ack = srv.upload(tab_a, &reordered).await;
    assert_eq!(ack["accepted"], 80);
    let mut mixed = b[20..60].to_vec();
    mixed.swap(0, 39);
    let ack = srv.upload(tab_b, &mixed).await;
    assert_eq!(
        (ack["accepted"].as_u64(), ack["duplicate"].as_u64()),
        (Some(30), Some(10))
    );

    // One response is edited on its device and by the coordinator without either seeing
    // the other's edit (the other device may not edit it at all).
    let target = a[7].clone();
    let edit =
        |id: &str, actor: &str, seq: u64, seen: VersionVector, wall_ms: u64, size: &str| Revision {
            id: id.into(),
            actor: actor.into(),
            seq,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(wall_ms, 0),
            seen,
            set: [("/hh_size".to_string(), Some(size.into()))].into(),
            ..target.clone()
        };
    let seen_a1 = VersionVector([("tab-a".to_string(), 1)].into());
    let not_theirs = edit(
        "story-b1",
        "tab-b",
        1,
        seen_a1.clone(),
        1_764_000_000_000,
        "9",
    );
    assert_eq!(
        srv.upload(tab_b, std::slice::from_ref(&not_theirs)).await["records"][0]["code"],
        "not_your_response"
    );
    // The coordinator's clock is three days behind: it must not matter.
    let from_b = edit(
        "story-c0",
        "user:cora",
        1,
        seen_a1,
        1_764_000_000_000 - 3 * 86_400_000,
        "9",
    );
    let from_a = edit(
        "story-a2",
        "tab-a",
        2,
        VersionVector::new(),
        1_764_000_000_000,
        "11",
    );
    assert_eq!(
        srv.upload(&coordinator, std::slice::from_ref(&from_b))
            .await["accepted"],
        1
    );
    assert_eq!(
        srv.upload(tab_a, std::slice::from_ref(&from_a)).await["accepted"],
        1
    );
    let (_, item) = srv
        .get(
            &coordinator,
            &format!("/api/v1/projects/p1/responses/{}", target.response),
        )
        .await;
    assert_eq!(item["conflicts"][0]["key"], "/hh_size", "{item}");

    // The coordinator resolves it on top of what they saw.
    let context: VersionVector = serde_json::from_value(item["context"].clone()).unwrap();
    let resolution = Revision {
        seen: context,
        ..edit(
            "story-c1",
            "user:cora",
            2,
            VersionVector::new(),
            1_764_100_000_000,
            "11",
        )
    };
    assert_eq!(srv.upload(&coordinator, &[resolution]).await["accepted"], 1);

    // Pull everything, page by page.
    let mut cursor = String::new();
    let mut pulled = Vec::new();
    loop {
        let (status, page) = srv
            .get(
                &coordinator,
                &format!("/api/v1/projects/p1/responses?after={cursor}&limit=17"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        pulled.extend(page["items"].as_array().unwrap().clone());
        cursor = page["next"].as_str().unwrap().to_owned();
        if page["more"] == false {
            break;
        }
    }
    let ids: Vec<String> = pulled
        .iter()
        .map(|i| i["response"]["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "a response was pulled twice");
    assert_eq!(unique, sent, "lost or invented responses");
    let resolved = pulled
        .iter()
        .find(|i| i["response"]["id"] == target.response.as_str())
        .unwrap();
    assert!(resolved.get("conflicts").is_none());
    assert_eq!(resolved["response"]["answers"]["hh_size"], "11");
    assert_eq!(resolved["revisions"], 4);
    assert!(
        pulled.iter().all(|i| i.get("quarantine").is_none()),
        "valid responses quarantined"
    );

    // Export as CSV: one row per response, three member rows each.
    let response = srv
        .http
        .get(format!(
            "{base}/api/v1/projects/p1/forms/household_survey/export?format=csv"
        ))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let zip_bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.to_vec())).unwrap();
    let count_rows = |archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str| {
        let file = archive.by_name(name).unwrap();
        csv::Reader::from_reader(file).records().count()
    };
    assert_eq!(count_rows(&mut archive, "household_survey.csv"), sent.len());
    assert_eq!(
        count_rows(&mut archive, "household_survey-member.csv"),
        sent.len() * 3
    );

    // Metrics saw it all; they are the whole server's, so only an admin reads them.
    let refused = srv
        .http
        .get(format!("{base}/metrics"))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let admin = login("ada").await;
    let metrics = srv
        .http
        .get(format!("{base}/metrics"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("voices_revisions_total{status=\"duplicate\"} 50"),
        "{metrics}"
    );
    server_task.abort();
}
