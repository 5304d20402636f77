use std::sync::Arc;

use chrono::DateTime;
use serde_json::json;

use super::*;
use crate::env::FixedEnvironment;
use crate::form::Form;
use crate::response::{Answer, Answers, PrivacyOutcome, Response};

fn env() -> FixedEnvironment {
    let mut env = FixedEnvironment::new(
        DateTime::parse_from_rfc3339("2025-03-04T10:20:30+03:00").unwrap(),
        42,
    );
    env.device_id = Some("device-1".to_owned());
    env.username = Some("amal".to_owned());
    env
}

fn form_json() -> serde_json::Value {
    json!({
        "id": "hs", "version": "3",
        "title": {"en": "Community survey", "ar": "مسح مجتمعي"},
        "languages": [{"code": "en", "name": "English"}, {"code": "ar", "name": "العربية", "direction": "rtl"}],
        "default_language": "en",
        "instance_name": "concat('HH ', ${hh_size})",
        "body": [
            {"type": "start", "name": "started"},
            {"type": "today", "name": "day"},
            {"type": "deviceid", "name": "device"},
            {"type": "username", "name": "enumerator"},
            {"type": "consent", "text_version": "c2", "text": {"en": "We ask…", "ar": "نسأل…"}},
            {"type": "integer", "name": "age", "required": true,
             "label": {"en": "Age of ${enumerator}'s respondent", "ar": "العمر"},
             "constraint": ". >= 0 and . <= 120",
             "constraint_message": {"en": "Between 0 and 120", "ar": "بين 0 و 120"}},
            {"type": "text", "name": "adult_note", "relevant": "${age} >= 18", "label": {"en": "Adult", "ar": "بالغ"}},
            {"type": "calculate", "name": "age_next", "calculation": "${age} + 1"},
            {"type": "select_one", "name": "country", "choices": "countries", "label": {"en": "Country", "ar": "البلد"}},
            {"type": "select_one", "name": "region", "choices": "regions", "choice_filter": "country = ${country}",
             "label": {"en": "Region", "ar": "المنطقة"}},
            {"type": "integer", "name": "hh_size", "label": {"en": "Household size", "ar": "حجم الأسرة"}},
            {"type": "repeat", "name": "members", "count": "${hh_size}", "label": {"en": "Member", "ar": "فرد"}, "body": [
                {"type": "text", "name": "member_name", "pii": true, "default": "'anon'", "label": {"en": "Name", "ar": "الاسم"}},
                {"type": "integer", "name": "member_age", "label": {"en": "Age", "ar": "العمر"}},
                {"type": "calculate", "name": "is_adult", "calculation": "if(${member_age} >= 18, 1, 0)"},
                {"type": "calculate", "name": "older_than_respondent", "calculation": "${member_age} > ${age}"}
            ]},
            {"type": "calculate", "name": "adults", "calculation": "sum(${is_adult})"},
            {"type": "repeat", "name": "visits", "min": 1, "max": 2, "label": {"en": "Visit", "ar": "زيارة"}, "body": [
                {"type": "text", "name": "place", "label": {"en": "Place", "ar": "المكان"}}
            ]},
            {"type": "group", "name": "violence", "privacy": "required", "sensitive": true,
             "label": {"en": "Safety", "ar": "السلامة"}, "body": [
                {"type": "select_one", "name": "hurt", "choices": "yesno", "required": true, "label": {"en": "Hurt?", "ar": "أذى؟"}}
            ]}
        ],
        "choices": {
            "countries": [{"name": "ua", "label": {"en": "Ukraine", "ar": "أوكرانيا"}}, {"name": "mx", "label": {"en": "Mexico", "ar": "المكسيك"}}],
            "regions": [
                {"name": "kyiv", "label": {"en": "Kyiv", "ar": "كييف"}, "country": "ua"},
                {"name": "lviv", "label": {"en": "Lviv", "ar": "لفيف"}, "country": "ua"},
                {"name": "oaxaca", "label": {"en": "Oaxaca", "ar": "واخاكا"}, "country": "mx"}
            ],
            "yesno": [{"name": "yes", "label": {"en": "Yes", "ar": "نعم"}}, {"name": "no", "label": {"en": "No", "ar": "لا"}}]
        }
    })
}

fn compiled() -> Arc<CompiledForm> {
    let form: Form = serde_json::from_value(form_json()).unwrap();
    Arc::new(CompiledForm::compile(form).unwrap_or_else(|d| panic!("{d:#?}")))
}

fn empty_response() -> Response {
    Response {
        id: "0192f0c4-0000-7000-8000-000000000001".to_owned(),
        form_id: "hs".to_owned(),
        form_version: "3".to_owned(),
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    }
}

fn p(text: &str) -> AnswerPath {
    text.parse().unwrap()
}

fn value<'a>(s: &'a Session, path: &str) -> Option<&'a str> {
    let (inst, node) = s.locate(&p(path)).unwrap();
    s.slot(inst, node).value.as_deref()
}

fn started() -> (Session, FixedEnvironment) {
    let mut env = env();
    let mut s = Session::new(compiled(), empty_response(), &mut env).unwrap();
    s.record_consent(true, &mut env).unwrap();
    (s, env)
}

#[test]
fn metadata_is_filled_from_the_environment() {
    let (s, _) = started();
    assert_eq!(value(&s, "/started"), Some("2025-03-04T10:20:30.000+03:00"));
    assert_eq!(value(&s, "/day"), Some("2025-03-04"));
    assert_eq!(value(&s, "/device"), Some("device-1"));
    assert_eq!(value(&s, "/enumerator"), Some("amal"));
}

#[test]
fn nothing_after_consent_applies_until_consent_is_given_and_declining_keeps_nothing() {
    let mut env = env();
    let mut s = Session::new(compiled(), empty_response(), &mut env).unwrap();
    let err = s
        .set_answer(&p("/age"), Some("30".into()), &mut env)
        .unwrap_err();
    assert!(matches!(err, EngineError::NotRelevant(_)), "{err}");
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("30".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/hh_size"), Some("2".into()), &mut env)
        .unwrap();
    let changes = s.record_consent(false, &mut env).unwrap();
    assert!(changes
        .values
        .iter()
        .any(|c| c.path == p("/age") && c.value.is_none()));
    let response = s.response();
    let record = response.consent.as_ref().unwrap();
    assert!(!record.given);
    assert_eq!(record.text_version, "c2");
    assert_eq!(record.at, "2025-03-04T10:20:30+03:00");
    let names: Vec<&str> = response.answers.0.keys().map(String::as_str).collect();
    assert_eq!(names, ["consent", "day", "device", "enumerator", "started"]);
}

#[test]
fn relevance_clears_answers_and_calculations_follow() {
    let (mut s, mut env) = started();
    s.set_answer(&p("/age"), Some("30".into()), &mut env)
        .unwrap();
    assert_eq!(value(&s, "/age_next"), Some("31"));
    s.set_answer(&p("/adult_note"), Some("hello".into()), &mut env)
        .unwrap();
    let changes = s
        .set_answer(&p("/age"), Some("12".into()), &mut env)
        .unwrap();
    assert_eq!(value(&s, "/adult_note"), None);
    assert_eq!(value(&s, "/age_next"), Some("13"));
    let changed: Vec<String> = changes.values.iter().map(|c| c.path.to_string()).collect();
    assert_eq!(changed, ["/age", "/adult_note", "/age_next"]);
    assert_eq!(
        changes.relevance,
        vec![FlagChange {
            path: p("/adult_note"),
            value: false
        }]
    );
}

#[test]
fn repeat_counts_create_and_remove_instances_with_defaults() {
    let (mut s, mut env) = started();
    s.set_answer(&p("/age"), Some("30".into()), &mut env)
        .unwrap();
    let changes = s
        .set_answer(&p("/hh_size"), Some("3".into()), &mut env)
        .unwrap();
    assert_eq!(changes.instances_added.len(), 3);
    assert_eq!(value(&s, "/members[3]/member_name"), Some("anon"));
    s.set_answer(&p("/members[1]/member_age"), Some("40".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/members[2]/member_age"), Some("20".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/members[3]/member_age"), Some("5".into()), &mut env)
        .unwrap();
    assert_eq!(value(&s, "/adults"), Some("2"));
    assert_eq!(value(&s, "/members[1]/older_than_respondent"), Some("true"));
    // The respondent's age is read inside every instance.
    s.set_answer(&p("/age"), Some("50".into()), &mut env)
        .unwrap();
    assert_eq!(
        value(&s, "/members[1]/older_than_respondent"),
        Some("false")
    );
    let changes = s
        .set_answer(&p("/hh_size"), Some("1".into()), &mut env)
        .unwrap();
    assert_eq!(
        changes
            .instances_removed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["/members[3]", "/members[2]"]
    );
    assert_eq!(value(&s, "/adults"), Some("1"));
    let err = s.add_repeat_instance(&p("/members"), &mut env).unwrap_err();
    assert!(matches!(err, EngineError::RepeatControlled(_)));
}

#[test]
fn enumerator_repeats_respect_min_and_max() {
    let (mut s, mut env) = started();
    let violations = s.validate("en");
    assert!(violations
        .iter()
        .any(|v| v.path == p("/visits") && v.code == ViolationCode::RepeatCount));
    let (first, _) = s.add_repeat_instance(&p("/visits"), &mut env).unwrap();
    assert_eq!(first.to_string(), "/visits[1]");
    s.add_repeat_instance(&p("/visits"), &mut env).unwrap();
    assert!(matches!(
        s.add_repeat_instance(&p("/visits"), &mut env),
        Err(EngineError::RepeatLimit { .. })
    ));
    s.set_answer(&p("/visits[2]/place"), Some("market".into()), &mut env)
        .unwrap();
    let changes = s
        .remove_repeat_instance(&p("/visits[1]"), &mut env)
        .unwrap();
    assert_eq!(changes.instances_removed, vec![p("/visits[1]")]);
    assert_eq!(value(&s, "/visits[1]/place"), Some("market"));
    assert!(matches!(
        s.remove_repeat_instance(&p("/visits[1]"), &mut env),
        Err(EngineError::RepeatLimit { .. })
    ));
}

#[test]
fn required_and_constraint_messages_are_localized() {
    let (mut s, mut env) = started();
    let required = |s: &Session, lang| {
        s.validate(lang)
            .into_iter()
            .find(|v| v.path == p("/age"))
            .map(|v| (v.code, v.message))
    };
    assert_eq!(
        required(&s, "en"),
        Some((
            ViolationCode::Required,
            "This question is required.".to_owned()
        ))
    );
    assert_eq!(
        required(&s, "ar"),
        Some((ViolationCode::Required, "هذا السؤال مطلوب.".to_owned()))
    );
    assert_eq!(
        required(&s, "uk"),
        Some((
            ViolationCode::Required,
            "Це питання обов'язкове.".to_owned()
        ))
    );
    let changes = s
        .set_answer(&p("/age"), Some("130".into()), &mut env)
        .unwrap();
    let age = changes
        .violations
        .iter()
        .find(|v| v.path == p("/age"))
        .unwrap();
    assert_eq!(age.violations[0].message, "Between 0 and 120");
    assert_eq!(
        required(&s, "ar"),
        Some((ViolationCode::Constraint, "بين 0 و 120".to_owned()))
    );
    let changes = s
        .set_answer(&p("/age"), Some("3x".into()), &mut env)
        .unwrap();
    let age = changes
        .violations
        .iter()
        .find(|v| v.path == p("/age"))
        .unwrap();
    assert_eq!(age.violations[0].code, ViolationCode::Type);
    assert_eq!(age.violations[0].message, "Enter a whole number.");
    let changes = s
        .set_answer(&p("/age"), Some("33".into()), &mut env)
        .unwrap();
    let age = changes
        .violations
        .iter()
        .find(|v| v.path == p("/age"))
        .unwrap();
    assert!(age.violations.is_empty());
}

#[test]
fn privacy_checks_gate_and_record_outcomes() {
    let (mut s, mut env) = started();
    let group = p("/violence");
    let view = s.view("en");
    let page = view
        .pages
        .iter()
        .find(|pg| pg.path.as_ref() == Some(&group))
        .unwrap();
    assert_eq!(page.kind, PageKind::PrivacyCheck);
    assert!(page.sensitive);
    assert!(s
        .validate("en")
        .iter()
        .any(|v| v.code == ViolationCode::PrivacyCheck));
    s.record_privacy(&group, PrivacyOutcome::Private, &mut env)
        .unwrap();
    s.set_answer(&p("/hurt"), Some("yes".into()), &mut env)
        .unwrap();
    // Interrupted: the answers stay so the section can resume.
    s.record_privacy(&group, PrivacyOutcome::Interrupted, &mut env)
        .unwrap();
    assert_eq!(value(&s, "/hurt"), Some("yes"));
    assert!(s
        .validate("en")
        .iter()
        .any(|v| v.code == ViolationCode::PrivacyCheck));
    // Not private: the section is skipped and its answers cleared.
    let changes = s
        .record_privacy(&group, PrivacyOutcome::NotPrivate, &mut env)
        .unwrap();
    assert!(changes
        .values
        .iter()
        .any(|c| c.path == p("/hurt") && c.value.is_none()));
    assert_eq!(value(&s, "/hurt"), None);
    assert!(!s.validate("en").iter().any(|v| v.path == p("/hurt")));
    let record = &s.response().privacy["/violence"];
    assert_eq!(record.outcome, PrivacyOutcome::NotPrivate);
}

#[test]
fn choice_filters_use_choice_properties() {
    let (mut s, mut env) = started();
    s.set_answer(&p("/country"), Some("ua".into()), &mut env)
        .unwrap();
    let view = s.view("ar");
    assert_eq!(view.direction, crate::form::Direction::Rtl);
    let region = view
        .pages
        .iter()
        .flat_map(|pg| &pg.items)
        .find_map(|i| match i {
            ItemView::Field(f) if f.name == "region" => Some(f),
            _ => None,
        })
        .unwrap();
    let names: Vec<&str> = region
        .choices
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(names, ["كييف", "لفيف"]);
}

#[test]
fn labels_interpolate_answers() {
    let (s, _) = started();
    let view = s.view("en");
    let age = view
        .pages
        .iter()
        .flat_map(|pg| &pg.items)
        .find_map(|i| match i {
            ItemView::Field(f) if f.name == "age" => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(age.label.as_deref(), Some("Age of amal's respondent"));
}

#[test]
fn set_answer_refuses_what_cannot_be_answered() {
    let (mut s, mut env) = started();
    let cases = [
        ("/nope", "does not name"),
        ("/age_next", "calculated"),
        ("/members", "group or repeat"),
        ("/members[1]/member_age", "does not name"),
    ];
    for (path, expected) in cases {
        let err = s
            .set_answer(&p(path), Some("1".into()), &mut env)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{path}: {err}");
    }
}

#[test]
fn responses_validate_on_the_server() {
    let form = compiled();
    let mut env = env();
    let mut response = empty_response();
    response.answers = serde_json::from_value(json!({
        "consent": "yes",
        "age": "abc",
        "country": "fr",
        "hh_size": "1",
        "members": [{"member_name": "x", "member_age": "2"}],
        "visits": [{"place": "a"}, {"place": "b"}, {"place": "c"}],
        "mystery": "42"
    }))
    .unwrap();
    let violations = validate_response(&form, &response, "en", &mut env);
    let got: Vec<(String, ViolationCode)> = violations
        .iter()
        .map(|v| (v.path.to_string(), v.code))
        .collect();
    for expected in [
        ("/consent", ViolationCode::Consent),
        ("/age", ViolationCode::Type),
        ("/country", ViolationCode::Type),
        ("/visits", ViolationCode::RepeatCount),
        ("/mystery", ViolationCode::UnknownField),
        ("/violence", ViolationCode::PrivacyCheck),
    ] {
        assert!(
            got.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} missing from {got:#?}"
        );
    }
    let mut other = empty_response();
    other.form_version = "2".to_owned();
    let v = validate_response(&form, &other, "en", &mut env);
    assert_eq!(v.len(), 1);
    assert!(v[0].message.contains("hs 2"));
}

#[test]
fn an_unknown_answer_no_path_can_name_is_reported_at_its_scope() {
    let form = compiled();
    let mut env = env();
    let mut response = empty_response();
    response.answers = serde_json::from_value(json!({
        "consent": "yes",
        "hh_size": "1",
        "a b": "x",
        "members": [{"member_name": "x", "member_age": "2", "x//y": "1", "x/y": "1"}]
    }))
    .unwrap();
    let violations = validate_response(&form, &response, "en", &mut env);
    let unknown: Vec<(String, &str)> = violations
        .iter()
        .filter(|v| v.code == ViolationCode::UnknownField)
        .map(|v| (v.path.to_string(), v.message.as_str()))
        .collect();
    assert!(
        unknown.contains(&("/".into(), "“a b” is not a question of this form.")),
        "{unknown:?}"
    );
    assert!(
        unknown.contains(&(
            "/members[1]".into(),
            "“x//y” is not a question of this form."
        )),
        "{unknown:?}"
    );
    // `x/y` is a path (a name `y` in a group `x`), just not one of this form.
    assert!(
        unknown.contains(&(
            "/members[1]/x/y".into(),
            "“x/y” is not a question of this form."
        )),
        "{unknown:?}"
    );
}

#[test]
fn unknown_answers_are_kept_not_lost() {
    let form = compiled();
    let mut env = env();
    let mut response = empty_response();
    response
        .answers
        .0
        .insert("legacy".into(), Answer::Value("kept".into()));
    let s = Session::new(form, response, &mut env).unwrap();
    assert_eq!(
        s.response().answers.0["legacy"],
        Answer::Value("kept".into())
    );
}

#[test]
fn responses_round_trip_through_a_new_session() {
    let (mut s, mut env) = started();
    s.set_answer(&p("/age"), Some("30".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/hh_size"), Some("2".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/members[2]/member_age"), Some("19".into()), &mut env)
        .unwrap();
    s.add_repeat_instance(&p("/visits"), &mut env).unwrap();
    let saved = s.response().clone();
    let again = Session::new(Arc::clone(s.form()), saved.clone(), &mut env).unwrap();
    assert_eq!(again.response(), &saved);
    assert_eq!(again.view("en"), s.view("en"));
    assert_eq!(s.instance_name(&mut env).as_deref(), Some("HH 2"));
}

#[test]
fn views_have_pages_progress_and_a_jump_list() {
    let (mut s, mut env) = started();
    s.set_answer(&p("/hh_size"), Some("2".into()), &mut env)
        .unwrap();
    let view = s.view("en");
    let kinds: Vec<(PageKind, Option<String>)> = view
        .pages
        .iter()
        .map(|pg| (pg.kind, pg.path.as_ref().map(ToString::to_string)))
        .collect();
    assert_eq!(
        kinds,
        [
            (PageKind::Consent, Some("/consent".to_owned())),
            (PageKind::Questions, None),
            (PageKind::Questions, Some("/members[1]".to_owned())),
            (PageKind::Questions, Some("/members[2]".to_owned())),
            (PageKind::RepeatControls, Some("/visits".to_owned())),
            (PageKind::PrivacyCheck, Some("/violence".to_owned())),
        ]
    );
    assert_eq!(view.jump_list.len(), view.pages.len());
    assert_eq!(view.progress.questions, 8);
    // hh_size and the two defaulted member names.
    assert_eq!(view.progress.answered, 3);
    assert_eq!(view.pages[2].title.as_deref(), Some("Member (1)"));
}

#[test]
fn compiled_forms_are_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<CompiledForm>();
    // A session moves between threads (the app keeps it behind a mutex).
    assert_send::<Session>();
}

#[test]
fn answers_kept_after_a_declined_consent_are_violations() {
    let form = compiled();
    let mut env = env();
    let mut response = empty_response();
    response.answers = serde_json::from_value(json!({"consent": "no", "age": "30"})).unwrap();
    response.consent = Some(crate::response::ConsentRecord {
        given: false,
        at: "2025-03-04T10:00:00+03:00".to_owned(),
        text_version: "c2".to_owned(),
        assent: None,
    });
    let violations = validate_response(&form, &response, "es", &mut env);
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(violations[0].path, p("/age"));
    assert_eq!(violations[0].code, ViolationCode::Consent);
    assert!(violations[0]
        .message
        .starts_with("La persona encuestada no aceptó"));
}

fn nested_form() -> Arc<CompiledForm> {
    let form: Form = serde_json::from_value(json!({
        "id": "nested", "version": "1", "title": "Nested",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en",
        "body": [
            {"type": "text", "name": "village"},
            {"type": "repeat", "name": "households", "body": [
                {"type": "integer", "name": "size"},
                {"type": "text", "name": "head", "read_only": "${size} = 0"},
                {"type": "repeat", "name": "people", "count": "${size}", "body": [
                    {"type": "integer", "name": "age", "required": "${size} > 1"},
                    {"type": "calculate", "name": "label", "calculation": "concat(${village}, '/', ${head}, '/', position(..))"}
                ]},
                {"type": "calculate", "name": "hh_total", "calculation": "sum(${age})"},
                {"type": "calculate", "name": "people_count", "calculation": "count(${people})"}
            ]},
            {"type": "calculate", "name": "all_ages", "calculation": "sum(${age})"},
            {"type": "calculate", "name": "households_count", "calculation": "count(${households})"}
        ]
    }))
    .unwrap();
    Arc::new(CompiledForm::compile(form).unwrap_or_else(|d| panic!("{d:#?}")))
}

#[test]
fn nested_repeats_resolve_references_per_instance() {
    let form = nested_form();
    let mut env = env();
    let mut response = empty_response();
    response.form_id = "nested".into();
    response.form_version = "1".into();
    let mut s = Session::new(Arc::clone(&form), response, &mut env).unwrap();
    s.set_answer(&p("/village"), Some("V".into()), &mut env)
        .unwrap();
    s.add_repeat_instance(&p("/households"), &mut env).unwrap();
    s.add_repeat_instance(&p("/households"), &mut env).unwrap();
    s.set_answer(&p("/households[1]/size"), Some("2".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/households[2]/size"), Some("1".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/households[1]/head"), Some("Ana".into()), &mut env)
        .unwrap();
    s.set_answer(
        &p("/households[1]/people[1]/age"),
        Some("30".into()),
        &mut env,
    )
    .unwrap();
    s.set_answer(
        &p("/households[1]/people[2]/age"),
        Some("4".into()),
        &mut env,
    )
    .unwrap();
    s.set_answer(
        &p("/households[2]/people[1]/age"),
        Some("70".into()),
        &mut env,
    )
    .unwrap();
    assert_eq!(value(&s, "/households[1]/hh_total"), Some("34"));
    assert_eq!(value(&s, "/households[2]/hh_total"), Some("70"));
    assert_eq!(value(&s, "/households[1]/people_count"), Some("2"));
    assert_eq!(value(&s, "/all_ages"), Some("104"));
    assert_eq!(value(&s, "/households_count"), Some("2"));
    assert_eq!(value(&s, "/households[1]/people[2]/label"), Some("V/Ana/2"));
    // Required depends on the household's own size.
    let required = |s: &Session| -> Vec<String> {
        s.validate("en")
            .into_iter()
            .filter(|v| v.code == ViolationCode::Required)
            .map(|v| v.path.to_string())
            .collect()
    };
    s.set_answer(&p("/households[1]/people[1]/age"), None, &mut env)
        .unwrap();
    assert_eq!(required(&s), ["/households[1]/people[1]/age"]);
    // Upstream changes reach every nested instance.
    s.set_answer(&p("/village"), Some("W".into()), &mut env)
        .unwrap();
    assert_eq!(value(&s, "/households[1]/people[2]/label"), Some("W/Ana/2"));
    // Removing a household updates the aggregates above it.
    s.remove_repeat_instance(&p("/households[1]"), &mut env)
        .unwrap();
    assert_eq!(value(&s, "/all_ages"), Some("70"));
    assert_eq!(value(&s, "/households_count"), Some("1"));
    s.set_answer(&p("/households[1]/size"), Some("0".into()), &mut env)
        .unwrap();
    assert_eq!(value(&s, "/all_ages"), Some("0"));
    assert!(matches!(
        s.set_answer(&p("/households[1]/head"), Some("x".into()), &mut env),
        Err(EngineError::ReadOnly(_))
    ));
    let fresh = Session::new(Arc::clone(&form), s.response().clone(), &mut env).unwrap();
    assert_eq!(fresh.view("en"), s.view("en"));
    assert_eq!(fresh.response(), s.response());
}

#[test]
fn a_default_may_carry_the_previous_instance_forward() {
    let form: Form = serde_json::from_value(json!({
        "id": "carry", "version": "1", "title": "Carry forward",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en",
        "body": [
            {"type": "repeat", "name": "visits", "body": [
                {"type": "text", "name": "village",
                 "default": "indexed-repeat(${village}, ${visits}, position(..) - 1)"}
            ]}
        ]
    }))
    .unwrap();
    let form = Arc::new(CompiledForm::compile(form).unwrap_or_else(|d| panic!("{d:#?}")));
    let mut env = env();
    let mut response = empty_response();
    response.form_id = "carry".into();
    response.form_version = "1".into();
    let mut s = Session::new(form, response, &mut env).unwrap();
    s.add_repeat_instance(&p("/visits"), &mut env).unwrap();
    assert_eq!(value(&s, "/visits[1]/village"), None);
    s.set_answer(&p("/visits[1]/village"), Some("Kisumu".into()), &mut env)
        .unwrap();
    s.add_repeat_instance(&p("/visits"), &mut env).unwrap();
    assert_eq!(value(&s, "/visits[2]/village"), Some("Kisumu"));
}

#[test]
fn a_default_reading_its_own_instance_is_still_refused() {
    let form: Form = serde_json::from_value(json!({
        "id": "selfish", "version": "1", "title": "Self",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en",
        "body": [{"type": "text", "name": "x", "default": "concat(${x}, 'a')"}]
    }))
    .unwrap();
    let Err(diagnostics) = CompiledForm::compile(form) else {
        panic!("a default reading its own field compiled")
    };
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.contains("refers to itself")),
        "{diagnostics:#?}"
    );
}

#[test]
fn an_answer_its_choice_filter_no_longer_offers_is_kept_and_flagged() {
    let (mut s, mut env) = started();
    s.set_answer(&p("/country"), Some("ua".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/region"), Some("kyiv".into()), &mut env)
        .unwrap();
    let region_violations = |s: &Session, lang: &str| -> Vec<String> {
        s.validate(lang)
            .into_iter()
            .filter(|v| v.path == "/region")
            .map(|v| v.message)
            .collect()
    };
    assert!(region_violations(&s, "en").is_empty());
    s.set_answer(&p("/country"), Some("mx".into()), &mut env)
        .unwrap();
    assert_eq!(
        value(&s, "/region"),
        Some("kyiv"),
        "nothing is cleared silently"
    );
    assert_eq!(
        region_violations(&s, "en"),
        ["“kyiv” is no longer among the choices offered here; choose again."]
    );
    let in_view = s
        .view("es")
        .pages
        .iter()
        .flat_map(|pg| &pg.items)
        .find_map(|i| match i {
            ItemView::Field(f) if f.name == "region" => Some(f.violations.len()),
            _ => None,
        });
    assert_eq!(in_view, Some(1));
    s.set_answer(&p("/region"), Some("oaxaca".into()), &mut env)
        .unwrap();
    assert!(region_violations(&s, "en").is_empty());
}

#[test]
fn every_field_node_reads_its_own_field_from_the_form() {
    // Nodes locate their field in the form's body instead of holding a copy; a wrong
    // index path would show another field's labels and rules.
    let compiled = CompiledForm::compile(crate::stress::generate(400, 3)).expect("compiles");
    let mut fields = 0;
    let mut nested = 0;
    for (idx, node) in compiled.nodes.iter().enumerate() {
        match node.kind {
            compile::NodeKind::Field(kind) => {
                let field = compiled.field(idx).expect("a field node has its field");
                assert_eq!(
                    (field.name.as_str(), field.kind),
                    (node.name.as_str(), kind)
                );
                fields += 1;
                nested += usize::from(node.parent != Some(compile::ROOT));
            }
            _ => assert!(
                compiled.field(idx).is_none(),
                "{} is not a field",
                node.name
            ),
        }
    }
    assert_eq!(fields, 400);
    assert!(
        nested > 300,
        "only {nested} fields inside groups or repeats"
    );
}
