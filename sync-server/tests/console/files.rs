//! A response's pictures, read by the response and the file's name (the answer).

use axum::http::StatusCode;
use serde_json::json;

use super::*;
use crate::common::{photo_form, photo_revision, png};

/// Upload `bytes` whole as device tab-a: their SHA-256.
async fn put_file(c: &Console, bytes: &[u8]) -> String {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    let answer = c
        .send(
            Request::put(format!(
                "/api/v1/projects/p1/attachments/{sha}?offset=0&size={}",
                bytes.len()
            ))
            .header(header::AUTHORIZATION, bearer(&c.device))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes.to_vec()))
            .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    sha
}

/// The bytes of a GET as `token`, with its status and headers.
async fn raw(c: &Console, token: &str, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = c
        .router
        .clone()
        .oneshot(
            Request::get(uri)
                .header(header::AUTHORIZATION, bearer(token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

fn file(response: &str, name: &str, query: &str) -> String {
    format!("/api/v1/projects/p1/responses/{response}/files/{name}{query}")
}

pub async fn a_response_shows_its_pictures_under_the_rules_of_their_answers(c: Console) {
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/forms",
            &c.admin,
            Some(photo_form()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let (picture, sha) = png();
    assert_eq!(put_file(&c, &picture).await, sha);
    let revision = photo_revision(1, "tab-a", &sha);
    let rid = revision.response.clone();
    c.upload(&c.device, &[revision]).await;

    // The picture, as a picture: its bytes, shown inline, never sniffed or cached.
    let (status, headers, bytes) = raw(&c, &c.coordinator, &file(&rid, "house.png", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, picture);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "inline; filename*=UTF-8''house.png"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    let (_, headers, _) = raw(
        &c,
        &c.coordinator,
        &file(&rid, "house.png", "?download=true"),
    )
    .await;
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename*=UTF-8''house.png"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");

    // pii (`face`) and sensitive (`scar`) pictures only when pii is asked.
    for name in ["face.png", "scar.png"] {
        let answer = c.get(&c.coordinator, &file(&rid, name, "")).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::NOT_FOUND, "unknown_file"),
            "{name}"
        );
        let (status, _, bytes) = raw(&c, &c.coordinator, &file(&rid, name, "?pii=true")).await;
        assert_eq!((status, bytes == picture), (StatusCode::OK, true), "{name}");
    }
    // Only a file question's answer names a file; a name no answer holds is no file.
    for name in ["Kolo", "other.png"] {
        let answer = c.get(&c.admin, &file(&rid, name, "?pii=true")).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::NOT_FOUND, "unknown_file"),
            "{name}"
        );
    }
    let answer = c
        .get(&c.coordinator, &file("no-such-response", "house.png", ""))
        .await;
    assert_eq!(answer.code(), "unknown_response");
    // Another project's coordinator is refused before anything is looked up.
    let answer = c.get(&c.outsider, &file(&rid, "house.png", "")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // Every read is in the access audit, once, with the file's hash: two reads without
    // pii (shown, saved) are two entries.
    let audit = c
        .get(&c.admin, "/api/v1/audit?action=read_response&limit=50")
        .await;
    let reads = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == rid.as_str() && e["detail"] == format!("file {sha} pii=false"))
        .count();
    assert_eq!(reads, 2, "{}", audit.body);

    // A file that is not a picture a browser shows safely is only ever saved.
    let page = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let svg = put_file(&c, page).await;
    let other = photo_revision(2, "tab-a", &svg);
    let other_id = other.response.clone();
    c.upload(&c.device, &[other]).await;
    let (status, headers, _) = raw(&c, &c.coordinator, &file(&other_id, "house.png", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename*=UTF-8''house.png"
    );

    // Named by a revision but not uploaded whole: said so.
    let missing = photo_revision(3, "tab-a", &"ab".repeat(32));
    let missing_id = missing.response.clone();
    c.upload(&c.device, &[missing]).await;
    let answer = c
        .get(&c.coordinator, &file(&missing_id, "house.png", ""))
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "file_not_uploaded")
    );

    // A later edit that changes another answer keeps the picture its first revision named.
    let later = edit(
        &photo_revision(1, "tab-a", &sha),
        "photo-edit-2",
        "tab-a",
        2,
        &[],
        &[("/village", "Kola")],
    );
    assert!(later.files.is_empty());
    c.upload(&c.device, &[later]).await;
    let (status, _, bytes) = raw(&c, &c.coordinator, &file(&rid, "house.png", "")).await;
    assert_eq!((status, bytes == picture), (StatusCode::OK, true));

    // Without the pii grant, pii=true is refused and the pii pictures stay out of reach.
    sync(|| assert!(c.store.set_pii_grant("cora", "p1", false).unwrap()));
    let answer = c
        .get(&c.coordinator, &file(&rid, "face.png", "?pii=true"))
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "pii_not_granted")
    );
    let answer = c.get(&c.coordinator, &file(&rid, "face.png", "")).await;
    assert_eq!(answer.code(), "unknown_file");

    // A coordinator limited to a team without tab-a: the response is not there.
    sync(|| {
        let team = c
            .store
            .add_team("p1", "North", &voices_server::now_text())
            .unwrap();
        c.store
            .limit_member("cora", "p1", Some(&[team.id]))
            .unwrap();
    });
    let answer = c.get(&c.coordinator, &file(&rid, "house.png", "")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_response")
    );

    // A withdrawn response shows no picture.
    let answer = c
        .call(
            "POST",
            &format!("/api/v1/projects/p1/responses/{rid}/withdraw"),
            &c.admin,
            Some(json!({"reason": "asked"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = c.get(&c.admin, &file(&rid, "house.png", "")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}
