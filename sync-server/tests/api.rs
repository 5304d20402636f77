//! Router tests in-process (`tower::ServiceExt::oneshot`): the protocol end to end on
//! SQLite, and every malformed input listed in docs/protocol.md.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{ndjson, Fixture, HOUSEHOLD_VERSION};
use serde_json::Value;
use voices_core::sync::protocol::NDJSON;
use voices_core::sync::{Hlc, Revision, VersionVector};
use voices_server::sample::household_revision;

fn batch(range: std::ops::Range<u64>, actor: &str) -> Vec<Revision> {
    range
        .map(|i| household_revision(i, actor, HOUSEHOLD_VERSION))
        .collect()
}

fn statuses(ack: &Value) -> Vec<String> {
    ack["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn health_info_and_metrics() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get("", "/health").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, Some("ok")));
    let (status, info) = fx.get("", "/api/v1/info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["protocol_versions"], serde_json::json!([1]));
    assert!(info["limits"]["max_batch_records"].as_u64().unwrap() > 0);
    fx.upload(&fx.device, &batch(0..3, "tab-a")).await;
    // The counters are the whole server's: an admin reads them, nobody else.
    for (token, refused) in [
        ("", StatusCode::UNAUTHORIZED),
        (fx.device.as_str(), StatusCode::FORBIDDEN),
        (fx.coordinator.as_str(), StatusCode::FORBIDDEN),
        (fx.outsider.as_str(), StatusCode::FORBIDDEN),
    ] {
        let (status, body) = fx.get(token, "/metrics").await;
        assert_eq!(status, refused, "{body}");
        assert!(!body.to_string().contains("voices_"), "{body}");
    }
    let (status, metrics) = fx.get(&fx.admin, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("voices_revisions_total{status=\"accepted\"} 3"),
        "{text}"
    );
    assert!(text.contains("# TYPE voices_http_requests_total counter"));
}

#[tokio::test]
async fn devices_list_and_download_their_project_forms() {
    let fx = Fixture::new().await;
    let (status, list) = fx.get(&fx.device, "/api/v1/projects/p1/forms").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["form"], "household_survey");
    assert_eq!(list[0]["version"], HOUSEHOLD_VERSION);
    let (status, form) = fx
        .get(
            &fx.device,
            &format!("/api/v1/projects/p1/forms/household_survey/versions/{HOUSEHOLD_VERSION}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(form["id"], "household_survey");
    let (status, problem) = fx.get(&fx.device, "/api/v1/projects/p2/forms").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_project"))
    );
}

#[tokio::test]
async fn publishing_checks_the_form_and_keeps_versions_immutable() {
    let fx = Fixture::new().await;
    let post = |token: &str, body: String| {
        Request::post("/api/v1/projects/p1/forms")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body))
            .unwrap()
    };
    // Same document again: fine, nothing new.
    let (status, _) = fx.send(post(&fx.designer, common::household_form())).await;
    assert_eq!(status, StatusCode::OK);
    // Changed content under the same version: refused.
    let changed = common::household_form().replacen("Household", "Household (changed)", 1);
    let (status, problem) = fx.send(post(&fx.designer, changed)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_exists"))
    );
    // Not a form: refused with the parser's message.
    let (status, problem) = fx.send(post(&fx.designer, "{\"id\": 3}".into())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_form");
    // Coordinators do not publish.
    let (status, _) = fx
        .send(post(&fx.coordinator, common::household_form()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn login_gives_a_session_and_provisioning_codes_work_once() {
    let fx = Fixture::new().await;
    let hash = voices_server::auth::hash_password("s3cret-pass").unwrap();
    fx.store
        .add_user(
            "cleo",
            voices_server::store::Role::Coordinator,
            &hash,
            "2026-01-01T00:00:00.000Z",
        )
        .unwrap();
    fx.store.add_membership("cleo", "p1").unwrap();
    let login = |password: &str| {
        Request::post("/api/v1/login")
            .body(Body::from(
                serde_json::json!({"user": "cleo", "password": password}).to_string(),
            ))
            .unwrap()
    };
    let (status, problem) = fx.send(login("wrong")).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    let (status, session) = fx.send(login("s3cret-pass")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["role"], "coordinator");
    let token = session["token"].as_str().unwrap();
    let (status, _) = fx.get(token, "/api/v1/projects/p1/responses").await;
    assert_eq!(status, StatusCode::OK);

    let (status, problem) = fx
        .send(
            Request::post("/api/v1/provision")
                .body(Body::from(r#"{"code": "voices1:eyJzZXJ2ZXIiOiJ4IiwicHJvamVjdCI6InAxIiwiY29kZSI6Im5vcGUifQ"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_code"))
    );
}

#[tokio::test]
async fn the_same_batch_sent_a_hundred_times_is_stored_once() {
    let fx = Fixture::new().await;
    let revisions = batch(0..50, "tab-a");
    let (status, ack) = fx.upload(&fx.device, &revisions).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["accepted"], 50, "{ack}");
    for _ in 0..99 {
        let (_, ack) = fx.upload(&fx.device, &revisions).await;
        assert_eq!(ack["duplicate"], 50);
        assert_eq!(ack["accepted"], 0);
    }
    // Interleaved with another device's batches, reordered.
    let mut other = batch(1000..1030, "tab-b");
    other.reverse();
    let mut mixed: Vec<Revision> = revisions[..10].to_vec();
    mixed.reverse();
    let (_, ack) = fx.upload(&fx.device, &mixed).await;
    assert_eq!(ack["duplicate"], 10);
    let (_, ack) = fx.upload(&fx.device_b, &other).await;
    assert_eq!(ack["accepted"], 30);
    let (items, _) = fx.pull_all("", 7).await;
    assert_eq!(items.len(), 80);
    let mut ids: Vec<&str> = items
        .iter()
        .map(|i| i["response"]["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 80, "a response appeared twice in the feed");
    assert!(items.iter().all(|i| i["revisions"] == 1));
    assert!(
        items.iter().all(|i| i.get("quarantine").is_none()),
        "valid household responses were quarantined"
    );
}

#[tokio::test]
async fn concurrent_edits_of_a_device_and_an_admin_conflict_until_a_coordinator_resolves() {
    let fx = Fixture::new().await;
    let original = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    fx.upload(&fx.device, std::slice::from_ref(&original)).await;
    // The device edits the response offline while an admin corrects it on the server
    // having seen only its first edit; the admin's clock is two days behind. (Another
    // device may not edit it at all.)
    let edit =
        |id: &str, actor: &str, seq: u64, seen: VersionVector, wall: u64, value: &str| Revision {
            id: id.into(),
            actor: actor.into(),
            seq,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(wall, 0),
            seen,
            set: [("/hh_size".to_string(), Some(value.into()))].into(),
            ..original.clone()
        };
    let a2 = edit(
        "edit-a2",
        "tab-a",
        2,
        VersionVector::new(),
        1_764_200_000_000,
        "7",
    );
    let seen_a1 = VersionVector([("tab-a".to_string(), 1)].into());
    let intruder = edit(
        "edit-b1",
        "tab-b",
        1,
        seen_a1.clone(),
        1_764_000_000_000,
        "8",
    );
    let (_, ack) = fx
        .upload(&fx.device_b, std::slice::from_ref(&intruder))
        .await;
    assert_eq!(statuses(&ack), ["rejected"]);
    assert_eq!(ack["records"][0]["code"], "not_your_response");
    let b1 = edit("edit-b1", "user:admin", 1, seen_a1, 1_764_000_000_000, "8");
    let (_, ack) = fx.upload(&fx.admin, std::slice::from_ref(&b1)).await;
    assert_eq!(statuses(&ack), ["accepted"]);
    let (_, ack) = fx.upload(&fx.device, std::slice::from_ref(&a2)).await;
    assert_eq!(statuses(&ack), ["accepted"]);

    let (status, item) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/responses/{}", original.response),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let conflicts = item["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{item}");
    assert_eq!(conflicts[0]["key"], "/hh_size");
    let values: Vec<&str> = conflicts[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["7", "8"]);

    // The coordinator resolves on top of what they saw.
    let context: VersionVector = serde_json::from_value(item["context"].clone()).unwrap();
    let resolution = Revision {
        seen: context,
        ..edit(
            "resolve-1",
            "user:cora",
            1,
            VersionVector::new(),
            1_764_300_000_000,
            "8",
        )
    };
    let (_, ack) = fx
        .upload(&fx.coordinator, std::slice::from_ref(&resolution))
        .await;
    assert_eq!(statuses(&ack), ["accepted"], "{ack}");
    let (_, item) = fx
        .get(
            &fx.coordinator,
            &format!("/api/v1/projects/p1/responses/{}", original.response),
        )
        .await;
    assert!(item.get("conflicts").is_none(), "{item}");
    assert_eq!(item["response"]["answers"]["hh_size"], "8");
    assert_eq!(item["revisions"], 4);
}

#[tokio::test]
async fn invalid_answers_and_unknown_versions_are_quarantined_and_kept() {
    let fx = Fixture::new().await;
    let mut bad_age = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    bad_age.set.insert("/resp_age".into(), Some("forty".into()));
    bad_age
        .set
        .insert("/no_such_field".into(), Some("x".into()));
    let unknown_version = household_revision(2, "tab-a", "1999");
    let mut unknown_form = household_revision(3, "tab-a", "1");
    unknown_form.form = "not_published".into();
    let (_, ack) = fx
        .upload(
            &fx.device,
            &[bad_age.clone(), unknown_version, unknown_form],
        )
        .await;
    assert_eq!(
        statuses(&ack),
        ["quarantined", "quarantined", "quarantined"],
        "{ack}"
    );
    assert_eq!(ack["quarantined"], 3);
    let reasons = ack["records"][0]["reasons"].to_string();
    assert!(
        reasons.contains("/resp_age") && reasons.contains("no_such_field"),
        "{reasons}"
    );
    assert!(ack["records"][1]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("1999"));
    let (items, _) = fx.pull_all("", 100).await;
    assert_eq!(items.len(), 3, "quarantined responses must still be stored");
    assert!(items
        .iter()
        .all(|i| !i["quarantine"].as_array().unwrap().is_empty()));
}

#[tokio::test]
async fn a_batch_cut_off_mid_upload_keeps_complete_lines_and_resumes() {
    let fx = Fixture::new().await;
    let revisions = batch(0..40, "tab-a");
    let body = ndjson(&revisions);
    // The connection drops part-way through the 25th line.
    let lines: Vec<&[u8]> = body.split_inclusive(|&b| b == b'\n').collect();
    let cut: usize = lines[..24].iter().map(|l| l.len()).sum::<usize>() + lines[24].len() / 2;
    let sent = body[..cut].to_vec();
    let stream = futures_stream(sent);
    let request = Request::post("/api/v1/projects/p1/revisions")
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
        .header(header::CONTENT_TYPE, NDJSON)
        .body(Body::from_stream(stream))
        .unwrap();
    let (status, ack) = fx.send(request).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["incomplete"], true);
    assert_eq!(ack["accepted"], 24);

    // The client (which may never have seen that ack) asks what arrived and sends the rest.
    let ids: Vec<String> = revisions.iter().map(|r| r.id.clone()).collect();
    let (status, known) = fx
        .send(
            Request::post("/api/v1/projects/p1/revisions/known")
                .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
                .body(Body::from(serde_json::json!({ "ids": ids }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let known: Vec<String> = serde_json::from_value(known["known"].clone()).unwrap();
    assert_eq!(known.len(), 24);
    let rest: Vec<Revision> = revisions
        .into_iter()
        .filter(|r| !known.contains(&r.id))
        .collect();
    assert_eq!(rest.len(), 16);
    let (_, ack) = fx.upload(&fx.device, &rest).await;
    assert_eq!(ack["accepted"], 16);
    let (items, _) = fx.pull_all("", 100).await;
    assert_eq!(items.len(), 40);
}

/// A body stream that delivers `data` in small chunks and then fails, like a dropped link.
fn futures_stream(
    data: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let mut chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(1000).map(|c| Ok(c.to_vec())).collect();
    chunks.push(Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "link dropped",
    )));
    tokio_stream_iter(chunks)
}

fn tokio_stream_iter<T: Send + 'static>(
    items: Vec<T>,
) -> impl futures_core::Stream<Item = T> + Send + 'static {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T> Unpin for Iter<T> {}
    impl<T> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

// ------------------------------------------------------------------ malformed inputs
// One test per row of the table in docs/protocol.md.

async fn problem_code(fx: &Fixture, (status, body): (StatusCode, Value)) -> (u16, String) {
    let _ = fx;
    (
        status.as_u16(),
        body["code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn malformed_bad_json_line_is_rejected_on_its_own() {
    let fx = Fixture::new().await;
    let mut body = ndjson(&batch(0..2, "tab-a"));
    body.extend_from_slice(b"{\"id\": \"x\", this is not json\n");
    body.extend_from_slice(b"[1, 2, 3]\n");
    let (status, ack) = fx.upload_bytes(&fx.device, "p1", body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        statuses(&ack),
        ["accepted", "accepted", "rejected", "rejected"]
    );
    assert_eq!(ack["records"][2]["code"], "bad_json");
    assert_eq!(ack["records"][2]["id"], "line 3");
    assert!(ack["records"][2]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("line 3"));
}

#[tokio::test]
async fn malformed_invalid_utf8_line_is_rejected_on_its_own() {
    let fx = Fixture::new().await;
    let mut body = b"{\"id\": \"\xff\xfe\"}\n".to_vec();
    body.extend(ndjson(&batch(0..1, "tab-a")));
    let (status, ack) = fx.upload_bytes(&fx.device, "p1", body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&ack), ["rejected", "accepted"]);
    assert_eq!(ack["records"][0]["code"], "invalid_utf8");
}

#[tokio::test]
async fn malformed_duplicate_revision_id_with_different_content_is_rejected() {
    let fx = Fixture::new().await;
    let original = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    fx.upload(&fx.device, std::slice::from_ref(&original)).await;
    let mut altered = original.clone();
    altered
        .set
        .insert("/village".into(), Some("Somewhere else".into()));
    let (_, ack) = fx.upload(&fx.device, &[altered]).await;
    assert_eq!(statuses(&ack), ["rejected"]);
    assert_eq!(ack["records"][0]["code"], "revision_id_conflict");
    // Same edit number from the same device with a new id: refused as well.
    let reused = Revision {
        id: "fresh-id".into(),
        ..original
    };
    let (_, ack) = fx.upload(&fx.device, &[reused]).await;
    assert_eq!(ack["records"][0]["code"], "edit_number_reused");
}

#[tokio::test]
async fn malformed_revision_for_another_actor_is_rejected() {
    let fx = Fixture::new().await;
    let (_, ack) = fx.upload(&fx.device, &batch(0..1, "tab-b")).await;
    assert_eq!(ack["records"][0]["code"], "wrong_actor");
}

#[tokio::test]
async fn malformed_huge_repeat_instance_numbers_are_rejected_with_the_limit() {
    let fx = Fixture::new().await;
    let mut huge_index = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    huge_index
        .set
        .insert("/members[999999999]/age".into(), Some("30".into()));
    let mut huge_count = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    huge_count
        .set
        .insert("/members[]".into(), Some("999999999".into()));
    let mut bad_count = household_revision(2, "tab-a", HOUSEHOLD_VERSION);
    bad_count
        .set
        .insert("/members[]".into(), Some("many".into()));
    let (status, ack) = fx
        .upload(&fx.device, &[huge_index, huge_count, bad_count])
        .await;
    assert_eq!(status, StatusCode::OK);
    for record in ack["records"].as_array().unwrap() {
        assert_eq!(record["code"], "invalid_revision", "{record}");
        let reason = record["reasons"][0].as_str().unwrap();
        assert!(reason.contains("members"), "{reason}");
    }
    for record in &ack["records"].as_array().unwrap()[..2] {
        let reason = record["reasons"][0].as_str().unwrap();
        assert!(reason.contains("1000"), "{reason}");
    }
    assert_eq!(ack["rejected"], 3, "{ack}");
}

#[tokio::test]
async fn malformed_wrong_project_is_forbidden() {
    let fx = Fixture::new().await;
    let body = ndjson(&batch(0..1, "tab-a"));
    let answer = fx.upload_bytes(&fx.device, "p2", body, None).await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (403, "wrong_project".into())
    );
    let answer = fx.get(&fx.outsider, "/api/v1/projects/p1/responses").await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (403, "wrong_project".into())
    );
    let answer = fx.get(&fx.admin, "/api/v1/projects/nope/responses").await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (404, "unknown_project".into())
    );
    // Devices cannot read other people's responses.
    let answer = fx.get(&fx.device, "/api/v1/projects/p1/responses").await;
    assert_eq!(problem_code(&fx, answer).await, (403, "forbidden".into()));
}

#[tokio::test]
async fn malformed_expired_revoked_and_missing_tokens_are_refused() {
    let fx = Fixture::new().await;
    let answer = fx.get("", "/api/v1/projects/p1/forms").await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (401, "unauthorized".into())
    );
    let answer = fx.get("vt_made_up", "/api/v1/projects/p1/forms").await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (401, "unauthorized".into())
    );

    let expired = "vs_expired-token";
    fx.store
        .add_token(
            &voices_server::auth::secret_hash(expired),
            &voices_server::store::TokenSubject::User("cora".into()),
            "2020-01-01T00:00:00.000Z",
            "2019-12-31T00:00:00.000Z",
        )
        .unwrap();
    let answer = fx.get(expired, "/api/v1/projects/p1/forms").await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (401, "token_expired".into())
    );

    fx.store
        .revoke_device("tab-a", &voices_server::now_text())
        .unwrap();
    let body = ndjson(&batch(0..1, "tab-a"));
    let answer = fx.upload_bytes(&fx.device, "p1", body, None).await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (401, "token_revoked".into())
    );
}

#[tokio::test]
async fn malformed_oversized_body_is_413_with_the_limit() {
    let mut fx = Fixture::new().await;
    let mut small = fx.state.clone();
    small.limits.max_body_bytes = 10_000;
    fx.router = voices_server::app(small);
    let body = ndjson(&batch(0..20, "tab-a"));
    assert!(body.len() > 10_000);
    let (status, problem) = fx.upload_bytes(&fx.device, "p1", body.clone(), None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["code"], "payload_too_large");
    assert_eq!(problem["limit"], 10_000);
    // Without a Content-Length (streamed), the cap still holds.
    let request = Request::post("/api/v1/projects/p1/revisions")
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
        .header(header::CONTENT_TYPE, NDJSON)
        .body(Body::from_stream(tokio_stream_iter(
            body.chunks(500)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect(),
        )))
        .unwrap();
    let (status, problem) = fx.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["limit"], 10_000);
}

#[tokio::test]
async fn a_server_without_zstd_offers_gzip_only_and_refuses_zstd_bodies() {
    let fx = Fixture::with_state(|state| state.without_zstd()).await;
    let (_, info) = fx.get("", "/api/v1/info").await;
    let capabilities: Vec<&str> = info["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(capabilities.contains(&"gzip"), "{info}");
    assert!(
        !capabilities.iter().any(|c| c.starts_with("zstd")),
        "{info}"
    );
    let (status, problem) = fx.upload(&fx.device, &batch(0..2, "tab-a")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
    assert_eq!(problem["code"], "unsupported_encoding");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &ndjson(&batch(0..2, "tab-a"))).unwrap();
    let (status, ack) = fx
        .upload_bytes(&fx.device, "p1", enc.finish().unwrap(), Some("gzip"))
        .await;
    assert_eq!(
        (status, ack["accepted"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{ack}"
    );
}

#[tokio::test]
async fn malformed_compression_bomb_is_413() {
    let fx = Fixture::new().await;
    let limit = fx.state.limits.max_decompressed_bytes;
    let mut plain = ndjson(&batch(0..1, "tab-a"));
    plain.resize(plain.len() + limit as usize + 1024, b'\n');
    let bomb = zstd::encode_all(&plain[..], 19).unwrap();
    assert!(bomb.len() < 100_000, "bomb is {} bytes", bomb.len());
    let (status, problem) = fx.upload_bytes(&fx.device, "p1", bomb, Some("zstd")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["code"], "decompressed_too_large");
    assert_eq!(problem["limit"], limit);
}

#[tokio::test]
async fn malformed_truncated_compressed_body_keeps_the_complete_lines() {
    let fx = Fixture::new().await;
    let revisions = batch(0..30, "tab-a");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &ndjson(&revisions)).unwrap();
    let packed = enc.finish().unwrap();
    let cut = packed[..packed.len() * 2 / 3].to_vec();
    let (status, ack) = fx.upload_bytes(&fx.device, "p1", cut, Some("gzip")).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["incomplete"], true);
    let accepted = ack["accepted"].as_u64().unwrap();
    assert!(accepted > 0 && accepted < 30, "{accepted}");
    assert_eq!(ack["rejected"], 0, "a partial line was taken as a record");
}

#[tokio::test]
async fn malformed_a_million_records_in_one_batch_is_413() {
    let fx = Fixture::new().await;
    let mut body = Vec::with_capacity(3_000_000);
    for _ in 0..1_000_000 {
        body.extend_from_slice(b"{}\n");
    }
    let packed = zstd::encode_all(&body[..], 3).unwrap();
    let (status, problem) = fx
        .upload_bytes(&fx.device, "p1", packed, Some("zstd"))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["code"], "too_many_records");
    assert_eq!(problem["limit"], fx.state.limits.max_batch_records);
    let (items, _) = fx.pull_all("", 100).await;
    assert!(items.is_empty());
}

#[tokio::test]
async fn malformed_media_type_encoding_protocol_and_cursor_are_refused() {
    let fx = Fixture::new().await;
    let request = Request::post("/api/v1/projects/p1/revisions")
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
        .header(header::CONTENT_TYPE, "application/xml")
        .body(Body::from("<data/>"))
        .unwrap();
    let answer = fx.send(request).await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (415, "unsupported_media_type".into())
    );
    let answer = fx
        .upload_bytes(&fx.device, "p1", b"{}".to_vec(), Some("br"))
        .await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (415, "unsupported_encoding".into())
    );
    let request = Request::get("/api/v1/info")
        .header("voices-protocol", "7")
        .body(Body::empty())
        .unwrap();
    let answer = fx.send(request).await;
    assert_eq!(
        problem_code(&fx, answer).await,
        (400, "unsupported_protocol".into())
    );
    let answer = fx
        .get(&fx.coordinator, "/api/v1/projects/p1/responses?after=abc")
        .await;
    assert_eq!(problem_code(&fx, answer).await, (400, "bad_cursor".into()));
    let request = Request::post("/api/v1/provision")
        .body(Body::from("not json"))
        .unwrap();
    let answer = fx.send(request).await;
    assert_eq!(problem_code(&fx, answer).await, (400, "bad_json".into()));
}

#[tokio::test]
async fn problems_are_problem_details_json() {
    let fx = Fixture::new().await;
    let response = tower::ServiceExt::oneshot(
        fx.router.clone(),
        Request::get("/api/v1/projects/p1/forms")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let (_, body) = fx.get("", "/api/v1/projects/p1/forms").await;
    for key in ["type", "title", "status", "code", "detail"] {
        assert!(body.get(key).is_some(), "missing {key} in {body}");
    }
}

/// Bytes on the wire per household response (30 questions, 3 members), against the
/// ~2,300-byte multipart OpenRosa body ODK Collect sends for the same data.
#[tokio::test]
async fn household_responses_are_compact_on_the_wire() {
    let fx = Fixture::new().await;
    let form = common::household_form();
    let dictionary_sha = voices_server::auth::sha256_hex(form.as_bytes());
    let pack = |revisions: &[Revision]| {
        zstd::bulk::Compressor::with_dictionary(3, form.as_bytes())
            .unwrap()
            .compress(&ndjson(revisions))
            .unwrap()
    };
    let one = pack(&batch(0..1, "tab-a"));
    let hundred = pack(&batch(1..101, "tab-a"));
    let plain = ndjson(&batch(0..1, "tab-a")).len();
    let per_response = hundred.len() / 100;
    println!(
        "household response: {plain} bytes as JSON; on the wire {} bytes alone, {per_response} bytes each in a batch of 100",
        one.len()
    );
    assert!(one.len() <= 800, "{} bytes for one response", one.len());
    assert!(per_response <= 800);
    // And the server takes exactly that.
    for body in [one, hundred] {
        let request = Request::post("/api/v1/projects/p1/revisions")
            .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
            .header(header::CONTENT_TYPE, NDJSON)
            .header(header::CONTENT_ENCODING, "zstd")
            .header("voices-dictionary", &dictionary_sha)
            .body(Body::from(body))
            .unwrap();
        let (status, ack) = fx.send(request).await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        assert_eq!(ack["rejected"], 0);
    }
    let (items, _) = fx.pull_all("", 1000).await;
    assert_eq!(items.len(), 101);
    // A dictionary the server does not have is refused clearly.
    let request = Request::post("/api/v1/projects/p1/revisions")
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.device))
        .header(header::CONTENT_TYPE, NDJSON)
        .header(header::CONTENT_ENCODING, "zstd")
        .header("voices-dictionary", "00ff")
        .body(Body::from(pack(&batch(0..1, "tab-a"))))
        .unwrap();
    let (status, problem) = fx.send(request).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_dictionary"))
    );
}
