//! Who may read what, and the record of who did: the pii grant, a project's recipient
//! keys (listed to devices with the forms), and the append-only access audit.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{Fixture, HOUSEHOLD_VERSION};
use serde_json::{json, Value};
use voices_server::sample::household_revision;
use voices_server::store::access::{AuditAction, AuditQuery};

async fn call(
    fx: &Fixture,
    method: Method,
    token: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    fx.send(request.body(body).unwrap()).await
}

#[tokio::test]
async fn reading_pii_needs_its_own_grant_whatever_the_role() {
    let fx = Fixture::new().await;
    let revision = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    fx.upload(&fx.device, std::slice::from_ref(&revision)).await;
    let one = format!("/api/v1/projects/p1/responses/{}", revision.response);

    // cora holds the grant in the fixture; take it away.
    let (status, _) = call(
        &fx,
        Method::PUT,
        &fx.admin,
        "/api/v1/projects/p1/members/cora/pii",
        Some(json!({"read_pii": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for uri in [
        format!("{one}?pii=true"),
        format!("{one}/history?pii=true"),
        "/api/v1/projects/p1/table?pii=true".to_owned(),
        "/api/v1/projects/p1/forms/household_survey/export?format=json&pii=true".to_owned(),
        "/api/v1/projects/p1/forms/household_survey/points?pii=true&precision=5".to_owned(),
    ] {
        let (status, body) = fx.get(&fx.coordinator, &uri).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
        assert_eq!(body["code"], "pii_not_granted", "{uri}");
    }
    // Without pii the coordinator reads as before (pii masked).
    let (status, body) = fx.get(&fx.coordinator, &one).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Given back: pii is readable again; admins always may.
    let (status, _) = call(
        &fx,
        Method::PUT,
        &fx.admin,
        "/api/v1/projects/p1/members/cora/pii",
        Some(json!({"read_pii": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        fx.get(&fx.coordinator, &format!("{one}?pii=true")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        fx.get(&fx.admin, &format!("{one}?pii=true")).await.0,
        StatusCode::OK
    );
    // Only members can hold it.
    let (status, body) = call(
        &fx,
        Method::PUT,
        &fx.admin,
        "/api/v1/projects/p1/members/otto/pii",
        Some(json!({"read_pii": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn keys_are_public_checked_listed_to_devices_and_retired() {
    let fx = Fixture::new().await;
    let keys = "/api/v1/projects/p1/keys";
    let first = age::x25519::Identity::generate().to_public().to_string();
    let second = age::x25519::Identity::generate().to_public().to_string();

    let (status, body) = call(
        &fx,
        Method::POST,
        &fx.admin,
        keys,
        Some(json!({"recipient": "AGE-SECRET-KEY-1QQQ", "label": "oops"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "bad_recipient");
    for r in [&first, &second] {
        let (status, body) = call(
            &fx,
            Method::POST,
            &fx.admin,
            keys,
            Some(json!({"recipient": r, "label": "data manager"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = call(
        &fx,
        Method::POST,
        &fx.admin,
        keys,
        Some(json!({"recipient": first})),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("key_exists"))
    );

    // Devices get the current recipients with every form version they list.
    let (status, forms) = fx.get(&fx.device, "/api/v1/projects/p1/forms").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(forms[0]["recipients"], json!([first, second]), "{forms}");

    let (status, _) = call(
        &fx,
        Method::DELETE,
        &fx.admin,
        &format!("{keys}/{first}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, forms) = fx.get(&fx.device, "/api/v1/projects/p1/forms").await;
    assert_eq!(forms[0]["recipients"], json!([second]));
    let (status, _) = call(
        &fx,
        Method::DELETE,
        &fx.admin,
        &format!("{keys}/{first}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The last current key is never retired: devices would seal nothing.
    let (status, body) = call(
        &fx,
        Method::DELETE,
        &fx.admin,
        &format!("{keys}/{second}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "last_key");
    let (_, forms) = fx.get(&fx.device, "/api/v1/projects/p1/forms").await;
    assert_eq!(forms[0]["recipients"], json!([second]));
    // The retired key stays listed, with when.
    let (_, listed) = fx.get(&fx.admin, keys).await;
    let listed = listed["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .any(|k| k["recipient"] == first && k["retired_at"].is_string()));
    assert!(listed
        .iter()
        .any(|k| k["recipient"] == second && k.get("retired_at").is_none()));
}

#[tokio::test]
async fn the_audit_records_reads_points_photos_searches_exports_reviews_and_key_changes_and_never_changes(
) {
    let fx = Fixture::new().await;
    let revision = household_revision(2, "tab-a", HOUSEHOLD_VERSION);
    fx.upload(&fx.device, std::slice::from_ref(&revision)).await;
    let id = &revision.response;
    fx.get(
        &fx.coordinator,
        &format!("/api/v1/projects/p1/responses/{id}?pii=true"),
    )
    .await;
    fx.get(&fx.coordinator, "/api/v1/projects/p1/table?q=Amina%20Kamau")
        .await;
    fx.get(
        &fx.coordinator,
        "/api/v1/projects/p1/forms/household_survey/export?format=json",
    )
    .await;
    call(
        &fx,
        Method::PUT,
        &fx.coordinator,
        &format!("/api/v1/projects/p1/responses/{id}/review"),
        Some(json!({"state": "approved"})),
    )
    .await;
    // Fine map points (they locate households) and a photo are reads of respondents' data.
    fx.get(
        &fx.coordinator,
        "/api/v1/projects/p1/forms/household_survey/points?pii=true&precision=5",
    )
    .await;
    let photo = b"a photo of a house".to_vec();
    let sha = voices_server::auth::sha256_hex(&photo);
    let (status, body) = fx
        .send(
            Request::put(format!(
                "/api/v1/projects/p1/attachments/{sha}?offset=0&size={}",
                photo.len()
            ))
            .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
            .body(Body::from(photo))
            .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/attachments/{sha}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    call(
        &fx,
        Method::POST,
        &fx.admin,
        "/api/v1/projects/p1/keys",
        Some(json!({"recipient": recipient})),
    )
    .await;

    let (status, page) = fx
        .get(&fx.admin, "/api/v1/audit?project=p1&limit=100")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().unwrap();
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {page}"))
            .clone()
    };
    let read = find("read_response");
    assert_eq!(
        (read["actor"].clone(), read["target"].clone()),
        (json!("cora"), json!(id))
    );
    assert_eq!(read["detail"], "pii=true");
    let reads: Vec<(&Value, &Value)> = entries
        .iter()
        .filter(|e| e["action"] == "read_response")
        .map(|e| (&e["target"], &e["detail"]))
        .collect();
    assert!(
        reads.contains(&(
            &json!("household_survey"),
            &json!("points pii=true precision=5")
        )),
        "{reads:?}"
    );
    assert!(
        reads.contains(&(&json!(format!("attachment:{sha}")), &json!(""))),
        "{reads:?}"
    );
    let search = find("search");
    assert_eq!(search["detail"], "words=2 pii=false");
    assert!(
        !page.to_string().contains("Amina"),
        "search words are never recorded: {page}"
    );
    assert_eq!(find("export")["detail"], "format=json pii=false since=0");
    assert_eq!(find("review")["target"], json!(id));
    assert_eq!(find("add_key")["target"], json!(recipient));
    // Ids grow; a filter by action and by actor.
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let (_, only) = fx
        .get(&fx.admin, "/api/v1/audit?action=export&actor=cora")
        .await;
    assert_eq!(only["entries"].as_array().unwrap().len(), 1, "{only}");
    let (status, body) = fx.get(&fx.admin, "/api/v1/audit?action=peek").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Append-only: the table refuses changes.
    let all = fx
        .store
        .audit(&AuditQuery {
            limit: 1000,
            action: Some(AuditAction::Export),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1);
    let db = fx.dir.path().join("voices.sqlite3");
    let conn = rusqlite::Connection::open(db).unwrap();
    assert!(conn
        .execute("UPDATE audit_log SET actor = 'nobody'", [])
        .is_err());
    assert!(conn.execute("DELETE FROM audit_log", []).is_err());
}

#[tokio::test]
async fn sign_ins_and_failures_are_recorded_without_the_password() {
    let fx = Fixture::new().await;
    let hash = voices_server::auth::hash_password("a long enough password").unwrap();
    fx.store
        .add_user(
            "sara",
            voices_server::store::Role::Coordinator,
            &hash,
            &voices_server::now_text(),
        )
        .unwrap();
    for password in ["wrong password here", "a long enough password"] {
        fx.send(
            Request::post("/api/v1/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"user": "sara", "password": password}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    }
    let (_, page) = fx.get(&fx.admin, "/api/v1/audit").await;
    let entries = page["entries"].as_array().unwrap();
    let failed = entries
        .iter()
        .find(|e| e["action"] == "sign_in_failed")
        .unwrap();
    assert_eq!(
        (failed["actor"].clone(), failed["target"].clone()),
        (json!("-"), json!("sara"))
    );
    assert_eq!(failed["outcome"], "refused");
    let ok = entries.iter().find(|e| e["action"] == "sign_in").unwrap();
    assert_eq!(ok["actor"], "sara");
    assert!(!page.to_string().contains("password"), "{page}");
}
