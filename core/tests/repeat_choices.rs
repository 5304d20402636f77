//! Choices from the answers of a field inside a repeat (`choices_from`, XLSForm's
//! `select_one ${name}`): each instance that answered offers its answer, the choice
//! filter runs on each instance, and an answer no instance offers any more is flagged.

use std::sync::Arc;

use voices_core::check::check_source;
use voices_core::diagnostic::Code;
use voices_core::engine::{
    validate_response, AnswerPath, CompiledForm, FieldView, ItemView, Session,
};
use voices_core::env::FixedEnvironment;
use voices_core::{Form, Response};

const FORM: &str = r#"{
  "id": "household", "version": "1", "title": "Household",
  "languages": [{"code": "en", "name": "English"}], "default_language": "en",
  "body": [
    {"type": "integer", "name": "min_age", "label": "Youngest age to interview"},
    {"type": "repeat", "name": "members", "label": "Member", "body": [
      {"type": "text", "name": "member_name", "label": "Name"},
      {"type": "group", "name": "about", "label": "About", "page": false, "body": [
        {"type": "integer", "name": "member_age", "label": "Age"}
      ]}
    ]},
    {"type": "select_one", "name": "head", "label": "Head of household",
     "choices_from": "member_name"},
    {"type": "select_multiple", "name": "adults", "label": "Adults to interview",
     "choices_from": "member_name", "choice_filter": "${member_age} >= ${min_age}"},
    {"type": "repeat", "name": "visits", "label": "Visit", "body": [
      {"type": "integer", "name": "skip", "label": "Member number to leave out"},
      {"type": "select_one", "name": "visited", "label": "Who was visited",
       "choices_from": "member_name", "choice_filter": "position() != current()/../skip"}
    ]}
  ]
}"#;

fn env() -> FixedEnvironment {
    FixedEnvironment::new(chrono::DateTime::UNIX_EPOCH.fixed_offset(), 1)
}

fn response() -> Response {
    Response {
        id: "0192f0c4-0000-7000-8000-000000000002".into(),
        form_id: "household".into(),
        form_version: "1".into(),
        answers: Default::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    }
}

fn path(text: &str) -> AnswerPath {
    text.parse().unwrap()
}

fn compiled() -> Arc<CompiledForm> {
    Arc::new(CompiledForm::compile(Form::from_json(FORM).unwrap()).unwrap())
}

/// A session with three members: Amina (34), Baraka (12) and one not named yet (50).
fn household() -> (Session, FixedEnvironment) {
    let mut env = env();
    let mut s = Session::new(compiled(), response(), &mut env).unwrap();
    for (i, (name, age)) in [(Some("Amina"), "34"), (Some("Baraka"), "12"), (None, "50")]
        .into_iter()
        .enumerate()
    {
        s.add_repeat_instance(&path("/members"), &mut env).unwrap();
        let n = i + 1;
        if let Some(name) = name {
            s.set_answer(
                &path(&format!("/members[{n}]/member_name")),
                Some(name.into()),
                &mut env,
            )
            .unwrap();
        }
        s.set_answer(
            &path(&format!("/members[{n}]/member_age")),
            Some(age.into()),
            &mut env,
        )
        .unwrap();
    }
    (s, env)
}

fn field(s: &Session, at: &str) -> FieldView {
    s.view("en")
        .pages
        .iter()
        .flat_map(|page| &page.items)
        .find_map(|item| match item {
            ItemView::Field(f) if f.path.as_str() == at => Some((**f).clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{at} is not in the view"))
}

fn offered(s: &Session, at: &str) -> Vec<String> {
    field(s, at)
        .choices
        .expect("a select has choices")
        .into_iter()
        .map(|c| {
            assert_eq!(c.name, c.label, "the answer is both name and label");
            c.name
        })
        .collect()
}

#[test]
fn the_form_checks_clean() {
    let report = check_source(FORM);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
}

#[test]
fn each_answered_instance_offers_its_answer_in_instance_order() {
    let (mut s, mut env) = household();
    assert_eq!(offered(&s, "/head"), ["Amina", "Baraka"]);
    // Naming the third member offers them; a second "Amina" is offered once.
    s.set_answer(
        &path("/members[3]/member_name"),
        Some("Amina".into()),
        &mut env,
    )
    .unwrap();
    assert_eq!(offered(&s, "/head"), ["Amina", "Baraka"]);
    s.set_answer(
        &path("/members[3]/member_name"),
        Some("Chausiku".into()),
        &mut env,
    )
    .unwrap();
    assert_eq!(offered(&s, "/head"), ["Amina", "Baraka", "Chausiku"]);
    s.remove_repeat_instance(&path("/members[1]"), &mut env)
        .unwrap();
    assert_eq!(offered(&s, "/head"), ["Baraka", "Chausiku"]);
}

#[test]
fn the_filter_reads_the_offering_instance_and_the_select_s_own_place() {
    let (mut s, mut env) = household();
    s.set_answer(
        &path("/members[3]/member_name"),
        Some("Chausiku".into()),
        &mut env,
    )
    .unwrap();
    // `${member_age}` is the age in each member's instance; `${min_age}` the form's.
    s.set_answer(&path("/min_age"), Some("18".into()), &mut env)
        .unwrap();
    assert_eq!(offered(&s, "/adults"), ["Amina", "Chausiku"]);
    s.set_answer(&path("/min_age"), Some("40".into()), &mut env)
        .unwrap();
    assert_eq!(offered(&s, "/adults"), ["Chausiku"]);
    // `position()` is the member's number, `current()` the select in its visit.
    s.add_repeat_instance(&path("/visits"), &mut env).unwrap();
    s.set_answer(&path("/visits[1]/skip"), Some("2".into()), &mut env)
        .unwrap();
    assert_eq!(offered(&s, "/visits[1]/visited"), ["Amina", "Chausiku"]);
}

#[test]
fn an_answer_no_instance_offers_any_more_is_kept_and_flagged() {
    let (mut s, mut env) = household();
    s.set_answer(&path("/head"), Some("Baraka".into()), &mut env)
        .unwrap();
    s.set_answer(&path("/min_age"), Some("10".into()), &mut env)
        .unwrap();
    s.set_answer(&path("/adults"), Some("Amina Baraka".into()), &mut env)
        .unwrap();
    assert!(s.validate("en").is_empty(), "{:#?}", s.validate("en"));
    s.set_answer(
        &path("/members[2]/member_name"),
        Some("Bakari".into()),
        &mut env,
    )
    .unwrap();
    let messages: Vec<(String, String)> = s
        .validate("en")
        .into_iter()
        .map(|v| (v.path.to_string(), v.message))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "/head".to_owned(),
                "“Baraka” is no longer among the choices offered here; choose again.".to_owned()
            ),
            (
                "/adults".to_owned(),
                "“Baraka” is no longer among the choices offered here; choose again.".to_owned()
            ),
        ]
    );
    assert_eq!(field(&s, "/head").value.as_deref(), Some("Baraka"));
    // The server holds a response to the same rule.
    let stored = s.response().clone();
    drop(s);
    let violations = validate_response(&compiled(), &stored, "en", &mut env);
    assert_eq!(violations.len(), 2, "{violations:#?}");
}

#[test]
fn choices_from_must_name_a_field_inside_a_repeat_and_stand_alone() {
    let form = |select: &str| {
        format!(
            r#"{{"id": "f", "version": "1", "title": "F",
              "languages": [{{"code": "en", "name": "English"}}], "default_language": "en",
              "body": [
                {{"type": "text", "name": "village", "label": "Village"}},
                {{"type": "repeat", "name": "members", "label": "Member", "body": [
                  {{"type": "text", "name": "member_name", "label": "Name"}}
                ]}},
                {select}
              ],
              "choices": {{"yesno": [{{"name": "yes", "label": "Yes"}}]}}}}"#
        )
    };
    let codes = |select: &str| -> Vec<Code> {
        check_source(&form(select))
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect()
    };
    assert_eq!(
        codes(r#"{"type": "select_one", "name": "q", "label": "Q", "choices_from": "village"}"#),
        [Code::ChoicesFromNotInRepeat]
    );
    assert_eq!(
        codes(r#"{"type": "select_one", "name": "q", "label": "Q", "choices_from": "members"}"#),
        [Code::ChoicesFromNotInRepeat]
    );
    assert_eq!(
        codes(r#"{"type": "select_one", "name": "q", "label": "Q", "choices_from": "nobody"}"#),
        [Code::UnknownReference]
    );
    assert_eq!(
        codes(
            r#"{"type": "select_one", "name": "q", "label": "Q", "choices": "yesno", "choices_from": "member_name"}"#
        ),
        [Code::ConflictingChoiceSources]
    );
    assert!(codes(
        r#"{"type": "select_one", "name": "q", "label": "Q", "choices_from": "member_name"}"#
    )
    .is_empty());
}
