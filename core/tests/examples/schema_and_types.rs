//! The JSON Schema and the Rust types describe the same format: the same field
//! types and properties, descriptions for all, the same mistakes refused.

use super::*;
use voices_core::form::ConsentRole;

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

    // The item type enum is the field types, the alias and the four constructs.
    let item_types: BTreeSet<&str> = schema["$defs"]["Item"]["properties"]["type"]["enum"]
        .as_array()
        .expect("$defs/Item/properties/type/enum")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    let mut expected: BTreeSet<&str> = rust.into_iter().collect();
    expected.extend(["enumerator", "group", "repeat", "consent", "assent"]);
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
        choices_from: Some("member_name".into()),
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
        referral: Some(ReferralParams {
            area: "${district}".into(),
            needs: Some("${needs}".into()),
        }),
        parameters: BTreeMap::from([("max-pixels".into(), "1024".into())]),
        media: Some(full_media()),
        pii: true,
        sensitive: true,
        disaggregation: Some(Disaggregation::Age),
        save_to: Some("list#property".into()),
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
        match_rule: Some("enumerator('sex') = 'female'".into()),
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
        minor: None,
        role: ConsentRole::Consent,
    }
}

fn full_assent() -> Consent {
    Consent {
        name: "assent".into(),
        role: ConsentRole::Assent,
        relevant: None,
        minor: Some("true()".into()),
        ..full_consent()
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
            Item::Consent(full_assent()),
            Item::Group(full_group()),
            Item::Repeat(full_repeat()),
        ],
        choices: BTreeMap::from([("list".into(), vec![full_choice()])]),
        entities: vec![Entity {
            list_name: "people".into(),
            label: Some("${a}".into()),
            create_if: Some("true()".into()),
            update_if: Some("false()".into()),
            entity_id: Some("${a}".into()),
        }],
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
        ("Assent", json(&Item::Consent(full_assent()))),
        ("Choice", json(&full_choice())),
        ("Language", json(&full_form().languages[1])),
        ("SafeExit", json(&full_form().safe_exit.unwrap())),
        ("Entity", json(&full_form().entities[0])),
        ("RangeParams", json(&full_field().range.unwrap())),
        ("SelectionParams", json(&full_field().selection.unwrap())),
        ("ReferralParams", json(&full_field().referral.unwrap())),
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
