//! Sealed answers on the server: taken only from a device that says it validated them,
//! stored, merged, pulled and exported as the ciphertext it cannot read, never searched,
//! and not quarantined for being unreadable.

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Fixture, HOUSEHOLD_VERSION};
use http_body_util::BodyExt;
use voices_core::answer::Sealed;
use voices_core::sync::Revision;
use voices_server::sample::household_revision;

/// A household response with its pii answers sealed: each "ciphertext" is unique and
/// holds the response number, so the test can find it where it must be.
fn sealed_revision(i: u64) -> Revision {
    let mut revision = household_revision(i, "tab-a", HOUSEHOLD_VERSION);
    let pii = ["/resp_name", "/resp_phone", "/gps"];
    let mut n = 0;
    revision
        .seal(
            |p| pii.contains(&p.as_str()) || p.as_str().ends_with("/member_name"),
            |_clear| {
                n += 1;
                Sealed::new(format!("U0VBTEVE{i}x{n}"))
            },
        )
        .unwrap();
    revision
}

fn sealed_text(revision: &Revision, path: &str) -> String {
    let value = revision.set[path].as_ref().unwrap();
    value.sealed().unwrap().as_str().to_owned()
}

async fn download(fx: &Fixture, query: &str) -> Vec<u8> {
    let response = tower::ServiceExt::oneshot(
        fx.router.clone(),
        Request::get(format!(
            "/api/v1/projects/p1/forms/household_survey/export?{query}"
        ))
        .header(header::AUTHORIZATION, format!("Bearer {}", fx.coordinator))
        .body(Body::empty())
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::test]
async fn sealed_answers_are_stored_pulled_and_exported_as_ciphertext() {
    let fx = Fixture::new().await;
    let revisions: Vec<Revision> = (0..3).map(sealed_revision).collect();
    assert!(revisions.iter().all(|r| r.validated));
    let (status, ack) = fx.upload(&fx.device, &revisions).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["accepted"], 3, "{ack}");
    // A required pii answer the server cannot read is not a reason to quarantine.
    assert_eq!(ack["quarantined"], 0, "{ack}");

    let (items, _) = fx.pull_all("0", 10).await;
    assert_eq!(items.len(), 3);
    let first = items
        .iter()
        .find(|item| item["response"]["id"] == revisions[0].response)
        .unwrap();
    assert_eq!(
        first["response"]["answers"]["resp_name"],
        serde_json::json!({"sealed": sealed_text(&revisions[0], "/resp_name")}),
        "{first}"
    );
    assert!(
        first["quarantine"].as_array().is_none_or(Vec::is_empty),
        "{first}"
    );
    assert_eq!(
        first["response"]["answers"]["resp_age"],
        revisions[0].text("/resp_age").unwrap()
    );

    let zipped = download(&fx, "format=csv&pii=true").await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    let mut main = String::new();
    archive
        .by_name("household_survey.csv")
        .unwrap()
        .read_to_string(&mut main)
        .unwrap();
    let mut reader = csv::Reader::from_reader(main.as_bytes());
    let columns: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let name_at = columns
        .iter()
        .position(|c| c.ends_with("resp_name"))
        .unwrap();
    let mut names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[name_at].to_owned())
        .collect();
    let mut sealed_names: Vec<String> = revisions
        .iter()
        .map(|r| sealed_text(r, "/resp_name"))
        .collect();
    names.sort();
    sealed_names.sort();
    assert_eq!(names, sealed_names);

    let json = download(&fx, "format=json&pii=true").await;
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert!(
        json[0]["response"]["answers"]["resp_phone"]["sealed"].is_string(),
        "{json}"
    );
}

#[tokio::test]
async fn a_sealed_answer_without_the_devices_validation_is_rejected_with_the_reason() {
    let fx = Fixture::new().await;
    let mut revision = sealed_revision(7);
    revision.validated = false;
    let (status, ack) = fx.upload(&fx.device, &[revision]).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["accepted"], 0, "{ack}");
    let text = ack.to_string();
    assert!(text.contains("validated"), "{text}");
}
