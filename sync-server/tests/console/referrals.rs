//! The referral directory: published by coordinators in versions, read by the project's
//! devices (the app keeps it for referral steps offline).

use axum::http::StatusCode;
use serde_json::json;

use super::*;

pub async fn the_referral_directory_is_published_in_versions_and_read_by_devices(c: Console) {
    let uri = "/api/v1/projects/p1/referrals";
    let none = c.get(&c.device, uri).await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, "no_directory")
    );
    let hotline = json!({"id": "hotline", "name": "National GBV hotline", "kind": "gbv",
                         "phone": "1190", "hours": "24 h", "languages": ["en", "ar"]});
    let clinic = json!({"id": "north_clinic", "name": "North clinic", "kind": "health",
                        "phone": "+256 700 000 001", "areas": ["north"]});
    let bad =
        json!({"services": [hotline, {"id": "hotline", "name": "", "kind": "gbv", "phone": "1"}]});
    let answer = c
        .call("PUT", uri, &c.coordinator, Some(bad.to_string()))
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_directory"),
        "{}",
        answer.body
    );
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("services[1].id `hotline` is used by an earlier service")
            && detail.contains("services[1].name is empty"),
        "{detail}"
    );
    for who in [&c.designer, &c.device] {
        let refused = c
            .call("PUT", uri, who, Some(json!({"services": []}).to_string()))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }

    let first = json!({"services": [hotline]});
    let answer = c
        .call("PUT", uri, &c.coordinator, Some(first.to_string()))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["version"], 1);
    // The same services again (other whitespace): the same version.
    let again = c
        .call("PUT", uri, &c.coordinator, Some(format!("  {first:#}  ")))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["version"], 1);
    let second = json!({"services": [hotline, clinic]});
    let answer = c.call("PUT", uri, &c.admin, Some(second.to_string())).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["version"], 2);

    let read = c.get(&c.device, uri).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["version"], 2);
    assert_eq!(read.body["services"], second["services"]);
    assert!(read.body["published_at"].is_string());
    assert_eq!(c.get(&c.designer, uri).await.status, StatusCode::OK);
    assert_eq!(c.get(&c.outsider, uri).await.status, StatusCode::FORBIDDEN);
    // Another project has none.
    let other = c.get(&c.admin, "/api/v1/projects/p2/referrals").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}
