//! Names are unique within their parent group or repeat (as in XLSForm): a name used in
//! two groups of one repeat scope is answered at `/grp_a/name`, every other item keeps
//! the path it always had, and `${name}` must say which item it means.

use std::sync::Arc;

use voices_core::answer::FlatAnswers;
use voices_core::check::check_source;
use voices_core::diagnostic::Code;
use voices_core::engine::{validate_response, AnswerPath, CompiledForm, ItemView, Session};
use voices_core::env::FixedEnvironment;
use voices_core::{Form, Response};

const FORM: &str = r#"{
  "id": "roster", "version": "1", "title": "Roster",
  "languages": [{"code": "en", "name": "English"}], "default_language": "en",
  "body": [
    {"type": "text", "name": "village", "label": "Village"},
    {"type": "group", "name": "head", "label": "Head", "body": [
      {"type": "text", "name": "name", "label": "Name"},
      {"type": "integer", "name": "age", "label": "Age", "constraint": ". < 120"}
    ]},
    {"type": "group", "name": "spouse", "label": "Spouse", "body": [
      {"type": "text", "name": "name", "label": "Name"},
      {"type": "integer", "name": "age", "label": "Age",
       "relevant": "${village} != ''", "required": true}
    ]},
    {"type": "repeat", "name": "children", "label": "Children", "body": [
      {"type": "group", "name": "first", "label": "First", "body": [
        {"type": "text", "name": "name", "label": "Name"}
      ]},
      {"type": "group", "name": "second", "label": "Second", "body": [
        {"type": "text", "name": "name", "label": "Name"}
      ]},
      {"type": "text", "name": "village", "label": "Village"},
      {"type": "calculate", "name": "where", "calculation": "concat(${village}, '!')"}
    ]},
    {"type": "calculate", "name": "summary", "calculation": "concat(${village}, ' ', count(${children}))"}
  ]
}"#;

fn env() -> FixedEnvironment {
    FixedEnvironment::new(chrono::DateTime::UNIX_EPOCH.fixed_offset(), 1)
}

fn response(answers: serde_json::Value) -> Response {
    Response {
        id: "0192f0c4-0000-7000-8000-000000000001".into(),
        form_id: "roster".into(),
        form_version: "1".into(),
        answers: serde_json::from_value(answers).unwrap(),
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

#[test]
fn the_form_checks_clean() {
    let report = check_source(FORM);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
}

#[test]
fn a_name_used_in_two_groups_is_answered_through_its_group() {
    let mut env = env();
    let mut session = Session::new(compiled(), response(serde_json::json!({})), &mut env).unwrap();
    session
        .set_answer(&path("/village"), Some("Kisumu".into()), &mut env)
        .unwrap();
    session
        .set_answer(&path("/head/name"), Some("Achieng".into()), &mut env)
        .unwrap();
    session
        .set_answer(&path("/spouse/name"), Some("Otieno".into()), &mut env)
        .unwrap();
    session
        .set_answer(&path("/head/age"), Some("130".into()), &mut env)
        .unwrap();
    session
        .add_repeat_instance(&path("/children"), &mut env)
        .unwrap();
    session
        .set_answer(
            &path("/children[1]/first/name"),
            Some("Akinyi".into()),
            &mut env,
        )
        .unwrap();
    session
        .set_answer(
            &path("/children[1]/village"),
            Some("Kakamega".into()),
            &mut env,
        )
        .unwrap();
    // A plain name is not an address when two groups hold it.
    assert!(session
        .set_answer(&path("/name"), Some("x".into()), &mut env)
        .is_err());

    let answers = &session.response().answers;
    let flat = FlatAnswers::from_tree(answers).unwrap();
    let values: Vec<(&str, &str)> = flat.iter().map(|(p, v)| (p.as_str(), v)).collect();
    assert_eq!(
        values,
        [
            ("/children[1]/first/name", "Akinyi"),
            ("/children[1]/village", "Kakamega"),
            ("/children[1]/where", "Kakamega!"),
            ("/children[]", "1"),
            ("/head/age", "130"),
            ("/head/name", "Achieng"),
            ("/spouse/name", "Otieno"),
            ("/summary", "Kisumu 1"),
            ("/village", "Kisumu"),
        ]
    );

    // Violations and the view name the same paths.
    let violations = session.validate("en");
    let at: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert!(at.contains(&"/head/age"), "{at:?}");
    assert!(at.contains(&"/spouse/age"), "{at:?}");
    let view = session.view("en");
    let shown: Vec<String> = view
        .pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|i| match i {
            ItemView::Field(f) => Some(f.path.to_string()),
            _ => None,
        })
        .collect();
    for expected in [
        "/village",
        "/head/name",
        "/spouse/name",
        "/children[1]/second/name",
    ] {
        assert!(
            shown.iter().any(|p| p == expected),
            "{expected} in {shown:?}"
        );
    }

    // The response reads back to the same answers, and validates the same.
    let saved = session.response().clone();
    let reopened = Session::new(compiled(), saved.clone(), &mut env).unwrap();
    assert_eq!(reopened.response().answers, saved.answers);
    let again = validate_response(&compiled(), &saved, "en", &mut env);
    assert_eq!(again.len(), violations.len(), "{again:#?}");
}

#[test]
fn a_reference_to_a_name_of_two_groups_is_ambiguous_and_names_both() {
    let form = FORM.replace("concat(${village}, ' ', count(${children}))", "${name}");
    let report = check_source(&form);
    let ambiguous: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::AmbiguousReference)
        .collect();
    assert_eq!(ambiguous.len(), 1, "{:#?}", report.diagnostics);
    let message = &ambiguous[0].message;
    assert!(
        message.contains("/body/1/body/0") && message.contains("/body/2/body/0"),
        "{message}"
    );
}

#[test]
fn names_are_unique_within_their_group() {
    let form = FORM.replace(
        r#"{"type": "integer", "name": "age", "label": "Age", "constraint": ". < 120"}"#,
        r#"{"type": "integer", "name": "name", "label": "Age"}"#,
    );
    let report = check_source(&form);
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::DuplicateName && d.pointer == "/body/1/body/1/name"),
        "{:#?}",
        report.diagnostics
    );
}
