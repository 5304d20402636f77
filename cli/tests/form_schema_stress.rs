//! `voices form schema` and `voices form stress`.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn voices() -> Command {
    Command::cargo_bin("voices").expect("the voices binary is built")
}

#[test]
fn schema_prints_the_committed_schema() {
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/form.schema.json"),
    )
    .expect("schemas/form.schema.json");
    let output = voices().args(["form", "schema"]).output().expect("runs");
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).expect("utf-8"), committed);
}

#[test]
fn schema_writes_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("form.schema.json");
    voices()
        .args(["form", "schema", "-o"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("written")).expect("JSON");
    assert_eq!(written["title"], "Voices form");
}

#[test]
fn stress_writes_a_deterministic_form_with_the_requested_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stress.json");
    voices()
        .args(["form", "stress", "--fields", "2000", "--seed", "5", "-o"])
        .arg(&path)
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).expect("written");
    let form = voices_core::Form::from_json(&text).expect("the stress form parses");
    assert_eq!(form, voices_core::stress::generate(2000, 5));
    let stdout = voices()
        .args(["form", "stress", "--fields", "2000", "--seed", "5"])
        .output()
        .expect("runs")
        .stdout;
    assert_eq!(String::from_utf8(stdout).expect("utf-8"), text);
}

#[test]
fn the_written_stress_form_checks_clean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stress.json");
    voices()
        .args(["form", "stress", "--fields", "3000", "--seed", "11", "-o"])
        .arg(&path)
        .assert()
        .success();
    voices()
        .args(["form", "check"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "checked 1 form: 0 errors, 0 warnings",
        ));
}

#[test]
fn stress_refuses_absurd_sizes_with_a_clear_error() {
    voices()
        .args(["form", "stress", "--fields", "100000000"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--fields 100000000 is more than"));
}

#[test]
fn stress_to_an_unwritable_path_says_which() {
    voices()
        .args([
            "form",
            "stress",
            "--fields",
            "10",
            "-o",
            "/nonexistent-dir/stress.json",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot write /nonexistent-dir/stress.json",
        ));
}
