//! Projects, the overview, devices and people.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use voices_core::sync::Revision;
use voices_server::sample::household_revision;

use super::*;
use crate::common::HOUSEHOLD_VERSION;

pub async fn projects_are_listed_with_the_role_in_each(c: Console) {
    let answer = c.get(&c.coordinator, "/api/v1/projects").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!([{"id": "p1", "name": "Project one", "role": "coordinator"}])
    );
    let answer = c.get(&c.designer, "/api/v1/projects").await;
    assert_eq!(answer.body[0]["role"], "designer");
    let answer = c.get(&c.admin, "/api/v1/projects").await;
    assert_eq!(
        answer.body,
        json!([{"id": "p1", "name": "Project one", "role": "admin"},
               {"id": "p2", "name": "Project two", "role": "admin"}])
    );
    let answer = c.get(&c.device, "/api/v1/projects").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = c.get("", "/api/v1/projects").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

/// How interviews ended is counted on the overview, and a later outcome (the return
/// visit completed it) replaces the earlier one in the counts.
pub async fn the_overview_counts_interview_outcomes(c: Console) {
    use voices_core::response::{InterviewOutcome, OutcomeRecord};
    let outcome = |o: InterviewOutcome| OutcomeRecord {
        outcome: o,
        at: "2026-12-07T10:05:00+02:00".into(),
        note: None,
        return_visit: None,
    };
    let mut batch: Vec<Revision> = (0..4)
        .map(|i| household_revision(i, "tab-a", HOUSEHOLD_VERSION))
        .collect();
    batch[0].outcome = Some(outcome(InterviewOutcome::Completed));
    batch[1].outcome = Some(outcome(InterviewOutcome::Completed));
    batch[2].outcome = Some(outcome(InterviewOutcome::InterruptedForSafety));
    c.upload(&c.device, &batch).await;
    let by_outcome = |body: &Value| body["by_outcome"].clone();
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        by_outcome(&answer.body),
        json!([{"outcome": "completed", "code": 1, "count": 2},
               {"outcome": "interrupted_for_safety", "code": 6, "count": 1}])
    );
    // The return visit completes the interrupted interview.
    let mut visit = batch[2].clone();
    visit.id = "0193a0c4-0000-7000-8000-00000000aaaa".into();
    visit.seq += 1;
    visit.hlc = visit.hlc.tick(visit.hlc.wall_ms + 1);
    visit.set.clear();
    visit.outcome = Some(outcome(InterviewOutcome::Completed));
    c.upload(&c.device, &[visit]).await;
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    assert_eq!(
        by_outcome(&answer.body),
        json!([{"outcome": "completed", "code": 1, "count": 3}])
    );
}

pub async fn the_overview_counts_what_came_in(c: Console) {
    c.responses(0, 7).await;
    let batch: Vec<Revision> = (100..103)
        .map(|i| household_revision(i, "tab-b", HOUSEHOLD_VERSION))
        .collect();
    c.upload(&c.device_b, &batch).await;
    // One response on a version that is not published: quarantined.
    let ack = c
        .upload_ack(&c.device, &[household_revision(200, "tab-a", "nope")])
        .await;
    assert_eq!(ack["quarantined"], 1, "{ack}");
    let rid = household_revision(0, "tab-a", HOUSEHOLD_VERSION).response;
    let answer = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{rid}/review"),
            &c.coordinator,
            Some(json!({"state": "approved"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/overview?unseen_days=7")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let o = &answer.body;
    assert_eq!(o["total"], 11, "{o}");
    assert_eq!(o["responses_today"], 11, "{o}");
    assert_eq!(o["responses_week"], 11, "{o}");
    assert_eq!(o["pending_review"], 10, "{o}");
    assert_eq!(o["quarantined"], 1, "{o}");
    assert_eq!(o["conflicts"], 0, "{o}");
    assert_eq!(
        o["by_form"],
        json!([{"form": FORM, "title": "Household Survey (peer benchmark)", "count": 11}])
    );
    assert_eq!(
        o["by_enumerator"],
        json!([{"enumerator": "Enumerator tab-a", "count": 8},
               {"enumerator": "Enumerator tab-b", "count": 3}])
    );
    // Both devices synced just now; a device that never synced is listed.
    assert_eq!(o["devices_unseen"], json!([]), "{o}");
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/devices",
            &c.coordinator,
            Some(json!({"enumerator": "Wanjiru", "label": "Spare"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/overview").await;
    let unseen = answer.body["devices_unseen"].as_array().unwrap().clone();
    assert_eq!(unseen.len(), 1, "{unseen:?}");
    assert_eq!(unseen[0]["label"], "Spare");
    assert_eq!(unseen[0]["last_seen"], Value::Null);
    for bad in ["0", "366", "x"] {
        let answer = c
            .get(
                &c.coordinator,
                &format!("/api/v1/projects/p1/overview?unseen_days={bad}"),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, "bad_query"),
            "{bad}"
        );
    }
}

/// Revoked with wipe: every call of the device is answered `device_wipe` (the app erases
/// its data when it sees it), before the revocation's own `token_revoked`; the list says so.
pub async fn a_device_revoked_with_wipe_is_told_to_erase_its_data(c: Console) {
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/devices",
            &c.coordinator,
            Some(json!({"enumerator": "Amina"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap().to_owned();
    let code = answer.body["code"].as_str().unwrap().to_owned();
    let provisioned = c
        .send(
            Request::post("/api/v1/provision")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"code": code}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(provisioned.status, StatusCode::OK, "{}", provisioned.body);
    let token = provisioned.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        c.get(&token, "/api/v1/projects/p1/forms").await.status,
        StatusCode::OK
    );

    let answer = c
        .call(
            "DELETE",
            &format!("/api/v1/projects/p1/devices/{id}?wipe=true"),
            &c.coordinator,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let answer = c.get(&token, "/api/v1/projects/p1/forms").await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "device_wipe"),
        "{}",
        answer.body
    );
    let listed = c.get(&c.coordinator, "/api/v1/projects/p1/devices").await;
    let device = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(device["revoked_at"].is_string(), "{device}");
    assert!(device["wipe_requested_at"].is_string(), "{device}");
    // Revoking again without wipe does not take the order back.
    let answer = c
        .call(
            "DELETE",
            &format!("/api/v1/projects/p1/devices/{id}"),
            &c.coordinator,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = c.get(&token, "/api/v1/projects/p1/forms").await;
    assert_eq!(answer.code(), "device_wipe");
}

pub async fn devices_are_added_listed_and_revoked(c: Console) {
    c.responses(0, 2).await;
    let answer = c
        .send(
            Request::post("/api/v1/projects/p1/devices")
                .header(header::AUTHORIZATION, bearer(&c.coordinator))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::HOST, "survey.example.org:8470")
                .body(Body::from(
                    json!({"enumerator": "Wanjiru", "label": "Tablet 4"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap().to_owned();
    let code = answer.body["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("voices1:"), "{code}");
    let parsed = voices_core::sync::protocol::ProvisioningCode::from_text(&code).unwrap();
    assert_eq!(parsed.server, "http://survey.example.org:8470");
    assert_eq!(parsed.project, "p1");
    let svg = answer.body["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");

    // The code provisions the app once.
    let provisioned = c
        .send(
            Request::post("/api/v1/provision")
                .header(header::CONTENT_TYPE, "application/json")
                .header("voices-app-version", "0.1.0")
                .body(Body::from(json!({"code": code}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(provisioned.status, StatusCode::OK, "{}", provisioned.body);
    let token = provisioned.body["token"].as_str().unwrap().to_owned();
    assert_eq!(provisioned.body["enumerator"], "Wanjiru");
    let forms = c
        .send(
            Request::get("/api/v1/projects/p1/forms")
                .header(header::AUTHORIZATION, bearer(&token))
                .header("voices-app-version", "0.2.0")
                .header("voices-pending", "3")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(forms.status, StatusCode::OK);

    // Contact is recorded in the background: give it a moment.
    let mut listed = Value::Null;
    for _ in 0..50 {
        let answer = c.get(&c.coordinator, "/api/v1/projects/p1/devices").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        listed = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.as_str())
            .unwrap()
            .clone();
        if listed["pending"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed["label"], "Tablet 4");
    assert_eq!(listed["enumerator"], "Wanjiru");
    assert_eq!(listed["app_version"], "0.2.0");
    assert_eq!(listed["pending"], 3);
    assert!(listed["last_seen"].is_string(), "{listed}");
    assert_eq!(listed["revoked_at"], Value::Null);
    assert_eq!(listed["wipe_requested_at"], Value::Null);

    let answer = c
        .call(
            "DELETE",
            &format!("/api/v1/projects/p1/devices/{id}"),
            &c.coordinator,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let answer = c.get(&token, "/api/v1/projects/p1/forms").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = c.get(&c.coordinator, "/api/v1/projects/p1/devices").await;
    let revoked = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(revoked["revoked_at"].is_string());
    // Another project's device is not this project's to revoke.
    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p2/devices/tab-a",
            &c.admin,
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_device")
    );
    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p1/devices/nope",
            &c.coordinator,
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_device")
    );
    for body in [
        json!({"label": "no enumerator"}),
        json!({"enumerator": "x", "valid_days": 0}),
        json!({"enumerator": ""}),
    ] {
        let answer = c
            .call(
                "POST",
                "/api/v1/projects/p1/devices",
                &c.coordinator,
                Some(body.to_string()),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
    }
}

pub async fn admins_manage_people_and_memberships(c: Console) {
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(
                json!({"name": "neema", "password": PASSWORD, "display_name": "Neema A."})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"name": "neema", "display_name": "Neema A.", "admin": false, "disabled": false, "memberships": []})
    );
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(json!({"name": "neema", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(json!({"name": "short", "password": "123"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "weak_password")
    );
    let answer = c
        .call(
            "POST",
            "/api/v1/users",
            &c.admin,
            Some(json!({"name": "bad name!", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    // Without a membership she sees no project; as a coordinator of p1 she reads it.
    let (cookie, session) = c.sign_in("neema").await;
    assert_eq!(session["memberships"], json!([]));
    let answer = c
        .with_cookie("GET", "/api/v1/projects/p1/overview", &cookie, None, None)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "wrong_project")
    );
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            Some(json!({"role": "coordinator"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, json!({"project": "p1", "role": "coordinator"}));
    let answer = c
        .with_cookie("GET", "/api/v1/projects/p1/overview", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // As a designer of p1 she may not read responses any more.
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            Some(json!({"role": "designer"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = c
        .with_cookie("GET", "/api/v1/projects/p1/overview", &cookie, None, None)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let answer = c.get(&c.admin, "/api/v1/users").await;
    let neema = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "neema")
        .unwrap()
        .clone();
    assert_eq!(
        neema["memberships"],
        json!([{"project": "p1", "role": "designer", "teams": null}])
    );
    let cora = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "cora")
        .unwrap()
        .clone();
    assert_eq!(
        cora["memberships"],
        json!([{"project": "p1", "role": "coordinator", "read_pii": true, "teams": null}])
    );
    assert_eq!(
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == "admin")
            .unwrap()["admin"],
        true
    );
    for role in ["admin", "viewer"] {
        let answer = c
            .call(
                "PUT",
                "/api/v1/projects/p1/members/neema",
                &c.admin,
                Some(json!({"role": role}).to_string()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{role}");
    }
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/members/ghost",
            &c.admin,
            Some(json!({"role": "designer"}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );

    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = c
        .call(
            "DELETE",
            "/api/v1/projects/p1/members/neema",
            &c.admin,
            None,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "not_member")
    );

    // A new password or disabling ends every session she has.
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"password": "another good password"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = c
        .with_cookie("GET", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let (cookie, _) = c.sign_in("neema").await;
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"disabled": true, "display_name": "N. A."}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["disabled"], true);
    assert_eq!(answer.body["display_name"], "N. A.");
    let answer = c
        .with_cookie("GET", "/api/v1/session", &cookie, None, None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = c
        .send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"user": "neema", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "account_disabled")
    );
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/neema",
            &c.admin,
            Some(json!({"disabled": false}).to_string()),
        )
        .await;
    assert_eq!(answer.body["disabled"], false);
    c.sign_in("neema").await;
    let answer = c
        .call(
            "PATCH",
            "/api/v1/users/ghost",
            &c.admin,
            Some(json!({"disabled": true}).to_string()),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_user")
    );
}

pub async fn forms_are_published_from_xlsform_workbooks_and_refused_by_cell(c: Console) {
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let publish = |body: Vec<u8>, content_type: &'static str| {
        Request::post("/api/v1/projects/p1/forms")
            .header(header::AUTHORIZATION, bearer(&c.designer))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let mut form = voices_core::Form::from_json(&crate::common::household_form()).unwrap();
    form.schema = None;
    form.id = "from_workbook".into();
    let workbook = voices_xlsform::export_xlsx(&form).unwrap();
    let answer = c.send(publish(workbook.clone(), XLSX)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"form": "from_workbook", "version": form.version})
    );
    // The same workbook again is no change.
    let answer = c.send(publish(workbook, XLSX)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = c
        .get(
            &c.designer,
            "/api/v1/projects/p1/forms/from_workbook/fields",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);

    // A select naming a list the workbook does not have: refused at its cell.
    let broken = voices_core::Form::from_json(
        r#"{"id":"broken","version":"1","title":"B","languages":[{"code":"en","name":"English"}],
        "default_language":"en","body":[{"type":"select_one","name":"q","label":"Q","choices":"nolist"}]}"#,
    )
    .unwrap();
    let answer = c
        .send(publish(voices_xlsform::export_xlsx(&broken).unwrap(), XLSX))
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_form"),
        "{}",
        answer.body
    );
    let findings = answer.body["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{}", answer.body);
    assert!(
        findings.iter().any(|f| f["sheet"] == "survey"
            && f["cell"].as_str().is_some_and(|c| c.starts_with("survey!"))),
        "{}",
        answer.body
    );
    let answer = c.send(publish(b"not a workbook".to_vec(), XLSX)).await;
    assert_eq!(answer.code(), "invalid_form", "{}", answer.body);

    // The workbench converts a workbook without publishing it; one with errors is refused
    // with each at its cell, as publishing refuses it.
    let convert = |body: Vec<u8>, content_type: &'static str| {
        Request::post("/api/v1/projects/p1/forms/convert")
            .header(header::AUTHORIZATION, bearer(&c.designer))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let mut draft = form.clone();
    draft.id = "draft_only".into();
    let answer = c
        .send(convert(voices_xlsform::export_xlsx(&draft).unwrap(), XLSX))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["form"]["id"], "draft_only");
    let converted = voices_core::Form::from_json(&answer.body["form"].to_string()).unwrap();
    assert_eq!(converted.body.len(), form.body.len());
    assert!(answer.body["findings"].is_array(), "{}", answer.body);
    let answer = c
        .get(&c.designer, "/api/v1/projects/p1/forms/draft_only/fields")
        .await;
    assert_eq!(
        answer.status,
        StatusCode::NOT_FOUND,
        "converting publishes nothing"
    );
    let answer = c
        .send(convert(voices_xlsform::export_xlsx(&broken).unwrap(), XLSX))
        .await;
    assert_eq!(answer.code(), "invalid_form", "{}", answer.body);
    assert!(
        answer.body["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["cell"].as_str().is_some_and(|c| c.starts_with("survey!"))),
        "{}",
        answer.body
    );
    let answer = c.send(convert(b"not a workbook".to_vec(), XLSX)).await;
    assert_eq!(answer.code(), "invalid_form", "{}", answer.body);
    let answer = c.send(convert(b"{}".to_vec(), "application/json")).await;
    assert_eq!(
        answer.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        answer.body
    );

    // A JSON form's findings carry the pointer, line and column.
    let answer = c
        .send(publish(
            br#"{"id":"j","version":"1","title":"J","languages":[{"code":"en","name":"English"}],
"default_language":"en","body":[{"type":"select_one","name":"q","label":"Q","choices":"nolist"}]}"#
                .to_vec(),
            "application/json",
        ))
        .await;
    assert_eq!(answer.code(), "invalid_form", "{}", answer.body);
    let finding = &answer.body["findings"][0];
    assert_eq!(finding["code"], "unknown_choice_list");
    assert_eq!(finding["pointer"], "/body/0/choices");
    assert_eq!(finding["line"], 2, "{finding}");
}
