//! Enumerator–respondent matching: `enumerator()` reads the profile the environment
//! gives, a group's `match` rule gates it, and the response records matched, handed
//! over or skipped; the checker refuses unknown keys and nested rules.

use std::sync::Arc;

use voices_core::check::check_source;
use voices_core::diagnostic::Code;
use voices_core::engine::{
    AnswerPath, CompiledForm, EngineError, PageKind, Session, ViolationCode,
};
use voices_core::env::FixedEnvironment;
use voices_core::expr::{evaluate_string, parse, MapContext};
use voices_core::matching::{Colleague, EnumeratorProfile, MatchingOutcome};
use voices_core::{Form, Response};

const FORM: &str = r#"{
  "id": "m", "version": "1", "title": "Survey",
  "languages": [{"code": "en", "name": "English"}], "default_language": "en",
  "body": [
    {"type": "select_one", "name": "resp_sex", "label": "Respondent's sex", "choices": "sex"},
    {"type": "group", "name": "violence", "label": "Experiences", "sensitive": true,
     "match": "enumerator('sex') = 'female' or ${resp_sex} != 'female'",
     "body": [
       {"type": "select_one", "name": "hurt", "label": "Hurt?", "choices": "yn", "required": true}
     ]},
    {"type": "text", "name": "after", "label": "After"}
  ],
  "choices": {
    "sex": [{"name": "female", "label": "Female"}, {"name": "male", "label": "Male"}],
    "yn": [{"name": "yes", "label": "Yes"}, {"name": "no", "label": "No"}]
  }
}"#;

fn profile(sex: &str) -> EnumeratorProfile {
    EnumeratorProfile {
        sex: Some(sex.into()),
        languages: vec!["ar".into(), "en".into()],
        area: Some("North".into()),
    }
}

fn env(profile: Option<EnumeratorProfile>) -> FixedEnvironment {
    let mut env = FixedEnvironment::new(
        chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+02:00").unwrap(),
        7,
    );
    env.enumerator = profile;
    env
}

fn session(env: &mut FixedEnvironment) -> Session {
    let form: Form = serde_json::from_str(FORM).unwrap();
    let form = Arc::new(CompiledForm::compile(form).unwrap());
    let response = Response {
        id: "r1".into(),
        form_id: "m".into(),
        form_version: "1".into(),
        answers: Default::default(),
        consent: None,
        privacy: Default::default(),
        matching: Default::default(),
        selections: Default::default(),
        outcome: None,
    };
    Session::new(form, response, env).unwrap()
}

fn p(s: &str) -> AnswerPath {
    AnswerPath::parse(s).unwrap()
}

fn page_kind(s: &Session, path: &str) -> Option<PageKind> {
    s.view("en")
        .pages
        .iter()
        .find(|pg| pg.path.as_ref() == Some(&p(path)))
        .map(|pg| pg.kind)
}

#[test]
fn enumerator_reads_the_profile_the_environment_gives() {
    let ctx = MapContext::new();
    let eval =
        |src: &str, env: &mut FixedEnvironment| evaluate_string(&parse(src).unwrap(), &ctx, env);
    let mut known = env(Some(profile("female")));
    assert_eq!(eval("enumerator('sex')", &mut known).unwrap(), "female");
    assert_eq!(
        eval("enumerator('languages')", &mut known).unwrap(),
        "ar en"
    );
    assert_eq!(eval("enumerator('area')", &mut known).unwrap(), "North");
    assert_eq!(
        eval("selected(enumerator('languages'), 'en')", &mut known).unwrap(),
        "true"
    );
    let mut unknown = env(None);
    assert_eq!(eval("enumerator('sex')", &mut unknown).unwrap(), "");
    let err = eval("enumerator('age')", &mut known).unwrap_err();
    assert!(
        err.message.contains("`sex`, `languages` or `area`"),
        "{err:?}"
    );
}

#[test]
fn the_checker_refuses_unknown_keys_and_nested_rules() {
    let bad_key = FORM.replace("enumerator('sex')", "enumerator('gender')");
    let report = check_source(&bad_key);
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::UnknownEnumeratorKey)
        .expect("unknown key reported");
    assert_eq!(d.pointer, "/body/1/match");
    let bad_ref = FORM.replace("${resp_sex}", "${resp_gender}");
    assert!(check_source(&bad_ref)
        .diagnostics
        .iter()
        .any(|d| d.code == Code::UnknownReference && d.pointer == "/body/1/match"));
    let nested = FORM.replace(
        r#"{"type": "select_one", "name": "hurt""#,
        r#"{"type": "group", "name": "inner", "match": "true()", "body": [{"type": "text", "name": "x"}]},
       {"type": "select_one", "name": "hurt""#,
    );
    assert!(check_source(&nested)
        .diagnostics
        .iter()
        .any(|d| d.code == Code::NestedMatch && d.pointer == "/body/1/body/0/match"));
    assert!(!check_source(FORM).has_errors());
}

#[test]
fn a_matching_enumerator_opens_the_section_and_it_is_recorded() {
    let mut env = env(Some(profile("female")));
    let mut s = session(&mut env);
    s.set_answer(&p("/resp_sex"), Some("female".into()), &mut env)
        .unwrap();
    assert_eq!(page_kind(&s, "/violence"), Some(PageKind::MatchCheck));
    assert!(s
        .validate("en")
        .iter()
        .any(|v| v.code == ViolationCode::Matching && v.path == p("/violence")));
    // Nothing in the section is asked, or can be answered, before the check.
    assert!(!s.validate("en").iter().any(|v| v.path == p("/hurt")));
    assert!(matches!(
        s.set_answer(&p("/hurt"), Some("yes".into()), &mut env),
        Err(EngineError::NotAnswerable { .. })
    ));
    assert!(s
        .check_matching(&p("/violence"), &mut env)
        .unwrap()
        .is_some());
    assert_eq!(page_kind(&s, "/violence"), Some(PageKind::Questions));
    let record = &s.response().matching["/violence"];
    assert_eq!(record.outcome, MatchingOutcome::Matched);
    assert_eq!(record.at, "2026-12-07T10:00:00+02:00");
    assert!(s
        .validate("en")
        .iter()
        .any(|v| v.code == ViolationCode::Required && v.path == p("/hurt")));
}

#[test]
fn a_male_enumerator_with_a_female_respondent_hands_over_or_skips() {
    let mut env = env(Some(profile("male")));
    let mut s = session(&mut env);
    s.set_answer(&p("/resp_sex"), Some("female".into()), &mut env)
        .unwrap();
    assert!(s
        .check_matching(&p("/violence"), &mut env)
        .unwrap()
        .is_none());
    assert!(s.response().matching.is_empty());
    assert_eq!(page_kind(&s, "/violence"), Some(PageKind::MatchCheck));
    // A hand-over names who and which sex.
    let colleague = |by: &str, sex: Option<&str>| Colleague {
        by: by.into(),
        profile: EnumeratorProfile {
            sex: sex.map(Into::into),
            ..Default::default()
        },
    };
    assert!(matches!(
        s.hand_over(&p("/violence"), &colleague("Amal", None), &mut env),
        Err(EngineError::BadMatching(_))
    ));
    assert!(matches!(
        s.hand_over(&p("/violence"), &colleague(" ", Some("female")), &mut env),
        Err(EngineError::BadMatching(_))
    ));
    // A male colleague does not meet the rule either: refused, recorded, still closed.
    let refused = s
        .hand_over(&p("/violence"), &colleague("Karim", Some("male")), &mut env)
        .unwrap();
    assert!(!refused.accepted);
    let record = s.response().matching["/violence"].clone();
    assert_eq!(record.outcome, MatchingOutcome::HandOverRefused);
    assert_eq!(record.by, None);
    assert_eq!(record.refused.len(), 1);
    assert_eq!(record.refused[0].by, "Karim");
    assert_eq!(record.refused[0].sex.as_deref(), Some("male"));
    assert_eq!(record.cell(), "hand_over_refused,refused:male:Karim");
    assert_eq!(page_kind(&s, "/violence"), Some(PageKind::MatchCheck));
    assert!(matches!(
        s.set_answer(&p("/hurt"), Some("yes".into()), &mut env),
        Err(EngineError::NotAnswerable { .. })
    ));
    assert!(
        s.validate("en")
            .iter()
            .any(|v| v.code == ViolationCode::Matching && v.path == p("/violence")),
        "a refused hand-over does not settle the section"
    );
    // The device's enumerator is checked again, still in vain.
    assert!(s
        .check_matching(&p("/violence"), &mut env)
        .unwrap()
        .is_none());
    // A female colleague meets it: handed over, the refusal kept.
    let accepted = s
        .hand_over(
            &p("/violence"),
            &colleague(" Amal ", Some("female")),
            &mut env,
        )
        .unwrap();
    assert!(accepted.accepted);
    let record = s.response().matching["/violence"].clone();
    assert_eq!(record.outcome, MatchingOutcome::HandedOver);
    assert_eq!(record.by.as_deref(), Some("Amal"));
    assert_eq!(record.sex.as_deref(), Some("female"));
    assert_eq!(record.refused.len(), 1);
    assert_eq!(record.cell(), "handed_over:female:Amal,refused:male:Karim");
    // Once open, there is nothing to hand over.
    assert!(matches!(
        s.hand_over(
            &p("/violence"),
            &colleague("Huda", Some("female")),
            &mut env
        ),
        Err(EngineError::MatchingSettled(_))
    ));
    assert_eq!(page_kind(&s, "/violence"), Some(PageKind::Questions));
    s.set_answer(&p("/hurt"), Some("no".into()), &mut env)
        .unwrap();
    // Skipping afterwards closes the section and clears its answers.
    s.skip_matching(&p("/violence"), &mut env).unwrap();
    assert_eq!(page_kind(&s, "/violence"), None);
    assert!(!s.response().answers.0.contains_key("hurt"));
    assert!(!s
        .validate("en")
        .iter()
        .any(|v| v.code == ViolationCode::Matching));
    // The record survives the JSON document and a new session over it.
    let json = serde_json::to_value(s.response()).unwrap();
    assert_eq!(json["matching"]["/violence"]["outcome"], "skipped");
    let back: Response = serde_json::from_value(json).unwrap();
    assert_eq!(back.matching["/violence"].outcome, MatchingOutcome::Skipped);
    assert_eq!(back.matching["/violence"].refused[0].by, "Karim");
}

/// A rule on language and area: the colleague's stated languages and area are read by
/// the same rule; a part they did not state does not meet it, even where the respondent's
/// answer is empty too.
#[test]
fn a_hand_over_asks_what_the_rule_reads_and_unknown_parts_do_not_meet_it() {
    let form = FORM
        .replace(
            "enumerator('sex') = 'female' or ${resp_sex} != 'female'",
            "enumerator('sex') = 'female' and selected(enumerator('languages'), 'ar') and enumerator('area') = ${district}",
        )
        .replace(
            r#"{"type": "text", "name": "after", "label": "After"}"#,
            r#"{"type": "text", "name": "after", "label": "After"}, {"type": "text", "name": "district", "label": "District"}"#,
        );
    let form: Form = serde_json::from_str(&form).unwrap();
    let form = Arc::new(CompiledForm::compile(form).unwrap());
    let mut env = env(Some(profile("male")));
    let response = Response {
        id: "r2".into(),
        form_id: "m".into(),
        form_version: "1".into(),
        answers: Default::default(),
        consent: None,
        privacy: Default::default(),
        matching: Default::default(),
        selections: Default::default(),
        outcome: None,
    };
    let mut s = Session::new(form, response, &mut env).unwrap();
    assert_eq!(
        s.matching_keys(&p("/violence")).unwrap(),
        ["sex", "languages", "area"]
    );
    let page = s
        .view("en")
        .pages
        .into_iter()
        .find(|pg| pg.kind == PageKind::MatchCheck)
        .unwrap();
    assert_eq!(page.matching_keys, ["sex", "languages", "area"]);
    assert!(s
        .check_matching(&p("/violence"), &mut env)
        .unwrap()
        .is_none());
    let offer = |languages: &[&str], area: Option<&str>| Colleague {
        by: "Amal".into(),
        profile: EnumeratorProfile {
            sex: Some("female".into()),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            area: area.map(Into::into),
        },
    };
    // No district answered and no area stated: "" = "" would hold, but an unknown
    // area does not meet a rule that reads it.
    let h = s
        .hand_over(&p("/violence"), &offer(&["ar"], None), &mut env)
        .unwrap();
    assert!(!h.accepted);
    s.set_answer(&p("/district"), Some("North".into()), &mut env)
        .unwrap();
    let h = s
        .hand_over(&p("/violence"), &offer(&["en"], Some("North")), &mut env)
        .unwrap();
    assert!(!h.accepted, "she does not speak Arabic");
    let h = s
        .hand_over(&p("/violence"), &offer(&["ar"], Some("South")), &mut env)
        .unwrap();
    assert!(!h.accepted, "another area");
    let h = s
        .hand_over(
            &p("/violence"),
            &offer(&["en", "ar"], Some(" North ")),
            &mut env,
        )
        .unwrap();
    assert!(h.accepted);
    let record = &s.response().matching["/violence"];
    assert_eq!(record.outcome, MatchingOutcome::HandedOver);
    assert_eq!(record.languages, ["en", "ar"]);
    assert_eq!(record.area.as_deref(), Some("North"));
    let refused: Vec<(Vec<String>, Option<String>)> = record
        .refused
        .iter()
        .map(|r| (r.languages.clone(), r.area.clone()))
        .collect();
    assert_eq!(
        refused,
        [
            (vec!["ar".to_owned()], None),
            (vec!["en".to_owned()], Some("North".to_owned())),
            (vec!["ar".to_owned()], Some("South".to_owned())),
        ]
    );
    // The record is checked as a whole when it comes back (sync, import).
    assert_eq!(record.check(), Ok(()));
}

#[test]
fn an_unknown_profile_never_matches_a_rule_that_names_a_value() {
    let mut env = env(None);
    let mut s = session(&mut env);
    s.set_answer(&p("/resp_sex"), Some("female".into()), &mut env)
        .unwrap();
    assert!(s
        .check_matching(&p("/violence"), &mut env)
        .unwrap()
        .is_none());
    // A male respondent: the rule holds whoever interviews.
    s.set_answer(&p("/resp_sex"), Some("male".into()), &mut env)
        .unwrap();
    assert!(s
        .check_matching(&p("/violence"), &mut env)
        .unwrap()
        .is_some());
    assert!(matches!(
        s.check_matching(&p("/after"), &mut env),
        Err(EngineError::NoMatchRule(_))
    ));
}
