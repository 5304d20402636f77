//! Sign-in hardening over the router: throttling per name and per client address with
//! `429` and `Retry-After`, the client address behind a proxy, Argon2 for unknown names
//! too, password checks bounded by the cores (`503 busy` beyond), and small bodies for
//! the endpoints anyone may call; passwords an admin sets obey the same rule and turns.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::Fixture;
use voices_server::auth::Passwords;
use voices_server::serve::Connection;
use voices_server::store::Role;

const PASSWORD: &str = "s3cret-passphrase";

async fn fixture(
    adjust: impl FnOnce(voices_server::AppState) -> voices_server::AppState,
) -> Fixture {
    let fx = Fixture::with_state(adjust).await;
    let hash = voices_server::auth::hash_password(PASSWORD).unwrap();
    for name in ["cleo", "carl"] {
        fx.store
            .add_user(name, Role::Coordinator, &hash, &voices_server::now_text())
            .unwrap();
        fx.store.add_membership(name, "p1").unwrap();
    }
    fx
}

fn login(user: &str, password: &str, from: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"user": user, "password": password}).to_string(),
        ))
        .unwrap();
    if let Some(peer) = from {
        request.extensions_mut().insert(Connection {
            peer: peer.parse::<SocketAddr>().unwrap(),
            tls: false,
        });
    }
    request
}

async fn respond(fx: &Fixture, request: Request<Body>) -> axum::response::Response {
    use tower::ServiceExt;
    fx.router.clone().oneshot(request).await.unwrap()
}

async fn json_of(response: axum::response::Response) -> serde_json::Value {
    use http_body_util::BodyExt;
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_name_is_blocked_after_five_wrong_passwords_even_for_the_right_one() {
    let fx = fixture(|s| s).await;
    for _ in 0..6 {
        let (status, problem) = fx.send(login("cleo", "wrong password", None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
        assert_eq!(problem["code"], "bad_credentials");
    }
    let response = respond(&fx, login("cleo", PASSWORD, None)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let problem = json_of(response).await;
    assert_eq!(problem["code"], "too_many_attempts", "{problem}");
    // Other names are not affected.
    let (status, _) = fx.send(login("carl", PASSWORD, None)).await;
    assert_eq!(status, StatusCode::OK);
    // After the wait the right password works, and clears the count.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let (status, session) = fx.send(login("cleo", PASSWORD, None)).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let (status, _) = fx.send(login("cleo", "wrong password", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the count started again");
}

#[tokio::test]
async fn an_address_guessing_many_names_is_blocked() {
    let fx = fixture(|s| s).await;
    for i in 0..21 {
        let (status, _) = fx
            .send(login(
                &format!("guess{i}"),
                "password1234",
                Some("203.0.113.9:4000"),
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, problem) = fx
        .send(login("cleo", PASSWORD, Some("203.0.113.9:4001")))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    let (status, _) = fx
        .send(login("cleo", PASSWORD, Some("198.51.100.1:4000")))
        .await;
    assert_eq!(status, StatusCode::OK, "another address signs in");
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_address_is_counted() {
    let fx = fixture(|s| voices_server::AppState {
        behind_proxy: true,
        ..s
    })
    .await;
    let from = |name: &str, client: &str| {
        let mut request = login(name, "password1234", Some("127.0.0.1:5000"));
        request.headers_mut().insert(
            "x-forwarded-for",
            format!("10.1.1.1, {client}").parse().unwrap(),
        );
        request
    };
    for i in 0..21 {
        let (status, _) = fx.send(from(&format!("guess{i}"), "192.0.2.7")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_eq!(
        fx.send(from("guess-again", "192.0.2.7")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other clients behind the same proxy are not blocked.
    let mut other = login("cleo", PASSWORD, Some("127.0.0.1:5000"));
    other
        .headers_mut()
        .insert("x-forwarded-for", "192.0.2.8".parse().unwrap());
    assert_eq!(fx.send(other).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unknown_names_cost_an_argon2_check_like_wrong_passwords() {
    let fx = fixture(|s| s).await;
    let before = fx.state.passwords.checks();
    let (status, _) = fx.send(login("no-such-user", PASSWORD, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(fx.state.passwords.checks(), before + 1, "unknown name");
    let (status, _) = fx.send(login("cleo", "wrong password", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(fx.state.passwords.checks(), before + 2, "wrong password");
}

#[tokio::test]
async fn password_checks_beyond_the_cores_wait_then_get_busy() {
    let fx = fixture(|s| voices_server::AppState {
        passwords: Arc::new(Passwords::new(1)),
        ..s
    })
    .await;
    let held = fx.state.passwords.turn().await.unwrap();
    let started = Instant::now();
    let response = respond(&fx, login("cleo", PASSWORD, None)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "it queued first"
    );
    drop(held);
    let (status, _) = fx.send(login("cleo", PASSWORD, None)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn login_and_provision_read_at_most_4_kib() {
    let fx = fixture(|s| s).await;
    let big = serde_json::json!({"user": "cleo", "password": "x".repeat(5000)}).to_string();
    for path in ["/api/v1/login", "/api/v1/provision"] {
        let (status, problem) = fx
            .send(
                Request::post(path)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(big.clone()))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {problem}");
        assert_eq!(problem["limit"], 4096, "{path}");
    }
    // Just under the limit is read (and refused for what it says).
    let fits = serde_json::json!({"user": "cleo", "password": "x".repeat(4000)}).to_string();
    let (status, _) = fx
        .send(
            Request::post("/api/v1/login")
                .body(Body::from(fits))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_person_changes_their_password_with_the_old_one_and_every_session_ends() {
    let fx = fixture(|s| s).await;
    let (_, first) = fx.send(login("cleo", PASSWORD, None)).await;
    let (_, second) = fx.send(login("cleo", PASSWORD, None)).await;
    let session = first["token"].as_str().unwrap().to_owned();
    let change = |old: &str, new: &str| {
        Request::put("/api/v1/password")
            .header(header::AUTHORIZATION, format!("Bearer {session}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"old_password": old, "new_password": new}).to_string(),
            ))
            .unwrap()
    };
    let (status, problem) = fx
        .send(change("not the password", "a new passphrase"))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    let (status, problem) = fx.send(change(PASSWORD, "short")).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("weak_password"))
    );
    let (status, body) = fx.send(change(PASSWORD, "a new passphrase")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for token in [session.as_str(), second["token"].as_str().unwrap()] {
        let (status, problem) = fx.get(token, "/api/v1/projects/p1/responses").await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token_revoked"))
        );
    }
    assert_eq!(
        fx.send(login("cleo", PASSWORD, None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fx.send(login("cleo", "a new passphrase", None)).await.0,
        StatusCode::OK
    );
    // Devices have no password.
    let (status, _) = fx
        .send(
            Request::put("/api/v1/password")
                .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
                .body(Body::from(r#"{"old_password":"x","new_password":"y"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn passwords_an_admin_sets_obey_the_rule_and_take_a_password_turn() {
    let fx = fixture(|s| voices_server::AppState {
        passwords: Arc::new(Passwords::new(1)),
        ..s
    })
    .await;
    let admin = fx.admin.clone();
    let call = |method: &str, path: &str, body: serde_json::Value| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    // Longer than the rule takes (Argon2 would hash every byte): refused, as the CLI
    // and `PUT /password` refuse it.
    let long = "x".repeat(voices_server::auth::MAX_PASSWORD_CHARS + 1);
    for request in [
        call(
            "POST",
            "/api/v1/users",
            serde_json::json!({"name": "nadia", "password": long}),
        ),
        call(
            "PATCH",
            "/api/v1/users/cleo",
            serde_json::json!({"password": long}),
        ),
    ] {
        let (status, problem) = fx.send(request).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("weak_password")),
            "{problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().contains("at most 1024"),
            "{problem}"
        );
    }
    // Hashing a new password waits for a turn like a check does.
    let held = fx.state.passwords.turn().await.unwrap();
    let started = Instant::now();
    let response = respond(
        &fx,
        call(
            "POST",
            "/api/v1/users",
            serde_json::json!({"name": "nadia", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "it queued first"
    );
    drop(held);
    let (status, body) = fx
        .send(call(
            "POST",
            "/api/v1/users",
            serde_json::json!({"name": "nadia", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        fx.send(login("nadia", PASSWORD, None)).await.0,
        StatusCode::OK
    );
}
