//! `voices form import` and `voices form export`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn voices() -> Command {
    Command::cargo_bin("voices").expect("the voices binary is built")
}

fn conformance_workbook(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/xlsform")
        .join(name);
    assert!(
        p.exists(),
        "conformance workbook missing: {} (the repository must sit next to shared/)",
        p.display()
    );
    p
}

#[test]
fn duplicate_choice_names_are_errors_naming_the_cell_and_lenient_imports() {
    let workbook = conformance_workbook("unhcr-americas__demo.xlsx");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("form.json");
    voices()
        .args(["form", "import"])
        .arg(&workbook)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unhcr-americas__demo.xlsx:choices!B7: error: choice list 'school_list' has the name 'never' twice",
        ))
        .stderr(predicate::str::contains("no form written"));
    assert!(!out.exists(), "no form is written when there are errors");
    voices()
        .args(["form", "import", "--lenient"])
        .arg(&workbook)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: choice list 'school_list'",
        ));
    let json = std::fs::read_to_string(&out).expect("form written");
    assert!(json.contains("\"id\": \"RQ-etr6-v1\""), "{json}");
}

#[test]
fn export_then_import_gives_back_the_form() {
    let form = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/forms/human-security-perceptions.json");
    let dir = tempfile::tempdir().expect("temp dir");
    let xlsx = dir.path().join("hs.xlsx");
    voices()
        .args(["form", "export"])
        .arg(&form)
        .arg("-o")
        .arg(&xlsx)
        .assert()
        .success();
    let output = voices()
        .args(["form", "import"])
        .arg(&xlsx)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&form).unwrap()).unwrap();
    let mut imported: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    if let Some(schema) = original.get("$schema") {
        imported["$schema"] = schema.clone();
    }
    assert_eq!(imported, original);
}

#[test]
fn markdown_forms_import_and_bad_cells_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let md = dir.path().join("bad.md");
    std::fs::write(
        &md,
        "| survey |\n| | type | name | label |\n| | text | q1 | Q1 |\n| | select_one nope | q2 | Q2 |\n| | begin group | g | G |\n",
    )
    .unwrap();
    voices()
        .args(["form", "import"])
        .arg(&md)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "bad.md:survey!A3: error: choice list 'nope' is not defined",
        ))
        .stderr(predicate::str::contains(
            "bad.md:survey!4: error: 'begin group' at row 4 has no matching 'end group'",
        ));
}
