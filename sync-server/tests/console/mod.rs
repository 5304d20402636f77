//! The console's API (docs/console.md), end to end through the router, generic over the
//! store: `console_sqlite.rs` and `console_postgres.rs` run every test here through
//! `console_suite!`, so the SQL of both backends answers the same.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voices_core::sync::protocol::NDJSON;
use voices_core::sync::{Hlc, Revision, VersionVector};
use voices_server::sample::household_revision;
use voices_server::store::{Role, Store, TokenSubject};
use voices_server::{app, auth, AppState};

use crate::common::{household_form, ndjson, HOUSEHOLD_VERSION};

/// Run store calls made by the test itself outside the async executor: the blocking
/// PostgreSQL client runs a runtime of its own.
fn sync<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join().unwrap())
}

/// Register a device and provision it through the API, as the app does.
async fn provision(router: &Router, store: &dyn Store, id: &str, project: &str) -> String {
    let code = auth::random_secret("").unwrap();
    sync(|| {
        store
            .add_device(
                &voices_server::store::Device {
                    id: id.into(),
                    project: project.into(),
                    enumerator: format!("Enumerator {id}"),
                    revoked_at: None,
                },
                &auth::secret_hash(&code),
                &voices_server::time_from_now(chrono::Duration::days(1)),
                &voices_server::now_text(),
            )
            .unwrap()
    });
    let text = voices_core::sync::protocol::ProvisioningCode {
        server: "http://127.0.0.1".into(),
        project: project.into(),
        code,
    }
    .to_text();
    let response = router
        .clone()
        .oneshot(
            Request::post("/api/v1/provision")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "code": text }).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    body["token"].as_str().unwrap().to_owned()
}

pub const FORM: &str = "household_survey";
pub const PASSWORD: &str = "correct horse battery";

/// A server with projects p1 and p2, people of every role, two devices of p1 and the
/// household form published in both projects.
pub struct Console {
    pub store: Arc<dyn Store>,
    pub router: Router,
    pub admin: String,
    pub designer: String,
    pub coordinator: String,
    /// A coordinator of p2 only.
    pub outsider: String,
    pub device: String,
    pub device_b: String,
}

/// One answer: status, JSON (or text) body and the response headers.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

fn person(store: &dyn Store, name: &str, role: Role, project: Option<&str>) -> String {
    sync(|| person_now(store, name, role, project))
}

fn person_now(store: &dyn Store, name: &str, role: Role, project: Option<&str>) -> String {
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

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

impl Console {
    pub async fn new(store: Arc<dyn Store>) -> Console {
        let now = voices_server::now_text();
        sync(|| {
            store.add_project("p1", "Project one", &now).unwrap();
            store.add_project("p2", "Project two", &now).unwrap();
        });
        let admin = person(store.as_ref(), "admin", Role::Admin, None);
        let designer = person(store.as_ref(), "dana", Role::Designer, Some("p1"));
        let coordinator = person(store.as_ref(), "cora", Role::Coordinator, Some("p1"));
        let outsider = person(store.as_ref(), "otto", Role::Coordinator, Some("p2"));
        let router = app(AppState::new(store.clone()));
        let device = provision(&router, store.as_ref(), "tab-a", "p1").await;
        let device_b = provision(&router, store.as_ref(), "tab-b", "p1").await;
        let console = Console {
            store,
            router,
            admin,
            designer,
            coordinator,
            outsider,
            device,
            device_b,
        };
        for project in ["p1", "p2"] {
            let answer = console
                .call(
                    "POST",
                    &format!("/api/v1/projects/{project}/forms"),
                    &console.admin,
                    Some(household_form()),
                )
                .await;
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        }
        console
    }

    /// Send a request; `token` empty sends none.
    pub async fn call(&self, method: &str, uri: &str, token: &str, body: Option<String>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "voices.test:8470");
        if !token.is_empty() {
            request = request.header(header::AUTHORIZATION, bearer(token));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        self.send(request.body(Body::from(body.unwrap_or_default())).unwrap())
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, token: &str, uri: &str) -> Answer {
        self.call("GET", uri, token, None).await
    }

    /// Upload revisions as `token` to p1: the acknowledgement.
    pub async fn upload_ack(&self, token: &str, revisions: &[Revision]) -> Value {
        let answer = self
            .send(
                Request::post("/api/v1/projects/p1/revisions")
                    .header(header::AUTHORIZATION, bearer(token))
                    .header(header::CONTENT_TYPE, NDJSON)
                    .body(Body::from(ndjson(revisions)))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    /// Upload revisions as `token` to p1; every one must be accepted.
    pub async fn upload(&self, token: &str, revisions: &[Revision]) {
        let ack = self.upload_ack(token, revisions).await;
        assert_eq!(
            ack["accepted"].as_u64(),
            Some(revisions.len() as u64),
            "{ack}"
        );
    }

    /// `n` household responses from device tab-a, numbered from `from`.
    pub async fn responses(&self, from: u64, n: u64) -> Vec<Revision> {
        let batch: Vec<Revision> = (from..from + n)
            .map(|i| household_revision(i, "tab-a", HOUSEHOLD_VERSION))
            .collect();
        self.upload(&self.device, &batch).await;
        batch
    }

    /// A user with a real password, for the session tests.
    pub fn person_with_password(&self, name: &str, role: Role, project: Option<&str>) {
        let now = voices_server::now_text();
        sync(|| {
            self.store
                .add_user(name, role, &auth::hash_password(PASSWORD).unwrap(), &now)
                .unwrap();
            if let Some(p) = project {
                self.store.add_membership(name, p).unwrap();
            }
        });
    }

    /// Sign in through `POST /session`: the cookie (`voices_session=…`) and the body.
    pub async fn sign_in(&self, user: &str) -> (String, Value) {
        let answer = self
            .send(
                Request::post("/api/v1/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        json!({"user": user, "password": PASSWORD}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let set_cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        (cookie, answer.body)
    }

    /// A request with a session cookie and, if given, a CSRF header.
    pub async fn with_cookie(
        &self,
        method: &str,
        uri: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, cookie);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Every row of a table query, page by page (`limit` rows each).
    pub async fn all_rows(&self, query: &str, limit: usize) -> (Vec<Value>, usize) {
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let uri = match &after {
                None => format!("/api/v1/projects/p1/table?{query}&limit={limit}"),
                Some(a) => format!("/api/v1/projects/p1/table?{query}&limit={limit}&after={a}"),
            };
            let answer = self.get(&self.coordinator, &uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
            pages += 1;
            rows.extend(answer.body["rows"].as_array().unwrap().iter().cloned());
            match answer.body["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => return (rows, pages),
            }
            assert!(pages < 1_000, "the pages never end");
        }
    }
}

/// An edit of response `of` by `actor` (its edit number `seq`), having seen `seen`.
pub fn edit(
    of: &Revision,
    id: &str,
    actor: &str,
    seq: u64,
    seen: &[(&str, u64)],
    set: &[(&str, &str)],
) -> Revision {
    Revision {
        id: id.into(),
        actor: actor.into(),
        seq,
        hlc: Hlc::new(of.hlc.wall_ms + 60_000 * seq, 0),
        seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect(),
        status: None,
        ..of.clone()
    }
}

/// The household fields marked pii.
const PII: [&str; 4] = ["/gps", "/resp_name", "/resp_phone", "member_name"];

/// How many of `sent` have every word as the beginning of a word of their answers (pii
/// answers only with `pii`): what the search must find.
fn matching(sent: &[Revision], words: &[&str], pii: bool) -> usize {
    sent.iter()
        .filter(|r| {
            let tokens: Vec<String> = r
                .set
                .iter()
                .filter(|(path, _)| !path.ends_with("[]"))
                .filter(|(path, _)| pii || !PII.iter().any(|p| path.ends_with(p)))
                .filter_map(|(_, v)| v.as_deref())
                .flat_map(|v| {
                    v.split(|c: char| !c.is_alphanumeric())
                        .filter(|t| !t.is_empty())
                        .map(str::to_lowercase)
                        .collect::<Vec<_>>()
                })
                .collect();
            words
                .iter()
                .all(|w| tokens.iter().any(|t| t.starts_with(&w.to_lowercase())))
        })
        .count()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------- sessions

pub async fn a_session_is_an_httponly_strict_cookie_and_unsafe_requests_need_its_csrf(c: Console) {
    c.person_with_password("sara", Role::Coordinator, Some("p1"));
    c.responses(0, 1).await;
    let rid = household_revision(0, "tab-a", HOUSEHOLD_VERSION).response;

    // A wrong password and an unknown user get the same answer.
    for (user, password) in [("sara", "wrong password!"), ("nobody", PASSWORD)] {
        let answer = c
            .send(
                Request::post("/api/v1/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        json!({"user": user, "password": password}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::UNAUTHORIZED, "bad_credentials")
        );
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
    // A cross-site form cannot post JSON: signing in needs the JSON content type.
    let answer = c
        .send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("user=sara&password={PASSWORD}")))
                .unwrap(),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        answer.body
    );

    let answer = c
        .send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"user": "sara", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let set_cookie = answer.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    assert_eq!(answer.body["user"]["name"], "sara");
    assert_eq!(answer.body["user"]["admin"], false);
    assert_eq!(
        answer.body["memberships"],
        json!([{"project": "p1", "role": "coordinator"}])
    );
    let csrf = answer.body["csrf"].as_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("voices_session="), "{cookie}");

    // Behind a TLS proxy the cookie is Secure.
    let answer = c
        .send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-proto", "https")
                .body(Body::from(
                    json!({"user": "sara", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert!(answer.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("; Secure"));

    // The cookie reads without CSRF.
    let answer = c
        .with_cookie("GET", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["csrf"], csrf.as_str());
    let answer = c
        .with_cookie(
            "GET",
            &format!("/api/v1/projects/p1/responses/{rid}"),
            &cookie,
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    // An unsafe request without the header, or with another session's, changes nothing.
    let review = format!("/api/v1/projects/p1/responses/{rid}/review");
    let approve = json!({"state": "approved", "comment": "fine"});
    for wrong in [None, Some("not-the-token"), Some("")] {
        let answer = c
            .with_cookie("PUT", &review, &cookie, wrong, Some(approve.clone()))
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::FORBIDDEN, "csrf"),
            "{wrong:?}"
        );
    }
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}"),
        )
        .await;
    assert_eq!(answer.body["review_state"], "received");
    let answer = c
        .with_cookie("PUT", &review, &cookie, Some(&csrf), Some(approve))
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    // A bearer token needs no CSRF header.
    let answer = c
        .call(
            "PUT",
            &review,
            &c.coordinator,
            Some(json!({"state": "has_issues"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);

    // Signing out needs the header too, revokes the session and clears the cookie.
    let answer = c
        .with_cookie("DELETE", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let answer = c
        .with_cookie("DELETE", "/api/v1/session", &cookie, Some(&csrf), None)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    assert!(answer.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let answer = c
        .with_cookie("GET", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "token_revoked")
    );
    let answer = c.get("", "/api/v1/session").await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
}

// ---------------------------------------------------------------- projects and overview

pub async fn projects_are_listed_with_the_role_in_each(c: Console) {
    let answer = c.get(&c.coordinator, "/api/v1/projects").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!([{"id": "p1", "name": "Project one", "role": "coordinator"}])
    );
    let answer = c.get(&c.designer, "/api/v1/projects").await;
    assert_eq!(answer.body[0]["role"], "designer");
    let answer = c.get(&c.admin, "/api/v1/projects").await;
    assert_eq!(
        answer.body,
        json!([{"id": "p1", "name": "Project one", "role": "admin"},
               {"id": "p2", "name": "Project two", "role": "admin"}])
    );
    let answer = c.get(&c.device, "/api/v1/projects").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = c.get("", "/api/v1/projects").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

pub async fn the_overview_counts_what_came_in(c: Console) {
    c.responses(0, 7).await;
    let batch: Vec<Revision> = (100..103)
        .map(|i| household_revision(i, "tab-b", HOUSEHOLD_VERSION))
        .collect();
    c.upload(&c.device_b, &batch).await;
    // One response on a version that is not published: quarantined.
    let ack = c
        .upload_ack(&c.device, &[household_revision(200, "tab-a", "nope")])
        .await;
    assert_eq!(ack["quarantined"], 1, "{ack}");
    let rid = household_revision(0, "tab-a", HOUSEHOLD_VERSION).response;
    let answer = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{rid}/review"),
            &c.coordinator,
            Some(json!({"state": "approved"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/overview?unseen_days=7")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let o = &answer.body;
    assert_eq!(o["total"], 11, "{o}");
    assert_eq!(o["responses_today"], 11, "{o}");
    assert_eq!(o["responses_week"], 11, "{o}");
    assert_eq!(o["pending_review"], 10, "{o}");
    assert_eq!(o["quarantined"], 1, "{o}");
    assert_eq!(o["conflicts"], 0, "{o}");
    assert_eq!(
        o["by_form"],
        json!([{"form": FORM, "title": "Household Survey (peer benchmark)", "count": 11}])
    );
    assert_eq!(
        o["by_enumerator"],
        json!([{"enumerator": "Enumerator tab-a", "count": 8},
               {"enumerator": "Enumerator tab-b", "count": 3}])
    );
    // Both devices synced just now; a device that never synced is listed.
    assert_eq!(o["devices_unseen"], json!([]), "{o}");
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/devices",
            &c.coordinator,
            Some(json!({"enumerator": "Wanjiru", "label": "Spare"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    let unseen = answer.body["devices_unseen"].as_array().unwrap().clone();
    assert_eq!(unseen.len(), 1, "{unseen:?}");
    assert_eq!(unseen[0]["label"], "Spare");
    assert_eq!(unseen[0]["last_seen"], Value::Null);
    for bad in ["0", "366", "x"] {
        let answer = c
            .get(
                &c.coordinator,
                &format!("/api/v1/projects/p1/overview?unseen_days={bad}"),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, "bad_query"),
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------- the responses table

pub async fn the_table_filters_sorts_and_pages_without_gaps(c: Console) {
    let sent = c.responses(0, 23).await;
    let b: Vec<Revision> = (100..105)
        .map(|i| household_revision(i, "tab-b", HOUSEHOLD_VERSION))
        .collect();
    c.upload(&c.device_b, &b).await;

    // Every row once, in order, whatever the page size.
    let (all, _) = c
        .all_rows(&format!("form={FORM}&sort=received_at&order=asc"), 500)
        .await;
    assert_eq!(all.len(), 28);
    for limit in [1, 5, 27] {
        let (rows, pages) = c
            .all_rows(&format!("form={FORM}&sort=received_at&order=asc"), limit)
            .await;
        assert_eq!(ids(&rows), ids(&all), "limit {limit}");
        assert_eq!(pages, 28_usize.div_ceil(limit), "limit {limit}");
    }
    let (desc, _) = c.all_rows(&format!("form={FORM}"), 4).await;
    let mut reversed = ids(&all);
    reversed.reverse();
    // The default order is newest first; rows received in one batch keep a stable order.
    assert_eq!(desc.len(), 28);
    assert_eq!(
        desc.iter()
            .map(|r| r["received_at"].as_str().unwrap())
            .collect::<Vec<_>>(),
        {
            let mut times: Vec<_> = all
                .iter()
                .map(|r| r["received_at"].as_str().unwrap())
                .collect();
            times.sort();
            times.reverse();
            times
        }
    );

    // Filters, with the total of all matching rows.
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?form={FORM}&device=tab-b&limit=2"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["total"], 5);
    assert_eq!(answer.body["rows"].as_array().unwrap().len(), 2);
    assert!(answer.body["next"].is_string());
    let (rows, _) = c.all_rows("enumerator=Enumerator%20tab-b", 50).await;
    assert_eq!(rows.len(), 5);
    assert!(rows
        .iter()
        .all(|r| r["device"] == "tab-b" && r["enumerator"] == "Enumerator tab-b"));

    let first = &sent[0].response;
    let answer = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{first}/review"),
            &c.coordinator,
            Some(json!({"state": "rejected", "comment": "duplicate household"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let (rows, _) = c.all_rows("review=rejected", 50).await;
    assert_eq!(ids(&rows), [first.clone()]);
    assert_eq!(rows[0]["review"], "rejected");
    let (rows, _) = c.all_rows("review=received&status=finalized", 50).await;
    assert_eq!(rows.len(), 27);
    let (rows, _) = c.all_rows("status=draft", 50).await;
    assert!(rows.is_empty());
    let (rows, _) = c
        .all_rows(
            &format!("form={FORM}&version={HOUSEHOLD_VERSION}&sort=review&order=desc"),
            7,
        )
        .await;
    assert_eq!(rows.len(), 28);
    assert_eq!(
        rows[0]["review"], "rejected",
        "review states sort as text: rejected last ascending"
    );

    // Time range: everything was received today; nothing tomorrow.
    let today = &voices_server::now_text()[..10];
    let (rows, _) = c.all_rows(&format!("from={today}&to={today}"), 50).await;
    assert_eq!(rows.len(), 28);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let (rows, _) = c.all_rows(&format!("from={tomorrow}"), 50).await;
    assert!(rows.is_empty());

    // Rows carry flat answers; pii is masked unless asked for.
    let row = &all[0];
    assert_eq!(row["form"], FORM);
    assert_eq!(row["version"], HOUSEHOLD_VERSION);
    assert_eq!(row["status"], "finalized");
    assert_eq!(row["conflicts"], 0);
    assert_eq!(row["quarantined"], false);
    let answers = &row["answers"];
    assert_eq!(answers["/resp_name"], json!({"masked": true}), "{answers}");
    assert_eq!(answers["/member[1]/member_name"], json!({"masked": true}));
    assert_eq!(answers["/gps"], json!({"masked": true}));
    assert_eq!(answers["/member[]"], "3");
    let id = row["id"].as_str().unwrap();
    let original = sent.iter().chain(&b).find(|r| r.response == id).unwrap();
    assert_eq!(
        answers["/village"].as_str(),
        original.set["/village"].as_deref()
    );
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?form={FORM}&order=asc&limit=1&pii=true"),
        )
        .await;
    let answers = &answer.body["rows"][0]["answers"];
    assert_eq!(
        answers["/resp_name"].as_str(),
        original.set["/resp_name"].as_deref()
    );

    // Counting can be skipped.
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?total=false")
        .await;
    assert_eq!(answer.body["total"], Value::Null);

    // Bad parameters are named.
    for (query, code) in [
        ("status=sent", "bad_query"),
        ("review=great", "bad_query"),
        ("sort=resp_name", "bad_query"),
        ("order=sideways", "bad_query"),
        ("limit=0", "bad_query"),
        ("limit=501", "bad_query"),
        ("flag=maybe", "bad_query"),
        ("from=yesterday", "bad_query"),
        ("after=garbage", "bad_cursor"),
    ] {
        let answer = c
            .get(
                &c.coordinator,
                &format!("/api/v1/projects/p1/table?{query}"),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            answer.body
        );
    }
    // A cursor of one sort does not continue another.
    let answer = c
        .get(
            &c.coordinator,
            "/api/v1/projects/p1/table?limit=1&sort=enumerator",
        )
        .await;
    let next = answer.body["next"].as_str().unwrap().to_owned();
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?limit=1&sort=device&after={next}"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_cursor")
    );
}

pub async fn free_text_search_finds_words_in_answers_and_pii_only_when_asked(c: Console) {
    let sent = c.responses(0, 30).await;
    let target = &sent[7];
    let village = target.set["/village"].clone().unwrap();
    let village_words: Vec<&str> = village.split(' ').collect();
    let with_village = matching(&sent, &village_words, false);
    let (rows, _) = c
        .all_rows(&format!("q={}", village.replace(' ', "%20")), 50)
        .await;
    assert_eq!(rows.len(), with_village, "{village}");
    assert!(ids(&rows).contains(&target.response));
    // Prefixes, other case, and every word must match (anywhere in the answers).
    let number = village.split(' ').nth(1).unwrap();
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?q=KIJIJI%20{number}"),
        )
        .await;
    assert_eq!(
        answer.body["total"],
        matching(&sent, &["kijiji", number], false)
    );
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=bore%20pit")
        .await;
    assert_eq!(
        answer.body["total"],
        matching(&sent, &["bore", "pit"], false)
    );
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=kiji")
        .await;
    assert_eq!(answer.body["total"], 30);
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=zzzunheardof")
        .await;
    assert_eq!(answer.body["total"], 0);
    assert_eq!(answer.body["rows"], json!([]));
    // Query syntax of the index is plain text here.
    for q in [
        "%22",
        "AND",
        "NEAR(a%20b)",
        "*",
        "-",
        "%27%3B%20DROP%20TABLE%20responses",
    ] {
        let answer = c
            .get(&c.coordinator, &format!("/api/v1/projects/p1/table?q={q}"))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{q}: {}", answer.body);
    }

    // A respondent's name (pii) is found only with pii=true.
    let name = target.set["/resp_name"].clone().unwrap();
    let phone = target.set["/resp_phone"].clone().unwrap();
    let digits = phone.trim_start_matches('+');
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?q={digits}"),
        )
        .await;
    assert_eq!(answer.body["total"], 0, "pii searched without pii=true");
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?q={digits}&pii=true"),
        )
        .await;
    assert_eq!(answer.body["total"], 1, "{}", answer.body);
    assert_eq!(answer.body["rows"][0]["id"], target.response.as_str());
    assert_eq!(
        answer.body["rows"][0]["answers"]["/resp_name"],
        name.as_str()
    );

    // An edit changes what is found.
    let fix = edit(
        target,
        "fix-1",
        "tab-a",
        2,
        &[],
        &[("/village", "Ngong Hills")],
    );
    c.upload(&c.device, &[fix]).await;
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=ngong")
        .await;
    assert_eq!(answer.body["total"], 1);
    let mut edited = sent.clone();
    edited[7]
        .set
        .insert("/village".into(), Some("Ngong Hills".into()));
    let (rows, _) = c
        .all_rows(&format!("q={}", village.replace(' ', "%20")), 50)
        .await;
    assert_eq!(rows.len(), matching(&edited, &village_words, false));
    assert!(!ids(&rows).contains(&target.response));
}

// ---------------------------------------------------------------- a response

pub async fn history_shows_who_changed_what_and_reviews(c: Console) {
    let sent = c.responses(0, 1).await;
    let first = &sent[0];
    let rid = first.response.clone();
    let age = first.set["/resp_age"].clone().unwrap();
    let second = edit(
        first,
        "e2",
        "tab-a",
        2,
        &[],
        &[("/resp_age", "44"), ("/resp_name", "Someone Else")],
    );
    c.upload(&c.device, &[second]).await;
    let answer = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{rid}/review"),
            &c.coordinator,
            Some(json!({"state": "has_issues", "comment": "age looks wrong"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);

    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let entries = answer.body.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{}", answer.body);
    assert_eq!(entries[0]["kind"], "revision");
    assert_eq!(entries[0]["revision"], first.id.as_str());
    assert_eq!(entries[0]["actor"], "tab-a");
    assert_eq!(entries[0]["actor_kind"], "device");
    assert_eq!(entries[0]["status"], "finalized");
    let changes = entries[0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), first.set.len());
    assert!(changes.iter().all(|ch| ch["before"].is_null()));
    let edit_entry = &entries[1];
    assert_eq!(edit_entry["revision"], "e2");
    assert_eq!(
        edit_entry["changes"],
        json!([{"path": "/resp_age", "before": age, "after": "44"},
               {"path": "/resp_name", "before": {"masked": true}, "after": {"masked": true}}])
    );
    assert_eq!(entries[2]["kind"], "review");
    assert_eq!(entries[2]["state"], "has_issues");
    assert_eq!(entries[2]["comment"], "age looks wrong");
    assert_eq!(entries[2]["actor"], "user:cora");
    assert_eq!(entries[2]["actor_kind"], "coordinator");

    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history?pii=true"),
        )
        .await;
    assert_eq!(
        answer.body[1]["changes"][1],
        json!({"path": "/resp_name", "before": first.set["/resp_name"], "after": "Someone Else"})
    );
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}"),
        )
        .await;
    assert_eq!(answer.body["review_comment"], "age looks wrong");
    // pii answers are left out (the item still reads as a PulledResponse) and listed.
    assert!(answer.body["response"]["answers"].get("resp_name").is_none());
    let masked = answer.body["masked"].as_array().unwrap();
    for path in ["/resp_name", "/resp_phone", "/gps", "/member[1]/member_name"] {
        assert!(masked.contains(&json!(path)), "{path} not listed in {masked:?}");
    }
    assert!(!masked.contains(&json!("/village")));
    serde_json::from_value::<voices_core::sync::protocol::PulledResponse>(answer.body.clone())
        .expect("a masked response still reads as a PulledResponse");
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}?pii=true"),
        )
        .await;
    assert_eq!(
        answer.body["response"]["answers"]["resp_name"],
        "Someone Else"
    );
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/responses/nope/history")
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_response")
    );
}

pub async fn many_responses_are_reviewed_at_once(c: Console) {
    let sent = c.responses(0, 12).await;
    let mut chosen: Vec<String> = sent[..10].iter().map(|r| r.response.clone()).collect();
    chosen.push("no-such-response".into());
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/reviews",
            &c.coordinator,
            Some(
                json!({"ids": chosen, "state": "approved", "comment": "checked in the field"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 11);
    assert!(results[..10].iter().all(|r| r["ok"] == true));
    assert_eq!(
        results[10],
        json!({"id": "no-such-response", "ok": false, "code": "unknown_response"})
    );
    for (i, id) in chosen.iter().enumerate() {
        assert_eq!(results[i]["id"], id.as_str());
    }
    let (rows, _) = c.all_rows("review=approved", 50).await;
    assert_eq!(rows.len(), 10);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(answer.body["pending_review"], 2);
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{}/history", chosen[3]),
        )
        .await;
    let last = answer.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["comment"], "checked in the field");

    for body in [
        json!({"ids": [], "state": "approved"}),
        json!({"ids": ["a"], "state": "great"}),
        json!({"ids": vec!["a"; 1001], "state": "approved"}),
        json!({"ids": ["a"], "state": "approved", "comment": "x".repeat(2001)}),
    ] {
        let answer = c
            .call(
                "POST",
                "/api/v1/projects/p1/reviews",
                &c.coordinator,
                Some(body.to_string()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    }
}

pub async fn a_conflict_is_resolved_by_a_coordinator_edit(c: Console) {
    let sent = c.responses(0, 1).await;
    let first = &sent[0];
    let rid = first.response.clone();
    // Both devices change the age without seeing each other's edit.
    c.upload(
        &c.device,
        &[edit(first, "a2", "tab-a", 2, &[], &[("/resp_age", "41")])],
    )
    .await;
    c.upload(
        &c.device_b,
        &[edit(
            first,
            "b1",
            "tab-b",
            1,
            &[("tab-a", 1)],
            &[("/resp_age", "44")],
        )],
    )
    .await;
    let (rows, _) = c.all_rows("flag=conflict", 50).await;
    assert_eq!(ids(&rows), [rid.clone()]);
    assert_eq!(rows[0]["conflicts"], 1);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(answer.body["conflicts"], 1);

    let resolve = format!("/api/v1/projects/p1/responses/{rid}/resolve");
    let answer = c
        .call(
            "POST",
            &resolve,
            &c.coordinator,
            Some(json!({"path": "/village", "value": "x"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::CONFLICT, "no_conflict"),
        "{}",
        answer.body
    );
    let answer = c
        .call(
            "POST",
            &resolve,
            &c.coordinator,
            Some(json!({"path": "village", "value": "x"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_path"),
        "{}",
        answer.body
    );
    let answer = c
        .call(
            "POST",
            &resolve,
            &c.coordinator,
            Some(json!({"path": "/resp_age", "value": "42"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.get("conflicts").is_none(), "{}", answer.body);
    assert_eq!(answer.body["response"]["answers"]["resp_age"], "42");
    let (rows, _) = c.all_rows("flag=conflict", 50).await;
    assert!(rows.is_empty());
    // The resolution is an edit like any other: in the history, by the coordinator.
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history"),
        )
        .await;
    let last = answer.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "user:cora");
    assert_eq!(last["actor_kind"], "coordinator");
    assert_eq!(last["changes"][0]["after"], "42");
    // A device that syncs later sees the resolved value and the coordinator's edit in the
    // context it edits on.
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}"),
        )
        .await;
    assert_eq!(answer.body["context"]["user:cora"], 1, "{}", answer.body);
}

// ---------------------------------------------------------------- dashboard and map

/// The dashboard's count for `choice` of `question`, in `list` (`total` or a `by` list).
fn cell(list: &Value, group: Option<&str>, choice: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["choice"] == choice && group.is_none_or(|g| c["group"] == g))
        .map(|c| c["count"].clone())
        .unwrap_or(Value::Null)
}

fn shown(n: usize) -> Value {
    match n {
        0 => Value::Null,
        1..=4 => json!("<5"),
        n => json!(n),
    }
}

pub async fn the_dashboard_counts_choices_by_sex_age_band_and_disability(c: Console) {
    let sent = c.responses(0, 60).await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/dashboard"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let d = &answer.body;
    assert_eq!(d["total"], 60);
    assert_eq!(
        d["over_time"],
        json!([{"day": &voices_server::now_text()[..10], "count": 60}])
    );
    assert_eq!(
        d["by_enumerator"],
        json!([{"enumerator": "Enumerator tab-a", "count": 60}])
    );
    assert_eq!(
        d["disaggregation"],
        json!({"sex": "/resp_gender", "age": "/resp_age", "disability": null})
    );
    assert_eq!(
        d["age_bands"],
        json!(["0-14", "15-17", "18-24", "25-49", "50+"])
    );
    let questions = d["questions"].as_array().unwrap();
    let water = questions
        .iter()
        .find(|q| q["path"] == "/water_source")
        .unwrap();
    assert_eq!(water["label"], json!({"en": "Main water source"}));
    assert!(water["choices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "piped"));
    let band = |age: &str| match age.parse::<u32>().unwrap() {
        0..=14 => "0-14",
        15..=17 => "15-17",
        18..=24 => "18-24",
        25..=49 => "25-49",
        _ => "50+",
    };
    for choice in ["piped", "borehole", "well", "river", "rain"] {
        let of = |r: &&Revision| r.set["/water_source"].as_deref() == Some(choice);
        assert_eq!(
            cell(&water["total"], None, choice),
            shown(sent.iter().filter(of).count()),
            "{choice}"
        );
        for sex in ["female", "male", "other"] {
            let n = sent
                .iter()
                .filter(of)
                .filter(|r| r.set["/resp_gender"].as_deref() == Some(sex))
                .count();
            assert_eq!(
                cell(&water["by"]["sex"], Some(sex), choice),
                shown(n),
                "{choice} {sex}"
            );
        }
        for group in ["15-17", "18-24", "25-49", "50+"] {
            let n = sent
                .iter()
                .filter(of)
                .filter(|r| band(r.set["/resp_age"].as_deref().unwrap()) == group)
                .count();
            assert_eq!(
                cell(&water["by"]["age_band"], Some(group), choice),
                shown(n),
                "{choice} {group}"
            );
        }
    }
    // The form marks no disability question: nothing to break down by.
    assert_eq!(water["by"]["disability"], json!([]));
    // No exact small number anywhere in the answer.
    let text = answer.body.to_string();
    for small in 1..5 {
        assert!(
            !text.contains(&format!("\"count\":{small}}}")),
            "a count of {small} was sent"
        );
    }
    // A select_multiple counts each choice; a member question is broken down by the
    // member's own age.
    let assets = questions.iter().find(|q| q["path"] == "/assets").unwrap();
    let radios = sent
        .iter()
        .filter(|r| {
            r.set["/assets"]
                .as_deref()
                .unwrap()
                .split(' ')
                .any(|a| a == "radio")
        })
        .count();
    assert_eq!(cell(&assets["total"], None, "radio"), shown(radios));
    let relation = questions
        .iter()
        .find(|q| q["path"] == "/member/member_relation")
        .unwrap();
    let children = sent
        .iter()
        .flat_map(|r| (1..=3).map(move |m| (r, m)))
        .filter(|(r, m)| {
            r.set[&format!("/member[{m}]/member_relation")].as_deref() == Some("child")
        })
        .filter(|(r, m)| {
            band(
                r.set[&format!("/member[{m}]/member_age")]
                    .as_deref()
                    .unwrap(),
            ) == "0-14"
        })
        .count();
    assert_eq!(
        cell(&relation["by"]["age_band"], Some("0-14"), "child"),
        shown(children)
    );

    // An edit moves the counts.
    let target = sent
        .iter()
        .find(|r| r.set["/water_source"].as_deref() == Some("river"))
        .unwrap();
    let before = sent
        .iter()
        .filter(|r| r.set["/water_source"].as_deref() == Some("river"))
        .count();
    c.upload(
        &c.device,
        &[edit(
            target,
            "w2",
            "tab-a",
            2,
            &[],
            &[("/water_source", "rain")],
        )],
    )
    .await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/dashboard?version={HOUSEHOLD_VERSION}"),
        )
        .await;
    let water = answer.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["path"] == "/water_source")
        .unwrap()
        .clone();
    assert_eq!(cell(&water["total"], None, "river"), shown(before - 1));
    assert_eq!(answer.body["total"], 60);

    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/forms/nope/dashboard")
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_form")
    );
}

pub async fn map_points_are_coarsened_unless_pii_is_asked(c: Console) {
    let sent = c.responses(0, 20).await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/points"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["type"], "FeatureCollection");
    let features = answer.body["features"].as_array().unwrap();
    let total: u64 = features
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 20);
    for f in features {
        for coordinate in f["geometry"]["coordinates"].as_array().unwrap() {
            let x = coordinate.as_f64().unwrap();
            assert!(
                ((x * 100.0).round() - x * 100.0).abs() < 1e-6,
                "{x} has more than 2 decimals"
            );
        }
    }
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/points?precision=6"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_query")
    );
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/points?precision=6&pii=true"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let gps = sent[0].set["/gps"].clone().unwrap();
    let mut parts = gps.split(' ');
    let (lat, lon): (f64, f64) = (
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    );
    let found = answer.body["features"].as_array().unwrap().iter().any(|f| {
        let c = &f["geometry"]["coordinates"];
        (c[0].as_f64().unwrap() - lon).abs() < 1e-6 && (c[1].as_f64().unwrap() - lat).abs() < 1e-6
    });
    assert!(found, "the exact point {gps} is there with pii=true");
}

pub async fn exports_announce_their_row_count(c: Console) {
    c.responses(0, 9).await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/export?format=json"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["x-voices-total"], "9");
    assert_eq!(answer.body.as_array().unwrap().len(), 9);
}

pub async fn fields_describe_the_table_columns(c: Console) {
    let answer = c
        .get(
            &c.designer,
            &format!("/api/v1/projects/p1/forms/{FORM}/fields"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let fields = answer.body.as_array().unwrap();
    let by_path = |p: &str| {
        fields
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    assert_eq!(fields[0]["path"], "/start");
    let age = by_path("/resp_age");
    assert_eq!(age["type"], "integer");
    assert_eq!(age["label"], json!({"en": "Respondent age"}));
    assert_eq!(age["group"], "/respondent");
    assert_eq!(age["disaggregation"], "age");
    assert_eq!(by_path("/resp_name")["pii"], true);
    let relation = by_path("/member/member_relation");
    assert_eq!(relation["repeat"], "/member");
    assert!(relation["choices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "child"));
    let answer = c
        .get(
            &c.designer,
            &format!("/api/v1/projects/p1/forms/{FORM}/fields?version=0"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_form")
    );
}

// ---------------------------------------------------------------- devices and people

pub async fn devices_are_added_listed_and_revoked(c: Console) {
    c.responses(0, 2).await;
    let answer = c
        .send(
            Request::post("/api/v1/projects/p1/devices")
                .header(header::AUTHORIZATION, bearer(&c.coordinator))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::HOST, "survey.example.org:8470")
                .body(Body::from(
                    json!({"enumerator": "Wanjiru", "label": "Tablet 4"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap().to_owned();
    let code = answer.body["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("voices1:"), "{code}");
    let parsed = voices_core::sync::protocol::ProvisioningCode::from_text(&code).unwrap();
    assert_eq!(parsed.server, "http://survey.example.org:8470");
    assert_eq!(parsed.project, "p1");
    let svg = answer.body["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");

    // The code provisions the app once.
    let provisioned = c
        .send(
            Request::post("/api/v1/provision")
                .header(header::CONTENT_TYPE, "application/json")
                .header("voices-app-version", "0.1.0")
                .body(Body::from(json!({"code": code}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(provisioned.status, StatusCode::OK, "{}", provisioned.body);
    let token = provisioned.body["token"].as_str().unwrap().to_owned();
    assert_eq!(provisioned.body["enumerator"], "Wanjiru");
    let forms = c
        .send(
            Request::get("/api/v1/projects/p1/forms")
                .header(header::AUTHORIZATION, bearer(&token))
                .header("voices-app-version", "0.2.0")
                .header("voices-pending", "3")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(forms.status, StatusCode::OK);

    // Contact is recorded in the background: give it a moment.
    let mut listed = Value::Null;
    for _ in 0..50 {
        let answer = c.get(&c.coordinator, "/api/v1/projects/p1/devices").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        listed = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.as_str())
            .unwrap()
            .clone();
        if listed["pending"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed["label"], "Tablet 4");
    assert_eq!(listed["enumerator"], "Wanjiru");
    assert_eq!(listed["app_version"], "0.2.0");
    assert_eq!(listed["pending"], 3);
    assert!(listed["last_seen"].is_string(), "{listed}");
    assert_eq!(listed["revoked_at"], Value::Null);

    let answer = c
        .call(
            "DELETE",
            &format!("/api/v1/projects/p1/devices/{id}"),
            &c.coordinator,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let answer = c.get(&token, "/api/v1/projects/p1/forms").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/devices").await;
    let revoked = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(revoked["revoked_at"].is_string());
    // Another project's device is not this project's to revoke.
    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p2/devices/tab-a",
            &c.admin,
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_device")
    );
    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p1/devices/nope",
            &c.coordinator,
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_device")
    );
    for body in [
        json!({"label": "no enumerator"}),
        json!({"enumerator": "x", "valid_days": 0}),
        json!({"enumerator": ""}),
    ] {
        let answer = c
            .call(
                "POST",
                "/api/v1/projects/p1/devices",
                &c.coordinator,
                Some(body.to_string()),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
    }
}

pub async fn admins_manage_people_and_memberships(c: Console) {
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(
                json!({"name": "neema", "password": PASSWORD, "display_name": "Neema A."})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"name": "neema", "display_name": "Neema A.", "admin": false, "disabled": false, "memberships": []})
    );
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(json!({"name": "neema", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(json!({"name": "short", "password": "123"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "weak_password")
    );
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(json!({"name": "bad name!", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    // Without a membership she sees no project; as a coordinator of p1 she reads it.
    let (cookie, session) = c.sign_in("neema").await;
    assert_eq!(session["memberships"], json!([]));
    let answer = c
        .with_cookie("GET", "/api/v1/projects/p1/overview", &cookie, None, None)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "wrong_project")
    );
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            Some(json!({"role": "coordinator"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, json!({"project": "p1", "role": "coordinator"}));
    let answer = c
        .with_cookie("GET", "/api/v1/projects/p1/overview", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // As a designer of p1 she may not read responses any more.
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            Some(json!({"role": "designer"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = c
        .with_cookie("GET", "/api/v1/projects/p1/overview", &cookie, None, None)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let answer = c.get(&c.admin, "/api/v1/users").await;
    let neema = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "neema")
        .unwrap()
        .clone();
    assert_eq!(
        neema["memberships"],
        json!([{"project": "p1", "role": "designer"}])
    );
    let cora = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "cora")
        .unwrap()
        .clone();
    assert_eq!(
        cora["memberships"],
        json!([{"project": "p1", "role": "coordinator"}])
    );
    assert_eq!(
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == "admin")
            .unwrap()["admin"],
        true
    );
    for role in ["admin", "viewer"] {
        let answer = c
            .call(
                "PUT",
                "/api/v1/projects/p1/members/neema",
                &c.admin,
                Some(json!({"role": role}).to_string()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{role}");
    }
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/members/ghost",
            &c.admin,
            Some(json!({"role": "designer"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );

    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "not_member")
    );

    // A new password or disabling ends every session she has.
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"password": "another good password"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = c
        .with_cookie("GET", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let (cookie, _) = c.sign_in("neema").await;
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"disabled": true, "display_name": "N. A."}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["disabled"], true);
    assert_eq!(answer.body["display_name"], "N. A.");
    let answer = c
        .with_cookie("GET", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = c
        .send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"user": "neema", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "account_disabled")
    );
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"disabled": false}).to_string()),
        )
        .await;
    assert_eq!(answer.body["disabled"], false);
    c.sign_in("neema").await;
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/ghost",
            &c.admin,
            Some(json!({"disabled": true}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );
}

// ---------------------------------------------------------------- who may do what

pub async fn every_console_endpoint_refuses_whom_it_must(c: Console) {
    c.responses(0, 1).await;
    let rid = household_revision(0, "tab-a", HOUSEHOLD_VERSION).response;
    let review = json!({"state": "approved"}).to_string();
    let endpoints: Vec<(&str, String, Option<String>, &str)> = vec![
        // (method, uri, body, who may: "coordinator" | "member" | "admin")
        (
            "GET",
            "/api/v1/projects/p1/overview".into(),
            None,
            "coordinator",
        ),
        (
            "GET",
            "/api/v1/projects/p1/table".into(),
            None,
            "coordinator",
        ),
        (
            "GET",
            format!("/api/v1/projects/p1/responses/{rid}/history"),
            None,
            "coordinator",
        ),
        (
            "POST",
            "/api/v1/projects/p1/reviews".into(),
            Some(json!({"ids": [rid], "state": "approved"}).to_string()),
            "coordinator",
        ),
        (
            "PUT",
            format!("/api/v1/projects/p1/responses/{rid}/review"),
            Some(review.clone()),
            "coordinator",
        ),
        (
            "POST",
            format!("/api/v1/projects/p1/responses/{rid}/resolve"),
            Some(json!({"path": "/resp_age", "value": "1"}).to_string()),
            "coordinator",
        ),
        (
            "GET",
            format!("/api/v1/projects/p1/forms/{FORM}/dashboard"),
            None,
            "coordinator",
        ),
        (
            "GET",
            format!("/api/v1/projects/p1/forms/{FORM}/points"),
            None,
            "coordinator",
        ),
        (
            "GET",
            format!("/api/v1/projects/p1/forms/{FORM}/fields"),
            None,
            "member",
        ),
        (
            "GET",
            "/api/v1/projects/p1/devices".into(),
            None,
            "coordinator",
        ),
        (
            "POST",
            "/api/v1/projects/p1/devices".into(),
            Some(json!({"enumerator": "E"}).to_string()),
            "coordinator",
        ),
        (
            "DELETE",
            "/api/v1/projects/p1/devices/tab-b".into(),
            None,
            "coordinator",
        ),
        ("GET", "/api/v1/users".into(), None, "admin"),
        (
            "POST",
            "/api/v1/users".into(),
            Some(json!({"name": "u1", "password": PASSWORD}).to_string()),
            "admin",
        ),
        (
            "PATCH",
            "/api/v1/users/dana".into(),
            Some(json!({"display_name": "D"}).to_string()),
            "admin",
        ),
        (
            "PUT",
            "/api/v1/projects/p1/members/dana".into(),
            Some(json!({"role": "designer"}).to_string()),
            "admin",
        ),
        (
            "DELETE",
            "/api/v1/projects/p1/members/otto".into(),
            None,
            "admin",
        ),
    ];
    for (method, uri, body, who) in &endpoints {
        let answer = c.call(method, uri, "", body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {uri}"
        );
        let answer = c.call(method, uri, "vs_not-a-token", body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "unknown token {method} {uri}"
        );
        let answer = c.call(method, uri, &c.device, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "device {method} {uri}: {}",
            answer.body
        );
        let answer = c.call(method, uri, &c.outsider, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "coordinator of p2 {method} {uri}: {}",
            answer.body
        );
        let designer = c.call(method, uri, &c.designer, body.clone()).await;
        let coordinator = c.call(method, uri, &c.coordinator, body.clone()).await;
        match *who {
            "coordinator" => {
                assert_eq!(
                    designer.status,
                    StatusCode::FORBIDDEN,
                    "designer {method} {uri}"
                );
                assert!(
                    coordinator.status.is_success() || coordinator.status == StatusCode::CONFLICT,
                    "coordinator {method} {uri}: {} {}",
                    coordinator.status,
                    coordinator.body
                );
            }
            "member" => {
                assert!(designer.status.is_success(), "designer {method} {uri}");
                assert!(
                    coordinator.status.is_success(),
                    "coordinator {method} {uri}"
                );
            }
            _ => {
                assert_eq!(
                    designer.status,
                    StatusCode::FORBIDDEN,
                    "designer {method} {uri}"
                );
                assert_eq!(
                    coordinator.status,
                    StatusCode::FORBIDDEN,
                    "coordinator {method} {uri}"
                );
            }
        }
        let admin = c.call(method, uri, &c.admin, body.clone()).await;
        assert!(
            admin.status.is_success()
                || admin.status == StatusCode::CONFLICT
                || admin.status == StatusCode::NOT_FOUND,
            "admin {method} {uri}: {} {}",
            admin.status,
            admin.body
        );
    }
}

/// Every test above, for one backend.
#[macro_export]
macro_rules! console_suite {
    ($make:expr) => {
        $crate::console_suite!(@tests $make;
            a_session_is_an_httponly_strict_cookie_and_unsafe_requests_need_its_csrf,
            projects_are_listed_with_the_role_in_each,
            the_overview_counts_what_came_in,
            the_table_filters_sorts_and_pages_without_gaps,
            free_text_search_finds_words_in_answers_and_pii_only_when_asked,
            history_shows_who_changed_what_and_reviews,
            many_responses_are_reviewed_at_once,
            a_conflict_is_resolved_by_a_coordinator_edit,
            the_dashboard_counts_choices_by_sex_age_band_and_disability,
            map_points_are_coarsened_unless_pii_is_asked,
            exports_announce_their_row_count,
            fields_describe_the_table_columns,
            devices_are_added_listed_and_revoked,
            admins_manage_people_and_memberships,
            every_console_endpoint_refuses_whom_it_must,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            // The store is opened outside the runtime: the blocking PostgreSQL client
            // runs a runtime of its own, which cannot start inside another.
            #[test]
            fn $name() {
                let (_guard, store) = $make();
                // The last handle on the store is dropped here, outside the runtime, too.
                let _keep = store.clone();
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async { console::$name(console::Console::new(store).await).await });
            }
        )*
    };
}
