//! End to end: a real KoboToolbox workbook, imported, runs in the Voices engine and its
//! first pages can be filled in as an enumerator would.

use std::path::Path;
use std::sync::Arc;

use chrono::DateTime;
use voices_core::engine::{CompiledForm, ItemView, Session};
use voices_core::env::FixedEnvironment;
use voices_core::form::FieldType;
use voices_core::response::{Answers, Response};
use voices_xlsform::{import_file, ImportOptions};

fn answer_for(kind: FieldType, choices: Option<&str>) -> Option<String> {
    let value = match kind {
        FieldType::SelectOne | FieldType::SelectMultiple | FieldType::Rank => choices?,
        FieldType::Integer => "1",
        FieldType::Decimal => "1.5",
        FieldType::Text | FieldType::Barcode => "test",
        FieldType::Date => "2024-05-01",
        FieldType::Time => "10:00:00.000+00:00",
        FieldType::Datetime => "2024-05-01T10:00:00.000+00:00",
        FieldType::Geopoint => "12.5 -1.5 0 5",
        FieldType::Acknowledge => "OK",
        _ => return None,
    };
    Some(value.to_owned())
}

#[test]
fn the_cleaningtools_workbook_runs_and_its_first_pages_fill_in() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/xlsform/cleaningtools__form.xlsx");
    assert!(
        path.exists(),
        "conformance workbook missing: {} (the repository must sit next to shared/)",
        path.display()
    );
    let report = import_file(&path, &ImportOptions::default()).unwrap();
    let form = report.form.expect("imports");
    let (id, version, lang) = (
        form.id.clone(),
        form.version.clone(),
        form.default_language.clone(),
    );
    let compiled = Arc::new(CompiledForm::compile(form).unwrap_or_else(|d| panic!("{d:#?}")));
    let mut env = FixedEnvironment::new(
        DateTime::parse_from_rfc3339("2025-03-04T10:20:30+03:00").unwrap(),
        7,
    );
    let response = Response {
        id: "0192f0c4-0000-7000-8000-000000000001".to_owned(),
        form_id: id,
        form_version: version,
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    };
    let mut session = Session::new(compiled, response, &mut env).unwrap();
    let pages = session.view(&lang).pages.len();
    assert!(pages > 3, "the form has pages ({pages})");
    let mut answered = Vec::new();
    let mut tried = Vec::new();
    for page in 0..3 {
        // Answer one question at a time: an answer can change what the page shows.
        loop {
            let view = session.view(&lang);
            let Some(page) = view.pages.get(page) else {
                break;
            };
            let next = page.items.iter().find_map(|item| match item {
                ItemView::Field(f)
                    if !f.read_only
                        && f.kind.is_shown_question()
                        && f.value.is_none()
                        && !tried.contains(&f.path) =>
                {
                    Some(f.clone())
                }
                _ => None,
            });
            let Some(field) = next else {
                break;
            };
            tried.push(field.path.clone());
            let first_choice = field
                .choices
                .as_ref()
                .and_then(|c| c.first())
                .map(|c| c.name.as_str());
            let Some(value) = answer_for(field.kind, first_choice) else {
                continue;
            };
            session
                .set_answer(&field.path, Some(value.clone()), &mut env)
                .unwrap_or_else(|e| panic!("{}: {e}", field.path));
            answered.push((field.path.clone(), value));
        }
    }
    println!(
        "{pages} pages; answered {} questions on the first three",
        answered.len()
    );
    assert!(
        answered.len() >= 5,
        "filled only {} answers",
        answered.len()
    );
    let view = session.view(&lang);
    let shown: Vec<_> = view
        .pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|i| match i {
            ItemView::Field(f) => Some(f),
            _ => None,
        })
        .collect();
    for (path, value) in &answered {
        if let Some(field) = shown.iter().find(|f| &f.path == path) {
            assert_eq!(field.value.as_deref(), Some(value.as_str()), "{path}");
        }
    }
}
