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

/// A respondent withdrew: the coordinator marks the response withdrawn. It leaves the
/// table, the overview's counts, the dashboard and exports at once; later revisions of
/// it are refused (`withdrawn`), a revision sent again is still a duplicate; its page
/// and history say who withdrew it and why, without the answers; after the project's
/// days (0 here) its answers and revision bodies are purged, the ids kept.
pub async fn a_withdrawn_response_leaves_exports_the_table_and_every_count(c: Console) {
    use voices_core::response::{InterviewOutcome, OutcomeRecord};
    let mut sent: Vec<Revision> = (0..3)
        .map(|i| household_revision(i, "tab-a", HOUSEHOLD_VERSION))
        .collect();
    sent[0].outcome = Some(OutcomeRecord {
        outcome: InterviewOutcome::Completed,
        at: "2026-12-07T10:05:00+02:00".into(),
        note: None,
        return_visit: None,
    });
    c.upload(&c.device, &sent).await;
    let rid = sent[0].response.clone();
    let withdraw_uri = format!("/api/v1/projects/p1/responses/{rid}/withdraw");
    let overview = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(overview.body["total"], 3, "{}", overview.body);
    let dashboard_total = |body: &Value| body["total"].clone();
    let before = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/dashboard"),
        )
        .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(dashboard_total(&before.body), 3, "{}", before.body);

    let answer = c
        .call(
            "POST",
            &withdraw_uri,
            &c.coordinator,
            Some(json!({"reason": "  asked by phone  "}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["by"], "cora");
    assert_eq!(answer.body["reason"], "asked by phone");
    assert_eq!(answer.body["purged_at"], Value::Null);
    let at = answer.body["at"].clone();
    // Withdrawing again keeps the first withdrawal.
    let again = c
        .call("POST", &withdraw_uri, &c.coordinator, Some("{}".into()))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["at"], at);
    let unknown = c
        .call(
            "POST",
            "/api/v1/projects/p1/responses/nope/withdraw",
            &c.coordinator,
            Some("{}".into()),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "unknown_response")
    );

    // Counts, table, dashboard, export, pull.
    let overview = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(overview.body["total"], 2, "{}", overview.body);
    assert_eq!(overview.body["pending_review"], 2, "{}", overview.body);
    assert_eq!(overview.body["by_outcome"], json!([]), "{}", overview.body);
    let (rows, _) = c.all_rows("", 10).await;
    assert_eq!(rows.len(), 2);
    assert!(!ids(&rows).contains(&rid));
    let after = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/dashboard"),
        )
        .await;
    assert_eq!(dashboard_total(&after.body), 2, "{}", after.body);
    let export = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/export?format=json"),
        )
        .await;
    assert_eq!(export.headers["x-voices-total"], "2");
    let exported: Vec<&str> = export
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["response"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(exported.len(), 2);
    assert!(!exported.contains(&rid.as_str()));
    let pulled = c
        .get(&c.coordinator, "/api/v1/projects/p1/responses?after=0")
        .await;
    assert_eq!(pulled.body["items"].as_array().unwrap().len(), 2);

    // The device: a new edit is refused, the same revision again is a duplicate.
    let edit = edit(&sent[0], "w2", "tab-a", 2, &[], &[("/resp_age", "44")]);
    let ack = c.upload_ack(&c.device, &[edit]).await;
    assert_eq!(ack["rejected"], 1, "{ack}");
    assert_eq!(ack["records"][0]["code"], "withdrawn", "{ack}");
    let ack = c.upload_ack(&c.device, &sent[..1]).await;
    assert_eq!(ack["duplicate"], 1, "{ack}");
    let overview = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(overview.body["total"], 2, "{}", overview.body);

    // The device that started it learns of it in feed version 2, as a withdrawal only;
    // version 1 (an app from before) does not list it.
    let v2 = c
        .get(&c.device, "/api/v1/projects/p1/device/feed?version=2")
        .await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.body);
    assert_eq!(v2.body["feed_version"], 2);
    let items = v2.body["items"].as_array().unwrap();
    let item = items
        .iter()
        .find(|i| i["response"] == rid.as_str())
        .unwrap();
    assert_eq!(item["withdrawn"], true, "{item}");
    assert!(
        item.get("edits").is_none() && item.get("reviews").is_none(),
        "{item}"
    );
    assert!(items
        .iter()
        .filter(|i| i["response"] != rid.as_str())
        .all(|i| i.get("withdrawn").is_none()));
    let page: voices_core::sync::protocol::DeviceFeedPage =
        serde_json::from_value(v2.body.clone()).unwrap();
    assert_eq!(page.check(2), Ok(()));
    let v1 = c.get(&c.device, "/api/v1/projects/p1/device/feed").await;
    assert_eq!(v1.body["feed_version"], 1);
    assert_eq!(v1.body["items"].as_array().unwrap().len(), 2, "{}", v1.body);
    assert!(!v1.body.to_string().contains(rid.as_str()));

    // No review or resolution of it; its page and history say what happened.
    let review = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{rid}/review"),
            &c.coordinator,
            Some(json!({"state": "approved"}).to_string()),
        )
        .await;
    assert_eq!(review.status, StatusCode::NOT_FOUND, "{}", review.body);
    let page = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}?pii=true"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["withdrawn"]["by"], "cora");
    assert_eq!(page.body["response"]["answers"], json!({}));
    assert!(page.body["response"].get("outcome").is_none());
    let history = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history?pii=true"),
        )
        .await;
    let entries = history.body.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", history.body);
    assert_eq!(entries[0]["kind"], "revision");
    assert_eq!(entries[0]["changes"], json!([]));
    assert_eq!(entries[1]["kind"], "withdrawal");
    assert_eq!(entries[1]["actor"], "user:cora");
    assert_eq!(entries[1]["reason"], "asked by phone");

    // The project's days: 30 unless set; 0 purges at once.
    let policy = c
        .get(&c.coordinator, "/api/v1/projects/p1/withdrawal-policy")
        .await;
    assert_eq!(policy.body, json!({"keep_days": 30}));
    let bad = c
        .call(
            "PUT",
            "/api/v1/projects/p1/withdrawal-policy",
            &c.coordinator,
            Some(json!({"keep_days": 100000}).to_string()),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let set = c
        .call(
            "PUT",
            "/api/v1/projects/p1/withdrawal-policy",
            &c.coordinator,
            Some(json!({"keep_days": 0}).to_string()),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let store = c.store.clone();
    let rid2 = rid.clone();
    let bodies = sync(move || store.revisions_of("p1", &rid2).unwrap());
    assert_eq!(bodies, vec![String::new()]);
    let store = c.store.clone();
    let rid2 = rid.clone();
    let row = sync(move || store.get_response("p1", &rid2).unwrap().unwrap());
    assert!(row.state.answers().is_empty());
    let history = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/responses/{rid}/history"),
        )
        .await;
    let entries = history.body.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", history.body);
    assert!(entries[0]["purged_at"].is_string(), "{}", history.body);
    let ack = c.upload_ack(&c.device, &sent[..1]).await;
    assert_eq!(ack["duplicate"], 1, "{ack}");
    // The other responses are untouched.
    let overview = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(overview.body["total"], 2, "{}", overview.body);
}
