//! The example forms and the stress form: present, valid against the schema,
//! parsed and round-tripped, translated into every language, clean for the checker.

use super::*;

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schema must declare draft 2020-12"
    );
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("schema fails the 2020-12 meta-schema: {e}");
    }
}

#[test]
fn the_expected_example_forms_exist() {
    let names: BTreeSet<String> = example_paths()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "human-security-perceptions.json",
        "minimal.json",
        "household-survey.json",
    ] {
        assert!(
            names.contains(expected),
            "schemas/forms/{expected} is missing"
        );
    }
}

#[test]
fn every_example_validates_parses_and_round_trips() {
    let validator = validator();
    for path in example_paths() {
        let text = read(&path);
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let errors = schema_errors(&validator, &doc);
        assert!(
            errors.is_empty(),
            "{} fails the schema:\n{}",
            path.display(),
            errors.join("\n")
        );
        let form = Form::from_json(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        let serialized = serde_json::to_string_pretty(&form).expect("serialize");
        let reparsed = Form::from_json(&serialized)
            .unwrap_or_else(|e| panic!("{} does not re-parse: {e}", path.display()));
        assert_eq!(form, reparsed, "{} does not round-trip", path.display());
        let reserialized: Value = serde_json::from_str(&serialized).expect("json");
        let errors = schema_errors(&validator, &reserialized);
        assert!(
            errors.is_empty(),
            "{} re-serialized fails the schema:\n{}",
            path.display(),
            errors.join("\n")
        );
    }
}

/// Every translated text in `form`, with where it is.
fn texts(form: &Form) -> Vec<(String, &Text)> {
    fn push<'a>(out: &mut Vec<(String, &'a Text)>, at: String, text: Option<&'a Text>) {
        if let Some(t) = text {
            out.push((at, t));
        }
    }
    fn media<'a>(out: &mut Vec<(String, &'a Text)>, at: &str, media: Option<&'a Media>) {
        if let Some(m) = media {
            push(out, format!("{at}/media/image"), m.image.as_ref());
            push(out, format!("{at}/media/audio"), m.audio.as_ref());
            push(out, format!("{at}/media/video"), m.video.as_ref());
        }
    }
    let mut out = Vec::new();
    push(&mut out, "/title".into(), Some(&form.title));
    push(&mut out, "/description".into(), form.description.as_ref());
    if let Some(safe_exit) = &form.safe_exit {
        push(&mut out, "/safe_exit/title".into(), Some(&safe_exit.title));
        push(
            &mut out,
            "/safe_exit/message".into(),
            safe_exit.message.as_ref(),
        );
    }
    form.walk(|item, at| match item {
        Item::Field(f) => {
            push(&mut out, format!("{at}/label"), f.label.as_ref());
            push(&mut out, format!("{at}/hint"), f.hint.as_ref());
            push(&mut out, format!("{at}/guidance"), f.guidance.as_ref());
            push(
                &mut out,
                format!("{at}/required_message"),
                f.required_message.as_ref(),
            );
            push(
                &mut out,
                format!("{at}/constraint_message"),
                f.constraint_message.as_ref(),
            );
            media(&mut out, at, f.media.as_ref());
        }
        Item::Group(g) => {
            push(&mut out, format!("{at}/label"), g.label.as_ref());
            push(&mut out, format!("{at}/hint"), g.hint.as_ref());
            push(
                &mut out,
                format!("{at}/privacy_prompt"),
                g.privacy_prompt.as_ref(),
            );
        }
        Item::Repeat(r) => {
            push(&mut out, format!("{at}/label"), r.label.as_ref());
            push(&mut out, format!("{at}/hint"), r.hint.as_ref());
            push(&mut out, format!("{at}/add_label"), r.add_label.as_ref());
            push(
                &mut out,
                format!("{at}/privacy_prompt"),
                r.privacy_prompt.as_ref(),
            );
        }
        Item::Consent(c) => {
            push(&mut out, format!("{at}/label"), c.label.as_ref());
            push(&mut out, format!("{at}/text"), Some(&c.text));
            push(&mut out, format!("{at}/question"), c.question.as_ref());
            push(
                &mut out,
                format!("{at}/agree_label"),
                c.agree_label.as_ref(),
            );
            push(
                &mut out,
                format!("{at}/decline_label"),
                c.decline_label.as_ref(),
            );
            push(
                &mut out,
                format!("{at}/decline_message"),
                c.decline_message.as_ref(),
            );
        }
    });
    for (list, choices) in &form.choices {
        for (i, choice) in choices.iter().enumerate() {
            push(
                &mut out,
                format!("/choices/{list}/{i}/label"),
                Some(&choice.label),
            );
            media(
                &mut out,
                &format!("/choices/{list}/{i}"),
                choice.media.as_ref(),
            );
        }
    }
    out
}

#[test]
fn every_example_text_is_translated_into_every_form_language() {
    for path in example_paths() {
        let form = Form::from_json(&read(&path)).expect("parses (checked elsewhere)");
        let languages: BTreeSet<&str> = form.languages.iter().map(|l| l.code.as_str()).collect();
        let mut missing = Vec::new();
        for (at, text) in texts(&form) {
            match text {
                Text::Plain(s) if languages.len() > 1 => {
                    missing.push(format!("{at}: plain text {s:?} in a multilingual form"))
                }
                Text::Plain(s) if s.trim().is_empty() => missing.push(format!("{at}: empty")),
                Text::Plain(_) => {}
                Text::Translated(map) => {
                    for lang in &languages {
                        match map.get(*lang) {
                            Some(s) if !s.trim().is_empty() => {}
                            _ => missing.push(format!("{at}: no {lang} text")),
                        }
                    }
                    for lang in map.keys() {
                        if !languages.contains(lang.as_str()) {
                            missing.push(format!("{at}: {lang} is not a form language"));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{}:\n{}",
            path.display(),
            missing.join("\n")
        );
    }
}

#[test]
fn the_stress_form_validates_parses_and_round_trips() {
    let validator = validator();
    for (fields, seed) in [(2000, 1), (2500, 99)] {
        let form = voices_core::stress::generate(fields, seed);
        let text = serde_json::to_string(&form).expect("serialize");
        let errors = schema_errors(&validator, &serde_json::from_str(&text).expect("json"));
        assert!(
            errors.is_empty(),
            "stress({fields}, {seed}) fails the schema:\n{}",
            errors
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        let reparsed = Form::from_json(&text).expect("stress form parses");
        assert_eq!(
            form, reparsed,
            "stress({fields}, {seed}) does not round-trip"
        );
    }
}

/// What the checker says about a form, one line per diagnostic.
fn check_lines(form: &Form) -> Vec<String> {
    voices_core::check::check_form(form)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_example_checks_clean() {
    for path in example_paths() {
        let report = voices_core::check::check_source(&read(&path));
        let lines: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
        assert!(
            lines.is_empty(),
            "{} has problems (warnings count too: examples are what designers copy):\n{}",
            path.display(),
            lines.join("\n")
        );
        assert!(report.form.is_some());
    }
}

#[test]
fn the_stress_form_checks_clean_and_compiles() {
    for (fields, seed) in [(2000, 1), (2500, 99)] {
        let form = voices_core::stress::generate(fields, seed);
        let lines = check_lines(&form);
        assert!(
            lines.is_empty(),
            "stress({fields}, {seed}):\n{}",
            lines
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        if let Err(diagnostics) = voices_core::engine::CompiledForm::compile(form) {
            panic!("stress({fields}, {seed}) does not compile: {diagnostics:?}");
        }
    }
}

/// Editors find the schema through each example's `$schema` hint.
#[test]
fn every_example_points_editors_at_the_schema() {
    for path in example_paths() {
        let form = Form::from_json(&read(&path)).expect("parses (checked elsewhere)");
        let hint = form
            .schema
            .unwrap_or_else(|| panic!("{} has no $schema hint", path.display()));
        let target = path.parent().expect("in a directory").join(&hint);
        assert!(
            target.is_file(),
            "{}: $schema {hint} does not resolve to a file",
            path.display()
        );
        assert_eq!(
            std::fs::canonicalize(&target).expect("resolves"),
            std::fs::canonicalize(repo_path("schemas/form.schema.json")).expect("schema"),
            "{}: $schema {hint} is not schemas/form.schema.json",
            path.display()
        );
    }
}
