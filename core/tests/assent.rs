//! A minor's assent after the guardian's consent: asked only when `minor` holds and
//! consent was given, recorded with its text version, and a refusal closes everything
//! after it even though the guardian agreed; the checker refuses its misuse.

use std::sync::Arc;

use voices_core::check::check_source;
use voices_core::diagnostic::Code;
use voices_core::engine::{
    validate_response, AnswerPath, CompiledForm, EngineError, PageKind, Session, ViolationCode,
};
use voices_core::env::FixedEnvironment;
use voices_core::response::{Answer, InterviewOutcome};
use voices_core::{Form, Response};

const FORM: &str = r#"{
  "id": "a", "version": "1", "title": "Survey",
  "languages": [{"code": "en", "name": "English"}], "default_language": "en",
  "body": [
    {"type": "consent", "text_version": "c1", "text": "We ask the respondent (or a guardian)…"},
    {"type": "integer", "name": "age", "label": "Age", "required": true},
    {"type": "assent", "text_version": "a1", "text": "Your guardian agreed, but you decide…",
     "minor": "${age} < 18", "decline_message": "That is fine. Thank you."},
    {"type": "text", "name": "school", "label": "School", "required": true},
    {"type": "text", "name": "work", "label": "Work", "required": true, "relevant": "${age} >= 18"}
  ]
}"#;

fn env() -> FixedEnvironment {
    FixedEnvironment::new(
        chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+02:00").unwrap(),
        7,
    )
}

fn compiled() -> Arc<CompiledForm> {
    let form: Form = serde_json::from_str(FORM).unwrap();
    Arc::new(CompiledForm::compile(form).unwrap())
}

fn empty() -> Response {
    Response {
        id: "r1".into(),
        form_id: "a".into(),
        form_version: "1".into(),
        answers: Default::default(),
        consent: None,
        privacy: Default::default(),
        matching: Default::default(),
        selections: Default::default(),
        outcome: None,
    }
}

fn session(env: &mut FixedEnvironment) -> Session {
    Session::new(compiled(), empty(), env).unwrap()
}

fn p(s: &str) -> AnswerPath {
    AnswerPath::parse(s).unwrap()
}

fn has_page(s: &Session, path: &str) -> bool {
    s.view("en")
        .pages
        .iter()
        .any(|pg| pg.path.as_ref() == Some(&p(path)))
}

fn violations_at(s: &Session, path: &str) -> Vec<ViolationCode> {
    s.validate("en")
        .into_iter()
        .filter(|v| v.path == p(path))
        .map(|v| v.code)
        .collect()
}

#[test]
fn an_adult_is_never_asked_for_assent() {
    let mut env = env();
    let mut s = session(&mut env);
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("34".into()), &mut env)
        .unwrap();
    assert!(!has_page(&s, "/assent"));
    assert!(matches!(
        s.record_assent(true, &mut env),
        Err(EngineError::AssentNotAsked)
    ));
    // The questions after the assent block are open to an adult.
    s.set_answer(&p("/school"), Some("none".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/work"), Some("farm".into()), &mut env)
        .unwrap();
    assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
    assert_eq!(s.response().consent.as_ref().unwrap().assent, None);
}

#[test]
fn a_minor_is_asked_only_after_the_guardian_consented() {
    let mut env = env();
    let mut s = session(&mut env);
    // Before consent nothing is open, the assent included.
    assert!(matches!(
        s.record_assent(true, &mut env),
        Err(EngineError::AssentBeforeConsent)
    ));
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("15".into()), &mut env)
        .unwrap();
    let page = s
        .view("en")
        .pages
        .into_iter()
        .find(|pg| pg.path.as_ref() == Some(&p("/assent")))
        .expect("the assent page");
    assert_eq!(page.kind, PageKind::Consent);
    let view = page.consent.expect("its consent view");
    assert!(view.assent);
    assert_eq!(view.text_version, "a1");
    // Nothing after the assent is asked before the minor answers.
    assert_eq!(violations_at(&s, "/assent"), vec![ViolationCode::Consent]);
    assert!(violations_at(&s, "/school").is_empty());
    assert!(matches!(
        s.set_answer(&p("/school"), Some("x".into()), &mut env),
        Err(EngineError::NotRelevant(_))
    ));

    s.record_assent(true, &mut env).unwrap();
    let record = s.response().consent.clone().unwrap();
    let assent = record.assent.expect("assent recorded with the consent");
    assert!(record.given && assent.given);
    assert_eq!(assent.text_version, "a1");
    assert_eq!(assent.at, "2026-12-07T10:00:00+02:00");
    assert_eq!(
        s.response().answers.0["assent"],
        Answer::Value("yes".into())
    );
    s.set_answer(&p("/school"), Some("Nr 3".into()), &mut env)
        .unwrap();
    assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
    // The work question is for adults; a minor is not asked it.
    assert!(violations_at(&s, "/work").is_empty());
}

#[test]
fn a_minor_s_refusal_overrides_the_guardian_s_consent() {
    let mut env = env();
    let mut s = session(&mut env);
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("16".into()), &mut env)
        .unwrap();
    s.record_assent(false, &mut env).unwrap();
    let record = s.response().consent.clone().unwrap();
    assert!(record.given, "the guardian's yes is kept as it was");
    assert!(!record.assent.unwrap().given);
    // Nothing after the assent is asked or kept; the refusal is a complete record.
    assert!(!has_page(&s, "/school"));
    assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
    let mut response = s.response().clone();
    assert!(!response.answers.0.contains_key("school"));
    // Answers smuggled in after a refusal are refused wherever it is validated.
    response
        .answers
        .0
        .insert("school".into(), Answer::Value("Nr 3".into()));
    let found = validate_response(&compiled(), &response, "en", &mut env);
    assert!(
        found
            .iter()
            .any(|v| v.code == ViolationCode::Consent && v.path == p("/school")),
        "{found:?}"
    );
}

#[test]
fn the_assent_version_is_checked_and_survives_a_round_trip() {
    let mut env = env();
    let mut s = session(&mut env);
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("17".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/assent"), Some("yes".into()), &mut env)
        .unwrap();
    s.set_answer(&p("/school"), Some("Nr 3".into()), &mut env)
        .unwrap();
    let response = s.response().clone();
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["consent"]["assent"]["text_version"], "a1");
    let back: Response = serde_json::from_value(json).unwrap();
    assert_eq!(back, response);
    assert!(validate_response(&compiled(), &back, "en", &mut env).is_empty());

    // A record for another assent text is named as such.
    let mut old = back.clone();
    old.consent
        .as_mut()
        .unwrap()
        .assent
        .as_mut()
        .unwrap()
        .text_version = "a0".into();
    let found = validate_response(&compiled(), &old, "en", &mut env);
    assert!(
        found.iter().any(|v| v.path == p("/assent")
            && v.message
                .contains("Assent was recorded for text version a0")),
        "{found:?}"
    );
    // An answer without its record is not an assent.
    let mut bare = back;
    bare.consent.as_mut().unwrap().assent = None;
    let found = validate_response(&compiled(), &bare, "en", &mut env);
    assert!(
        found
            .iter()
            .any(|v| v.path == p("/assent") && v.message.contains("assent record")),
        "{found:?}"
    );
}

#[test]
fn withdrawing_the_guardian_s_consent_drops_the_assent() {
    let mut env = env();
    let mut s = session(&mut env);
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("15".into()), &mut env)
        .unwrap();
    s.record_assent(true, &mut env).unwrap();
    s.record_consent(false, &mut env).unwrap();
    assert_eq!(s.response().consent.as_ref().unwrap().assent, None);
    assert!(!s.response().answers.0.contains_key("assent"));
    assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
}

#[test]
fn an_interview_ended_before_the_assent_is_not_missing_it() {
    let mut env = env();
    let mut s = session(&mut env);
    s.record_consent(true, &mut env).unwrap();
    s.set_answer(&p("/age"), Some("15".into()), &mut env)
        .unwrap();
    s.record_outcome(
        InterviewOutcome::RespondentNotAvailable,
        None,
        None,
        &mut env,
    )
    .unwrap();
    assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
}

fn codes(form: &str) -> Vec<(Code, String)> {
    check_source(form)
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, d.pointer))
        .collect()
}

#[test]
fn the_checker_refuses_misuse_with_clear_findings() {
    assert!(codes(FORM).is_empty(), "{:?}", codes(FORM));
    // No consent before it.
    let without = FORM.replace(
        r#"{"type": "consent", "text_version": "c1", "text": "We ask the respondent (or a guardian)…"},"#,
        "",
    );
    assert!(codes(&without).contains(&(Code::AssentWithoutConsent, "/body/1".into())));
    // Before the consent.
    let before = FORM.replace(
        r#"{"type": "consent", "text_version": "c1", "text": "We ask the respondent (or a guardian)…"},"#,
        "",
    )
    .replace(
        r#"{"type": "text", "name": "school""#,
        r#"{"type": "consent", "text_version": "c1", "text": "We ask"},
    {"type": "text", "name": "school""#,
    );
    assert!(codes(&before)
        .iter()
        .any(|(c, p)| *c == Code::AssentWithoutConsent && p == "/body/1"));
    // Without `minor`, with `relevant`, `minor` on the consent.
    let no_minor = FORM.replace(r#""minor": "${age} < 18", "#, "");
    assert!(codes(&no_minor).contains(&(Code::AssentWithoutMinor, "/body/2".into())));
    let relevant = FORM.replace(
        r#""minor": "${age} < 18""#,
        r#""minor": "${age} < 18", "relevant": "true()""#,
    );
    assert!(codes(&relevant).contains(&(Code::RelevantOnAssent, "/body/2/relevant".into())));
    let minor_on_consent = FORM.replace(
        r#""text_version": "c1""#,
        r#""text_version": "c1", "minor": "true()""#,
    );
    assert!(codes(&minor_on_consent).contains(&(Code::MinorOnConsent, "/body/0/minor".into())));
    // `minor` reading an answer asked after the assent, or a name that does not exist.
    let later = FORM.replace("${age} < 18", "${school} = 'none'");
    assert!(codes(&later).contains(&(Code::MinorAskedLater, "/body/2/minor".into())));
    let unknown = FORM.replace("${age} < 18", "${agee} < 18");
    assert!(codes(&unknown).contains(&(Code::UnknownReference, "/body/2/minor".into())));
    // Twice, or inside a group.
    let twice = FORM.replace(
        r#"{"type": "text", "name": "school""#,
        r#"{"type": "assent", "name": "assent2", "text_version": "a1", "text": "again", "minor": "true()"},
    {"type": "text", "name": "school""#,
    );
    assert!(codes(&twice).contains(&(Code::MultipleAssent, "/body/3".into())));
    let nested = FORM.replace(
        r#"{"type": "text", "name": "school", "label": "School", "required": true}"#,
        r#"{"type": "group", "name": "g", "body": [{"type": "assent", "name": "a2", "text_version": "a1", "text": "x", "minor": "true()"}]}"#,
    );
    assert!(codes(&nested).contains(&(Code::ConsentNotTopLevel, "/body/3/body/0".into())));
    // What a question has but an assent has not: named, with where.
    for (prop, value) in [
        ("calculation", "'yes'"),
        ("default", "'yes'"),
        ("choices", "yn"),
    ] {
        let bad = FORM.replace(
            r#""minor": "${age} < 18""#,
            &format!(r#""minor": "${{age}} < 18", "{prop}": "{value}""#),
        );
        let report = check_source(&bad);
        let d = report.errors().next().expect("refused");
        assert_eq!(d.code, Code::JsonStructure, "{d:?}");
        assert!(
            d.message.contains(&format!("unknown field `{prop}`")),
            "{}",
            d.message
        );
        assert!(d.line.is_some(), "placed in the source: {d:?}");
    }
}
