//! Enumerator–respondent matching and neutral presentation on the device: the profile and
//! the neutral name come with a sync and are kept; a section whose `match` rule the
//! enumerator does not meet stays closed until it is handed over or skipped; the record
//! is stored, survives a restart and reaches the server with the response.

mod support;

use support::{run, TestServer, PROJECT};
use voices_app::view::PageKind;
use voices_app::Voices;
use voices_core::matching::{EnumeratorProfile, MatchingOutcome};
use voices_core::sync::protocol::Presentation;

const FORM_ID: &str = "matching_fixture";

fn form_text() -> String {
    serde_json::json!({
        "id": FORM_ID, "version": "1", "title": "Survey",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en",
        "body": [
            {"type": "select_one", "name": "resp_sex", "label": "Respondent's sex", "choices": "sex"},
            {"type": "group", "name": "violence", "label": "Experiences", "sensitive": true,
             "match": "enumerator('sex') = 'female' or ${resp_sex} != 'female'",
             "body": [{"type": "text", "name": "hurt", "label": "What happened?"}]},
            {"type": "text", "name": "after", "label": "After"}
        ],
        "choices": {"sex": [{"name": "female", "label": "Female"}, {"name": "male", "label": "Male"}]}
    })
    .to_string()
}

fn open(dir: &std::path::Path) -> Voices {
    voices_app::device::open_with_pin(dir, voices_app::device::TEST_PIN).unwrap()
}

fn import(voices: &Voices) {
    let report = voices
        .forms()
        .import_text("matching.json", &form_text(), "file")
        .unwrap();
    assert_eq!(report.outcome, "added", "{report:?}");
}

fn page_of(voices: &Voices, id: &str, key: &str) -> Option<(u32, PageKind)> {
    let count = voices.state(id, 0, None).unwrap().page_count;
    (0..count)
        .map(|i| voices.page(id, i).unwrap())
        .find(|p| p.key == key)
        .map(|p| (p.index, p.kind))
}

/// Offering the section to a colleague who states only a sex (the rule reads no more).
fn offer(
    id: &str,
    by: &str,
    sex: Option<&str>,
    page: u32,
) -> voices_app::commands::HandOverRequest {
    voices_app::commands::HandOverRequest {
        response_id: id.to_owned(),
        group_path: "/violence".to_owned(),
        by: by.to_owned(),
        sex: sex.map(str::to_owned),
        languages: Vec::new(),
        area: None,
        page,
    }
}

/// A female respondent, on the page of the section: its index.
fn at_section(voices: &Voices) -> (String, u32) {
    let id = voices.start(FORM_ID, None, Some("en")).unwrap().response_id;
    voices
        .set_answer(&id, "/resp_sex", Some("female"), 0)
        .unwrap();
    let (index, kind) = page_of(voices, &id, "/violence").unwrap();
    assert_eq!(kind, PageKind::MatchCheck);
    (id, index)
}

#[test]
fn without_a_profile_nothing_matches_and_a_skip_is_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let voices = open(dir.path());
    import(&voices);
    let shown = voices.presentation().unwrap();
    assert_eq!(shown.name, "Voices");
    assert_eq!(shown.enumerator, None);
    let (id, index) = at_section(&voices);
    let check = voices.check_matching(&id, "/violence", index).unwrap();
    assert!(!check.matched);
    assert!(
        !check.profile_known,
        "the screen says the device has no profile"
    );
    assert_eq!(check.update.page.kind, PageKind::MatchCheck);
    // The section cannot be answered while closed.
    assert!(voices.set_answer(&id, "/hurt", Some("x"), index).is_err());
    // A colleague who states no sex is not taken: the screen asks for it.
    let err = voices
        .hand_over(&offer(&id, "Huda", None, index))
        .unwrap_err();
    assert!(err.to_string().contains("sex"), "{err}");
    let update = voices.skip_matching(&id, "/violence", index).unwrap();
    assert_ne!(update.page.key, "/violence");
    assert_eq!(page_of(&voices, &id, "/violence"), None);
    drop(voices);

    let voices = open(dir.path());
    assert_eq!(
        page_of(&voices, &id, "/violence"),
        None,
        "the skip was kept"
    );
    let kept = voices.with_store(|s| s.matching(&id)).unwrap();
    let record = &kept["/violence"];
    assert_eq!(record.outcome, MatchingOutcome::Skipped);
    let review = voices.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
}

#[test]
fn the_profile_comes_with_a_sync_and_a_hand_over_reaches_the_server() {
    run(async {
        let server = TestServer::start().await;
        server.publish(&form_text()).await;
        let dir = tempfile::tempdir().unwrap();
        let voices = open(dir.path());
        let code = server.device_code("tab-m", &server.url).await;
        voices.sync().provision_device(&code).await.unwrap();
        let store = server.store.clone();
        tokio::task::spawn_blocking(move || {
            let male = EnumeratorProfile {
                sex: Some("male".into()),
                languages: vec!["ar".into()],
                area: Some("North".into()),
            };
            assert!(store
                .set_device_profile(Some(PROJECT), "tab-m", &male)
                .unwrap());
            let name = Presentation {
                neutral_name: Some("Field notes".into()),
            };
            assert!(store.set_presentation(PROJECT, &name).unwrap());
        })
        .await
        .unwrap();
        voices.sync().sync_once().await.unwrap();
        let shown = voices.presentation().unwrap();
        assert_eq!(shown.name, "Field notes");
        assert_eq!(
            shown.enumerator.as_ref().and_then(|p| p.sex.as_deref()),
            Some("male")
        );

        // A male enumerator, a female respondent: blocked, then handed over.
        let (id, index) = at_section(&voices);
        let check = voices.check_matching(&id, "/violence", index).unwrap();
        assert!(!check.matched && check.profile_known);
        assert_eq!(check.update.page.matching.as_ref().unwrap().keys, ["sex"]);
        // A male colleague does not meet the rule either: refused, still closed, and
        // the refusal is kept.
        let refused = voices
            .hand_over(&offer(&id, "Karim", Some("male"), index))
            .unwrap();
        assert!(!refused.accepted);
        assert_eq!(refused.update.page.kind, PageKind::MatchCheck);
        assert_eq!(
            refused.update.page.matching.as_ref().unwrap().outcome,
            Some(MatchingOutcome::HandOverRefused)
        );
        assert!(voices.set_answer(&id, "/hurt", Some("x"), index).is_err());
        let kept = voices.with_store(|s| s.matching(&id)).unwrap();
        assert_eq!(kept["/violence"].refused[0].by, "Karim");
        assert!(!voices.finalize(&id).unwrap().can_finalize);
        // A female colleague meets it: handed over.
        let handed = voices
            .hand_over(&offer(&id, "Amal", Some("female"), index))
            .unwrap();
        assert!(handed.accepted);
        let update = handed.update;
        assert_eq!(update.page.key, "/violence");
        assert_eq!(update.page.kind, PageKind::Questions);
        voices
            .set_answer(&id, "/hurt", Some("nothing"), index)
            .unwrap();
        // A male respondent in another interview: the rule holds, `matched` is kept.
        let other = voices.start(FORM_ID, None, Some("en")).unwrap().response_id;
        voices
            .set_answer(&other, "/resp_sex", Some("male"), 0)
            .unwrap();
        let (index, _) = page_of(&voices, &other, "/violence").unwrap();
        assert!(
            voices
                .check_matching(&other, "/violence", index)
                .unwrap()
                .matched
        );
        for r in [&id, &other] {
            let review = voices.finalize(r).unwrap();
            assert!(review.can_finalize, "{:?}", review.issues);
        }
        voices.sync().sync_once().await.unwrap();

        let items = server.pull_all().await;
        let matching_of = |rid: &str| {
            items
                .iter()
                .find(|i| i["response"]["id"] == rid)
                .unwrap_or_else(|| panic!("{rid} not on the server"))["response"]["matching"]
                ["/violence"]
                .clone()
        };
        let handed = matching_of(&id);
        assert_eq!(handed["outcome"], "handed_over", "{handed}");
        assert_eq!(handed["by"], "Amal");
        assert_eq!(handed["sex"], "female");
        assert_eq!(handed["refused"][0]["by"], "Karim", "{handed}");
        assert_eq!(handed["refused"][0]["sex"], "male");
        assert_eq!(matching_of(&other)["outcome"], "matched");
        // Neutral name removed on the server: the device shows its own name again.
        let store = server.store.clone();
        tokio::task::spawn_blocking(move || {
            store
                .set_presentation(PROJECT, &Presentation::default())
                .unwrap()
        })
        .await
        .unwrap();
        voices.sync().sync_once().await.unwrap();
        assert_eq!(voices.presentation().unwrap().name, "Voices");
        drop(dir);
    });
}
