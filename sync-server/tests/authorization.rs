//! The authorization matrix: every endpoint the router serves × every kind of caller →
//! the status expected, from one table. The table must name exactly the router's
//! endpoints (`voices_server::http::endpoints()`, the list the router is built from), so
//! an endpoint added without its row fails here.
//!
//! Each row carries a request that succeeds for a caller who may make it, so the table
//! tells "allowed" (2xx) from every refusal (401, 403) rather than from a 400 for a
//! malformed sample.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{ndjson, Fixture, HOUSEHOLD_VERSION};
use voices_core::sync::protocol::NDJSON;
use voices_core::sync::{Revision, VersionVector};
use voices_server::sample::household_revision;
use voices_server::store::{Role, TokenSubject};

/// The callers, in the order of the table's columns.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    /// A device of project p1.
    Device,
    /// A device of project p2.
    OtherDevice,
    /// A device of p1 that was revoked.
    RevokedDevice,
    /// A coordinator of p1.
    Coordinator,
    /// A coordinator of p2 only.
    OtherCoordinator,
    /// A designer of p1.
    Designer,
    Admin,
    /// A coordinator of p1 whose session expired.
    ExpiredSession,
}

const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Device,
    Caller::OtherDevice,
    Caller::RevokedDevice,
    Caller::Coordinator,
    Caller::OtherCoordinator,
    Caller::Designer,
    Caller::Admin,
    Caller::ExpiredSession,
];

const OK: u16 = 200;
const CREATED: u16 = 201;
const NO_CONTENT: u16 = 204;
/// Allowed, and then refused for what the request asks (a conflict that is not there).
const CONFLICT: u16 = 409;
/// No credentials, unknown, revoked or expired ones.
const UNAUTH: u16 = 401;
/// Known caller, wrong project or role.
const DENIED: u16 = 403;
/// Allowed in, then refused for what the sample body says (a too-short new password).
const BAD_INPUT: u16 = 400;
/// Allowed in, then nothing to show (a response never sent back).
const NOT_FOUND: u16 = 404;
/// Allowed in, then refused for the body's media type (JSON where a workbook is converted).
const UNSUPPORTED: u16 = 415;

const PASSWORD: &str = "matrix passphrase";
/// A 5-byte attachment and its SHA-256.
const FILE: &[u8] = b"hello";
const FILE_SHA: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
/// The response of the `photos` form set_up uploads from tab-a (`common::photo_revision`).
const PHOTO_RESPONSE: &str = "photo-resp-tab-a-1";

struct Row {
    method: Method,
    path: &'static str,
    /// The concrete URI to call.
    uri: String,
    body: Option<(&'static str, Vec<u8>)>,
    /// Expected status per caller, in [`CALLERS`] order.
    expect: [u16; 9],
}

fn row(
    method: Method,
    path: &'static str,
    uri: impl Into<String>,
    body: Option<(&'static str, Vec<u8>)>,
    expect: [u16; 9],
) -> Row {
    Row {
        method,
        path,
        uri: uri.into(),
        body,
        expect,
    }
}

fn json(value: serde_json::Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", value.to_string().into_bytes()))
}

/// The table. Columns: anonymous, device, other project's device, revoked device,
/// coordinator, other project's coordinator, designer, admin, expired session.
#[rustfmt::skip]
fn table(response: &str) -> Vec<Row> {
    let all = |s| [s; 9];
    let p = "/api/v1/projects/p1";
    let upload = Some((NDJSON, ndjson(&[])));
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    vec![
        row(Method::GET, "/health", "/health", None, all(OK)),
        // The whole server's counters: admins only (a scraper uses `--metrics-listen`).
        row(Method::GET, "/metrics", "/metrics", None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/info", "/api/v1/info", None, all(OK)),
        // Anyone may try; the credentials in the body decide, not the caller's token.
        row(
            Method::POST,
            "/api/v1/provision",
            "/api/v1/provision",
            json(serde_json::json!({"code": "not a code"})),
            all(UNAUTH),
        ),
        row(
            Method::POST,
            "/api/v1/login",
            "/api/v1/login",
            json(serde_json::json!({"user": "lena", "password": PASSWORD})),
            all(OK),
        ),
        row(Method::PUT, "/api/v1/password", "/api/v1/password",
            json(serde_json::json!({"old_password": "whatever it is", "new_password": "short"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, BAD_INPUT, BAD_INPUT, BAD_INPUT, BAD_INPUT, UNAUTH]),
        //                                                           anon    dev     odev    rdev    coord   ocoord  design  admin   expired
        row(Method::GET, "/api/v1/projects/{project}/forms", format!("{p}/forms"), None,
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, OK, OK, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/forms", format!("{p}/forms"),
            Some(("application/json", common::household_form().into_bytes())),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, OK, OK, UNAUTH]),
        // A JSON body is refused as not a workbook (415) once the caller may publish.
        row(Method::POST, "/api/v1/projects/{project}/forms/convert", format!("{p}/forms/convert"),
            Some(("application/json", common::household_form().into_bytes())),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, UNSUPPORTED, UNSUPPORTED, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/forms/{form}/versions/{version}",
            format!("{p}/forms/household_survey/versions/{HOUSEHOLD_VERSION}"), None,
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, OK, OK, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/revisions", format!("{p}/revisions"), upload,
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/revisions/known", format!("{p}/revisions/known"),
            json(serde_json::json!({"ids": []})),
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/responses", format!("{p}/responses"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/responses/{id}", format!("{p}/responses/{response}"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/responses/{id}/review",
            format!("{p}/responses/{response}/review"), json(serde_json::json!({"state": "approved"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, NO_CONTENT, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/responses/{id}/resubmission",
            format!("{p}/responses/{response}/resubmission"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, NOT_FOUND, DENIED, DENIED, NOT_FOUND, UNAUTH]),
        // A device's own responses; people read the project feed instead.
        row(Method::GET, "/api/v1/projects/{project}/device/feed", format!("{p}/device/feed"), None,
            [UNAUTH, OK, DENIED, UNAUTH, DENIED, DENIED, DENIED, DENIED, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/forms/{form}/export",
            format!("{p}/forms/household_survey/export?format=json"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/attachments/{sha256}",
            format!("{p}/attachments/{FILE_SHA}?offset=0&size=5"), Some(("application/octet-stream", FILE.to_vec())),
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/attachments/{sha256}",
            format!("{p}/attachments/{FILE_SHA}"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/attachments/{sha256}/status",
            format!("{p}/attachments/{FILE_SHA}/status"), None,
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        // The coordinator console (docs/console.md).
        row(Method::POST, "/api/v1/session", "/api/v1/session",
            json(serde_json::json!({"user": "lena", "password": PASSWORD})), all(OK)),
        row(Method::GET, "/api/v1/session", "/api/v1/session", None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, OK, OK, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects", "/api/v1/projects", None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, OK, OK, OK, UNAUTH]),
        //                                                           anon    dev     odev    rdev    coord   ocoord  design  admin   expired
        row(Method::GET, "/api/v1/projects/{project}/overview", format!("{p}/overview"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/table", format!("{p}/table?q=kijiji"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/forms/{form}/fields",
            format!("{p}/forms/household_survey/fields"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, OK, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/forms/{form}/dashboard",
            format!("{p}/forms/household_survey/dashboard"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/forms/{form}/points",
            format!("{p}/forms/household_survey/points"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/responses/{id}/history",
            format!("{p}/responses/{response}/history"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        // A picture of a response (set_up's photo response names FILE as `house.png`; the
        // PUT row above uploaded it).
        row(Method::GET, "/api/v1/projects/{project}/responses/{id}/files/{name}",
            format!("{p}/responses/{PHOTO_RESPONSE}/files/house.png"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        // Passes authorization, then finds no conflict to resolve (409): who may is told
        // apart from who may not all the same.
        row(Method::POST, "/api/v1/projects/{project}/responses/{id}/resolve",
            format!("{p}/responses/{response}/resolve"),
            json(serde_json::json!({"path": "/village", "value": "x"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, CONFLICT, DENIED, DENIED, CONFLICT, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/reviews", format!("{p}/reviews"),
            json(serde_json::json!({"ids": [response], "state": "approved"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/devices", format!("{p}/devices"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/devices",
            format!("http://voices.test:8470{p}/devices"), json(serde_json::json!({"enumerator": "E"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, CREATED, DENIED, DENIED, CREATED, UNAUTH]),
        row(Method::DELETE, "/api/v1/projects/{project}/devices/{id}", format!("{p}/devices/tab-spare"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, NO_CONTENT, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        // A device reads its own enumerator profile; people set it per device.
        row(Method::GET, "/api/v1/projects/{project}/device/profile", format!("{p}/device/profile"), None,
            [UNAUTH, OK, DENIED, UNAUTH, DENIED, DENIED, DENIED, DENIED, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/devices/{id}/profile", format!("{p}/devices/tab-spare/profile"),
            json(serde_json::json!({"sex": "female", "languages": ["ar"], "area": "North"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/presentation", format!("{p}/presentation"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/presentation", format!("{p}/presentation"),
            json(serde_json::json!({"neutral_name": "Field notes"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/device-policy", format!("{p}/device-policy"), None,
            [UNAUTH, OK, DENIED, UNAUTH, OK, DENIED, OK, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/device-policy", format!("{p}/device-policy"),
            json(serde_json::json!({"idle_lock_seconds": 600, "retention_days": 0})),
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        // Devices keep the directory for referral steps offline; none is published yet (404).
        row(Method::GET, "/api/v1/projects/{project}/referrals", format!("{p}/referrals"), None,
            [UNAUTH, NOT_FOUND, DENIED, UNAUTH, NOT_FOUND, DENIED, NOT_FOUND, NOT_FOUND, UNAUTH]),
        // Allowed in, then refused for the sample directory (a service without a name).
        row(Method::PUT, "/api/v1/projects/{project}/referrals", format!("{p}/referrals"),
            json(serde_json::json!({"services": [{"id": "s1"}]})),
            [UNAUTH, DENIED, DENIED, UNAUTH, BAD_INPUT, DENIED, DENIED, BAD_INPUT, UNAUTH]),
        row(Method::GET, "/api/v1/projects/{project}/withdrawal-policy", format!("{p}/withdrawal-policy"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/withdrawal-policy", format!("{p}/withdrawal-policy"),
            json(serde_json::json!({"keep_days": 30})),
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        // After every row that reads the response: withdrawing takes it out of them. The second
        // withdrawal answers the first as recorded.
        row(Method::POST, "/api/v1/projects/{project}/responses/{id}/withdraw",
            format!("{p}/responses/{response}/withdraw"), json(serde_json::json!({"reason": "matrix"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::GET, "/api/v1/users", "/api/v1/users", None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::POST, "/api/v1/users", "/api/v1/users",
            json(serde_json::json!({"name": "mira", "password": PASSWORD})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, CREATED, UNAUTH]),
        row(Method::PATCH, "/api/v1/users/{name}", "/api/v1/users/lena",
            json(serde_json::json!({"display_name": "Lena"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/members/{name}", format!("{p}/members/lena"),
            json(serde_json::json!({"role": "coordinator"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/members/{name}/pii", format!("{p}/members/lena/pii"),
            json(serde_json::json!({"read_pii": true})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        // Teams (admins manage them; coordinators list theirs). The admin's POST makes team 1.
        row(Method::GET, "/api/v1/projects/{project}/teams", format!("{p}/teams"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, OK, DENIED, DENIED, OK, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/teams", format!("{p}/teams"),
            json(serde_json::json!({"name": "North"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, CREATED, UNAUTH]),
        row(Method::PATCH, "/api/v1/projects/{project}/teams/{team}", format!("{p}/teams/1"),
            json(serde_json::json!({"name": "North"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/teams/{team}/devices/{device}",
            format!("{p}/teams/1/devices/tab-spare"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        row(Method::PUT, "/api/v1/projects/{project}/members/{name}/teams", format!("{p}/members/lena/teams"),
            json(serde_json::json!({"teams": [1]})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::DELETE, "/api/v1/projects/{project}/teams/{team}/devices/{device}",
            format!("{p}/teams/1/devices/tab-spare"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        row(Method::DELETE, "/api/v1/projects/{project}/teams/{team}", format!("{p}/teams/1"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        row(Method::DELETE, "/api/v1/projects/{project}/members/{name}", format!("{p}/members/lena"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        // Sealed answers' keys (public keys only) and the audit: admins.
        row(Method::GET, "/api/v1/projects/{project}/keys", format!("{p}/keys"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        row(Method::POST, "/api/v1/projects/{project}/keys", format!("{p}/keys"),
            json(serde_json::json!({"recipient": recipient, "label": "matrix"})),
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, CREATED, UNAUTH]),
        row(Method::DELETE, "/api/v1/projects/{project}/keys/{recipient}", format!("{p}/keys/{recipient}"), None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        // The console opened sealed answers (public keys only): the project's coordinators.
        row(Method::POST, "/api/v1/projects/{project}/sealed-opened", format!("{p}/sealed-opened"),
            json(serde_json::json!({"recipients": [recipient]})),
            [UNAUTH, DENIED, DENIED, UNAUTH, NO_CONTENT, DENIED, DENIED, NO_CONTENT, UNAUTH]),
        row(Method::GET, "/api/v1/audit", "/api/v1/audit?limit=5", None,
            [UNAUTH, DENIED, DENIED, UNAUTH, DENIED, DENIED, DENIED, OK, UNAUTH]),
        // Last: signing out revokes the caller's own token.
        row(Method::DELETE, "/api/v1/session", "/api/v1/session", None,
            [UNAUTH, DENIED, DENIED, UNAUTH, NO_CONTENT, NO_CONTENT, NO_CONTENT, NO_CONTENT, UNAUTH]),
    ]
}

/// The bearer token of each caller (none for the anonymous one).
struct Tokens {
    other_device: String,
    revoked_device: String,
    expired: String,
}

async fn set_up(fx: &Fixture) -> (Tokens, String) {
    let store = fx.store.clone();
    let other_device = common::provision(&fx.router, store.as_ref(), "tab-p2", "p2").await;
    let revoked_device = common::provision(&fx.router, store.as_ref(), "tab-gone", "p1").await;
    assert!(store
        .revoke_device("tab-gone", &voices_server::now_text())
        .unwrap());
    let expired = voices_server::auth::random_secret("vs_").unwrap();
    store
        .add_token(
            &voices_server::auth::secret_hash(&expired),
            &TokenSubject::User("cora".into()),
            "2020-01-01T00:00:00.000Z",
            "2019-12-31T12:00:00.000Z",
        )
        .unwrap();
    let hash = voices_server::auth::hash_password(PASSWORD).unwrap();
    store
        .add_user("lena", Role::Coordinator, &hash, &voices_server::now_text())
        .unwrap();
    // A device for the console's revoke row.
    common::provision(&fx.router, store.as_ref(), "tab-spare", "p1").await;
    // A response for the routes that read one, and the attachment for its download.
    let revision = household_revision(1, &fx.device_id, HOUSEHOLD_VERSION);
    let (status, ack) = fx.upload(&fx.device, std::slice::from_ref(&revision)).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    // A response of the photos form whose pictures are the file FILE.
    let (status, body) = fx
        .send(
            Request::post("/api/v1/projects/p1/forms")
                .header(header::AUTHORIZATION, format!("Bearer {}", fx.designer))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(common::photo_form()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let photos = common::photo_revision(1, &fx.device_id, FILE_SHA);
    assert_eq!(photos.response, PHOTO_RESPONSE);
    let (status, ack) = fx.upload(&fx.device, &[photos]).await;
    assert_eq!(
        (status, &ack["accepted"]),
        (StatusCode::OK, &serde_json::json!(1)),
        "{ack}"
    );
    (
        Tokens {
            other_device,
            revoked_device,
            expired,
        },
        revision.response.to_string(),
    )
}

fn token<'a>(fx: &'a Fixture, tokens: &'a Tokens, caller: Caller) -> Option<&'a str> {
    Some(match caller {
        Caller::Anonymous => return None,
        Caller::Device => &fx.device,
        Caller::OtherDevice => &tokens.other_device,
        Caller::RevokedDevice => &tokens.revoked_device,
        Caller::Coordinator => &fx.coordinator,
        Caller::OtherCoordinator => &fx.outsider,
        Caller::Designer => &fx.designer,
        Caller::Admin => &fx.admin,
        Caller::ExpiredSession => &tokens.expired,
    })
}

#[tokio::test]
async fn every_endpoint_answers_every_kind_of_caller_as_the_table_says() {
    let fx = Fixture::new().await;
    let (tokens, response) = set_up(&fx).await;
    // A standing key, so the one the table adds may be retired (never the last).
    let standing = age::x25519::Identity::generate().to_public().to_string();
    voices_server::keys::add(
        fx.store.as_ref(),
        "p1",
        &standing,
        "",
        "ada",
        &voices_server::now_text(),
    )
    .unwrap();
    let table = table(&response);

    let served: BTreeSet<(String, String)> = voices_server::http::endpoints()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .collect();
    let listed: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&served).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the authorization table must list exactly the router's endpoints; without a row: {missing:?}; not served: {extra:?}"
    );
    assert_eq!(listed.len(), table.len(), "an endpoint has two rows");

    let mut wrong = Vec::new();
    for row in &table {
        for (caller, expected) in CALLERS.iter().zip(row.expect) {
            let mut request = Request::builder().method(row.method.clone()).uri(&row.uri);
            if let Some(token) = token(&fx, &tokens, *caller) {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let body = match &row.body {
                Some((content_type, bytes)) => {
                    request = request.header(header::CONTENT_TYPE, *content_type);
                    Body::from(bytes.clone())
                }
                None => Body::empty(),
            };
            let (status, answer) = fx.send(request.body(body).unwrap()).await;
            // Publishing the same form again is 200; the first time 201. Either is "allowed".
            let status = match (status.as_u16(), expected) {
                (CREATED, OK) => OK,
                (s, _) => s,
            };
            if status != expected {
                wrong.push(format!(
                    "{} {} as {caller:?}: expected {expected}, got {status} {answer}",
                    row.method, row.path
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// A response's picture is read under the rules of its answer: a coordinator limited to
/// teams gets `404 unknown_response` for a response outside them (as for any route naming
/// it), and a picture of a pii or sensitive question needs the pii grant and `pii=true`.
#[tokio::test]
async fn a_picture_is_read_only_by_whom_may_read_its_answer() {
    let fx = Fixture::new().await;
    let _ = set_up(&fx).await;
    let (status, body) = fx
        .send(
            Request::put(format!(
                "/api/v1/projects/p1/attachments/{FILE_SHA}?offset=0&size=5"
            ))
            .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(FILE))
            .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = |name: &str, query: &str| {
        format!("/api/v1/projects/p1/responses/{PHOTO_RESPONSE}/files/{name}{query}")
    };
    let (status, body) = fx.get(&fx.coordinator, &file("house.png", "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for pii in ["face.png", "scar.png"] {
        let (status, body) = fx.get(&fx.coordinator, &file(pii, "?pii=true")).await;
        assert_eq!(status, StatusCode::OK, "{pii}: {body}");
    }

    // Without the pii grant: asking is refused, and not asking does not reach the
    // pii or sensitive pictures (answered as no such file); the plain one still reads.
    assert!(fx.store.set_pii_grant("cora", "p1", false).unwrap());
    for pii in ["face.png", "scar.png"] {
        let (status, body) = fx.get(&fx.coordinator, &file(pii, "?pii=true")).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::FORBIDDEN, &serde_json::json!("pii_not_granted")),
            "{pii}: {body}"
        );
        let (status, body) = fx.get(&fx.coordinator, &file(pii, "")).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::NOT_FOUND, &serde_json::json!("unknown_file")),
            "{pii}: {body}"
        );
    }
    let (status, body) = fx.get(&fx.coordinator, &file("house.png", "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = fx.get(&fx.admin, &file("face.png", "?pii=true")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Limited to a team without tab-a: the response, and so its pictures, do not exist.
    let team = fx
        .store
        .add_team("p1", "North", &voices_server::now_text())
        .unwrap();
    fx.store
        .limit_member("cora", "p1", Some(&[team.id]))
        .unwrap();
    for name in ["house.png", "face.png"] {
        let (status, body) = fx.get(&fx.coordinator, &file(name, "")).await;
        assert_eq!(
            (status, &body["code"]),
            (
                StatusCode::NOT_FOUND,
                &serde_json::json!("unknown_response")
            ),
            "{name}: {body}"
        );
    }
    let (status, _) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/attachments/{FILE_SHA}?response={PHOTO_RESPONSE}"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // With tab-a in the team, the picture reads, and so does the file by its hash through
    // the response that names it.
    fx.store
        .set_team_device("p1", team.id, "tab-a", true)
        .unwrap();
    let (status, body) = fx.get(&fx.coordinator, &file("house.png", "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/attachments/{FILE_SHA}?response={PHOTO_RESPONSE}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// What a coordinator limited to a team reads through every endpoint of the table, with
/// a response outside the team in the project: nothing of it. Routes about that response
/// answer 404 as for a missing one (its existence is not told); lists, counts, search,
/// charts, the map and exports leave it out; nothing the coordinator may do changes it.
#[tokio::test]
async fn a_coordinator_limited_to_a_team_reads_nothing_outside_it() {
    let fx = Fixture::new().await;
    let (tokens, hidden) = set_up(&fx).await;
    let store = fx.store.clone();
    // cora's team holds one device, which sent one response.
    let team_device = common::provision(&fx.router, store.as_ref(), "tab-team", "p1").await;
    let team = store
        .add_team("p1", "North", &voices_server::now_text())
        .unwrap();
    store
        .set_team_device("p1", team.id, "tab-team", true)
        .unwrap();
    let visible = household_revision(2, "tab-team", HOUSEHOLD_VERSION);
    let (status, ack) = fx
        .upload(&team_device, std::slice::from_ref(&visible))
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    store.limit_member("cora", "p1", Some(&[team.id])).unwrap();
    let _ = tokens;

    // What the team does see.
    let (status, page) = fx.get(&fx.coordinator, "/api/v1/projects/p1/table").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let (_, overview) = fx
        .get(&fx.coordinator, "/api/v1/projects/p1/overview")
        .await;
    assert_eq!(overview["total"], 1, "{overview}");
    let (_, admin_overview) = fx.get(&fx.admin, "/api/v1/projects/p1/overview").await;
    // The hidden household response and set_up's photo response (both tab-a's), and the team's.
    assert_eq!(admin_overview["total"], 3, "{admin_overview}");
    let (_, session) = fx.get(&fx.coordinator, "/api/v1/session").await;
    let limits = &session["memberships"][0]["teams"];
    assert_eq!(limits[0]["name"], "North", "{session}");
    let (_, teams) = fx.get(&fx.coordinator, "/api/v1/projects/p1/teams").await;
    assert_eq!(teams.as_array().map(Vec::len), Some(1), "{teams}");

    // A coordinator's edit of the hidden response is refused like one of a new response.
    let edit = Revision {
        id: "cora-edit".into(),
        actor: "user:cora".into(),
        seq: 1,
        seen: VersionVector([("tab-a".to_string(), 1)].into()),
        set: [("/village".to_string(), Some("Elsewhere".into()))].into(),
        status: None,
        ..household_revision(1, &fx.device_id, HOUSEHOLD_VERSION)
    };
    let (status, ack) = fx.upload(&fx.coordinator, &[edit]).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["rejected"], 1, "{ack}");

    // Nor does asking which revisions the server holds tell about the hidden response's.
    let hidden_revision = household_revision(1, &fx.device_id, HOUSEHOLD_VERSION).id;
    let (status, known) = fx
        .send(
            Request::post("/api/v1/projects/p1/revisions/known")
                .header(header::AUTHORIZATION, format!("Bearer {}", fx.coordinator))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    serde_json::json!({"ids": [hidden_revision, visible.id]}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{known}");
    assert_eq!(known["known"], serde_json::json!([visible.id]), "{known}");

    // Every project endpoint a coordinator may call, as the limited coordinator.
    let secrets = [hidden.as_str(), "tab-a", "Enumerator tab-a"];
    let mut wrong = Vec::new();
    for row in table(&hidden) {
        let coordinator = row.expect[4];
        if !row.path.contains("{project}")
            || !(200..300).contains(&coordinator) && coordinator != CONFLICT
        {
            continue;
        }
        let mut request = Request::builder()
            .method(row.method.clone())
            .uri(&row.uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", fx.coordinator));
        let body = match &row.body {
            Some((content_type, bytes)) => {
                request = request.header(header::CONTENT_TYPE, *content_type);
                Body::from(bytes.clone())
            }
            None => Body::empty(),
        };
        let (status, answer) = fx.send(request.body(body).unwrap()).await;
        let about_hidden = row.path.contains("/responses/{id}");
        if about_hidden {
            if status != StatusCode::NOT_FOUND || answer["code"] != "unknown_response" {
                wrong.push(format!("{} {}: {status} {answer}", row.method, row.path));
            }
            continue;
        }
        if row.path.ends_with("/reviews") {
            // The caller's own ids come back, each refused as unknown.
            if answer["results"][0]["ok"] != false
                || answer["results"][0]["code"] != "unknown_response"
            {
                wrong.push(format!("{} {}: {status} {answer}", row.method, row.path));
            }
            continue;
        }
        if status.is_server_error() {
            wrong.push(format!("{} {}: {status} {answer}", row.method, row.path));
        }
        let text = answer.to_string();
        for secret in secrets {
            if text.contains(secret) {
                wrong.push(format!(
                    "{} {} told `{secret}`: {text}",
                    row.method, row.path
                ));
            }
        }
    }
    // The file is read only through a response the coordinator sees.
    let file = format!("/api/v1/projects/p1/attachments/{FILE_SHA}");
    let (status, _) = fx.get(&fx.coordinator, &file).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = fx
        .get(&fx.coordinator, &format!("{file}?response={hidden}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        wrong.is_empty(),
        "{} leaks:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // Nothing the limited coordinator tried changed the hidden response.
    let (status, response) = fx
        .get(
            &fx.admin,
            &format!("/api/v1/projects/p1/responses/{hidden}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let text = response.to_string();
    assert!(
        !text.contains("Elsewhere") && !text.contains("matrix"),
        "{text}"
    );
    assert_eq!(response["review_state"], "received", "{response}");

    // The team's set-up through the API is in the audit, by the admin who made it.
    let (status, _) = fx
        .send(
            Request::put("/api/v1/projects/p1/members/cora/teams")
                .header(header::AUTHORIZATION, format!("Bearer {}", fx.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::json!({"teams": null}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, audit) = fx.get(&fx.admin, "/api/v1/audit?action=limit_teams").await;
    let entry = &audit["entries"][0];
    assert_eq!(
        (&entry["actor"], &entry["target"], &entry["detail"]),
        (
            &serde_json::json!("admin"),
            &serde_json::json!("cora"),
            &serde_json::json!("unlimited")
        ),
        "{audit}"
    );
    let (_, session) = fx.get(&fx.coordinator, "/api/v1/session").await;
    assert_eq!(
        session["memberships"][0]["teams"],
        serde_json::Value::Null,
        "{session}"
    );
}

/// A coordinator limited to teams starts responses of their own (a paper form typed in,
/// through the API as the app or the CLI sends it): accepted, and theirs to read and
/// edit afterwards, as their teams' are; responses outside the teams stay refused and
/// unseen.
#[tokio::test]
async fn a_coordinator_limited_to_teams_starts_responses_and_reads_them_back() {
    let fx = Fixture::new().await;
    let (_, hidden) = set_up(&fx).await;
    let store = fx.store.clone();
    let team = store
        .add_team("p1", "North", &voices_server::now_text())
        .unwrap();
    store.limit_member("cora", "p1", Some(&[team.id])).unwrap();

    let own = household_revision(40, "user:cora", HOUSEHOLD_VERSION);
    let (status, ack) = fx.upload(&fx.coordinator, std::slice::from_ref(&own)).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(
        (&ack["accepted"], &ack["rejected"]),
        (&1.into(), &0.into()),
        "{ack}"
    );

    // Hers to read: the table, its count, the overview, the dashboard, the response.
    let (_, page) = fx.get(&fx.coordinator, "/api/v1/projects/p1/table").await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["rows"][0]["id"], own.response.as_str(), "{page}");
    let (_, page) = fx
        .get(
            &fx.coordinator,
            "/api/v1/projects/p1/table?status=finalized",
        )
        .await;
    assert_eq!(page["total"], 1, "{page}");
    let (_, overview) = fx
        .get(&fx.coordinator, "/api/v1/projects/p1/overview")
        .await;
    assert_eq!(overview["total"], 1, "{overview}");
    let (status, dashboard) = fx
        .get(
            &fx.coordinator,
            "/api/v1/projects/p1/forms/household_survey/dashboard",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dashboard}");
    assert_eq!(dashboard["total"], 1, "{dashboard}");
    let (status, response) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/responses/{}", own.response),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{response}");

    // And to edit again.
    let edit = Revision {
        id: "cora-own-2".into(),
        seq: 2,
        seen: VersionVector([("user:cora".to_string(), 1)].into()),
        set: [("/village".to_string(), Some("Kijiji 7".into()))].into(),
        status: None,
        ..own.clone()
    };
    let (_, ack) = fx.upload(&fx.coordinator, &[edit]).await;
    assert_eq!(ack["accepted"], 1, "{ack}");

    // Outside the teams nothing changed: the hidden response is refused and unseen.
    let (status, _) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/responses/{hidden}"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let outside = Revision {
        id: "cora-outside".into(),
        actor: "user:cora".into(),
        seq: 3,
        seen: VersionVector([("tab-a".to_string(), 1)].into()),
        set: [("/village".to_string(), Some("Elsewhere".into()))].into(),
        status: None,
        ..household_revision(1, &fx.device_id, HOUSEHOLD_VERSION)
    };
    let (_, ack) = fx.upload(&fx.coordinator, &[outside]).await;
    assert_eq!(ack["rejected"], 1, "{ack}");
    // The admin sees hers among the project's.
    let (_, overview) = fx.get(&fx.admin, "/api/v1/projects/p1/overview").await;
    assert_eq!(overview["total"], 3, "{overview}");
}
