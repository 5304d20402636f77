//! `voices form preview`: what is visible, required, invalid and calculated.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn voices() -> Command {
    Command::cargo_bin("voices").expect("the voices binary is built")
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/forms")
        .join(name)
}

fn answers_file(dir: &Path, json: &str) -> PathBuf {
    let path = dir.join("answers.json");
    std::fs::write(&path, json).expect("write answers");
    path
}

const ANSWERS: &str = r#"{
  "consent": "yes", "country": "ukr", "region": "ukr_kharkiv", "sex": "female",
  "gender_identity": "woman", "age": 34, "hh_size": 3,
  "members": [
    { "member_name": "Olena", "member_age": 7, "member_sex": "female" },
    { "member_name": "Ivan", "member_age": 66 }
  ],
  "main_threats": ["violence", "none"],
  "$privacy": { "/experiences": "private" },
  "$matching": { "/experiences": { "outcome": "handed_over", "by": "Amal", "sex": "female" } },
  "officials_abuse": "yes"
}"#;

fn preview(args: &[&str], answers: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = answers_file(dir.path(), answers);
    let output = voices()
        .args(["form", "preview"])
        .arg(example("human-security-perceptions.json"))
        .arg("--answers")
        .arg(&path)
        .args(["--now", "2026-11-26T10:00:00+02:00"])
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_table_shows_visible_required_invalid_and_calculated() {
    let (code, out, err) = preview(&[], ANSWERS);
    assert_eq!(code, Some(0), "{err}");
    // Visible and required, with the filtered choices of the cascading select.
    assert!(out.contains("/district"), "{out}");
    assert!(out.contains("(2 choices offered)"), "{out}");
    assert!(out.contains("= ukr_kharkiv (Kharkiv oblast)"), "{out}");
    // Invalid: the constraint message of the threats question.
    assert!(
        out.contains("! \"None\" cannot be chosen together with other answers."),
        "{out}"
    );
    // Calculated across the repeat and per instance.
    for line in [
        "/age_band",
        "= 18-49",
        "/children",
        "/members[2]/member_age_band",
        "= 60-69",
        "/women_and_girls",
    ] {
        assert!(out.contains(line), "missing {line}:\n{out}");
    }
    // Repeat instances follow the count expression (hh_size - 1).
    assert!(out.contains("/members[2]/member_name"), "{out}");
    assert!(!out.contains("/members[3]"), "{out}");
    // The privacy-checked section is shown once the outcome is private, flagged sensitive.
    assert!(out.contains("[sensitive]"), "{out}");
    assert!(out.contains("/officials_abuse_kind"), "{out}");
    // Labels use the answers (`${member_name}`).
    assert!(out.contains("How is Ivan related to you?"), "{out}");
}

#[test]
fn the_language_switch_localizes_labels_and_messages() {
    let (code, out, err) = preview(&["--lang", "ar"], ANSWERS);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("right to left"), "{out}");
    assert!(out.contains("البلد"), "{out}");
    assert!(
        out.contains("لا يمكن اختيار \"لا شيء\" مع إجابات أخرى."),
        "{out}"
    );
}

#[test]
fn json_output_has_the_view_calculations_and_violations() {
    let (code, out, err) = preview(&["--json"], ANSWERS);
    assert_eq!(code, Some(0), "{err}");
    let value: Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(value["form"], "community_life");
    assert!(value["view"]["pages"]
        .as_array()
        .is_some_and(|p| p.len() > 5));
    let calculated = value["calculated"].as_array().expect("calculated");
    assert!(calculated
        .iter()
        .any(|c| c["path"] == "/age_band" && c["value"] == "18-49"));
    assert!(calculated
        .iter()
        .any(|c| c["path"] == "/older_people" && c["value"] == "1"));
    let violations = value["violations"].as_array().expect("violations");
    assert!(violations
        .iter()
        .any(|v| v["path"] == "/main_threats" && v["code"] == "constraint"));
    assert!(violations
        .iter()
        .any(|v| v["path"] == "/district" && v["code"] == "required"));
}

#[test]
fn answers_to_questions_that_do_not_apply_are_pointed_out() {
    // No privacy outcome: the sensitive section waits for the check.
    let (code, out, err) = preview(&[], r#"{"consent": "yes", "officials_abuse": "yes"}"#);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("[privacy check]"), "{out}");
    assert!(out.contains("outcome: not recorded"), "{out}");
    let hidden = out
        .split("Answered but not shown")
        .nth(1)
        .expect("a not-shown section");
    assert!(hidden.contains("/officials_abuse"), "{out}");
}

#[test]
fn declined_consent_asks_nothing_more() {
    let (code, out, err) = preview(&[], r#"{"consent": "no"}"#);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("/country"), "{out}");
}

#[test]
fn without_answers_the_empty_form_is_shown() {
    voices()
        .args(["form", "preview"])
        .arg(example("minimal.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains("/village"))
        .stdout(predicate::str::contains("0 of 2 questions answered"));
}

#[test]
fn bad_input_gives_clear_errors() {
    // Answers nested thousands deep must be an error, not a stack overflow.
    let deep = format!("{}1{}", r#"{"a":"#.repeat(5000), "}".repeat(5000));
    for (answers, expected) in [
        ("{\"age\": ", "is not valid JSON"),
        ("[1, 2]", "answers are a JSON object"),
        (r#"{"$oops": 1}"#, "unknown key $oops"),
        (
            r#"{"$privacy": {"/experiences": "maybe"}}"#,
            "is not an outcome (private, not_private or interrupted)",
        ),
        (r#"{"age": {"x": 1}}"#, "field names mapped to values"),
        (&deep, "is not valid JSON: recursion limit exceeded"),
    ] {
        let (code, _, err) = preview(&[], answers);
        let shown: String = answers.chars().take(60).collect();
        assert_eq!(code, Some(2), "{shown}: {err}");
        assert!(err.contains(expected), "{shown}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) = preview(&["--lang", "fr"], "{}");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--lang fr: the form is written in en, ar, uk, es"),
        "{err}"
    );
    voices()
        .args(["form", "preview", "--now", "yesterday"])
        .arg(example("minimal.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--now yesterday: not an RFC 3339 time",
        ));
    voices()
        .args(["form", "preview", "--answers", "/nonexistent/answers.json"])
        .arg(example("minimal.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/answers.json",
        ));
}

#[test]
fn a_form_with_errors_is_not_previewed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let form = dir.path().join("bad.json");
    std::fs::write(
        &form,
        r#"{"id":"t","version":"1","title":"T","languages":[{"code":"en","name":"English"}],
            "default_language":"en","body":[{"type":"text","name":"q","relevant":"${nope}"}]}"#,
    )
    .expect("write");
    voices()
        .args(["form", "preview"])
        .arg(&form)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has errors; fix them first"))
        .stderr(predicate::str::contains("unknown_reference"));
}
