//! pyxform's own markdown XLSForms: the ones pyxform rejects must be rejected, the
//! others must import cleanly. Remaining failures are listed, with reasons, in
//! `conformance/pyxform-failures.md`; the pass count may not drop below
//! `conformance/pyxform-baseline.txt`. Set `VOICES_BLESS=1` to rewrite both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use voices_xlsform::{import_markdown, ImportOptions};

fn shared(path: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(path);
    assert!(
        p.exists(),
        "conformance material missing: {} (the repository must sit next to shared/)",
        p.display()
    );
    p
}

#[test]
fn pyxform_markdown_cases() {
    let text = std::fs::read_to_string(shared("conformance/pyxform-md-cases.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = json["cases"].as_array().expect("cases array");
    let options = ImportOptions {
        source_name: "data".into(),
        lenient: false,
    };
    let mut passed = 0;
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in cases {
        let id = case["id"].as_str().unwrap_or("?");
        let md = case["md"].as_str().unwrap_or("");
        let expect_error = case["expect_error"].as_bool().unwrap_or(false);
        let test = format!(
            "{}:{} {}",
            case["source"]["file"].as_str().unwrap_or("?"),
            case["source"]["line"],
            case["source"]["test"].as_str().unwrap_or("?")
        );
        let report = import_markdown(md, &options);
        if report.has_errors() == expect_error {
            passed += 1;
            continue;
        }
        let reason = if expect_error {
            let file = case["source"]["file"].as_str().unwrap_or("?");
            format!("accepted, pyxform rejects ({file})")
        } else {
            let first = report.errors().next().expect("has errors");
            format!("rejected: {}", first.code)
        };
        let detail = match report.errors().next() {
            Some(e) if !expect_error => format!("{id} {test}: {}", e.render("md")),
            _ => format!("{id} {test}"),
        };
        failures.entry(reason).or_default().push(detail);
    }
    let failed = cases.len() - passed;
    let mut listing = format!(
        "# pyxform markdown cases Voices does not match\n\n{passed} passed, {failed} failed (of {}).\n\
         Regenerate with `VOICES_BLESS=1 cargo test -p voices-xlsform --test pyxform_cases`.\n",
        cases.len()
    );
    for (reason, list) in &failures {
        println!("  {reason}: {}", list.len());
        listing.push_str(&format!(
            "\n## {reason} ({})\n\n{}\n\n",
            list.len(),
            explain(reason)
        ));
        for line in list {
            listing.push_str(&format!("- {line}\n"));
        }
    }
    println!("pyxform: {passed} passed, {failed} failed");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let baseline_path = dir.join("pyxform-baseline.txt");
    if std::env::var_os("VOICES_BLESS").is_some() {
        std::fs::write(dir.join("pyxform-failures.md"), listing).unwrap();
        std::fs::write(&baseline_path, format!("{passed}\n")).unwrap();
        return;
    }
    let baseline: usize = std::fs::read_to_string(&baseline_path)
        .unwrap_or_else(|e| panic!("{}: {e}", baseline_path.display()))
        .trim()
        .parse()
        .expect("baseline is a number");
    assert!(
        passed >= baseline,
        "pyxform conformance dropped: {passed} passed, the committed baseline is {baseline}"
    );
}

/// Why Voices differs from pyxform in each category of failure.
fn explain(reason: &str) -> &'static str {
    const REASONS: &[(&str, &str)] = &[
        ("entities", "ODK entities are not used by Voices (the sheet is ignored with a warning). The declaration rules (columns, list names, labels, save_to targets and duplicates) are checked as pyxform does; pyxform's save_to scope and meta-block topology rules are not replicated."),
        ("test_external_instances", "External instances (xml-external, csv-external, pulldata files) are not loaded by Voices; their ids are checked as pyxform checks them (duplicate-instance), and a case listed here is one that check misses."),
        ("test_pyxform_test_case", "A test of pyxform's own test harness (it asserts an error message of the wrong type), not of the form."),
        ("test_repeat", "pyxform rejects names that clash with the XML it generates (the survey root, nested repeats in other contexts, generated count elements); Voices generates no XML, so these forms are valid."),
        ("test_search_function", "The search() appearance (a Collect-only external lookup) is kept as an appearance; pyxform's rules on reusing its choice list are not replicated."),
        ("test_settings", "pyxform rejects an invalid root name derived from the file name; Voices derives a valid form id from any file name."),
        ("bad-expression", "pyxform passes expressions through unchecked (ODK Validate rejects them later); Voices parses them at import, and these are not valid expressions."),
        ("cycle", "The form checker reports a default or relevance that reads the same field (in another repeat instance, or through pulldata) as a cycle; pyxform accepts these. Raised with the engine: a default is evaluated once, so reading the previous instance is not a cycle."),
        ("invalid-choice-name", "Voices stores multiple answers space-separated, so its checker rejects choice names with spaces, which pyxform accepts for select_one lists."),
        ("duplicate-instance", "pyxform 4.5 refuses these workbooks too (`ValidationError: Instance names must be unique within a form`, checked by running it); the case's expectation, taken from pyxform's test file, says they import, so Voices follows pyxform rather than the case."),
        ("duplicate-name", "Voices needs names unique outside repeats; a repeat and a top-level group with the same name cannot be renamed apart because the group is not inside another group."),
        ("unknown-reference", "${instanceID} (the XForm's instance id) is not a field in Voices; the response id is kept by the app, not in the answers."),
    ];
    REASONS
        .iter()
        .find(|(key, _)| reason.contains(key))
        .map(|(_, why)| *why)
        .unwrap_or("No reason recorded yet.")
}
