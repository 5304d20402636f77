//! The scripted session of the frozen-wire test: the accounts it starts from, every
//! request in order, and each answer recorded with run-dependent values replaced.

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voices_core::sync::protocol::{ProvisioningCode, DICTIONARY_HEADER, NDJSON, PROTOCOL_HEADER};
use voices_server::auth;
use voices_server::store::{Device, Role, Store, TokenSubject};

use super::fixture;

const PROJECT: &str = "wire";
const FORM: &str = "app_fixture_household";
const VERSION: &str = "2026-01";
const RESPONSE_A: &str = "019b8c2e-7a10-7c3e-9d41-2f6a0b1c3d4e";
const CODE_A: &str = "wire-provisioning-code-of-tab-a";
const CODE_B: &str = "wire-provisioning-code-of-tab-b";
const DESIGNER_TOKEN: &str = "vs_wire_designer_token";
const ADMIN_TOKEN: &str = "vs_wire_admin_token";
const OUTSIDER_TOKEN: &str = "vs_wire_outsider_token";
const PASSWORD: &str = "cora's long password";

/// Keys whose values differ on every run, with the shape each must have.
const SERVER_TIMES: [&str; 4] = ["expires_at", "received_at", "updated_at", "published_at"];

/// A photo's bytes, the same on every run.
fn photo() -> Vec<u8> {
    (0..3_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// Accounts, projects and devices, made through the store (as the admin CLI does).
pub fn prepare(store: &dyn Store) {
    let now = voices_server::now_text();
    let later = voices_server::time_from_now(chrono::Duration::hours(1));
    store.add_project(PROJECT, "Frozen wire", &now).unwrap();
    store.add_project("other", "Another project", &now).unwrap();
    let people = [
        ("dana", Role::Designer, Some(PROJECT), Some(DESIGNER_TOKEN)),
        ("ada", Role::Admin, None, Some(ADMIN_TOKEN)),
        (
            "otto",
            Role::Coordinator,
            Some("other"),
            Some(OUTSIDER_TOKEN),
        ),
        ("cora", Role::Coordinator, Some(PROJECT), None),
    ];
    for (name, role, project, token) in people {
        let hash = if token.is_none() {
            auth::hash_password(PASSWORD).unwrap()
        } else {
            "no password".to_owned()
        };
        store.add_user(name, role, &hash, &now).unwrap();
        if let Some(p) = project {
            store.add_membership(name, p).unwrap();
            // The coordinator reads pii (its own grant), as the recorded export asks.
            if role == Role::Coordinator {
                store.set_pii_grant(name, p, true).unwrap();
            }
        }
        if let Some(t) = token {
            store
                .add_token(
                    &auth::secret_hash(t),
                    &TokenSubject::User(name.into()),
                    &later,
                    &now,
                )
                .unwrap();
        }
    }
    for (id, code) in [("tab-a", CODE_A), ("tab-b", CODE_B)] {
        let device = Device {
            id: id.into(),
            project: PROJECT.into(),
            enumerator: format!("Enumerator of {id}"),
            revoked_at: None,
            wipe_requested_at: None,
        };
        store
            .add_device(&device, &auth::secret_hash(code), &later, &now)
            .unwrap();
    }
}

/// One recorded exchange.
#[derive(Clone)]
pub struct Exchange {
    /// The answer as recorded (normalized).
    pub record: Value,
    /// The answer body as it came (before normalization), JSON when it is JSON.
    raw: Value,
    pub bytes: Vec<u8>,
}

/// Sends requests and records the answers.
struct Recorder {
    router: Router,
    answers: Vec<Exchange>,
}

fn request(method: Method, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(uri);
    match token {
        Some(t) => builder.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => builder,
    }
}

fn json_request(method: Method, uri: &str, token: Option<&str>, body: Value) -> Request<Body> {
    request(method, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    request(Method::GET, uri, token)
        .body(Body::empty())
        .unwrap()
}

/// Replace run-dependent values (tokens, server times, the build's version) by
/// placeholders, after checking that each has its documented shape.
fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let text = item.as_str().map(str::to_owned);
                match (key.as_str(), text) {
                    ("token", Some(t)) => {
                        let random = t.strip_prefix("vt_").or_else(|| t.strip_prefix("vs_"));
                        assert!(
                            random.is_some_and(|r| r.len() == 43),
                            "a token is vt_/vs_ and 256 random bits in base64url, not {t}"
                        );
                        *item = json!("<token>");
                    }
                    (key, Some(t)) if SERVER_TIMES.contains(&key) => {
                        assert!(
                            t.len() == 24
                                && t.ends_with('Z')
                                && chrono::DateTime::parse_from_rfc3339(&t).is_ok(),
                            "`{key}` is RFC 3339 UTC with milliseconds, not {t}"
                        );
                        *item = json!("<server time>");
                    }
                    ("server_version", Some(v)) => {
                        assert_eq!(v, env!("CARGO_PKG_VERSION"));
                        *item = json!("<server version>");
                    }
                    _ => normalize(item),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

impl Recorder {
    async fn send(&mut self, name: &str, reads_as: &str, request: Request<Body>) -> Exchange {
        let line = format!("{} {}", request.method(), request.uri());
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let mut headers = serde_json::Map::new();
        for name in [
            header::CONTENT_TYPE,
            header::ETAG,
            header::CONTENT_DISPOSITION,
            header::CONTENT_LENGTH,
            header::RETRY_AFTER,
        ] {
            // Axum sets Content-Length itself on buffered bodies; only streamed bodies
            // that set it on purpose (attachments) are part of the contract.
            if name == header::CONTENT_LENGTH && !reads_as.starts_with("bytes") {
                continue;
            }
            if let Some(v) = response.headers().get(&name) {
                headers.insert(name.to_string(), json!(v.to_str().unwrap()));
            }
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let raw = if reads_as.starts_with("bytes") {
            json!({"length": bytes.len(), "sha256": auth::sha256_hex(&bytes)})
        } else if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
        };
        let mut body = raw.clone();
        normalize(&mut body);
        let record = json!({
            "name": name,
            "request": line,
            "status": status,
            "headers": headers,
            "reads_as": reads_as,
            "body": body,
        });
        let exchange = Exchange { record, raw, bytes };
        self.answers.push(exchange.clone());
        exchange
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Every exchange, in order, as the app, a coordinator and the mistakes of both make them.
pub async fn script(router: Router) -> Vec<Exchange> {
    let mut r = Recorder {
        router,
        answers: Vec::new(),
    };
    let base = format!("/api/v1/projects/{PROJECT}");
    let form = fixture("form.json");
    let batch = fixture("batch.ndjson");
    let photo = photo();
    let photo_sha = auth::sha256_hex(&photo);

    r.send("health", "text", get("/health", None)).await;
    r.send("info", "ServerInfo", get("/api/v1/info", None))
        .await;
    let mut newer = get("/api/v1/info", None);
    newer
        .headers_mut()
        .insert(PROTOCOL_HEADER, "2".parse().unwrap());
    r.send("info_in_an_unknown_protocol", "Problem", newer)
        .await;

    // Provisioning: the app sends the printed text; the bare code works too.
    let code_text = ProvisioningCode {
        server: "http://127.0.0.1:8470".into(),
        project: PROJECT.into(),
        code: CODE_A.into(),
        certificate_sha256: None,
    }
    .to_text();
    let provision = |code: &str| {
        json_request(
            Method::POST,
            "/api/v1/provision",
            None,
            json!({ "code": code }),
        )
    };
    let a = r
        .send("provision", "DeviceCredentials", provision(&code_text))
        .await;
    let device_a = a.raw["token"].as_str().unwrap().to_owned();
    r.send("provision_a_used_code", "Problem", provision(&code_text))
        .await;
    let b = r
        .send(
            "provision_bare_code",
            "DeviceCredentials",
            provision(CODE_B),
        )
        .await;
    let device_b = b.raw["token"].as_str().unwrap().to_owned();
    let login = |password: &str| {
        json_request(
            Method::POST,
            "/api/v1/login",
            None,
            json!({"user": "cora", "password": password}),
        )
    };
    r.send("login_wrong_password", "Problem", login("wrong"))
        .await;
    let session = r.send("login", "SessionToken", login(PASSWORD)).await;
    let coordinator = session.raw["token"].as_str().unwrap().to_owned();

    // Forms.
    let publish = |token: &str, document: Vec<u8>| {
        request(Method::POST, &format!("{base}/forms"), Some(token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(document))
            .unwrap()
    };
    r.send("publish", "json", publish(DESIGNER_TOKEN, form.clone()))
        .await;
    r.send(
        "publish_again",
        "json",
        publish(DESIGNER_TOKEN, form.clone()),
    )
    .await;
    let changed =
        String::from_utf8(form.clone())
            .unwrap()
            .replacen("Household conditions", "Household", 1);
    r.send(
        "publish_changed_content_same_version",
        "Problem",
        publish(DESIGNER_TOKEN, changed.into_bytes()),
    )
    .await;
    r.send(
        "publish_as_a_device",
        "Problem",
        publish(&device_a, form.clone()),
    )
    .await;
    r.send(
        "publish_an_invalid_form",
        "Problem",
        publish(DESIGNER_TOKEN, b"{\"id\": 3}".to_vec()),
    )
    .await;
    r.send(
        "forms",
        "Vec<FormVersionSummary>",
        get(&format!("{base}/forms"), Some(&device_a)),
    )
    .await;
    r.send(
        "forms_of_another_project",
        "Problem",
        get("/api/v1/projects/other/forms", Some(&device_a)),
    )
    .await;
    let download = r
        .send(
            "form_download",
            "form document",
            get(
                &format!("{base}/forms/{FORM}/versions/{VERSION}"),
                Some(&device_a),
            ),
        )
        .await;
    assert_eq!(
        download.bytes, form,
        "a form downloads exactly as it was published"
    );
    r.send(
        "form_download_unknown_version",
        "Problem",
        get(
            &format!("{base}/forms/{FORM}/versions/1999"),
            Some(&device_a),
        ),
    )
    .await;

    // Attachments: before the revisions that name them.
    let status_uri = format!("{base}/attachments/{photo_sha}/status");
    r.send(
        "attachment_status_before_any_byte",
        "Problem",
        get(&status_uri, Some(&device_a)),
    )
    .await;
    let chunk = |offset: usize, bytes: &[u8]| {
        request(
            Method::PUT,
            &format!(
                "{base}/attachments/{photo_sha}?offset={offset}&size={}",
                photo.len()
            ),
            Some(&device_a),
        )
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes.to_vec()))
        .unwrap()
    };
    r.send(
        "attachment_first_chunk",
        "AttachmentStatus",
        chunk(0, &photo[..1_000]),
    )
    .await;
    r.send(
        "attachment_chunk_at_the_wrong_offset",
        "Problem",
        chunk(0, &photo[..1_000]),
    )
    .await;
    r.send(
        "attachment_last_chunk",
        "AttachmentStatus",
        chunk(1_000, &photo[1_000..]),
    )
    .await;
    r.send(
        "attachment_status_complete",
        "AttachmentStatus",
        get(&status_uri, Some(&device_a)),
    )
    .await;
    r.send(
        "attachment_bad_address",
        "Problem",
        get(
            &format!("{base}/attachments/not-a-hash/status"),
            Some(&device_a),
        ),
    )
    .await;

    // Revisions.
    let upload = |token: &str, encoding: Option<&str>| {
        let mut builder = request(Method::POST, &format!("{base}/revisions"), Some(token))
            .header(header::CONTENT_TYPE, NDJSON);
        if let Some(e) = encoding {
            builder = builder.header(header::CONTENT_ENCODING, e);
        }
        builder
    };
    r.send(
        "upload",
        "UploadAck",
        upload(&device_a, None)
            .body(Body::from(batch.clone()))
            .unwrap(),
    )
    .await;
    let ids: Vec<String> = [
        "019b8c30-1111-7a00-8000-000000000001",
        "019b8c32-2222-7a00-8000-000000000002",
        "019b8c41-4444-7a00-8000-000000000004",
        "never-sent",
    ]
    .map(String::from)
    .to_vec();
    r.send(
        "known",
        "KnownResponse",
        json_request(
            Method::POST,
            &format!("{base}/revisions/known"),
            Some(&device_a),
            json!({ "ids": ids }),
        ),
    )
    .await;
    let packed = zstd::bulk::Compressor::with_dictionary(3, &form)
        .unwrap()
        .compress(&batch)
        .unwrap();
    r.send(
        "upload_again_zstd_with_the_form_as_dictionary",
        "UploadAck",
        upload(&device_a, Some("zstd"))
            .header(DICTIONARY_HEADER, auth::sha256_hex(&form))
            .body(Body::from(packed))
            .unwrap(),
    )
    .await;
    r.send(
        "upload_of_a_coordinator_gzip",
        "UploadAck",
        upload(&coordinator, Some("gzip"))
            .body(Body::from(gzip(&fixture("coordinator-batch.ndjson"))))
            .unwrap(),
    )
    .await;
    r.send(
        "upload_as_json",
        "Problem",
        request(Method::POST, &format!("{base}/revisions"), Some(&device_b))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(batch.clone()))
            .unwrap(),
    )
    .await;
    r.send(
        "upload_with_an_unknown_dictionary",
        "Problem",
        upload(&device_b, Some("zstd"))
            .header(DICTIONARY_HEADER, "0".repeat(64))
            .body(Body::from(zstd::encode_all(&batch[..], 3).unwrap()))
            .unwrap(),
    )
    .await;

    // Coordinator pull, review, files and export.
    r.send(
        "pull_as_a_device",
        "Problem",
        get(&format!("{base}/responses"), Some(&device_a)),
    )
    .await;
    let first = r
        .send(
            "pull_first_page",
            "PullPage",
            get(&format!("{base}/responses?limit=2"), Some(&coordinator)),
        )
        .await;
    let next = first.raw["next"].as_str().unwrap().to_owned();
    let second = r
        .send(
            "pull_next_page",
            "PullPage",
            get(
                &format!("{base}/responses?after={next}&limit=2"),
                Some(&coordinator),
            ),
        )
        .await;
    let end = second.raw["next"].as_str().unwrap().to_owned();
    r.send(
        "pull_with_a_bad_cursor",
        "Problem",
        get(&format!("{base}/responses?after=abc"), Some(&coordinator)),
    )
    .await;
    r.send(
        "response",
        "PulledResponse",
        get(
            &format!("{base}/responses/{RESPONSE_A}"),
            Some(&coordinator),
        ),
    )
    .await;
    r.send(
        "response_unknown",
        "Problem",
        get(&format!("{base}/responses/nope"), Some(&coordinator)),
    )
    .await;
    r.send(
        "review",
        "empty",
        json_request(
            Method::PUT,
            &format!("{base}/responses/{RESPONSE_A}/review"),
            Some(&coordinator),
            json!({"state": "approved"}),
        ),
    )
    .await;
    r.send(
        "pull_after_the_review",
        "PullPage",
        get(&format!("{base}/responses?after={end}"), Some(&coordinator)),
    )
    .await;
    r.send(
        "attachment_download",
        "bytes",
        get(
            &format!("{base}/attachments/{photo_sha}"),
            Some(&coordinator),
        ),
    )
    .await;
    r.send(
        "attachment_download_as_a_device",
        "Problem",
        get(&format!("{base}/attachments/{photo_sha}"), Some(&device_a)),
    )
    .await;
    r.send(
        "export_json",
        "Vec<PulledResponse>",
        get(
            &format!("{base}/forms/{FORM}/export?format=json"),
            Some(&coordinator),
        ),
    )
    .await;
    r.send(
        "export_geojson",
        "json",
        get(
            &format!("{base}/forms/{FORM}/export?format=geojson&pii=true"),
            Some(&coordinator),
        ),
    )
    .await;
    r.send(
        "export_in_an_unknown_format",
        "Problem",
        get(
            &format!("{base}/forms/{FORM}/export?format=xls"),
            Some(&coordinator),
        ),
    )
    .await;

    // Who may do what.
    r.send(
        "without_a_token",
        "Problem",
        get(&format!("{base}/forms"), None),
    )
    .await;
    r.send(
        "with_an_unknown_token",
        "Problem",
        get(&format!("{base}/forms"), Some("vt_nobody")),
    )
    .await;
    r.send(
        "coordinator_of_another_project",
        "Problem",
        get(&format!("{base}/responses"), Some(OUTSIDER_TOKEN)),
    )
    .await;
    r.send(
        "designer_reading_responses",
        "Problem",
        get(&format!("{base}/responses"), Some(DESIGNER_TOKEN)),
    )
    .await;
    r.send(
        "admin_in_an_unknown_project",
        "Problem",
        get("/api/v1/projects/nowhere/forms", Some(ADMIN_TOKEN)),
    )
    .await;
    r.send(
        "admin_reading_responses",
        "PullPage",
        get(&format!("{base}/responses?after={end}"), Some(ADMIN_TOKEN)),
    )
    .await;
    r.answers
}
