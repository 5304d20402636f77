//! A respondent's withdrawal against a real server over loopback: a coordinator marks
//! two responses withdrawn, one of them open in the interview screen and one with an
//! edit finalized but not yet sent; at its next sync the device that collected them is
//! told (the device feed, version 2), purges them (answers, revision bodies, the photo),
//! takes them out of every list, and the open interview closes with the neutral
//! `withdrawn` error. The unsent edit reaches the server first and is refused
//! `withdrawn`: never stored as live data, and recorded on the device, not dropped.

mod support;

use reqwest::Method;
use serde_json::json;
use support::{interview_with_photo_on, run, Device, TestServer, PROJECT};
use voices_app::error::ErrorKind;

async fn withdraw(server: &TestServer, id: &str) {
    let (status, answer) = server
        .coordinator_json(
            Method::POST,
            &format!("/api/v1/projects/{PROJECT}/responses/{id}/withdraw"),
            Some(json!({"reason": "the respondent asked"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
}

async fn story(server: &TestServer) {
    let a = Device::open();
    let code = server.device_code("tab-a", &server.url).await;
    a.voices.sync().provision_device(&code).await.unwrap();
    let photo = b"MARKER-photo of the withdrawn respondent's house";
    let gone = interview_with_photo_on(&a.voices, "MARKER-gone", photo);
    let editing = a.interview("MARKER-editing", None);
    let kept = a.interview("Kept village", None);
    a.voices.sync().sync_once().await.unwrap();
    let photo_sha = voices_app::sync::sha256_hex(photo);
    assert!(a.voices.attachment_file(&photo_sha).exists());

    // One edited and finalized again (its revision not sent yet), one open on screen.
    a.edit_village(&gone, "MARKER-gone-edited");
    a.voices.reopen(&editing).unwrap();
    a.voices
        .set_answer(&editing, "/village", Some("MARKER-editing-now"), 1)
        .unwrap();

    withdraw(server, &gone).await;
    withdraw(server, &editing).await;
    let summary = a.voices.sync().sync_once().await.unwrap();
    assert_eq!(summary.withdrawn, 2, "{summary:?}");
    assert_eq!(
        summary.rejected, 1,
        "the unsent edit went first and was refused: {summary:?}"
    );

    // The withdrawal wins over the open interview: every call says so, neutrally.
    let write = a
        .voices
        .set_answer(&editing, "/village", Some("MARKER-late"), 1)
        .unwrap_err();
    assert_eq!(write.kind(), ErrorKind::Withdrawn, "{write}");
    assert!(!write.to_string().contains("MARKER"), "{write}");
    assert_eq!(
        a.voices.state(&editing, 0, None).unwrap_err().kind(),
        ErrorKind::Withdrawn
    );
    assert_eq!(
        a.voices.reopen(&gone).unwrap_err().kind(),
        ErrorKind::Withdrawn
    );

    // Out of every list; a neutral count stays.
    let listed: Vec<String> = a
        .voices
        .list_responses()
        .unwrap()
        .into_iter()
        .map(|r| r.response_id)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&kept));
    let outbox: Vec<String> = a
        .voices
        .sync()
        .list_outbox()
        .unwrap()
        .into_iter()
        .map(|e| e.response_id)
        .collect();
    assert_eq!(outbox, std::slice::from_ref(&kept));
    assert!(a.voices.returned_list().unwrap().is_empty());
    let counted: u32 = a
        .voices
        .forms()
        .list()
        .unwrap()
        .iter()
        .map(|f| f.drafts + f.finalized)
        .sum();
    assert_eq!(counted, 1, "the forms list counts only the kept response");
    let status = a.voices.sync().sync_status().unwrap();
    assert_eq!(status.withdrawn, 2);
    assert_eq!(status.counts.rejected, 0, "{:?}", status.counts);

    // Nothing of what they said is left on the device; ids and acknowledgements are.
    for id in [&gone, &editing] {
        let revisions = a.voices.with_store(|s| s.revisions(id)).unwrap();
        assert!(!revisions.is_empty());
        assert!(revisions.iter().all(|r| r.body.is_empty()), "{revisions:?}");
        assert!(
            revisions.iter().all(|r| r.ack.is_some()),
            "nothing left to send"
        );
        assert!(a.voices.with_store(|s| s.answers(id)).unwrap().is_empty());
    }
    let refused: Vec<_> = a
        .voices
        .with_store(|s| s.revisions(&gone))
        .unwrap()
        .into_iter()
        .filter(|r| r.code.as_deref() == Some("withdrawn"))
        .collect();
    assert_eq!(refused.len(), 1, "the edit's refusal is recorded");
    assert!(!a.voices.attachment_file(&photo_sha).exists());
    assert_eq!(
        a.voices
            .with_store(|s| s.answers(&kept))
            .unwrap()
            .get("/village"),
        Some("Kept village")
    );

    // The server kept nothing of the refused edit, and pulls neither response.
    let pulled = server.pull_all().await;
    let ids: Vec<&str> = pulled
        .iter()
        .map(|i| i["response"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [kept.as_str()], "{pulled:?}");
    let (_, history) = server
        .coordinator_json(
            Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{gone}/history"),
            None,
        )
        .await;
    let revisions = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "revision")
        .count();
    assert_eq!(revisions, 1, "only the first revision: {history}");

    // Again: nothing due, nothing new.
    let again = a.voices.sync().sync_once().await.unwrap();
    assert_eq!((again.withdrawn, again.still_due), (0, 0), "{again:?}");
    assert_eq!(a.voices.sync().sync_status().unwrap().withdrawn, 2);
}

#[test]
fn a_withdrawal_reaches_its_device_and_closes_the_open_interview_sqlite() {
    run(async {
        let server = TestServer::start().await;
        story(&server).await;
        server
    });
}

#[test]
fn a_withdrawal_reaches_its_device_and_closes_the_open_interview_postgres() {
    run(async {
        let server = TestServer::start_postgres().await;
        story(&server).await;
        server
    });
}
