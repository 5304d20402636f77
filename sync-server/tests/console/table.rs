//! The responses table: filters, sorting, keyset pages and free-text search.

use axum::http::StatusCode;
use serde_json::{json, Value};
use voices_core::sync::Revision;
use voices_server::sample::household_revision;

use super::*;
use crate::common::HOUSEHOLD_VERSION;

pub async fn the_table_filters_sorts_and_pages_without_gaps(c: Console) {
    let sent = c.responses(0, 23).await;
    let b: Vec<Revision> = (100..105)
        .map(|i| household_revision(i, "tab-b", HOUSEHOLD_VERSION))
        .collect();
    c.upload(&c.device_b, &b).await;

    // Every row once, in order, whatever the page size.
    let (all, _) = c
        .all_rows(&format!("form={FORM}&sort=received_at&order=asc"), 500)
        .await;
    assert_eq!(all.len(), 28);
    for limit in [1, 5, 27] {
        let (rows, pages) = c
            .all_rows(&format!("form={FORM}&sort=received_at&order=asc"), limit)
            .await;
        assert_eq!(ids(&rows), ids(&all), "limit {limit}");
        assert_eq!(pages, 28_usize.div_ceil(limit), "limit {limit}");
    }
    let (desc, _) = c.all_rows(&format!("form={FORM}"), 4).await;
    let mut reversed = ids(&all);
    reversed.reverse();
    // The default order is newest first; rows received in one batch keep a stable order.
    assert_eq!(desc.len(), 28);
    assert_eq!(
        desc.iter()
            .map(|r| r["received_at"].as_str().unwrap())
            .collect::<Vec<_>>(),
        {
            let mut times: Vec<_> = all
                .iter()
                .map(|r| r["received_at"].as_str().unwrap())
                .collect();
            times.sort();
            times.reverse();
            times
        }
    );

    // Filters, with the total of all matching rows.
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?form={FORM}&device=tab-b&limit=2"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["total"], 5);
    assert_eq!(answer.body["rows"].as_array().unwrap().len(), 2);
    assert!(answer.body["next"].is_string());
    let (rows, _) = c.all_rows("enumerator=Enumerator%20tab-b", 50).await;
    assert_eq!(rows.len(), 5);
    assert!(rows
        .iter()
        .all(|r| r["device"] == "tab-b" && r["enumerator"] == "Enumerator tab-b"));

    let first = &sent[0].response;
    let answer = c
        .call(
            "PUT",
            &format!("/api/v1/projects/p1/responses/{first}/review"),
            &c.coordinator,
            Some(json!({"state": "rejected", "comment": "duplicate household"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let (rows, _) = c.all_rows("review=rejected", 50).await;
    assert_eq!(ids(&rows), std::slice::from_ref(first));
    assert_eq!(rows[0]["review"], "rejected");
    let (rows, _) = c.all_rows("review=received&status=finalized", 50).await;
    assert_eq!(rows.len(), 27);
    let (rows, _) = c.all_rows("status=draft", 50).await;
    assert!(rows.is_empty());
    let (rows, _) = c
        .all_rows(
            &format!("form={FORM}&version={HOUSEHOLD_VERSION}&sort=review&order=desc"),
            7,
        )
        .await;
    assert_eq!(rows.len(), 28);
    assert_eq!(
        rows[0]["review"], "rejected",
        "review states sort as text: rejected last ascending"
    );

    // Time range: everything was received today; nothing tomorrow.
    let today = &voices_server::now_text()[..10];
    let (rows, _) = c.all_rows(&format!("from={today}&to={today}"), 50).await;
    assert_eq!(rows.len(), 28);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let (rows, _) = c.all_rows(&format!("from={tomorrow}"), 50).await;
    assert!(rows.is_empty());

    // Rows carry flat answers; pii is masked unless asked for.
    let row = &all[0];
    assert_eq!(row["form"], FORM);
    assert_eq!(row["version"], HOUSEHOLD_VERSION);
    assert_eq!(row["status"], "finalized");
    assert_eq!(row["conflicts"], 0);
    assert_eq!(row["quarantined"], false);
    let answers = &row["answers"];
    assert_eq!(answers["/resp_name"], json!({"masked": true}), "{answers}");
    assert_eq!(answers["/member[1]/member_name"], json!({"masked": true}));
    assert_eq!(answers["/gps"], json!({"masked": true}));
    assert_eq!(answers["/member[]"], "3");
    let id = row["id"].as_str().unwrap();
    let original = sent.iter().chain(&b).find(|r| r.response == id).unwrap();
    assert_eq!(answers["/village"].as_str(), original.text("/village"));
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?form={FORM}&order=asc&limit=1&pii=true"),
        )
        .await;
    let answers = &answer.body["rows"][0]["answers"];
    assert_eq!(answers["/resp_name"].as_str(), original.text("/resp_name"));

    // Counting can be skipped.
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?total=false")
        .await;
    assert_eq!(answer.body["total"], Value::Null);

    // Bad parameters are named.
    for (query, code) in [
        ("status=sent", "bad_query"),
        ("review=great", "bad_query"),
        ("sort=resp_name", "bad_query"),
        ("order=sideways", "bad_query"),
        ("limit=0", "bad_query"),
        ("limit=501", "bad_query"),
        ("flag=maybe", "bad_query"),
        ("from=yesterday", "bad_query"),
        ("after=garbage", "bad_cursor"),
    ] {
        let answer = c
            .get(
                &c.coordinator,
                &format!("/api/v1/projects/p1/table?{query}"),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            answer.body
        );
    }
    // A cursor of one sort does not continue another.
    let answer = c
        .get(
            &c.coordinator,
            "/api/v1/projects/p1/table?limit=1&sort=enumerator",
        )
        .await;
    let next = answer.body["next"].as_str().unwrap().to_owned();
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?limit=1&sort=device&after={next}"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "bad_cursor")
    );
}

/// A jump far down the table (the scroll bar dragged) asks for a row number: the page
/// there is the same rows the cursors reach, for every sort, order and filter, and its
/// `next` continues from it.
pub async fn a_far_page_is_reached_by_row_number(c: Console) {
    c.responses(0, 17).await;
    let b: Vec<Revision> = (100..104)
        .map(|i| household_revision(i, "tab-b", HOUSEHOLD_VERSION))
        .collect();
    c.upload(&c.device_b, &b).await;
    for query in [
        format!("form={FORM}"),
        format!("form={FORM}&order=asc"),
        "sort=enumerator".to_owned(),
        "sort=device&order=asc".to_owned(),
        "sort=updated_at".to_owned(),
        "device=tab-b&order=asc".to_owned(),
        "enumerator=Enumerator%20tab-b".to_owned(),
        format!("form={FORM}&version={HOUSEHOLD_VERSION}&enumerator=Enumerator%20tab-a"),
        "q=kijiji".to_owned(),
    ] {
        let (all, _) = c.all_rows(&query, 500).await;
        assert!(!all.is_empty(), "{query}");
        for offset in [0, 1, 3, all.len() - 1, all.len(), all.len() + 10] {
            let uri = format!("/api/v1/projects/p1/table?{query}&limit=3&offset={offset}");
            let answer = c.get(&c.coordinator, &uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
            let expected: Vec<&Value> = all.iter().skip(offset).take(3).collect();
            let rows: Vec<&Value> = answer.body["rows"].as_array().unwrap().iter().collect();
            assert_eq!(
                rows.iter().map(|r| &r["id"]).collect::<Vec<_>>(),
                expected.iter().map(|r| &r["id"]).collect::<Vec<_>>(),
                "{uri}"
            );
            assert_eq!(answer.body["total"], all.len(), "{uri}");
            // The next page follows on from the jump.
            if let Some(next) = answer.body["next"].as_str() {
                let uri = format!("/api/v1/projects/p1/table?{query}&limit=3&after={next}");
                let answer = c.get(&c.coordinator, &uri).await;
                let expected: Vec<&Value> = all.iter().skip(offset + 3).take(3).collect();
                assert_eq!(
                    answer.body["rows"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| &r["id"])
                        .collect::<Vec<_>>(),
                    expected.iter().map(|r| &r["id"]).collect::<Vec<_>>(),
                    "{uri}"
                );
            } else {
                assert!(offset + 3 >= all.len(), "{uri}");
            }
        }
    }
    for query in [
        "offset=-1",
        "offset=x",
        "offset=1000000001",
        "offset=5&after=abc",
    ] {
        let answer = c
            .get(
                &c.coordinator,
                &format!("/api/v1/projects/p1/table?{query}"),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, "bad_query"),
            "{query}: {}",
            answer.body
        );
    }
}

pub async fn free_text_search_finds_words_in_answers_and_pii_only_when_asked(c: Console) {
    let sent = c.responses(0, 30).await;
    let target = &sent[7];
    let village = target.text("/village").unwrap().to_owned();
    let village_words: Vec<&str> = village.split(' ').collect();
    let with_village = matching(&sent, &village_words, false);
    let (rows, _) = c
        .all_rows(&format!("q={}", village.replace(' ', "%20")), 50)
        .await;
    assert_eq!(rows.len(), with_village, "{village}");
    assert!(ids(&rows).contains(&target.response));
    // Prefixes, other case, and every word must match (anywhere in the answers).
    let number = village.split(' ').nth(1).unwrap();
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?q=KIJIJI%20{number}"),
        )
        .await;
    assert_eq!(
        answer.body["total"],
        matching(&sent, &["kijiji", number], false)
    );
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=bore%20pit")
        .await;
    assert_eq!(
        answer.body["total"],
        matching(&sent, &["bore", "pit"], false)
    );
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=kiji")
        .await;
    assert_eq!(answer.body["total"], 30);
    // Counted one by one, under the cap: exact.
    assert_eq!(answer.body["total_capped"], false);
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=zzzunheardof")
        .await;
    assert_eq!(answer.body["total"], 0);
    assert_eq!(answer.body["rows"], json!([]));
    // Query syntax of the index is plain text here.
    for q in [
        "%22",
        "AND",
        "NEAR(a%20b)",
        "*",
        "-",
        "%27%3B%20DROP%20TABLE%20responses",
    ] {
        let answer = c
            .get(&c.coordinator, &format!("/api/v1/projects/p1/table?q={q}"))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{q}: {}", answer.body);
    }

    // A respondent's name (pii) is found only with pii=true.
    let name = target.text("/resp_name").unwrap().to_owned();
    let phone = target.text("/resp_phone").unwrap().to_owned();
    let digits = phone.trim_start_matches('+');
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?q={digits}"),
        )
        .await;
    assert_eq!(answer.body["total"], 0, "pii searched without pii=true");
    let answer = c
        .get(
            &c.coordinator,
            &format!("/api/v1/projects/p1/table?q={digits}&pii=true"),
        )
        .await;
    assert_eq!(answer.body["total"], 1, "{}", answer.body);
    assert_eq!(answer.body["rows"][0]["id"], target.response.as_str());
    assert_eq!(
        answer.body["rows"][0]["answers"]["/resp_name"],
        name.as_str()
    );

    // An edit changes what is found.
    let fix = edit(
        target,
        "fix-1",
        "tab-a",
        2,
        &[],
        &[("/village", "Ngong Hills")],
    );
    c.upload(&c.device, &[fix]).await;
    let answer = c
        .get(&c.coordinator, "/api/v1/projects/p1/table?q=ngong")
        .await;
    assert_eq!(answer.body["total"], 1);
    let mut edited = sent.clone();
    edited[7]
        .set
        .insert("/village".into(), Some("Ngong Hills".into()));
    let (rows, _) = c
        .all_rows(&format!("q={}", village.replace(' ', "%20")), 50)
        .await;
    assert_eq!(rows.len(), matching(&edited, &village_words, false));
    assert!(!ids(&rows).contains(&target.response));
}
