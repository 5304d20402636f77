//! Send-back through the API: a coordinator sends a response back with comments, the
//! device that started it (and no other) pulls the review, the comments and the
//! coordinator's edit from its feed, its fix resubmits it, the console reads the diff
//! since the send-back, and the refusals of bad decisions.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

pub async fn a_response_sent_back_reaches_its_device_and_comes_back_with_a_diff(c: Console) {
    let sent = c.responses(0, 1).await;
    let first = &sent[0];
    let rid = first.response.clone();
    let review_uri = format!("/api/v1/projects/p1/responses/{rid}/review");
    let c = &c;
    let feed = |token: &'static str, after: &str| {
        let uri = format!("/api/v1/projects/p1/device/feed?after={after}");
        let token = match token {
            "a" => c.device.clone(),
            _ => c.device_b.clone(),
        };
        async move { c.get(&token, &uri).await }
    };
    let start = feed("a", "").await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    assert_eq!(start.body["feed_version"], 1);
    assert_eq!(start.body["items"][0]["review_state"], "received");
    let cursor = start.body["next"].as_str().unwrap().to_owned();
    let other = feed("b", "").await;
    assert_eq!(other.body["items"], json!([]), "tab-b started nothing");

    // A coordinator corrects the village (an edit by user:cora, having seen the device's).
    let correction = edit(
        first,
        "c1",
        "user:cora",
        1,
        &[("tab-a", 1)],
        &[("/village", "Kijiji 9")],
    );
    c.upload(&c.coordinator, std::slice::from_ref(&correction))
        .await;

    // Decisions the server refuses, each saying why.
    for (body, code) in [
        (json!({"state": "sent_back"}), "comment_required"),
        (
            json!({"state": "sent_back", "comment": "  "}),
            "comment_required",
        ),
        (json!({"state": "resubmitted"}), "bad_review"),
        (
            json!({"state": "approved", "fields": {"/resp_age": "x"}}),
            "bad_review",
        ),
        (
            json!({"state": "sent_back", "comment": "x", "fields": {"resp_age": "x"}}),
            "bad_path",
        ),
        (
            json!({"state": "sent_back", "comment": "x".repeat(2_001)}),
            "invalid",
        ),
        (json!({"state": "sent back", "comment": "x"}), "bad_json"),
    ] {
        let answer = c
            .call("PUT", &review_uri, &c.coordinator, Some(body.to_string()))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
        assert_eq!(answer.code(), code, "{body}: {}", answer.body);
    }
    let many = c
        .call(
            "POST",
            "/api/v1/projects/p1/reviews",
            &c.coordinator,
            Some(json!({"ids": [rid], "state": "resubmitted"}).to_string()),
        )
        .await;
    assert_eq!(many.code(), "bad_review", "{}", many.body);
    let never = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/resubmission"),
        )
        .await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    assert_eq!(never.code(), "not_sent_back");

    let send_back = json!({"state": "sent_back", "comment": "Please check the age",
        "fields": {"/resp_age": "Ask for the year of birth", "/resp_name": "Spelling?"}});
    let answer = c
        .call(
            "PUT",
            &review_uri,
            &c.coordinator,
            Some(send_back.to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);

    // The device pulls it back: state, comments, the coordinator's edit. tab-b does not.
    let back = feed("a", &cursor).await;
    let items = back.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", back.body);
    let item = &items[0];
    assert_eq!(item["response"], rid.as_str());
    assert_eq!(item["review_state"], "sent_back");
    assert_eq!(item["reviews"][0]["state"], "sent_back");
    assert_eq!(item["reviews"][0]["comment"], "Please check the age");
    assert_eq!(
        item["reviews"][0]["fields"]["/resp_age"],
        "Ask for the year of birth"
    );
    assert_eq!(item["reviews"][0]["by"], "user:cora");
    assert_eq!(item["edits"].as_array().unwrap().len(), 1);
    assert_eq!(item["edits"][0]["id"], "c1");
    assert_eq!(item["edits"][0]["set"]["/village"], "Kijiji 9");
    let typed: voices_core::sync::protocol::DeviceFeedPage =
        serde_json::from_value(back.body.clone()).unwrap();
    assert_eq!(typed.items[0].edits[0], correction);
    assert_eq!(feed("b", "").await.body["items"], json!([]));
    let after_back = back.body["next"].as_str().unwrap().to_owned();
    assert_eq!(feed("a", &after_back).await.body["items"], json!([]));

    // People and other devices cannot read a device's feed; a bad cursor is refused.
    let person = c
        .get(&c.coordinator, "/api/v1/projects/p1/device/feed")
        .await;
    assert_eq!(
        (person.status, person.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let bad = feed("a", "yesterday").await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "bad_cursor")
    );
    let wrong = c.get(&c.device, "/api/v1/projects/p2/device/feed").await;
    assert_eq!(wrong.code(), "wrong_project");

    // Before the device answers, the resubmission view shows the send-back, no change.
    let view = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/resubmission"),
        )
        .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    assert_eq!(view.body["review_state"], "sent_back");
    assert_eq!(view.body["changes"], json!([]));
    assert!(view.body["resubmitted_at"].is_null());

    // The enumerator fixes the age and the name and finalizes again.
    let fix = Revision {
        status: Some(voices_core::sync::ResponseStatus::Finalized),
        ..edit(
            first,
            "a2",
            "tab-a",
            2,
            &[("user:cora", 1)],
            &[("/resp_age", "71"), ("/resp_name", "Achieng Otieno")],
        )
    };
    c.upload(&c.device, &[fix]).await;
    let view = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/resubmission"),
        )
        .await;
    assert_eq!(view.body["review_state"], "resubmitted");
    assert!(view.body["resubmitted_at"].is_string());
    assert_eq!(view.body["sent_back"]["fields"]["/resp_name"], "Spelling?");
    let age = first.set["/resp_age"].clone().unwrap();
    assert_eq!(
        view.body["changes"],
        json!([{"path": "/resp_age", "before": age, "after": "71"},
               {"path": "/resp_name", "before": {"masked": true}, "after": {"masked": true}}])
    );
    let with_pii = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/resubmission?pii=true"),
        )
        .await;
    assert_eq!(with_pii.body["changes"][1]["after"], "Achieng Otieno");

    // The table finds it by its state; the history keeps every transition.
    let (rows, _) = c.all_rows("review=resubmitted", 50).await;
    assert_eq!(ids(&rows), std::slice::from_ref(&rid));
    assert_eq!(rows[0]["review"], "resubmitted");
    let history = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history"),
        )
        .await;
    let reviews: Vec<(String, String)> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "review")
        .map(|e| {
            (
                e["state"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reviews,
        [
            ("sent_back".to_owned(), "user:cora".to_owned()),
            ("resubmitted".to_owned(), "tab-a".to_owned())
        ]
    );

    // Approved: the device's next pull says so.
    let answer = c
        .call(
            "PUT",
            &review_uri,
            &c.coordinator,
            Some(json!({"state": "approved"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let last = feed("a", &after_back).await;
    assert_eq!(last.body["items"][0]["review_state"], "approved");
    assert_eq!(
        last.body["items"][0]["reviews"].as_array().unwrap().len(),
        3
    );
}
