//! Enumerator profiles and the neutral name over HTTP: a coordinator sets a device's
//! profile and the project's neutral name; the device reads both with its token; bad
//! values are refused with what is wrong; the console's device list carries the profile.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::Fixture;
use serde_json::{json, Value};

async fn put(fx: &Fixture, token: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    fx.send(
        Request::put(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_device_reads_the_profile_and_name_a_coordinator_sets() {
    let fx = Fixture::new().await;
    // Nothing set yet: an unknown profile, no neutral name.
    let (status, body) = fx
        .get(&fx.device, "/api/v1/projects/p1/device/profile")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"enumerator": {}}));

    let (status, body) = put(
        &fx,
        &fx.coordinator,
        "/api/v1/projects/p1/devices/tab-a/profile",
        json!({"sex": " female ", "languages": ["ar", "en", "ar"], "area": "North"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"sex": "female", "languages": ["ar", "en"], "area": "North"})
    );
    let (status, body) = put(
        &fx,
        &fx.coordinator,
        "/api/v1/projects/p1/presentation",
        json!({"neutral_name": "Field notes"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, body) = fx
        .get(&fx.device, "/api/v1/projects/p1/device/profile")
        .await;
    assert_eq!(
        body,
        json!({"enumerator": {"sex": "female", "languages": ["ar", "en"], "area": "North"},
               "neutral_name": "Field notes"})
    );
    // Each device reads its own: the other device of the project has none.
    let (_, body) = fx
        .get(&fx.device_b, "/api/v1/projects/p1/device/profile")
        .await;
    assert_eq!(body["enumerator"], json!({}));
    assert_eq!(body["neutral_name"], "Field notes");
    // The console's list carries it.
    let (_, devices) = fx.get(&fx.coordinator, "/api/v1/projects/p1/devices").await;
    let tab_a = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "tab-a")
        .unwrap();
    assert_eq!(tab_a["profile"]["sex"], "female");
    let (_, presentation) = fx
        .get(&fx.coordinator, "/api/v1/projects/p1/presentation")
        .await;
    assert_eq!(presentation, json!({"neutral_name": "Field notes"}));
}

#[tokio::test]
async fn bad_profiles_and_names_are_refused_with_what_is_wrong() {
    let fx = Fixture::new().await;
    let (status, body) = put(
        &fx,
        &fx.coordinator,
        "/api/v1/projects/p1/devices/tab-a/profile",
        json!({"sex": "woman"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_profile");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("female, male, other"),
        "{body}"
    );
    let (status, body) = put(
        &fx,
        &fx.coordinator,
        "/api/v1/projects/p1/devices/tab-a/profile",
        json!({"languages": ["ar en"]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = put(
        &fx,
        &fx.coordinator,
        "/api/v1/projects/p1/devices/nope/profile",
        json!({"sex": "male"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "unknown_device");
    let (status, body) = put(
        &fx,
        &fx.coordinator,
        "/api/v1/projects/p1/presentation",
        json!({"neutral_name": "x".repeat(61)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_presentation");
    // Nothing was kept.
    let (_, body) = fx
        .get(&fx.device, "/api/v1/projects/p1/device/profile")
        .await;
    assert_eq!(body, json!({"enumerator": {}}));
}
