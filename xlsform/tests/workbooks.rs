//! The four real-world workbooks in `shared/conformance/xlsform/`.

use std::path::{Path, PathBuf};

use voices_xlsform::{import_file, ImportOptions, ImportReport};

fn workbook(name: &str) -> PathBuf {
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

fn import(name: &str, lenient: bool) -> ImportReport {
    let options = ImportOptions {
        source_name: String::new(),
        lenient,
    };
    import_file(&workbook(name), &options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn render(name: &str, report: &ImportReport) -> String {
    report
        .diagnostics
        .iter()
        .map(|d| d.render(name))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn clean_workbooks_import_without_errors() {
    for name in [
        "humind__REACH_2024_MSNA-kobo-tool_draft_v11.xlsx",
        "cleaningtools__form.xlsx",
    ] {
        let report = import(name, false);
        println!("{}", render(name, &report));
        assert!(!report.has_errors(), "{name}:\n{}", render(name, &report));
        assert_checks_clean(name, &report);
    }
}

#[test]
fn workbooks_with_duplicate_choices_are_rejected_as_pyxform_does_and_lenient_imports_them() {
    for name in [
        "unhcr-americas__demo.xlsx",
        "validmeasures__liberiaCoverage.xlsx",
    ] {
        let strict = import(name, false);
        let codes: Vec<&str> = strict.errors().map(|d| d.code.as_ref()).collect();
        assert!(!codes.is_empty(), "{name} must be rejected");
        assert!(
            codes.iter().all(|c| *c == "duplicate-choice"),
            "{name}: only duplicate choice names may be errors:\n{}",
            render(name, &strict)
        );
        let lenient = import(name, true);
        println!("{}", render(name, &lenient));
        assert!(!lenient.has_errors(), "{name}:\n{}", render(name, &lenient));
        assert_checks_clean(name, &lenient);
        assert!(lenient.warnings().any(|d| d.code == "duplicate-choice"));
    }
}

/// The imported form passes the Voices form checker on its own (what `voices form check`
/// runs), not only the importer's checks.
fn assert_checks_clean(name: &str, report: &ImportReport) {
    let form = report.form.as_ref().expect("imported");
    let errors: Vec<String> = voices_core::check::check_form(form)
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.pointer, d.message))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} fails the checker:\n{}",
        errors.join("\n")
    );
}
