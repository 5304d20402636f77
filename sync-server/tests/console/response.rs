//! A response: its history, review decisions (one and many) and conflict resolution.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

pub async fn history_shows_who_changed_what_and_reviews(c: Console) {
    let sent = c.responses(0, 1).await;
    let first = &sent[0];
    let rid = first.response.clone();
    let age = first.text("/resp_age").unwrap().to_owned();
    let second = edit(
        first,
        "e2",
        "tab-a",
        2,
        &[],
        &[("/resp_age", "44"), ("/resp_name", "Someone Else")],
    );
    c.upload(&c.device, &[second]).await;
    let answer = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{rid}/review"),
            &c.coordinator,
            Some(json!({"state": "has_issues", "comment": "age looks wrong"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);

    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let entries = answer.body.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{}", answer.body);
    assert_eq!(entries[0]["kind"], "revision");
    assert_eq!(entries[0]["revision"], first.id.as_str());
    assert_eq!(entries[0]["actor"], "tab-a");
    assert_eq!(entries[0]["actor_kind"], "device");
    assert_eq!(entries[0]["status"], "finalized");
    let changes = entries[0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), first.set.len());
    assert!(changes.iter().all(|ch| ch["before"].is_null()));
    let edit_entry = &entries[1];
    assert_eq!(edit_entry["revision"], "e2");
    assert_eq!(
        edit_entry["changes"],
        json!([{"path": "/resp_age", "before": age, "after": "44"},
               {"path": "/resp_name", "before": {"masked": true}, "after": {"masked": true}}])
    );
    assert_eq!(entries[2]["kind"], "review");
    assert_eq!(entries[2]["state"], "has_issues");
    assert_eq!(entries[2]["comment"], "age looks wrong");
    assert_eq!(entries[2]["actor"], "user:cora");
    assert_eq!(entries[2]["actor_kind"], "coordinator");

    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history?pii=true"),
        )
        .await;
    assert_eq!(
        answer.body[1]["changes"][1],
        json!({"path": "/resp_name", "before": first.set["/resp_name"], "after": "Someone Else"})
    );
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}"),
        )
        .await;
    assert_eq!(answer.body["review_comment"], "age looks wrong");
    // pii answers are left out (the item still reads as a PulledResponse) and listed.
    assert!(answer.body["response"]["answers"]
        .get("resp_name")
        .is_none());
    let masked = answer.body["masked"].as_array().unwrap();
    for path in [
        "/resp_name",
        "/resp_phone",
        "/gps",
        "/member[1]/member_name",
    ] {
        assert!(
            masked.contains(&json!(path)),
            "{path} not listed in {masked:?}"
        );
    }
    assert!(!masked.contains(&json!("/village")));
    serde_json::from_value::<voices_core::sync::protocol::PulledResponse>(answer.body.clone())
        .expect("a masked response still reads as a PulledResponse");
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}?pii=true"),
        )
        .await;
    assert_eq!(
        answer.body["response"]["answers"]["resp_name"],
        "Someone Else"
    );
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/responses/nope/history")
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_response")
    );
}

pub async fn many_responses_are_reviewed_at_once(c: Console) {
    let sent = c.responses(0, 12).await;
    let mut chosen: Vec<String> = sent[..10].iter().map(|r| r.response.clone()).collect();
    chosen.push("no-such-response".into());
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/reviews",
            &c.coordinator,
            Some(
                json!({"ids": chosen, "state": "approved", "comment": "checked in the field"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 11);
    assert!(results[..10].iter().all(|r| r["ok"] == true));
    assert_eq!(
        results[10],
        json!({"id": "no-such-response", "ok": false, "code": "unknown_response"})
    );
    for (i, id) in chosen.iter().enumerate() {
        assert_eq!(results[i]["id"], id.as_str());
    }
    let (rows, _) = c.all_rows("review=approved", 50).await;
    assert_eq!(rows.len(), 10);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(answer.body["pending_review"], 2);
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{}/history", chosen[3]),
        )
        .await;
    let last = answer.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["comment"], "checked in the field");

    for body in [
        json!({"ids": [], "state": "approved"}),
        json!({"ids": ["a"], "state": "great"}),
        json!({"ids": vec!["a"; 1001], "state": "approved"}),
        json!({"ids": ["a"], "state": "approved", "comment": "x".repeat(2001)}),
    ] {
        let answer = c
            .call(
                "POST",
                "/api/v1/projects/p1/reviews",
                &c.coordinator,
                Some(body.to_string()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    }
}

pub async fn a_conflict_is_resolved_by_a_coordinator_edit(c: Console) {
    let sent = c.responses(0, 1).await;
    let first = &sent[0];
    let rid = first.response.clone();
    // The device and an admin change the age without seeing each other's edit (another
    // device may not edit it).
    c.upload(
        &c.device,
        &[edit(first, "a2", "tab-a", 2, &[], &[("/resp_age", "41")])],
    )
    .await;
    c.upload(
        &c.admin,
        &[edit(
            first,
            "b1",
            "user:admin",
            1,
            &[("tab-a", 1)],
            &[("/resp_age", "44")],
        )],
    )
    .await;
    let (rows, _) = c.all_rows("flag=conflict", 50).await;
    assert_eq!(ids(&rows), std::slice::from_ref(&rid));
    assert_eq!(rows[0]["conflicts"], 1);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(answer.body["conflicts"], 1);

    let resolve = format!("/api/v1/projects/p1/responses/{rid}/resolve");
    let answer = c
        .call(
            "POST",
            &resolve,
            &c.coordinator,
            Some(json!({"path": "/village", "value": "x"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::CONFLICT, "no_conflict"),
        "{}",
        answer.body
    );
    let answer = c
        .call(
            "POST",
            &resolve,
            &c.coordinator,
            Some(json!({"path": "village", "value": "x"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_path"),
        "{}",
        answer.body
    );
    let answer = c
        .call(
            "POST",
            &resolve,
            &c.coordinator,
            Some(json!({"path": "/resp_age", "value": "42"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.get("conflicts").is_none(), "{}", answer.body);
    assert_eq!(answer.body["response"]["answers"]["resp_age"], "42");
    let (rows, _) = c.all_rows("flag=conflict", 50).await;
    assert!(rows.is_empty());
    // The resolution is an edit like any other: in the history, by the coordinator.
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history"),
        )
        .await;
    let last = answer.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "user:cora");
    assert_eq!(last["actor_kind"], "coordinator");
    assert_eq!(last["changes"][0]["after"], "42");
    // A device that syncs later sees the resolved value and the coordinator's edit in the
    // context it edits on.
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}"),
        )
        .await;
    assert_eq!(answer.body["context"]["user:cora"], 1, "{}", answer.body);
}
