//! Every example form runs in the engine: compiles, answers every visible question
//! page by page, renders in every language, and a session rebuilt from the saved
//! response shows the same view.

use std::sync::Arc;

use chrono::DateTime;
use voices_core::engine::{CompiledForm, FieldView, ItemView, Session};
use voices_core::env::FixedEnvironment;
use voices_core::form::{FieldType, Form, Item};
use voices_core::response::{Answers, Response};

fn env() -> FixedEnvironment {
    FixedEnvironment::new(
        DateTime::parse_from_rfc3339("2025-03-04T10:20:30+03:00").unwrap(),
        42,
    )
}

fn empty_response() -> Response {
    Response {
        id: "0192f0c4-0000-7000-8000-000000000001".to_owned(),
        form_id: String::new(),
        form_version: String::new(),
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    }
}

#[test]
fn the_example_forms_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/forms");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("example forms missing at {}: {e}", dir.display()));
    let mut ran = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let form = Form::from_json(&text).unwrap();
        let languages: Vec<String> = form.languages.iter().map(|l| l.code.clone()).collect();
        let has_consent = form.body.iter().any(|i| matches!(i, Item::Consent(_)));
        let compiled = Arc::new(
            CompiledForm::compile(form).unwrap_or_else(|d| panic!("{}: {d:#?}", path.display())),
        );
        let mut env = env();
        let mut response = empty_response();
        response.form_id = compiled.form().id.clone();
        response.form_version = compiled.form().version.clone();
        let mut s = Session::new(Arc::clone(&compiled), response, &mut env).unwrap();
        if has_consent {
            s.record_consent(true, &mut env).unwrap();
        }
        // Answer every visible question once, page by page, with a value of its type.
        for _ in 0..3 {
            let fields: Vec<FieldView> = s
                .view("en")
                .pages
                .into_iter()
                .flat_map(|p| p.items)
                .filter_map(|i| match i {
                    ItemView::Field(f) if !f.read_only && f.value.is_none() => Some(*f),
                    _ => None,
                })
                .collect();
            for f in fields {
                let value = match f.kind {
                    FieldType::Integer => "3".to_owned(),
                    FieldType::Decimal => "2.5".to_owned(),
                    FieldType::Date => "2024-05-01".to_owned(),
                    FieldType::SelectOne | FieldType::SelectMultiple => {
                        match f.choices.as_ref().and_then(|c| c.first()) {
                            Some(c) => c.name.clone(),
                            None => continue,
                        }
                    }
                    FieldType::Note => continue,
                    _ => "text".to_owned(),
                };
                let _ = s.set_answer(&f.path, Some(value), &mut env);
            }
        }
        for lang in &languages {
            let view = s.view(lang);
            assert!(
                !view.pages.is_empty(),
                "{}: no pages in {lang}",
                path.display()
            );
            let _ = s.validate(lang);
        }
        let again = Session::new(Arc::clone(&compiled), s.response().clone(), &mut env).unwrap();
        assert_eq!(again.view("en"), s.view("en"), "{}", path.display());
        ran += 1;
    }
    assert!(ran >= 2, "expected the example forms in {}", dir.display());
}
