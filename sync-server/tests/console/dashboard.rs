//! The dashboard, the map, export progress and the fields of a form.

use axum::http::StatusCode;
use serde_json::json;
use voices_core::sync::Revision;

use super::*;
use crate::common::HOUSEHOLD_VERSION;

pub async fn the_dashboard_counts_choices_by_sex_age_band_and_disability(c: Console) {
    let sent = c.responses(0, 60).await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/dashboard"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let d = &answer.body;
    assert_eq!(d["total"], 60);
    assert_eq!(
        d["over_time"],
        json!([{"day": &voices_server::now_text()[..10], "count": 60}])
    );
    assert_eq!(
        d["by_enumerator"],
        json!([{"enumerator": "Enumerator tab-a", "count": 60}])
    );
    assert_eq!(
        d["disaggregation"],
        json!({"sex": "/resp_gender", "age": "/resp_age", "disability": null})
    );
    assert_eq!(
        d["age_bands"],
        json!(["0-14", "15-17", "18-24", "25-49", "50+"])
    );
    let questions = d["questions"].as_array().unwrap();
    let water = questions
        .iter()
        .find(|q| q["path"] == "/water_source")
        .unwrap();
    assert_eq!(water["label"], json!({"en": "Main water source"}));
    assert!(water["choices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "piped"));
    let band = |age: &str| match age.parse::<u32>().unwrap() {
        0..=14 => "0-14",
        15..=17 => "15-17",
        18..=24 => "18-24",
        25..=49 => "25-49",
        _ => "50+",
    };
    for choice in ["piped", "borehole", "well", "river", "rain"] {
        let of = |r: &&Revision| r.text("/water_source") == Some(choice);
        assert_eq!(
            cell(&water["total"], None, choice),
            shown(sent.iter().filter(of).count()),
            "{choice}"
        );
        for sex in ["female", "male", "other"] {
            let n = sent
                .iter()
                .filter(of)
                .filter(|r| r.text("/resp_gender") == Some(sex))
                .count();
            assert_eq!(
                cell(&water["by"]["sex"], Some(sex), choice),
                shown(n),
                "{choice} {sex}"
            );
        }
        for group in ["15-17", "18-24", "25-49", "50+"] {
            let n = sent
                .iter()
                .filter(of)
                .filter(|r| band(r.text("/resp_age").unwrap()) == group)
                .count();
            assert_eq!(
                cell(&water["by"]["age_band"], Some(group), choice),
                shown(n),
                "{choice} {group}"
            );
        }
    }
    // The form marks no disability question: nothing to break down by.
    assert_eq!(water["by"]["disability"], json!([]));
    // No exact small number anywhere in the answer.
    let text = answer.body.to_string();
    for small in 1..5 {
        assert!(
            !text.contains(&format!("\"count\":{small}}}")),
            "a count of {small} was sent"
        );
    }
    // A select_multiple counts each choice; a member question is broken down by the
    // member's own age.
    let assets = questions.iter().find(|q| q["path"] == "/assets").unwrap();
    let radios = sent
        .iter()
        .filter(|r| r.text("/assets").unwrap().split(' ').any(|a| a == "radio"))
        .count();
    assert_eq!(cell(&assets["total"], None, "radio"), shown(radios));
    let relation = questions
        .iter()
        .find(|q| q["path"] == "/member/member_relation")
        .unwrap();
    let children = sent
        .iter()
        .flat_map(|r| (1..=3).map(move |m| (r, m)))
        .filter(|(r, m)| r.text(&format!("/member[{m}]/member_relation")) == Some("child"))
        .filter(|(r, m)| band(r.text(&format!("/member[{m}]/member_age")).unwrap()) == "0-14")
        .count();
    assert_eq!(
        cell(&relation["by"]["age_band"], Some("0-14"), "child"),
        shown(children)
    );

    // An edit moves the counts.
    let target = sent
        .iter()
        .find(|r| r.text("/water_source") == Some("river"))
        .unwrap();
    let before = sent
        .iter()
        .filter(|r| r.text("/water_source") == Some("river"))
        .count();
    c.upload(
        &c.device,
        &[edit(
            target,
            "w2",
            "tab-a",
            2,
            &[],
            &[("/water_source", "rain")],
        )],
    )
    .await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/dashboard?version={HOUSEHOLD_VERSION}"),
        )
        .await;
    let water = answer.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["path"] == "/water_source")
        .unwrap()
        .clone();
    assert_eq!(cell(&water["total"], None, "river"), shown(before - 1));
    assert_eq!(answer.body["total"], 60);

    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/forms/nope/dashboard")
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_form")
    );
}

pub async fn map_points_are_coarsened_unless_pii_is_asked(c: Console) {
    let sent = c.responses(0, 20).await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/points"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["type"], "FeatureCollection");
    let features = answer.body["features"].as_array().unwrap();
    let total: u64 = features
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 20);
    for f in features {
        for coordinate in f["geometry"]["coordinates"].as_array().unwrap() {
            let x = coordinate.as_f64().unwrap();
            assert!(
                ((x * 100.0).round() - x * 100.0).abs() < 1e-6,
                "{x} has more than 2 decimals"
            );
        }
    }
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/points?precision=6"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_query")
    );
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/points?precision=6&pii=true"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let gps = sent[0].text("/gps").unwrap().to_owned();
    let mut parts = gps.split(' ');
    let (lat, lon): (f64, f64) = (
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    );
    let found = answer.body["features"].as_array().unwrap().iter().any(|f| {
        let c = &f["geometry"]["coordinates"];
        (c[0].as_f64().unwrap() - lon).abs() < 1e-6 && (c[1].as_f64().unwrap() - lat).abs() < 1e-6
    });
    assert!(found, "the exact point {gps} is there with pii=true");
}

pub async fn exports_announce_their_row_count(c: Console) {
    c.responses(0, 9).await;
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/forms/{FORM}/export?format=json"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["x-voices-total"], "9");
    assert_eq!(answer.body.as_array().unwrap().len(), 9);
}

/// The bytes of a GET as `token` (the export's zip is not JSON).
async fn raw_get(
    c: &Console,
    token: &str,
    uri: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
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

pub async fn exports_take_the_table_filters_and_order(c: Console) {
    // More than one page of the table (the export reads pages of 250).
    let sent = c.responses(0, 260).await;
    let b: Vec<Revision> = (1_000..1_003)
        .map(|i| household_revision(i, "tab-b", HOUSEHOLD_VERSION))
        .collect();
    c.upload(&c.device_b, &b).await;
    let export = |query: &str| format!("/api/v1/projects/p1/forms/{FORM}/export?{query}");
    let exported_ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|item| item["response"]["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // One device's responses only.
    let answer = c
        .get(&c.coordinator, &export("format=json&device=tab-b"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers["x-voices-total"], "3");
    let mut got = exported_ids(&answer.body);
    got.sort();
    let mut want: Vec<String> = b.iter().map(|r| r.response.clone()).collect();
    want.sort();
    assert_eq!(got, want);

    // Across the table's pages, in the table's order.
    let table = format!("form={FORM}&device=tab-a&sort=received_at&order=asc");
    let (rows, _) = c.all_rows(&table, 500).await;
    assert_eq!(rows.len(), 260);
    let answer = c
        .get(
            &c.coordinator,
            &export("format=json&device=tab-a&sort=received_at&order=asc"),
        )
        .await;
    assert_eq!(answer.headers["x-voices-total"], "260");
    assert_eq!(exported_ids(&answer.body), ids(&rows));

    // A review state and a word searched, as a CSV zip: the rows the table shows.
    let approved: Vec<String> = sent.iter().step_by(7).map(|r| r.response.clone()).collect();
    let answer = c
        .call(
            "POST",
            "/api/v1/projects/p1/reviews",
            &c.coordinator,
            Some(json!({"ids": approved, "state": "approved"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let village = sent[3].set["/village"]
        .as_ref()
        .and_then(|v| v.text())
        .unwrap();
    let word = village.split(' ').next_back().unwrap().to_owned();
    let (table_rows, _) = c
        .all_rows(&format!("form={FORM}&review=approved&q={word}"), 500)
        .await;
    assert!(!table_rows.is_empty() && table_rows.len() <= approved.len());
    let (status, headers, bytes) = raw_get(
        &c,
        &c.coordinator,
        &export(&format!("format=csv&review=approved&q={word}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["x-voices-total"],
        table_rows.len().to_string().as_str()
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut main = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name(&format!("{FORM}.csv")).unwrap(),
        &mut main,
    )
    .unwrap();
    let keys: Vec<String> = main
        .lines()
        .skip(1)
        .map(|line| {
            let key = line
                .split(',')
                .find(|cell| cell.starts_with("uuid:"))
                .unwrap();
            key.trim_start_matches("uuid:").to_owned()
        })
        .collect();
    let mut table_ids = ids(&table_rows);
    let mut keys_sorted = keys.clone();
    table_ids.sort();
    keys_sorted.sort();
    assert_eq!(keys_sorted, table_ids);
    assert!(main.lines().skip(1).all(|l| l.contains(",approved,")));

    // pii is searched only when the export includes it, as in the table (a phone number
    // is in a pii answer only).
    let phone = sent[5].set["/resp_phone"]
        .as_ref()
        .and_then(|v| v.text())
        .unwrap();
    let phone = phone.trim_start_matches('+');
    let answer = c
        .get(&c.coordinator, &export(&format!("format=json&q={phone}")))
        .await;
    assert_eq!(answer.headers["x-voices-total"], "0");
    assert_eq!(answer.body, json!([]));
    let answer = c
        .get(
            &c.coordinator,
            &export(&format!("format=json&q={phone}&pii=true")),
        )
        .await;
    let found = exported_ids(&answer.body);
    assert!(found.contains(&sent[5].response), "{found:?}");
    assert_eq!(
        answer.headers["x-voices-total"],
        found.len().to_string().as_str()
    );

    // A bad filter is named; `since` belongs to the whole-form export only.
    for (query, code) in [
        ("review=maybe", "bad_query"),
        ("device=tab-a&since=3", "bad_query"),
        ("from=yesterday", "bad_query"),
    ] {
        let answer = c.get(&c.coordinator, &export(query)).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            answer.body
        );
    }
    // Designers cannot export, filtered or not.
    let answer = c.get(&c.designer, &export("device=tab-b")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

pub async fn fields_describe_the_table_columns(c: Console) {
    let answer = c
        .get(
            &c.designer,
            &format!("/api/v1/projects/p1/forms/{FORM}/fields"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let fields = answer.body.as_array().unwrap();
    let by_path = |p: &str| {
        fields
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    assert_eq!(fields[0]["path"], "/start");
    let age = by_path("/resp_age");
    assert_eq!(age["type"], "integer");
    assert_eq!(age["label"], json!({"en": "Respondent age"}));
    assert_eq!(age["group"], "/respondent");
    assert_eq!(age["disaggregation"], "age");
    assert_eq!(by_path("/resp_name")["pii"], true);
    let relation = by_path("/member/member_relation");
    assert_eq!(relation["repeat"], "/member");
    assert!(relation["choices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "child"));
    let answer = c
        .get(
            &c.designer,
            &format!("/api/v1/projects/p1/forms/{FORM}/fields?version=0"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "unknown_form")
    );
}
