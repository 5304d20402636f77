//! Issue 11's protocol-and-data limits through the router (SQLite): batch lines, repeat
//! instances bounded by the form and in total, who may write a response, what `seen`
//! may claim, and reasons that never quote answers. The rules that depend on the
//! backend are also in the storage suite (`tests/suite/`), run on both.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ndjson, Fixture, HOUSEHOLD_VERSION};
use serde_json::Value;
use voices_core::sync::{Hlc, ResponseStatus, Revision, VersionVector};
use voices_server::sample::household_revision;

fn statuses(ack: &Value) -> Vec<String> {
    ack["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no records in {ack}"))
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_body_of_newlines_is_refused_saying_where() {
    let fx = Fixture::new().await;
    // 32 MiB of newlines compress to a few kilobytes and stay under the decompression
    // cap: without a line limit each would become a slice of its own.
    let body = vec![b'\n'; 32 << 20];
    let packed = zstd::encode_all(&body[..], 3).unwrap();
    let (status, problem) = fx
        .upload_bytes(&fx.device, "p1", packed, Some("zstd"))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["code"], "too_many_lines");
    let limit = fx.state.limits.max_batch_records * 2;
    assert_eq!(problem["limit"], limit);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("byte {limit}")), "{detail}");
}

#[tokio::test]
async fn a_line_over_the_line_limit_is_rejected_on_its_own() {
    let fx = Fixture::new().await;
    // The published `max_line_bytes` (see `the_line_limit_is_published`).
    let limit = 4usize << 20;
    let mut body = ndjson(&[household_revision(1, "tab-a", HOUSEHOLD_VERSION)]);
    let mut huge = household_revision(2, "tab-a", HOUSEHOLD_VERSION);
    // Many answers of legal size make one line longer than the limit.
    for i in 0..(limit / 60_000 + 2) {
        huge.set
            .insert(format!("/comments_{i}"), Some("x".repeat(60_000).into()));
    }
    body.extend(ndjson(&[huge]));
    body.extend(ndjson(&[household_revision(3, "tab-a", HOUSEHOLD_VERSION)]));
    let packed = zstd::encode_all(&body[..], 3).unwrap();
    let (status, ack) = fx
        .upload_bytes(&fx.device, "p1", packed, Some("zstd"))
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(statuses(&ack), ["accepted", "rejected", "accepted"]);
    let record = &ack["records"][1];
    assert_eq!(record["code"], "line_too_long");
    assert_eq!(record["id"], "line 2");
    let reason = record["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("line 2") && reason.contains(&limit.to_string()),
        "{reason}"
    );
}

#[tokio::test]
async fn the_line_limit_is_published() {
    let fx = Fixture::new().await;
    let (status, info) = fx
        .send(Request::get("/api/v1/info").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["limits"]["max_line_bytes"], 4 << 20);
}

/// A form with bounded and unbounded repeats, published in p1.
async fn publish_bounds_form(fx: &Fixture) {
    let form = serde_json::json!({
        "id": "bounds", "version": "1", "title": "Bounds",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en",
        "body": [
            {"type": "repeat", "name": "kids", "max": 3, "body": [
                {"type": "text", "name": "kid"},
                {"type": "repeat", "name": "visits", "count": "2", "body": [
                    {"type": "date", "name": "on"}]}]},
            {"type": "repeat", "name": "plots", "body": [
                {"type": "text", "name": "plot"},
                {"type": "repeat", "name": "crops", "body": [
                    {"type": "text", "name": "crop"}]}]}
        ]
    });
    let (status, body) = fx
        .send(
            Request::post("/api/v1/projects/p1/forms")
                .header("authorization", format!("Bearer {}", fx.designer))
                .header("content-type", "application/json")
                .body(Body::from(form.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

fn bounds_revision(id: &str, response: &str, seq: u64, set: &[(String, &str)]) -> Revision {
    Revision {
        id: id.into(),
        response: response.into(),
        form: "bounds".into(),
        version: "1".into(),
        actor: "tab-a".into(),
        seq,
        hlc: Hlc::new(1_764_130_000_000 + seq, 0),
        seen: VersionVector::new(),
        set: set
            .iter()
            .map(|(k, v)| (k.clone(), Some((*v).into())))
            .collect(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
        status: Some(ResponseStatus::Draft),
        validated: false,
        files: Default::default(),
    }
}

#[tokio::test]
async fn instance_numbers_past_a_repeats_max_or_fixed_count_are_refused() {
    let fx = Fixture::new().await;
    publish_bounds_form(&fx).await;
    let within = bounds_revision(
        "ok",
        "resp-ok",
        1,
        &[
            ("/kids[3]/kid".into(), "Ama"),
            ("/kids[3]/visits[2]/on".into(), "2026-01-02"),
            ("/plots[900]/plot".into(), "far"),
        ],
    );
    let past_max = bounds_revision("max", "resp-max", 1, &[("/kids[4]/kid".into(), "Kofi")]);
    let past_count = bounds_revision(
        "count",
        "resp-count",
        1,
        &[("/kids[1]/visits[3]/on".into(), "2026-01-02")],
    );
    let past_count_value = bounds_revision("n", "resp-n", 1, &[("/kids[]".into(), "7")]);
    let (_, ack) = fx
        .upload(
            &fx.device,
            &[within, past_max, past_count, past_count_value],
        )
        .await;
    let records = ack["records"].as_array().unwrap();
    assert_ne!(records[0]["status"], "rejected", "{ack}");
    for (record, (path, repeat, limit)) in records[1..].iter().zip([
        ("/kids[4]/kid", "kids", 3),
        ("/kids[1]/visits[3]/on", "visits", 2),
        ("/kids[]", "kids", 3),
    ]) {
        assert_eq!(record["status"], "rejected", "{ack}");
        assert_eq!(record["code"], "repeat_bound", "{ack}");
        let reason = record["reasons"][0].as_str().unwrap();
        assert!(
            reason.contains(path)
                && reason.contains(&format!("`{repeat}`"))
                && reason.contains(&format!("at most {limit}")),
            "{reason}"
        );
        // The reason names the path and the rule, never the answer.
        assert!(
            !reason.contains("Kofi") && !reason.contains("2026-01-02"),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn nested_instances_past_the_response_limit_are_refused_across_revisions() {
    let fx = Fixture::new().await;
    publish_bounds_form(&fx).await;
    // Each path is within the per-repeat limit of 1,000; 6 × 1,001 instances first ...
    let first: Vec<(String, &str)> = (1..=6)
        .map(|k| (format!("/plots[{k}]/crops[1000]/crop"), "maize"))
        .collect();
    // ... then 4 × 1,001 more in a later revision of the same response: 10,010 in all.
    let second: Vec<(String, &str)> = (7..=10)
        .map(|k| (format!("/plots[{k}]/crops[1000]/crop"), "beans"))
        .collect();
    let (_, ack) = fx
        .upload(
            &fx.device,
            &[
                bounds_revision("big-1", "resp-big", 1, &first),
                bounds_revision("big-2", "resp-big", 2, &second),
            ],
        )
        .await;
    let records = ack["records"].as_array().unwrap();
    assert_ne!(records[0]["status"], "rejected", "{ack}");
    assert_eq!(records[1]["status"], "rejected", "{ack}");
    assert_eq!(records[1]["code"], "too_many_instances");
    let reason = records[1]["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("10010") && reason.contains("10000"),
        "{reason}"
    );
    // The same claim in a later batch, against the stored state, is refused alike.
    let (_, ack) = fx
        .upload(
            &fx.device,
            &[bounds_revision("big-3", "resp-big", 3, &second)],
        )
        .await;
    assert_eq!(ack["records"][0]["code"], "too_many_instances", "{ack}");
    // What was accepted reads back whole.
    let (status, item) = fx
        .get(&fx.coordinator, "/api/v1/projects/p1/responses/resp-big")
        .await;
    assert_eq!(status, StatusCode::OK, "{item}");
    let plots = item["response"]["answers"]["plots"].as_array().unwrap();
    assert_eq!(plots.len(), 6);
    assert_eq!(plots[5]["crops"].as_array().unwrap().len(), 1_000);
}

#[tokio::test]
async fn reasons_name_the_field_and_the_rule_never_the_answer() {
    let fx = Fixture::new().await;
    let mut revision = household_revision(5, "tab-a", HOUSEHOLD_VERSION);
    revision
        .set
        .insert("/region".into(), Some("Secret Region Value".into()));
    revision
        .set
        .insert("/assets".into(), Some("radio PrivateThing".into()));
    let mut body = ndjson(&[revision]);
    // A line whose JSON quotes a value where a number belongs.
    body.extend_from_slice(
        br#"{"id":"x","response":"r","form":"household_survey","version":"1","actor":"tab-a","seq":"Achieng Otieno","hlc":"1.0"}"#,
    );
    body.push(b'\n');
    body.extend_from_slice(
        br#"{"id":"y","response":"r","form":"household_survey","version":"1","actor":"tab-a","seq":1,"hlc":"1.0","status":"Wanjiru Mwangi"}"#,
    );
    body.push(b'\n');
    let (status, ack) = fx.upload_bytes(&fx.device, "p1", body, None).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(statuses(&ack), ["quarantined", "rejected", "rejected"]);
    let text = ack.to_string();
    for secret in [
        "Secret Region Value",
        "PrivateThing",
        "Achieng Otieno",
        "Wanjiru Mwangi",
    ] {
        assert!(!text.contains(secret), "`{secret}` quoted in {text}");
    }
    let reasons: Vec<&str> = ack["records"][0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("/region:") && r.contains("not one of the choices")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("/assets:")),
        "{reasons:?}"
    );
    let bad = ack["records"][1]["reasons"][0].as_str().unwrap();
    assert!(
        bad.contains("line 2") && bad.contains("invalid type: string, expected u64"),
        "{bad}"
    );
    // The coordinator reads the same reasons on the response.
    let (_, item) = fx
        .get(
            &fx.coordinator,
            &format!(
                "/api/v1/projects/p1/responses/{}",
                household_revision(5, "tab-a", HOUSEHOLD_VERSION).response
            ),
        )
        .await;
    let quarantine = item["quarantine"].to_string();
    assert!(
        !quarantine.contains("Secret Region Value") && quarantine.contains("/region"),
        "{quarantine}"
    );
}

async fn put_attachment(
    fx: &Fixture,
    sha: &str,
    size: u64,
    offset: u64,
    bytes: &[u8],
) -> (StatusCode, Value) {
    fx.send(
        Request::put(format!(
            "/api/v1/projects/p1/attachments/{sha}?offset={offset}&size={size}"
        ))
        .header("authorization", format!("Bearer {}", fx.device))
        .body(Body::from(bytes.to_vec()))
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_attachment_declared_larger_than_the_server_takes_is_refused_before_any_byte() {
    let fx = Fixture::with_state(|mut state| {
        state.limits.max_attachment_bytes = 1_000;
        state
    })
    .await;
    let sha = "ab".repeat(32);
    let (status, problem) = put_attachment(&fx, &sha, 1_001, 0, b"x").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["code"], "attachment_too_large");
    assert_eq!(problem["limit"], 1_000);
    let (status, _) = fx
        .get(
            &fx.device,
            &format!("/api/v1/projects/p1/attachments/{sha}/status"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
    // The default is published (1 GiB).
    let fx = Fixture::new().await;
    let (_, info) = fx
        .send(Request::get("/api/v1/info").body(Body::empty()).unwrap())
        .await;
    assert_eq!(info["limits"]["max_attachment_bytes"], 1u64 << 30);
    let (status, problem) = put_attachment(&fx, &sha, (1 << 40) + 1, 0, b"x").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("attachment_too_large"))
    );
}

#[tokio::test]
async fn the_last_chunk_completes_the_file_at_once_and_a_file_left_incomplete_recovers() {
    let fx = Fixture::new().await;
    let data: Vec<u8> = (0..3_000u32).map(|i| (i % 253) as u8).collect();
    let sha = voices_server::auth::sha256_hex(&data);
    let (status, first) = put_attachment(&fx, &sha, 3_000, 0, &data[..1_000]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, last) = put_attachment(&fx, &sha, 3_000, 1_000, &data[1_000..]).await;
    assert_eq!(status, StatusCode::OK, "{last}");
    assert_eq!(last["complete"], true, "{last}");

    // A file an earlier server left with every byte and `complete = false` (its
    // completion was a second step, and the connection dropped between them).
    let other: Vec<u8> = (0..2_000u32).map(|i| (i % 241) as u8).collect();
    let other_sha = voices_server::auth::sha256_hex(&other);
    put_attachment(&fx, &other_sha, 2_000, 0, &other[..500]).await;
    {
        let db = rusqlite::Connection::open(fx.dir.path().join("voices.sqlite3")).unwrap();
        db.execute(
            "INSERT INTO attachment_chunks (project, sha256, offset, data) VALUES ('p1', ?1, 500, ?2)",
            rusqlite::params![other_sha, &other[500..]],
        )
        .unwrap();
        db.execute(
            "UPDATE attachments SET received = 2000, complete = 0 WHERE sha256 = ?1",
            rusqlite::params![other_sha],
        )
        .unwrap();
    }
    // The next status call completes it (the bytes match their hash).
    let (status, body) = fx
        .get(
            &fx.device,
            &format!("/api/v1/projects/p1/attachments/{other_sha}/status"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["complete"], true, "{body}");
    let response = tower::ServiceExt::oneshot(
        fx.router.clone(),
        Request::get(format!("/api/v1/projects/p1/attachments/{other_sha}"))
            .header("authorization", format!("Bearer {}", fx.coordinator))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
