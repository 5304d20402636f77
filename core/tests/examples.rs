//! The form format's three descriptions agree: the JSON Schema, the Rust types and
//! the example forms designers copy from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use voices_core::form::{
    Choice, Condition, Consent, Direction, Disaggregation, Field, FieldType, Form, Group, Item,
    Language, Media, PrivacyRequirement, RangeParams, Repeat, SafeExit, SelectionMethod,
    SelectionParams, Text,
};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn schema() -> Value {
    let path = repo_path("schemas/form.schema.json");
    serde_json::from_str(&read(&path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema())
        .unwrap_or_else(|e| panic!("schemas/form.schema.json is not a valid 2020-12 schema: {e}"))
}

/// Every problem the schema finds in `doc`, as `pointer: message`.
fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

fn example_paths() -> Vec<PathBuf> {
    let dir = repo_path("schemas/forms");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}

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
fn the_human_security_example_has_its_people_centred_constructs() {
    let form = Form::from_json(&read(&repo_path(
        "schemas/forms/human-security-perceptions.json",
    )))
    .expect("parses");
    let codes: Vec<&str> = form.languages.iter().map(|l| l.code.as_str()).collect();
    for lang in ["en", "ar", "uk", "es"] {
        assert!(codes.contains(&lang), "language {lang} missing");
    }
    assert_eq!(form.language("ar").unwrap().direction, Direction::Rtl);

    // Consent comes before any question (metadata is filled by the device, not asked).
    let first_asked = form
        .body
        .iter()
        .position(|item| !matches!(item, Item::Field(f) if f.kind.is_metadata()))
        .expect("a non-metadata item");
    assert!(
        matches!(form.body[first_asked], Item::Consent(_)),
        "the first asked item must be the consent block"
    );

    let mut privacy_checked_sensitive = 0;
    let mut counted_repeats = 0;
    let mut pii: BTreeSet<String> = BTreeSet::new();
    let mut sensitive: BTreeSet<String> = BTreeSet::new();
    fn collect(
        items: &[Item],
        in_sensitive: bool,
        pii: &mut BTreeSet<String>,
        sensitive: &mut BTreeSet<String>,
    ) {
        for item in items {
            match item {
                Item::Field(f) => {
                    if f.pii {
                        pii.insert(f.name.clone());
                    }
                    if f.sensitive || in_sensitive {
                        sensitive.insert(f.name.clone());
                    }
                }
                Item::Group(g) => collect(&g.body, in_sensitive || g.sensitive, pii, sensitive),
                Item::Repeat(r) => collect(&r.body, in_sensitive || r.sensitive, pii, sensitive),
                Item::Consent(_) => {}
            }
        }
    }
    collect(&form.body, false, &mut pii, &mut sensitive);
    form.walk(|item, _| match item {
        Item::Group(g) if g.privacy == Some(PrivacyRequirement::Required) && g.sensitive => {
            privacy_checked_sensitive += 1
        }
        Item::Repeat(r) if r.count.is_some() => counted_repeats += 1,
        _ => {}
    });
    assert!(
        privacy_checked_sensitive >= 1,
        "no privacy-checked sensitive group"
    );
    assert!(counted_repeats >= 1, "no repeat with a count expression");
    assert!(!pii.is_empty(), "no pii field");

    let instance_name = form.instance_name.as_deref().expect("instance_name");
    for name in pii.iter().chain(&sensitive) {
        assert!(
            !instance_name.contains(&format!("${{{name}}}")),
            "instance_name references pii/sensitive field {name}"
        );
    }

    let safe_exit = form.safe_exit.as_ref().expect("safe_exit");
    let decoy = safe_exit.decoy_group.as_deref().expect("decoy_group");
    let Some(Item::Group(decoy_group)) = form.body.iter().find(|i| i.name() == decoy) else {
        panic!("decoy group {decoy} is not a top-level group");
    };
    let mut decoy_pii = BTreeSet::new();
    let mut decoy_sensitive = BTreeSet::new();
    collect(
        &decoy_group.body,
        decoy_group.sensitive,
        &mut decoy_pii,
        &mut decoy_sensitive,
    );
    assert!(
        decoy_pii.is_empty() && decoy_sensitive.is_empty(),
        "the decoy group holds pii/sensitive fields"
    );
}

#[test]
fn schema_field_types_equal_the_rust_field_types() {
    let schema = schema();
    let enumerated: Vec<&str> = schema["$defs"]["FieldType"]["enum"]
        .as_array()
        .expect("$defs/FieldType/enum")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    let rust: Vec<&str> = FieldType::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(enumerated, rust);
    let described = schema["$defs"]["FieldType"]["enumDescriptions"]
        .as_array()
        .expect("$defs/FieldType/enumDescriptions");
    assert_eq!(
        described.len(),
        rust.len(),
        "one description per field type"
    );

    // The item type enum is the field types, the alias and the three constructs.
    let item_types: BTreeSet<&str> = schema["$defs"]["Item"]["properties"]["type"]["enum"]
        .as_array()
        .expect("$defs/Item/properties/type/enum")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    let mut expected: BTreeSet<&str> = rust.into_iter().collect();
    expected.extend(["enumerator", "group", "repeat", "consent"]);
    assert_eq!(item_types, expected);
}

fn text(s: &str) -> Text {
    Text::Translated(BTreeMap::from([
        ("en".to_owned(), s.to_owned()),
        ("ar".to_owned(), s.to_owned()),
    ]))
}

fn full_media() -> Media {
    Media {
        image: Some(text("a.png")),
        audio: Some(text("a.mp3")),
        video: Some(text("a.mp4")),
    }
}

fn full_field() -> Field {
    Field {
        kind: FieldType::Range,
        name: "q".into(),
        label: Some(text("label")),
        hint: Some(text("hint")),
        guidance: Some(text("guidance")),
        required: Some(Condition::Expression("${a} = 1".into())),
        required_message: Some(text("required")),
        relevant: Some("${a} = 1".into()),
        constraint: Some(". > 0".into()),
        constraint_message: Some(text("constraint")),
        calculation: Some("1 + 1".into()),
        default: Some("'x'".into()),
        read_only: Some(Condition::Always(true)),
        appearance: Some("minimal".into()),
        choices: Some("list".into()),
        choices_file: Some("list.csv".into()),
        choice_filter: Some("k = ${a}".into()),
        range: Some(RangeParams {
            start: 0.0,
            end: 10.0,
            step: 0.5,
        }),
        selection: Some(SelectionParams {
            roster: "members".into(),
            eligible: Some("${age} >= 18".into()),
            method: SelectionMethod::Kish,
        }),
        parameters: BTreeMap::from([("max-pixels".into(), "1024".into())]),
        media: Some(full_media()),
        pii: true,
        sensitive: true,
        disaggregation: Some(Disaggregation::Age),
    }
}

fn full_group() -> Group {
    Group {
        name: "g".into(),
        label: Some(text("group")),
        hint: Some(text("hint")),
        relevant: Some("true()".into()),
        appearance: Some("field-list".into()),
        page: false,
        privacy: Some(PrivacyRequirement::Required),
        privacy_prompt: Some(text("alone?")),
        sensitive: true,
        body: vec![Item::Field(full_field())],
    }
}

fn full_repeat() -> Repeat {
    Repeat {
        name: "r".into(),
        label: Some(text("repeat")),
        hint: Some(text("hint")),
        relevant: Some("true()".into()),
        appearance: Some("table-list".into()),
        count: Some("3".into()),
        min: Some(1),
        max: Some(5),
        add_label: Some(text("add")),
        privacy: Some(PrivacyRequirement::Required),
        privacy_prompt: Some(text("alone?")),
        sensitive: true,
        body: vec![Item::Field(full_field())],
    }
}

fn full_consent() -> Consent {
    Consent {
        name: "consent".into(),
        text_version: "v1".into(),
        label: Some(text("consent")),
        text: text("statement"),
        question: Some(text("agree?")),
        agree_label: Some(text("yes")),
        decline_label: Some(text("no")),
        decline_message: Some(text("thanks")),
        relevant: Some("true()".into()),
    }
}

fn full_choice() -> Choice {
    Choice {
        name: "c".into(),
        label: text("choice"),
        media: Some(full_media()),
        properties: BTreeMap::new(),
    }
}

fn full_form() -> Form {
    Form {
        schema: Some("../form.schema.json".into()),
        id: "f".into(),
        version: "1".into(),
        title: text("title"),
        description: Some(text("description")),
        languages: vec![
            Language {
                code: "en".into(),
                name: "English".into(),
                direction: Direction::Ltr,
            },
            Language {
                code: "ar".into(),
                name: "العربية".into(),
                direction: Direction::Rtl,
            },
        ],
        default_language: "en".into(),
        instance_name: Some("'x'".into()),
        safe_exit: Some(SafeExit {
            title: text("title"),
            message: Some(text("message")),
            decoy_group: Some("g".into()),
        }),
        body: vec![
            Item::Consent(full_consent()),
            Item::Group(full_group()),
            Item::Repeat(full_repeat()),
        ],
        choices: BTreeMap::from([("list".into(), vec![full_choice()])]),
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn schema_keys(schema: &Value, def: &str) -> BTreeSet<String> {
    keys(&schema["$defs"][def]["properties"])
}

#[test]
fn every_serialized_property_is_declared_in_the_schema_and_vice_versa() {
    let schema = schema();
    let cases: Vec<(&str, Value)> = vec![
        ("Form", json(&full_form())),
        ("Field", json(&Item::Field(full_field()))),
        ("Group", json(&Item::Group(full_group()))),
        ("Repeat", json(&Item::Repeat(full_repeat()))),
        ("Consent", json(&Item::Consent(full_consent()))),
        ("Choice", json(&full_choice())),
        ("Language", json(&full_form().languages[1])),
        ("SafeExit", json(&full_form().safe_exit.unwrap())),
        ("RangeParams", json(&full_field().range.unwrap())),
        ("SelectionParams", json(&full_field().selection.unwrap())),
        ("Media", json(&full_media())),
    ];
    for (def, value) in cases {
        assert_eq!(
            keys(&value),
            schema_keys(&schema, def),
            "$defs/{def}: properties Rust serializes (left) differ from the schema's (right)"
        );
    }
    // And the fully populated form is valid against the schema.
    let errors = schema_errors(&validator(), &json(&full_form()));
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("serializable")
}

#[test]
fn every_schema_property_has_a_description() {
    fn visit(node: &Value, at: &str, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        let described = prop
                            .get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| !d.trim().is_empty());
                        // `if` schemas only discriminate; they document nothing.
                        if !described && !at.contains("/if") {
                            missing.push(format!("{at}/properties/{name}"));
                        }
                    }
                }
                for (key, child) in map {
                    visit(child, &format!("{at}/{key}"), missing);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    visit(child, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let schema = schema();
    let mut missing = Vec::new();
    visit(&schema, "", &mut missing);
    assert!(
        missing.is_empty(),
        "properties without a description:\n{}",
        missing.join("\n")
    );
    for (name, def) in schema["$defs"].as_object().expect("$defs") {
        assert!(
            def.get("description").is_some(),
            "$defs/{name} has no description"
        );
    }
}

/// Documents both the schema and serde must refuse, so neither is looser than the other.
#[test]
fn schema_and_rust_reject_the_same_mistakes() {
    let validator = validator();
    let base = r#"{"id":"f","version":"1","title":"t","languages":[{"code":"en","name":"English"}],"default_language":"en","body":[ITEM]CHOICES}"#;
    let cases = [
        (
            "misspelled field property",
            r#"{"type":"text","name":"q","relevent":"1"}"#,
            "",
        ),
        ("unknown item type", r#"{"type":"textarea","name":"q"}"#, ""),
        ("field without a name", r#"{"type":"text"}"#, ""),
        ("group without a body", r#"{"type":"group","name":"g"}"#, ""),
        (
            "unknown group property",
            r#"{"type":"group","name":"g","body":[],"pages":true}"#,
            "",
        ),
        (
            "privacy other than required",
            r#"{"type":"group","name":"g","body":[],"privacy":"optional"}"#,
            "",
        ),
        (
            "repeat count as a number",
            r#"{"type":"repeat","name":"r","body":[],"count":3}"#,
            "",
        ),
        (
            "negative repeat minimum",
            r#"{"type":"repeat","name":"r","body":[],"min":-1}"#,
            "",
        ),
        (
            "consent without text",
            r#"{"type":"consent","text_version":"1"}"#,
            "",
        ),
        (
            "required as a number",
            r#"{"type":"text","name":"q","required":1}"#,
            "",
        ),
        (
            "range without end",
            r#"{"type":"range","name":"q","range":{"start":1}}"#,
            "",
        ),
        (
            "numeric choice property",
            r#"{"type":"text","name":"q"}"#,
            r#","choices":{"l":[{"name":"a","label":"A","k":1}]}"#,
        ),
        (
            "choice without label",
            r#"{"type":"text","name":"q"}"#,
            r#","choices":{"l":[{"name":"a"}]}"#,
        ),
        (
            "text as a number",
            r#"{"type":"text","name":"q","label":5}"#,
            "",
        ),
    ];
    for (what, item, choices) in cases {
        let doc = base.replace("ITEM", item).replace("CHOICES", choices);
        let value: Value = serde_json::from_str(&doc).expect("test JSON");
        assert!(
            !schema_errors(&validator, &value).is_empty(),
            "the schema accepts a {what}: {doc}"
        );
        assert!(
            Form::from_json(&doc).is_err(),
            "the Rust types accept a {what}: {doc}"
        );
    }
    let accepted = base
        .replace("ITEM", r#"{"type":"enumerator","name":"who"}"#)
        .replace(
            "CHOICES",
            r#","choices":{"l":[{"name":"a","label":"A","k":"1"}]}"#,
        );
    let value: Value = serde_json::from_str(&accepted).expect("test JSON");
    assert!(schema_errors(&validator, &value).is_empty());
    assert!(Form::from_json(&accepted).is_ok());
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

/// The schema flags in the editor what the Rust types leave to the checker.
#[test]
fn schema_checks_names_select_lists_and_range_bounds() {
    let validator = validator();
    let doc = |item: &str| -> Value {
        serde_json::from_str(&format!(
            r#"{{"id":"f","version":"1","title":"t","languages":[{{"code":"en","name":"English"}}],"default_language":"en","body":[{item}]}}"#
        ))
        .expect("test JSON")
    };
    for rejected in [
        r#"{"type":"text","name":"1st"}"#,
        r#"{"type":"text","name":"has space"}"#,
        r#"{"type":"select_one","name":"q"}"#,
        r#"{"type":"select_multiple","name":"q"}"#,
        r#"{"type":"rank","name":"q"}"#,
        r#"{"type":"range","name":"q"}"#,
    ] {
        assert!(
            !schema_errors(&validator, &doc(rejected)).is_empty(),
            "accepted {rejected}"
        );
    }
    for accepted in [
        r#"{"type":"select_one","name":"q","choices":"l"}"#,
        r#"{"type":"select_one","name":"q","choices_file":"l.csv"}"#,
        r#"{"type":"range","name":"q","range":{"start":0,"end":10}}"#,
        // Names are XML names: letters of any script are fine.
        r#"{"type":"text","name":"عمر_1"}"#,
    ] {
        let errors = schema_errors(&validator, &doc(accepted));
        assert!(errors.is_empty(), "{accepted}: {}", errors.join("\n"));
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

/// A complete interview with the human-security form, as the server would receive it.
fn complete_interview(overrides: serde_json::Value) -> voices_core::Response {
    use voices_core::response::{ConsentRecord, PrivacyOutcome, PrivacyRecord};
    let mut answers = serde_json::json!({
        "consent": "yes", "country": "mex", "region": "mex_chiapas", "district": "mex_tapachula",
        "settlement": "urban", "sex": "male", "gender_identity": "man", "age": 52,
        "wg_seeing": "some_difficulty", "wg_hearing": "no_difficulty",
        "wg_walking": "a_lot_of_difficulty", "wg_cognition": "no_difficulty",
        "wg_selfcare": "no_difficulty", "wg_communication": "no_difficulty",
        "hh_size": 2,
        "members": [{ "member_name": "Rosa", "member_relationship": "spouse_partner",
                      "member_sex": "female", "member_age": 49 }],
        "staple_food": "maize", "meals_yesterday": 2, "cooking_fuel": "wood",
        "safety_home": "fairly_safe", "safety_community": "fairly_unsafe",
        "safety_travel": "very_unsafe", "safety_change": "less_safe",
        "main_threats": ["violence", "abuse_by_officials", "other"],
        "main_threats_other": "Extortion",
        "trust_state": "a_little", "trust_civil_society": "somewhat",
        "coping_strategies": ["borrowed", "help_family_community"],
        "access_health": "yes_with_difficulty", "access_education": "yes_easily",
        "access_justice": "no", "access_water": "yes_easily",
        "access_barriers": ["cost", "insecurity"],
        "officials_abuse": "yes", "officials_abuse_kind": ["bribe", "threats"],
        "violence": "no", "sought_help": "no"
    });
    if let (Some(base), Value::Object(changes)) = (answers.as_object_mut(), overrides) {
        base.extend(changes);
    }
    let at = "2026-11-26T10:00:00-06:00".to_owned();
    voices_core::Response {
        id: "01936d5c-0000-7000-8000-000000000001".into(),
        form_id: "community_life".into(),
        form_version: "2026120701".into(),
        answers: serde_json::from_value(answers).expect("answers"),
        consent: Some(ConsentRecord {
            given: true,
            at: at.clone(),
            text_version: "2026-11-v1".into(),
        }),
        privacy: BTreeMap::from([(
            "/experiences".parse().expect("a group path"),
            PrivacyRecord {
                outcome: PrivacyOutcome::Private,
                at,
            },
        )]),
        selections: BTreeMap::new(),
        outcome: None,
    }
}

fn human_security_session(response: voices_core::Response) -> voices_core::engine::Session {
    let form = Form::from_json(&read(&repo_path(
        "schemas/forms/human-security-perceptions.json",
    )))
    .expect("parses");
    let compiled = voices_core::engine::CompiledForm::compile(form).expect("compiles");
    let mut env = voices_core::env::FixedEnvironment::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00-06:00").expect("time"),
        1,
    );
    voices_core::engine::Session::new(std::sync::Arc::new(compiled), response, &mut env)
        .expect("a session")
}

#[test]
fn a_complete_human_security_interview_is_valid_and_computes_its_indicators() {
    let session = human_security_session(complete_interview(serde_json::json!({})));
    let violations: Vec<String> = session
        .validate("en")
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    let answers = &session.response().answers.0;
    let value = |name: &str| match answers.get(name) {
        Some(voices_core::response::Answer::Value(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(value("age_band"), "50-59");
    // Walking "a lot of difficulty": disabled under the Washington Group cut-off.
    assert_eq!(value("disability"), "1");
    assert_eq!(value("members_listed"), "1");
    assert_eq!(value("children"), "0");
    assert_eq!(value("women_and_girls"), "1");
}

#[test]
fn the_human_security_rules_hold() {
    // A minor, "none" with another threat, and a member older than possible.
    let session = human_security_session(complete_interview(serde_json::json!({
        "age": 16,
        "main_threats": ["none", "violence"],
        "members": [{ "member_name": "Rosa", "member_relationship": "spouse_partner",
                      "member_sex": "female", "member_age": 130 }],
    })));
    let violations: BTreeMap<String, String> = session
        .validate("es")
        .into_iter()
        .map(|v| (v.path.to_string(), v.message))
        .collect();
    assert_eq!(
        violations.get("/age").map(String::as_str),
        Some("Ingrese una edad entre 18 y 110. Solo se entrevista a personas adultas.")
    );
    assert_eq!(
        violations.get("/main_threats").map(String::as_str),
        Some("\"Ninguna\" no puede elegirse junto con otras respuestas.")
    );
    assert!(
        violations.contains_key("/members[1]/member_age"),
        "{violations:?}"
    );
    // Someone "not disabled" in every domain.
    let session = human_security_session(complete_interview(serde_json::json!({
        "wg_walking": "some_difficulty", "age": 85, "hh_size": 1, "members": []
    })));
    let answers = &session.response().answers.0;
    assert_eq!(
        answers.get("disability"),
        Some(&voices_core::response::Answer::Value("0".into()))
    );
    assert_eq!(
        answers.get("age_band"),
        Some(&voices_core::response::Answer::Value("80+".into()))
    );
}
