//! `voices form check`: output format, exit codes and hostile input.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

/// Generous: only there so a hang fails the test instead of blocking the suite.
const HANG_GUARD: Duration = Duration::from_secs(300);

fn voices() -> Command {
    let mut command = Command::cargo_bin("voices").expect("the voices binary is built");
    command.timeout(HANG_GUARD);
    command
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/forms")
}

fn form_with_body(body: &str) -> String {
    format!(
        r#"{{
  "id": "t",
  "version": "1",
  "title": "Test",
  "languages": [{{ "code": "en", "name": "English" }}],
  "default_language": "en",
  "body": {body}
}}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&std::ffi::OsStr]) -> Run {
    let output = voices()
        .args(["form", "check"])
        .args(args)
        .output()
        .expect("runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run_file(path: &Path) -> Run {
    run(&[path.as_os_str()])
}

/// The process ended by itself (no signal such as a stack overflow's SIGSEGV/SIGABRT)
/// and did not panic.
fn assert_no_crash(run: &Run) {
    assert!(
        run.code.is_some(),
        "killed by a signal; stderr:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("overflow"),
        "crashed:\n{}",
        run.stderr
    );
}

#[test]
fn the_example_forms_check_clean() {
    let run = run(&[examples_dir().as_os_str()]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("checked 3 forms: 0 errors, 0 warnings"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_error_is_reported_as_file_line_col_pointer_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "bad.json",
        &form_with_body(
            r#"[
    { "type": "integer", "name": "age" },
    { "type": "text", "name": "why", "relevant": "${agee} > 3" }
  ]"#,
        ),
    );
    let run = run_file(&path);
    assert_no_crash(&run);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let expected = format!("{}:9:", path.display());
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&expected))
        .unwrap_or_else(|| panic!("no line starting {expected}:\n{}", run.stdout));
    assert!(
        line.contains(": /body/1/relevant: error[unknown_reference]: ") && line.contains("agee"),
        "{line}"
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with("checked 1 form: 1 error, 0 warnings; 1 form with errors"),
        "{}",
        run.stdout
    );
}

#[test]
fn warnings_come_after_errors_and_do_not_fail_the_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Arabic written left to right and a missing translation: warnings only.
    let warn_only = r#"{
  "id": "t", "version": "1", "title": {"en": "Test", "ar": "اختبار"},
  "languages": [{"code": "en", "name": "English"}, {"code": "ar", "name": "العربية"}],
  "default_language": "en",
  "body": [{"type": "text", "name": "q", "label": {"en": "Question"}}]
}"#;
    let path = write(dir.path(), "warn.json", warn_only);
    let run_warn = run_file(&path);
    assert_eq!(run_warn.code, Some(0), "{}", run_warn.stdout);
    assert!(
        run_warn.stdout.contains(": warning["),
        "{}",
        run_warn.stdout
    );
    assert!(!run_warn.stdout.contains(": error["), "{}", run_warn.stdout);

    let bad = write(
        dir.path(),
        "bad.json",
        &form_with_body(r#"[{ "type": "text", "name": "q", "relevant": "${nope}" }]"#),
    );
    let both = run(&[path.as_os_str(), bad.as_os_str()]);
    assert_eq!(both.code, Some(1));
    let first_warning = both.stdout.find(": warning[").expect("a warning");
    let last_error = both.stdout.rfind(": error[").expect("an error");
    assert!(last_error < first_warning, "{}", both.stdout);

    let quiet = run(&[std::ffi::OsStr::new("--no-warnings"), path.as_os_str()]);
    assert_eq!(quiet.code, Some(0));
    assert!(!quiet.stdout.contains(": warning["), "{}", quiet.stdout);
    assert!(
        quiet.stdout.contains("warning"),
        "the summary still counts them"
    );
}

#[test]
fn malformed_json_gives_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "broken.json",
        "{\n  \"id\": \"t\",\n  \"version\": \n}\n",
    );
    let run = run_file(&path);
    assert_no_crash(&run);
    assert_eq!(run.code, Some(1));
    let prefix = format!("{}:4:", path.display());
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with(&prefix) && l.contains("json_syntax")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_misspelt_property_points_at_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "typo.json",
        &form_with_body(r#"[{ "type": "text", "name": "q", "relevent": "1" }]"#),
    );
    let run = run_file(&path);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("/body/0/relevent: error[json_structure]")
            && run.stdout.contains("relevent"),
        "{}",
        run.stdout
    );
}

#[test]
fn unreadable_inputs_are_reported_and_the_rest_still_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = write(
        dir.path(),
        "good.json",
        &form_with_body(r#"[{ "type": "text", "name": "q", "label": "Q" }]"#),
    );
    let missing = dir.path().join("missing.json");
    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, [0x7b, 0xff, 0xfe, 0x7d]).expect("write");
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).expect("mkdir");
    let run = run(&[
        missing.as_os_str(),
        binary.as_os_str(),
        empty_dir.as_os_str(),
        good.as_os_str(),
    ]);
    assert_no_crash(&run);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("cannot read"), "{}", run.stdout);
    assert!(run.stdout.contains("is not UTF-8 text"), "{}", run.stdout);
    assert!(
        run.stdout.contains("holds no .json files"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("checked 4 forms: 3 errors"),
        "{}",
        run.stdout
    );
}

#[test]
fn json_output_is_machine_readable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "bad.json",
        &form_with_body(r#"[{ "type": "text", "name": "q", "relevant": "${nope}" }]"#),
    );
    let output = voices()
        .args(["form", "check", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(value[0]["errors"], 1);
    assert_eq!(value[0]["diagnostics"][0]["pointer"], "/body/0/relevant");
    assert_eq!(value[0]["diagnostics"][0]["code"], "unknown_reference");
}

#[test]
fn ten_thousand_errors_are_all_listed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut body = String::from("[");
    for i in 0..10_000 {
        if i > 0 {
            body.push(',');
        }
        write!(
            body,
            r#"{{"type":"text","name":"q{i}","relevant":"${{q{i}}} +"}}"#
        )
        .expect("write to string");
    }
    body.push(']');
    let path = write(dir.path(), "many.json", &form_with_body(&body));
    let run = run_file(&path);
    assert_no_crash(&run);
    assert_eq!(run.code, Some(1));
    let listed = run
        .stdout
        .lines()
        .filter(|l| l.contains("error[expression_syntax]"))
        .count();
    assert_eq!(listed, 10_000);
    assert!(
        run.stdout.contains("checked 1 form: 10000 errors"),
        "{}",
        run.stdout.lines().last().unwrap_or_default()
    );
}

#[test]
fn a_fifty_megabyte_form_is_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut choices = String::with_capacity(52 * 1024 * 1024);
    let mut i = 0usize;
    while choices.len() < 50 * 1024 * 1024 {
        if i > 0 {
            choices.push(',');
        }
        write!(
            choices,
            r#"{{"name":"c{i}","label":"Choice number {i} in a very long list"}}"#
        )
        .expect("write to string");
        i += 1;
    }
    let text = form_with_body(
        r#"[{ "type": "select_one", "name": "q", "label": "Q", "choices": "big" }]"#,
    )
    .replace(
        "\n  \"body\"",
        &format!("\n  \"choices\": {{ \"big\": [{choices}] }},\n  \"body\""),
    );
    assert!(text.len() >= 50 * 1024 * 1024);
    let path = write(dir.path(), "big.json", &text);
    let run = run_file(&path);
    assert_no_crash(&run);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains("checked 1 form: 0 errors"),
        "{}",
        run.stdout
    );
}

#[test]
fn groups_nested_a_thousand_deep_give_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut body = String::new();
    for i in 0..1000 {
        write!(body, r#"[{{"type":"group","name":"g{i}","body":"#).expect("write");
    }
    body.push_str(r#"[{"type":"text","name":"q"}]"#);
    for _ in 0..1000 {
        body.push_str("}]");
    }
    let path = write(dir.path(), "deep.json", &form_with_body(&body));
    let run = run_file(&path);
    assert_no_crash(&run);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("nested too deeply"), "{}", run.stdout);
}

#[test]
fn a_hundred_thousand_character_expression_gives_a_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A long flat expression, and one nested 50,000 parentheses deep.
    let flat = vec!["${a}"; 100_000 / 7 + 2].join(" + ");
    let nested = format!("{}${{a}}{}", "(".repeat(50_000), ")".repeat(50_000));
    for (name, expression) in [("flat", flat), ("nested", nested)] {
        assert!(expression.len() >= 100_000);
        let body = format!(
            r#"[{{"type":"integer","name":"a"}},{{"type":"calculate","name":"b","calculation":"{expression}"}}]"#
        );
        let path = write(dir.path(), &format!("{name}.json"), &form_with_body(&body));
        let run = run_file(&path);
        assert_no_crash(&run);
        assert!(
            matches!(run.code, Some(0) | Some(1)),
            "{name}: exit {:?}\n{}",
            run.code,
            run.stderr
        );
        assert!(
            run.stdout.contains("checked 1 form:"),
            "{name}: {}",
            run.stdout
        );
    }
}

#[test]
fn no_files_is_a_usage_error() {
    voices()
        .args(["form", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("FILE"));
}
