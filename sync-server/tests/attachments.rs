//! Attachments over HTTP: chunked, addressed by content hash, resumable over a link that
//! keeps dropping, deduplicated across responses.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::Fixture;
use http_body_util::BodyExt;

/// A body that delivers `data` and then fails after `cut` bytes, like a link that drops.
fn dropping_body(data: Vec<u8>, cut: usize) -> Body {
    struct Drop(Vec<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for Drop {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(if self.0.is_empty() {
                None
            } else {
                Some(self.0.remove(0))
            })
        }
    }
    let mut parts: Vec<Result<Vec<u8>, std::io::Error>> = data[..cut.min(data.len())]
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    if cut < data.len() {
        parts.push(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "link dropped",
        )));
    }
    Body::from_stream(Drop(parts))
}

async fn status(fx: &Fixture, token: &str, sha: &str) -> Option<serde_json::Value> {
    let (code, body) = fx
        .get(
            token,
            &format!("/api/v1/projects/p1/attachments/{sha}/status"),
        )
        .await;
    match code {
        StatusCode::OK => Some(body),
        StatusCode::NOT_FOUND => None,
        other => panic!("status {other}: {body}"),
    }
}

async fn put_chunk(
    fx: &Fixture,
    token: &str,
    sha: &str,
    size: usize,
    offset: usize,
    body: Body,
) -> (StatusCode, serde_json::Value) {
    fx.send(
        Request::put(format!(
            "/api/v1/projects/p1/attachments/{sha}?offset={offset}&size={size}"
        ))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(body)
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_50_mb_file_over_a_link_that_drops_every_megabyte_completes_without_restarting() {
    let fx = Fixture::new().await;
    const SIZE: usize = 50 << 20;
    const MB: usize = 1 << 20;
    let mut data = Vec::with_capacity(SIZE);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    while data.len() < SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    let sha = voices_server::auth::sha256_hex(&data);
    let chunk = fx.state.limits.max_chunk_bytes as usize;

    let mut requests = 0;
    let mut last_received = 0;
    loop {
        // After every drop the client asks where to continue — never from zero again.
        let received = match status(&fx, &fx.device, &sha).await {
            Some(s) if s["complete"] == true => break,
            Some(s) => s["received"].as_u64().unwrap() as usize,
            None => 0,
        };
        assert!(
            requests == 0 || received > last_received,
            "no progress after a drop"
        );
        assert!(received >= last_received, "the upload went backwards");
        last_received = received;
        let end = (received + chunk).min(SIZE);
        let piece = data[received..end].to_vec();
        let (code, body) = put_chunk(
            &fx,
            &fx.device,
            &sha,
            SIZE,
            received,
            dropping_body(piece, MB),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        requests += 1;
        assert!(requests <= 60, "too many requests");
    }
    assert_eq!(
        requests, 50,
        "one request per megabyte, each resuming where the last stopped"
    );

    // The coordinator downloads exactly the bytes.
    let response = tower::ServiceExt::oneshot(
        fx.router.clone(),
        Request::get(format!("/api/v1/projects/p1/attachments/{sha}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", fx.coordinator))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes.len(), SIZE);
    assert_eq!(voices_server::auth::sha256_hex(&bytes), sha);

    // Another device attaching the same file to another response: nothing to send.
    let (code, body) = put_chunk(
        &fx,
        &fx.device_b,
        &sha,
        SIZE,
        0,
        Body::from(data[..1000].to_vec()),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["complete"], true);
}

#[tokio::test]
async fn wrong_bytes_are_discarded_and_bad_requests_refused() {
    let fx = Fixture::new().await;
    let data = b"photo bytes".to_vec();
    let claimed = voices_server::auth::sha256_hex(b"other bytes");
    let (code, body) = put_chunk(
        &fx,
        &fx.device,
        &claimed,
        data.len(),
        0,
        Body::from(data.clone()),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("hash_mismatch"))
    );
    assert!(
        status(&fx, &fx.device, &claimed).await.is_none(),
        "mismatched bytes were kept"
    );

    let sha = voices_server::auth::sha256_hex(&data);
    let (code, body) = put_chunk(
        &fx,
        &fx.device,
        &sha,
        data.len(),
        5,
        Body::from(data.clone()),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("offset_mismatch"))
    );
    let (code, body) = put_chunk(&fx, &fx.device, "not-a-hash", 3, 0, Body::from("abc")).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_hash"))
    );
    let big = vec![0u8; fx.state.limits.max_chunk_bytes as usize + 1];
    let big_sha = voices_server::auth::sha256_hex(&big);
    let (code, body) = put_chunk(&fx, &fx.device, &big_sha, big.len(), 0, Body::from(big)).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("chunk_too_large"))
    );
    // Devices cannot download attachments (photos of respondents stay with coordinators).
    let (code, _) = fx
        .get(
            &fx.device,
            &format!("/api/v1/projects/p1/attachments/{sha}"),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
}
