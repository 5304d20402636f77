//! Send-back against a real server over loopback: a coordinator corrects an answer and
//! sends a response back with comments; the device that collected it (and no other)
//! receives the review, the comments next to their questions and the correction at its
//! next sync; the enumerator fixes and finalizes again, only the change goes up, and the
//! server records the resubmission. An answer both sides changed is a conflict on both
//! sides, never overwritten.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{run, Device, TestServer, PROJECT};
use voices_core::sync::{Hlc, Revision, VersionVector};

/// A coordinator's edit of `answers` on the response the server holds now.
async fn coordinator_edit(server: &TestServer, id: &str, seq: u64, set: &[(&str, &str)]) {
    let (_, item) = server
        .coordinator_json(
            Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{id}?pii=true"),
            None,
        )
        .await;
    let context: VersionVector = serde_json::from_value(item["context"].clone()).unwrap();
    let seen: VersionVector = VersionVector(
        context
            .0
            .into_iter()
            .filter(|(a, _)| a != "user:cora")
            .collect(),
    );
    // Built from its JSON, the wire form a coordinator's client sends.
    let set: serde_json::Map<String, Value> = set
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    let revision: Revision = serde_json::from_value(json!({
        "id": format!("cora-{id}-{seq}"),
        "response": id,
        "form": item["response"]["form_id"],
        "version": item["response"]["form_version"],
        "actor": "user:cora",
        "seq": seq,
        "hlc": Hlc::new(4_000_000_000_000 + seq, 0),
        "seen": seen,
        "set": set,
    }))
    .unwrap();
    let ack = server.coordinator_upload(&[revision]).await;
    assert_eq!(ack["accepted"], 1, "{ack}");
}

async fn send_back(server: &TestServer, id: &str, body: Value) {
    let (status, answer) = server
        .coordinator_json(
            Method::PUT,
            &format!("/api/v1/projects/{PROJECT}/responses/{id}/review"),
            Some(body),
        )
        .await;
    assert_eq!(status, 204, "{answer}");
}

async fn link(server: &TestServer, device: &Device, id: &str) {
    let code = server.device_code(id, &server.url).await;
    device.voices.sync().provision_device(&code).await.unwrap();
}

async fn story(server: &TestServer) {
    let a = Device::open();
    let b = Device::open();
    link(server, &a, "tab-a").await;
    link(server, &b, "tab-b").await;
    let mine = a.interview("Kolo", None);
    let other = a.interview("Kisumu", None);
    b.interview("Bondo", None);
    a.voices.sync().sync_once().await.unwrap();
    b.voices.sync().sync_once().await.unwrap();

    // The coordinator corrects the household size and sends the response back with a
    // comment on the response and one on the village.
    coordinator_edit(server, &mine, 1, &[("/hh_size", "4")]).await;
    send_back(
        server,
        &mine,
        json!({"state": "sent_back", "comment": "Please check the village",
               "fields": {"/village": "Is it Kolo or Kolo West?"}}),
    )
    .await;

    let summary = a.voices.sync().sync_once().await.unwrap();
    assert!(summary.returned >= 1, "{summary:?}");
    let list = a.voices.returned_list().unwrap();
    assert_eq!(list.len(), 1, "only the response sent back");
    assert_eq!(list[0].response_id, mine);
    assert_eq!((list[0].comments, list[0].conflicts), (2, 0));
    // Nothing sensitive in the list: a neutral label, the form's title and counts.
    let listed = serde_json::to_string(&list).unwrap();
    assert!(
        !listed.contains("Kolo") && !listed.contains("village"),
        "{listed}"
    );
    assert_eq!(a.voices.sync().sync_status().unwrap().returned, 1);
    let detail = a.voices.returned_detail(&mine).unwrap().unwrap();
    assert_eq!(detail.review_state, "sent_back");
    assert_eq!(detail.comment.as_deref(), Some("Please check the village"));
    assert_eq!(detail.sent_back_by.as_deref(), Some("user:cora"));
    assert_eq!(detail.fields.len(), 1);
    assert_eq!(detail.fields[0].path, "/village");
    assert_eq!(detail.fields[0].comment, "Is it Kolo or Kolo West?");
    assert_ne!(
        detail.fields[0].label, "village",
        "labelled in the interview's language"
    );
    // The coordinator's correction is in the device's copy.
    let answers = a.voices.with_store(|s| s.answers(&mine)).unwrap();
    assert_eq!(answers.get("/hh_size"), Some("4"));
    assert!(a
        .voices
        .returned_detail(&other)
        .unwrap()
        .is_none_or(|d| d.review_state == "received"));
    // Device B never sees device A's responses.
    b.voices.sync().sync_once().await.unwrap();
    assert!(b.voices.returned_list().unwrap().is_empty());
    assert!(b.voices.returned_detail(&mine).unwrap().is_none());
    assert!(b
        .voices
        .with_store(|s| s.returned(&mine))
        .unwrap()
        .is_none());

    // The enumerator fixes the village: only that goes up; the server has it resubmitted.
    let before = a.voices.with_store(|s| s.revisions(&mine)).unwrap().len();
    a.edit_village(&mine, "Kolo West");
    assert!(
        a.voices.returned_list().unwrap().is_empty(),
        "finalized again"
    );
    a.voices.sync().sync_once().await.unwrap();
    let revisions = a.voices.with_store(|s| s.revisions(&mine)).unwrap();
    assert_eq!(revisions.len(), before + 1);
    let fix: Revision = serde_json::from_str(&revisions.last().unwrap().body).unwrap();
    // Only what changed: the village (and the `ended` time finalizing stamps again).
    let sent: Vec<&str> = fix
        .set
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "/ended")
        .collect();
    assert_eq!(sent, ["/village"], "only what changed: {:?}", fix.set);
    assert_eq!(
        fix.seen.get("user:cora"),
        1,
        "made on top of the correction"
    );
    let (_, view) = server
        .coordinator_json(
            Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{mine}/resubmission?pii=true"),
            None,
        )
        .await;
    assert_eq!(view["review_state"], "resubmitted", "{view}");
    let changes: Vec<&Value> = view["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["path"] != "/ended")
        .collect();
    assert_eq!(
        changes,
        [&json!({"path": "/village", "before": "Kolo", "after": "Kolo West"})],
        "{view}"
    );
    let (_, item) = server
        .coordinator_json(
            Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{mine}?pii=true"),
            None,
        )
        .await;
    assert_eq!(item["response"]["answers"]["hh_size"], "4");
    assert_eq!(item["response"]["answers"]["village"], "Kolo West");

    // Sent back again; this time the enumerator and the coordinator both change the
    // household size without seeing each other's change.
    send_back(
        server,
        &mine,
        json!({"state": "sent_back", "comment": "And the size?"}),
    )
    .await;
    a.voices.sync().sync_once().await.unwrap();
    assert_eq!(a.voices.returned_list().unwrap().len(), 1);
    coordinator_edit(server, &mine, 2, &[("/hh_size", "6")]).await;
    let v = &a.voices;
    v.reopen(&mine).unwrap();
    v.set_answer(&mine, "/hh_size", Some("5"), 1).unwrap();
    assert!(v.finalize(&mine).unwrap().can_finalize);
    a.voices.sync().sync_once().await.unwrap();
    // The server holds both values; so does the device, which keeps its own.
    let (_, item) = server
        .coordinator_json(
            Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{mine}?pii=true"),
            None,
        )
        .await;
    let conflicts = item["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{item}");
    let detail = a.voices.returned_detail(&mine).unwrap().unwrap();
    assert_eq!(detail.conflicts.len(), 1, "{detail:?}");
    assert_eq!(detail.conflicts[0].path, "/hh_size");
    assert_eq!(detail.conflicts[0].yours.as_deref(), Some("5"));
    assert_eq!(
        detail.conflicts[0].theirs,
        vec![("user:cora".to_string(), Some("6".to_string()))]
    );
    assert_eq!(
        a.voices
            .with_store(|s| s.answers(&mine))
            .unwrap()
            .get("/hh_size"),
        Some("5"),
        "never silently overwritten"
    );
    // The enumerator keeps 5 and finalizes: the conflict is resolved on both sides.
    v.reopen(&mine).unwrap();
    assert!(v.finalize(&mine).unwrap().can_finalize);
    a.voices.sync().sync_once().await.unwrap();
    let (_, item) = server
        .coordinator_json(
            Method::GET,
            &format!("/api/v1/projects/{PROJECT}/responses/{mine}?pii=true"),
            None,
        )
        .await;
    assert!(
        item["conflicts"].as_array().is_none_or(|c| c.is_empty()),
        "{item}"
    );
    assert_eq!(item["response"]["answers"]["hh_size"], "5");

    // Approved: the device says so and the response leaves the Returned list.
    send_back(server, &mine, json!({"state": "approved"})).await;
    a.voices.sync().sync_once().await.unwrap();
    assert_eq!(
        a.voices
            .returned_detail(&mine)
            .unwrap()
            .unwrap()
            .review_state,
        "approved"
    );
    assert!(a.voices.returned_list().unwrap().is_empty());
    assert_eq!(a.voices.sync().sync_status().unwrap().returned, 0);
    let listed = a.voices.list_responses().unwrap();
    let review = |id: &str| {
        listed
            .iter()
            .find(|r| r.response_id == id)
            .unwrap()
            .review_state
            .clone()
    };
    assert_eq!(
        review(&mine).as_deref(),
        Some("approved"),
        "the app shows it"
    );
    assert!(
        matches!(review(&other).as_deref(), None | Some("received")),
        "{:?}",
        review(&other)
    );
}

#[test]
fn a_response_sent_back_is_fixed_on_its_device_and_comes_back_sqlite() {
    run(async {
        let server = TestServer::start().await;
        story(&server).await;
        server
    });
}

#[test]
fn a_response_sent_back_is_fixed_on_its_device_and_comes_back_postgres() {
    run(async {
        let server = TestServer::start_postgres().await;
        story(&server).await;
        server
    });
}

/// Retention keeps a response that is sent back until the enumerator finalizes it again;
/// one purged before it was sent back is listed with the reason it cannot be fixed here,
/// and the feed goes on past it.
#[test]
fn retention_keeps_what_is_sent_back_and_the_app_says_when_it_already_purged_it() {
    run(async {
        let server = TestServer::start().await;
        let a = Device::open();
        link(&server, &a, "tab-a").await;
        let kept = a.interview("MARKER-kept", None);
        let gone = a.interview("MARKER-gone", None);
        a.voices.sync().sync_once().await.unwrap();
        send_back(
            &server,
            &kept,
            json!({"state": "sent_back", "comment": "Check the village"}),
        )
        .await;
        let policy = reqwest::Client::new()
            .put(format!(
                "{}/api/v1/projects/{PROJECT}/device-policy",
                server.url
            ))
            .bearer_auth(&server.coordinator)
            .json(&json!({"idle_lock_seconds": 120, "retention_days": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(policy.status(), 200);
        let second = a.voices.sync().sync_once().await.unwrap();
        assert_eq!(
            second.purged, 1,
            "only the response not sent back: {second:?}"
        );
        assert!(a
            .voices
            .with_store(|s| s.answers(&gone))
            .unwrap()
            .is_empty());
        assert_eq!(
            a.voices
                .with_store(|s| s.answers(&kept))
                .unwrap()
                .get("/village"),
            Some("MARKER-kept"),
            "sent back, so kept"
        );

        // Sent back after retention removed it, with a coordinator's correction: the
        // device records the review (not the correction) and says it cannot fix it.
        coordinator_edit(&server, &gone, 1, &[("/village", "MARKER-corrected")]).await;
        send_back(
            &server,
            &gone,
            json!({"state": "sent_back", "comment": "Which household?"}),
        )
        .await;
        let third = a.voices.sync().sync_once().await.unwrap();
        assert!(third.returned >= 1, "{third:?}");
        let list = a.voices.returned_list().unwrap();
        assert_eq!(list.len(), 2, "{list:?}");
        let purged = list.iter().find(|r| r.response_id == gone).unwrap();
        assert!(purged.purged_at.is_some(), "{purged:?}");
        assert!(list
            .iter()
            .any(|r| r.response_id == kept && r.purged_at.is_none()));
        let detail = a.voices.returned_detail(&gone).unwrap().unwrap();
        assert!(detail.purged_at.is_some());
        assert_eq!(detail.comment.as_deref(), Some("Which household?"));
        assert!(a
            .voices
            .with_store(|s| s.answers(&gone))
            .unwrap()
            .is_empty());
        let bodies: Vec<String> = a
            .voices
            .with_store(|s| s.revisions(&gone))
            .unwrap()
            .into_iter()
            .map(|r| r.body)
            .collect();
        assert!(
            bodies.iter().all(|b| !b.contains("MARKER")),
            "nothing of it comes back: {bodies:?}"
        );

        // The feed went past it: the next word about the other response arrives.
        send_back(&server, &kept, json!({"state": "approved"})).await;
        a.voices.sync().sync_once().await.unwrap();
        let detail = a.voices.returned_detail(&kept).unwrap().unwrap();
        assert_eq!(detail.review_state, "approved");
        server
    });
}
