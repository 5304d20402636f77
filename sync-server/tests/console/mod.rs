//! The console's API (docs/console.md), end to end through the router, generic over the
//! store: `console_sqlite.rs` and `console_postgres.rs` run every test here through
//! `console_suite!`, so the SQL of both backends answers the same.

#![allow(dead_code)]

mod admin;
mod dashboard;
mod files;
mod referrals;
mod response;
mod send_back;
mod sessions;
mod table;

pub use admin::*;
pub use dashboard::*;
pub use files::*;
pub use referrals::*;
pub use response::*;
pub use send_back::*;
pub use sessions::*;
pub use table::*;

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
                    wipe_requested_at: None,
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
        certificate_sha256: None,
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
        // The coordinator of these tests may read pii (a grant of its own).
        sync(|| assert!(store.set_pii_grant("cora", "p1", true).unwrap()));
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
        validated: false,
        files: Default::default(),
        hlc: Hlc::new(of.hlc.wall_ms + 60_000 * seq, 0),
        seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), Some((*v).into())))
            .collect(),
        status: None,
        ..of.clone()
    }
}

/// The household fields marked pii.
pub const PII: [&str; 4] = ["/gps", "/resp_name", "/resp_phone", "member_name"];

/// How many of `sent` have every word among the words of their answers (as the beginning
/// of one for words of three characters or more; pii answers only with `pii`): what the
/// search must find.
pub fn matching(sent: &[Revision], words: &[&str], pii: bool) -> usize {
    sent.iter()
        .filter(|r| {
            let tokens: Vec<String> = r
                .set
                .iter()
                .filter(|(path, _)| !path.ends_with("[]"))
                .filter(|(path, _)| pii || !PII.iter().any(|p| path.ends_with(p)))
                .filter_map(|(_, v)| v.as_ref()?.text())
                .flat_map(|v| {
                    v.split(|c: char| !c.is_alphanumeric())
                        .filter(|t| !t.is_empty())
                        .map(str::to_lowercase)
                        .collect::<Vec<_>>()
                })
                .collect();
            // Words of three characters or more match as prefixes, shorter ones whole.
            words.iter().all(|w| {
                let w = w.to_lowercase();
                tokens.iter().any(|t| {
                    if w.chars().count() >= 3 {
                        t.starts_with(&w)
                    } else {
                        *t == w
                    }
                })
            })
        })
        .count()
}

pub fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The dashboard's count for `choice` of `question`, in `list` (`total` or a `by` list).
pub fn cell(list: &Value, group: Option<&str>, choice: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["choice"] == choice && group.is_none_or(|g| c["group"] == g))
        .map(|c| c["count"].clone())
        .unwrap_or(Value::Null)
}

pub fn shown(n: usize) -> Value {
    match n {
        0 => Value::Null,
        1..=4 => json!("<5"),
        n => json!(n),
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
            the_overview_counts_interview_outcomes,
            the_table_filters_sorts_and_pages_without_gaps,
            a_far_page_is_reached_by_row_number,
            free_text_search_finds_words_in_answers_and_pii_only_when_asked,
            history_shows_who_changed_what_and_reviews,
            a_response_shows_its_pictures_under_the_rules_of_their_answers,
            many_responses_are_reviewed_at_once,
            a_conflict_is_resolved_by_a_coordinator_edit,
            a_response_sent_back_reaches_its_device_and_comes_back_with_a_diff,
            a_withdrawn_response_leaves_exports_the_table_and_every_count,
            the_referral_directory_is_published_in_versions_and_read_by_devices,
            the_dashboard_counts_choices_by_sex_age_band_and_disability,
            map_points_are_coarsened_unless_pii_is_asked,
            exports_announce_their_row_count,
            exports_take_the_table_filters_and_order,
            fields_describe_the_table_columns,
            devices_are_added_listed_and_revoked,
            a_device_revoked_with_wipe_is_told_to_erase_its_data,
            admins_manage_people_and_memberships,
            forms_are_published_from_xlsform_workbooks_and_refused_by_cell,
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
