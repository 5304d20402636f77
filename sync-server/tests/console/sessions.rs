//! Browser sessions, CSRF, and who may call which console endpoint.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;
use voices_server::sample::household_revision;
use voices_server::store::Role;

use super::*;
use crate::common::HOUSEHOLD_VERSION;

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
        json!([{"project": "p1", "role": "coordinator", "teams": null}])
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
        (
            "GET",
            "/api/v1/projects/p1/withdrawal-policy".into(),
            None,
            "coordinator",
        ),
        (
            "PUT",
            "/api/v1/projects/p1/withdrawal-policy".into(),
            Some(json!({"keep_days": 30}).to_string()),
            "coordinator",
        ),
        // Last: it withdraws the response the calls above use.
        (
            "POST",
            format!("/api/v1/projects/p1/responses/{rid}/withdraw"),
            Some("{}".into()),
            "coordinator",
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
