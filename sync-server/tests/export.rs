//! Export: CSV zip in ODK Central's layout, JSON and GeoJSON, over the API.

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Fixture, HOUSEHOLD_VERSION};
use http_body_util::BodyExt;
use voices_server::sample::household_revision;

async fn download(fx: &Fixture, token: &str, query: &str) -> (StatusCode, Vec<u8>) {
    let response = tower::ServiceExt::oneshot(
        fx.router.clone(),
        Request::get(format!(
            "/api/v1/projects/p1/forms/household_survey/export?{query}"
        ))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap(),
    )
    .await
    .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().to_owned(), text)
        })
        .collect()
}

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn header(csv_text: &str) -> Vec<String> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn csv_export_is_a_zip_with_main_and_repeat_tables_joined_by_key() {
    let fx = Fixture::new().await;
    let revisions: Vec<_> = (0..25)
        .map(|i| household_revision(i, "tab-a", HOUSEHOLD_VERSION))
        .collect();
    let (_, ack) = fx.upload(&fx.device, &revisions).await;
    assert_eq!(ack["accepted"], 25, "{ack}");

    let (status, bytes) = download(&fx, &fx.coordinator, "format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["household_survey.csv", "household_survey-member.csv"]
    );
    let main = &files[0].1;
    let cols = header(main);
    for wanted in [
        "SubmissionDate",
        "KEY",
        "DeviceID",
        "Enumerator",
        "FormVersion",
        "ReviewState",
        "Conflict",
        "respondent-resp_age",
        "household-assets",
        "household-assets/radio",
        "household-assets/fridge",
    ] {
        assert!(
            cols.contains(&wanted.to_string()),
            "missing column {wanted} in {cols:?}"
        );
    }
    // PII left out unless asked.
    assert!(
        !cols.iter().any(|c| c.ends_with("resp_name") || c == "gps"),
        "{cols:?}"
    );
    let main_rows = rows(main);
    assert_eq!(main_rows.len(), 25);
    let col = |name: &str| cols.iter().position(|c| c == name).unwrap();
    let first = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    let row = main_rows
        .iter()
        .find(|r| r[col("KEY")] == format!("uuid:{}", first.response))
        .unwrap();
    let assets = first.text("/assets").unwrap().to_owned();
    assert_eq!(row[col("household-assets")], assets);
    let radio = if assets.split(' ').any(|a| a == "radio") {
        "1"
    } else {
        "0"
    };
    assert_eq!(row[col("household-assets/radio")], radio);
    assert_eq!(row[col("DeviceID")], "tab-a");
    assert_eq!(row[col("FormVersion")], HOUSEHOLD_VERSION);
    assert_eq!(row[col("Conflict")], "false");

    let members = &files[1].1;
    let member_cols = header(members);
    assert_eq!(member_cols[member_cols.len() - 2..], ["PARENT_KEY", "KEY"]);
    let member_rows = rows(members);
    assert_eq!(member_rows.len(), 75, "three members per household");
    let parent = member_cols.iter().position(|c| c == "PARENT_KEY").unwrap();
    let age = member_cols.iter().position(|c| c == "member_age").unwrap();
    let mine: Vec<_> = member_rows
        .iter()
        .filter(|r| r[parent] == format!("uuid:{}", first.response))
        .collect();
    assert_eq!(mine.len(), 3);
    assert_eq!(
        mine[1][parent + 1],
        format!("uuid:{}/member[2]", first.response)
    );
    assert_eq!(
        Some(mine[1][age].clone()),
        first.text("/member[2]/member_age").map(str::to_owned)
    );

    // Asked for, PII is included for a coordinator; labels replace choice names.
    let (_, bytes) = download(&fx, &fx.coordinator, "format=csv&pii=true&labels=true").await;
    let files = unzip(&bytes);
    let cols = header(&files[0].1);
    assert!(cols.contains(&"respondent-resp_name".to_string()));
    assert!(header(&files[1].1).contains(&"member_name".to_string()));

    // Only changes after a cursor.
    let (items, cursor) = fx.pull_all("", 10).await;
    assert_eq!(items.len(), 25);
    let more: Vec<_> = (100..103)
        .map(|i| household_revision(i, "tab-a", HOUSEHOLD_VERSION))
        .collect();
    fx.upload(&fx.device, &more).await;
    let (_, bytes) = download(&fx, &fx.coordinator, &format!("format=csv&since={cursor}")).await;
    assert_eq!(rows(&unzip(&bytes)[0].1).len(), 3);
}

/// How each interview ended is exported with its result code and return visit; a
/// response without an outcome (an older device) leaves the columns empty.
#[tokio::test]
async fn csv_export_carries_the_interview_outcome() {
    use voices_core::response::{InterviewOutcome, OutcomeRecord};
    let fx = Fixture::new().await;
    let mut ended = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    ended.outcome = Some(OutcomeRecord {
        outcome: InterviewOutcome::InterruptedForSafety,
        at: "2026-12-07T10:05:00+02:00".into(),
        note: None,
        return_visit: Some("2026-12-09T15:00:00+02:00".into()),
    });
    let plain = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    let (_, ack) = fx.upload(&fx.device, &[ended.clone(), plain]).await;
    assert_eq!(ack["accepted"], 2, "{ack}");
    let (_, bytes) = download(&fx, &fx.coordinator, "format=csv").await;
    let main = &unzip(&bytes)[0].1;
    let cols = header(main);
    let col = |name: &str| {
        cols.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {cols:?}"))
    };
    let rows = rows(main);
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[col("KEY")] == format!("uuid:{id}"))
            .unwrap()
    };
    let interrupted = row(&ended.response);
    assert_eq!(interrupted[col("Outcome")], "interrupted_for_safety");
    assert_eq!(interrupted[col("ResultCode")], "6");
    assert_eq!(interrupted[col("ReturnVisit")], "2026-12-09T15:00:00+02:00");
    let other = rows
        .iter()
        .find(|r| r[col("KEY")] != format!("uuid:{}", ended.response))
        .unwrap();
    assert_eq!(
        (
            other[col("Outcome")].as_str(),
            other[col("ResultCode")].as_str()
        ),
        ("", "")
    );
}

#[tokio::test]
async fn json_and_geojson_exports_stream_every_response() {
    let fx = Fixture::new().await;
    let revisions: Vec<_> = (0..12)
        .map(|i| household_revision(i, "tab-a", HOUSEHOLD_VERSION))
        .collect();
    fx.upload(&fx.device, &revisions).await;
    let (status, bytes) = download(&fx, &fx.coordinator, "format=json").await;
    assert_eq!(status, StatusCode::OK);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(items.len(), 12);
    assert!(
        items[0]["response"]["answers"].get("resp_name").is_none(),
        "pii leaked"
    );
    let (_, bytes) = download(&fx, &fx.coordinator, "format=geojson&pii=true").await;
    let collection: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), 12);
    let coords = features[0]["geometry"]["coordinates"].as_array().unwrap();
    assert!(coords[0].as_f64().unwrap() > 30.0, "longitude first");
}

#[tokio::test]
async fn export_refuses_devices_unknown_forms_and_formats() {
    let fx = Fixture::new().await;
    let (status, _) = download(&fx, &fx.device, "format=csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = download(&fx, &fx.coordinator, "format=xlsx").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = fx
        .get(&fx.coordinator, "/api/v1/projects/p1/forms/nope/export")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn csv_cells_a_spreadsheet_would_run_get_a_leading_quote_and_numbers_stay_numbers() {
    let fx = Fixture::new().await;
    let mut revision = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    let formulas = [
        ("/comments", "=HYPERLINK(\"http://evil.example\",\"open\")"),
        ("/village", "@SUM(A1:A9)"),
        ("/district", "+cmd|' /C calc'!A0"),
        ("/member[1]/member_relation", "-2+3"),
        ("/member[2]/member_relation", "\tindent"),
        ("/member[3]/member_relation", "\rreturn"),
    ];
    for (path, text) in formulas {
        revision.set.insert(path.into(), Some(text.into()));
    }
    revision.set.insert("/resp_age".into(), Some("-5".into()));
    revision
        .set
        .insert("/monthly_income".into(), Some("+1200.50".into()));
    revision
        .set
        .insert("/gps".into(), Some("-0.1234567 36.8 1500.5 9.5".into()));
    let (_, ack) = fx.upload(&fx.device, &[revision]).await;
    assert_eq!(ack["rejected"], 0, "{ack}");

    let (status, bytes) = download(&fx, &fx.coordinator, "format=csv&pii=true").await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&bytes);
    let (main, members) = (&files[0].1, &files[1].1);
    let cols = header(main);
    let row = &rows(main)[0];
    let cell = |name: &str| row[cols.iter().position(|c| c == name).unwrap()].clone();
    assert_eq!(
        cell("comments"),
        "'=HYPERLINK(\"http://evil.example\",\"open\")"
    );
    assert_eq!(cell("village"), "'@SUM(A1:A9)");
    assert_eq!(cell("district"), "'+cmd|' /C calc'!A0");
    assert_eq!(cell("respondent-resp_age"), "-5");
    assert_eq!(cell("household-monthly_income"), "+1200.50");
    assert_eq!(cell("gps"), "-0.1234567 36.8 1500.5 9.5");
    let member_cols = header(members);
    let relation = member_cols
        .iter()
        .position(|c| c == "member_relation")
        .unwrap();
    let relations: Vec<String> = rows(members).iter().map(|r| r[relation].clone()).collect();
    assert_eq!(relations, ["'-2+3", "'\tindent", "'\rreturn"]);
}

#[tokio::test]
async fn json_export_without_pii_carries_no_pii_value_anywhere() {
    let fx = Fixture::new().await;
    // Two edits of a pii answer the coordinator's edit had not seen: a conflict whose
    // values are the pii.
    let first = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    fx.upload(&fx.device, std::slice::from_ref(&first)).await;
    let mut second = first.clone();
    second.id = "second".into();
    second.seq = 2;
    second.set = [
        ("/resp_phone".to_string(), Some("+254700111222".into())),
        (
            "/member[2]/member_name".to_string(),
            Some("Secret Name".into()),
        ),
    ]
    .into();
    fx.upload(&fx.device, &[second]).await;
    let mut coordinator_edit = first.clone();
    coordinator_edit.id = "coordinator-edit".into();
    coordinator_edit.actor = "user:cora".into();
    coordinator_edit.seq = 1;
    // Had seen only the first edit: concurrent with the second.
    coordinator_edit.seen = voices_core::sync::VersionVector([("tab-a".to_string(), 1)].into());
    coordinator_edit.set = [
        ("/resp_phone".to_string(), Some("+254799888777".into())),
        (
            "/member[2]/member_name".to_string(),
            Some("Other Secret".into()),
        ),
    ]
    .into();
    let (_, ack) = fx.upload(&fx.coordinator, &[coordinator_edit]).await;
    assert_eq!(ack["rejected"], 0, "{ack}");

    let (status, bytes) = download(&fx, &fx.coordinator, "format=json").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    let items: serde_json::Value = serde_json::from_str(&text).unwrap();
    let clear = |key: &str| first.set[key].as_ref().and_then(|v| v.text()).unwrap();
    let pii_values = [
        clear("/resp_phone"),
        clear("/resp_name"),
        clear("/member[2]/member_name"),
        "+254700111222",
        "Secret Name",
        "+254799888777",
        "Other Secret",
    ];
    for value in &pii_values {
        assert!(!text.contains(value), "{value} in {text}");
    }
    let masked = items[0]["masked"].as_array().unwrap();
    assert!(
        masked.contains(&serde_json::json!("/resp_phone")),
        "{masked:?}"
    );
    // Asked for, they are there, the conflict included.
    let (_, bytes) = download(&fx, &fx.coordinator, "format=json&pii=true").await;
    let text = String::from_utf8(bytes).unwrap();
    for value in &pii_values[3..] {
        assert!(text.contains(value), "{value} missing");
    }
}

/// The consent text's version each respondent heard is a column of the response table;
/// a response without consent leaves it empty.
#[tokio::test]
async fn csv_export_carries_the_consent_text_version() {
    use voices_core::response::{AssentRecord, ConsentRecord};
    let fx = Fixture::new().await;
    let mut consented = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    consented.consent = Some(ConsentRecord {
        given: true,
        at: "2026-12-07T10:01:00+02:00".into(),
        text_version: "2026-11-v2".into(),
        assent: Some(AssentRecord {
            given: true,
            at: "2026-12-07T10:02:00+02:00".into(),
            text_version: "2026-11-minor-v1".into(),
        }),
    });
    let plain = household_revision(1, "tab-a", HOUSEHOLD_VERSION);
    let (_, ack) = fx.upload(&fx.device, &[consented.clone(), plain]).await;
    assert_eq!(ack["accepted"], 2, "{ack}");
    let (_, bytes) = download(&fx, &fx.coordinator, "format=csv").await;
    let main = &unzip(&bytes)[0].1;
    let cols = header(main);
    let version = cols.iter().position(|c| c == "ConsentVersion").unwrap();
    let assent = cols.iter().position(|c| c == "AssentVersion").unwrap();
    assert_eq!(assent, version + 1, "{cols:?}");
    let key = cols.iter().position(|c| c == "KEY").unwrap();
    let mut cells: Vec<(String, String, String)> = rows(main)
        .iter()
        .map(|r| (r[key].clone(), r[version].clone(), r[assent].clone()))
        .collect();
    cells.sort();
    let mut expected = vec![
        (
            format!("uuid:{}", consented.response),
            "2026-11-v2".to_owned(),
            "2026-11-minor-v1".to_owned(),
        ),
        (
            format!(
                "uuid:{}",
                household_revision(1, "tab-a", HOUSEHOLD_VERSION).response
            ),
            String::new(),
            String::new(),
        ),
    ];
    expected.sort();
    assert_eq!(cells, expected);
}

/// Drop every item named `name`, at any depth of a form document's body.
fn without_item(items: &mut Vec<serde_json::Value>, name: &str) {
    items.retain(|i| i["name"] != name);
    for item in items.iter_mut() {
        if let Some(body) = item.get_mut("body").and_then(|b| b.as_array_mut()) {
            without_item(body, name);
        }
    }
}

#[tokio::test]
async fn a_question_removed_in_a_later_version_keeps_its_column_and_answers() {
    let fx = Fixture::new().await;
    let old = household_revision(0, "tab-a", HOUSEHOLD_VERSION);
    let (_, ack) = fx.upload(&fx.device, std::slice::from_ref(&old)).await;
    assert_eq!(ack["accepted"], 1, "{ack}");
    let (_, bytes) = download(&fx, &fx.coordinator, "format=csv").await;
    let before = header(&unzip(&bytes)[0].1);
    let region = before
        .iter()
        .position(|c| c.ends_with("region"))
        .expect("the household form has a region question");
    let region_column = before[region].clone();

    let mut form: serde_json::Value = serde_json::from_str(&common::household_form()).unwrap();
    form["version"] = "2026112602".into();
    without_item(form["body"].as_array_mut().unwrap(), "region");
    let (status, body) = fx
        .send(
            Request::post("/api/v1/projects/p1/forms")
                .header(header::AUTHORIZATION, format!("Bearer {}", fx.designer))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(form.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut new = household_revision(1, "tab-a", "2026112602");
    new.set.remove("/region");
    let (_, ack) = fx.upload(&fx.device, &[new.clone()]).await;
    assert_eq!(ack["accepted"], 1, "{ack}");

    // The console's table over every version offers the retired question's column (the
    // responses of version 1 have answers in it); the new version's own columns do not.
    let form_id = form["id"].as_str().unwrap();
    for (version, listed) in [
        ("", true),
        ("?version=2026112602", false),
        (&*format!("?version={HOUSEHOLD_VERSION}"), true),
    ] {
        let (status, body) = fx
            .get(
                &fx.coordinator,
                &format!("/api/v1/projects/p1/forms/{form_id}/fields{version}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let has_region = body
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "/region");
        assert_eq!(has_region, listed, "fields{version}");
    }

    let (status, bytes) = download(&fx, &fx.coordinator, "format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let main = &unzip(&bytes)[0].1;
    // The same columns in the same places: the retired question went back where it was.
    assert_eq!(header(main), before);
    let key = before.iter().position(|c| c == "KEY").unwrap();
    let cells: std::collections::BTreeMap<String, String> = rows(main)
        .iter()
        .map(|r| (r[key].clone(), r[region].clone()))
        .collect();
    let answered = match &old.set["/region"] {
        Some(voices_core::answer::AnswerValue::Text(t)) => t.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        cells[&format!("uuid:{}", old.response)],
        answered,
        "version 1's answer to {region_column} is still exported"
    );
    assert_eq!(cells[&format!("uuid:{}", new.response)], "");
}
