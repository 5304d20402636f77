//! Issue 11's protocol-and-data limits through the router (SQLite): batch lines, repeat
//! instances bounded by the form and in total, who may write a response, what `seen`
//! may claim, and reasons that never quote answers. The rules that depend on the
//! backend are also in the storage suite (`tests/suite/`), run on both.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ndjson, Fixture, HOUSEHOLD_VERSION};
use serde_json::Value;
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
            .insert(format!("/comments_{i}"), Some("x".repeat(60_000)));
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
