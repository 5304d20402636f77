use serde_json::{json, Value};

use super::*;

/// A small clean form in two languages; tests change one thing each.
fn base() -> Value {
    json!({
        "id": "survey",
        "version": "1",
        "title": {"en": "Survey", "ar": "استبيان"},
        "languages": [
            {"code": "en", "name": "English"},
            {"code": "ar", "name": "العربية", "direction": "rtl"}
        ],
        "default_language": "en",
        "body": [
            {"type": "start", "name": "started"},
            {"type": "consent", "text_version": "v1", "text": {"en": "We ask…", "ar": "نسأل…"}},
            {"type": "integer", "name": "age", "label": {"en": "Age", "ar": "العمر"},
             "constraint": ". >= 0 and . < 120"},
            {"type": "select_one", "name": "sex", "choices": "sex", "label": {"en": "Sex", "ar": "الجنس"}},
            {"type": "text", "name": "note_sex", "relevant": "selected(${sex}, 'f')",
             "label": {"en": "More", "ar": "المزيد"}},
            {"type": "group", "name": "hh", "label": {"en": "Household", "ar": "الأسرة"}, "body": [
                {"type": "integer", "name": "hh_size", "label": {"en": "Size", "ar": "الحجم"}}
            ]},
            {"type": "repeat", "name": "members", "count": "${hh_size}", "body": [
                {"type": "text", "name": "member_name", "pii": true, "label": {"en": "Name", "ar": "الاسم"}},
                {"type": "integer", "name": "member_age", "label": {"en": "Age", "ar": "العمر"}}
            ]},
            {"type": "calculate", "name": "total_age", "calculation": "sum(${member_age})"}
        ],
        "choices": {
            "sex": [
                {"name": "f", "label": {"en": "Female", "ar": "أنثى"}},
                {"name": "m", "label": {"en": "Male", "ar": "ذكر"}}
            ]
        }
    })
}

fn diagnostics(form: &Value) -> Vec<Diagnostic> {
    let text = serde_json::to_string_pretty(form).unwrap();
    check_source(&text).diagnostics
}

#[test]
fn choice_names_with_spaces_only_where_answers_are_space_separated() {
    let mut form = base();
    set(&mut form, "/choices/sex/1/name", json!("two words"));
    assert!(
        diagnostics(&form).is_empty(),
        "a select_one list may have them"
    );
    set(&mut form, "/body/3/type", json!("select_multiple"));
    let d = diagnostics(&form);
    assert!(
        d.iter()
            .any(|d| d.code == Code::InvalidChoiceName && d.pointer == "/choices/sex/1/name"),
        "{d:#?}"
    );
}

#[test]
fn the_base_form_is_clean() {
    let d = diagnostics(&base());
    assert!(d.is_empty(), "{d:#?}");
}

fn set(form: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = form.pointer_mut(parent).unwrap();
    match target {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => {
            let i: usize = key.parse().unwrap();
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
        }
        _ => panic!("{pointer}"),
    }
}

#[test]
fn each_rule_reports_its_code_at_its_pointer() {
    // (what is changed, value, expected code, expected pointer, severity)
    let cases: Vec<(&str, Value, Code, &str, Severity)> = vec![
        (
            "/id",
            json!("1bad id"),
            Code::InvalidId,
            "/id",
            Severity::Error,
        ),
        (
            "/version",
            json!(" "),
            Code::EmptyVersion,
            "/version",
            Severity::Error,
        ),
        (
            "/default_language",
            json!("fr"),
            Code::DefaultLanguageNotListed,
            "/default_language",
            Severity::Error,
        ),
        (
            "/languages/1/direction",
            json!("ltr"),
            Code::RtlExpected,
            "/languages/1",
            Severity::Warning,
        ),
        (
            "/languages/2",
            json!({"code": "en", "name": "again"}),
            Code::DuplicateLanguage,
            "/languages/2/code",
            Severity::Error,
        ),
        (
            "/title",
            json!({"en": "Survey", "ar": "استبيان", "fr": "Enquête"}),
            Code::UnknownLanguage,
            "/title/fr",
            Severity::Error,
        ),
        (
            "/title",
            json!({"en": "Survey"}),
            Code::MissingTranslation,
            "/title",
            Severity::Warning,
        ),
        (
            "/body/2/name",
            json!("has space"),
            Code::InvalidName,
            "/body/2/name",
            Severity::Error,
        ),
        (
            "/body/4/name",
            json!("age"),
            Code::DuplicateName,
            "/body/4/name",
            Severity::Error,
        ),
        (
            "/body/5/body/1",
            json!({"type": "integer", "name": "hh_size", "label": "Again"}),
            Code::DuplicateName,
            "/body/5/body/1/name",
            Severity::Error,
        ),
        // A name may be used again in another group (as in XLSForm), but `${sex}` then
        // no longer says which one is meant.
        (
            "/body/5/body/0/name",
            json!("sex"),
            Code::AmbiguousReference,
            "/body/4/relevant",
            Severity::Error,
        ),
        (
            "/body/3/choices",
            json!("gender"),
            Code::UnknownChoiceList,
            "/body/3/choices",
            Severity::Error,
        ),
        (
            "/body/2/choices",
            json!("sex"),
            Code::ChoicesOnNonSelect,
            "/body/2/choices",
            Severity::Warning,
        ),
        (
            "/choices/sex/1/name",
            json!("f"),
            Code::DuplicateChoice,
            "/choices/sex/1/name",
            Severity::Error,
        ),
        (
            "/choices/sex/1/name",
            json!(" "),
            Code::InvalidChoiceName,
            "/choices/sex/1/name",
            Severity::Error,
        ),
        (
            "/choices/empty",
            json!([]),
            Code::EmptyChoiceList,
            "/choices/empty",
            Severity::Error,
        ),
        (
            "/body/8",
            json!({"type": "range", "name": "r"}),
            Code::RangeWithoutParams,
            "/body/8",
            Severity::Error,
        ),
        (
            "/body/8",
            json!({"type": "range", "name": "r", "range": {"start": 0, "end": 10, "step": 0}}),
            Code::InvalidRange,
            "/body/8/range/step",
            Severity::Error,
        ),
        (
            "/body/8",
            json!({"type": "repeat", "name": "r", "min": 3, "max": 1, "body": [{"type": "text", "name": "x"}]}),
            Code::RepeatMinMax,
            "/body/8/min",
            Severity::Error,
        ),
        (
            "/body/8",
            json!({"type": "repeat", "name": "r", "count": "5", "max": 2, "body": [{"type": "text", "name": "x"}]}),
            Code::RepeatCountBounds,
            "/body/8/count",
            Severity::Error,
        ),
        (
            "/body/8",
            json!({"type": "consent", "name": "consent2", "text_version": "1", "text": {"en": "a", "ar": "b"}}),
            Code::MultipleConsent,
            "/body/8",
            Severity::Error,
        ),
        (
            "/body/5/body/1",
            json!({"type": "consent", "name": "c2", "text_version": "1", "text": {"en": "a", "ar": "b"}}),
            Code::ConsentNotTopLevel,
            "/body/5/body/1",
            Severity::Error,
        ),
        (
            "/body/0",
            json!({"type": "text", "name": "early", "label": {"en": "a", "ar": "b"}}),
            Code::ConsentNotFirst,
            "/body/1",
            Severity::Error,
        ),
        (
            "/body/5/privacy_prompt",
            json!({"en": "Alone?", "ar": "وحدك؟"}),
            Code::PrivacyPromptWithoutPrivacy,
            "/body/5/privacy_prompt",
            Severity::Warning,
        ),
        (
            "/safe_exit",
            json!({"title": {"en": "Recipes", "ar": "وصفات"}, "decoy_group": "nothing"}),
            Code::UnknownDecoyGroup,
            "/safe_exit/decoy_group",
            Severity::Error,
        ),
        (
            "/safe_exit",
            json!({"title": {"en": "Recipes", "ar": "وصفات"}, "decoy_group": "age"}),
            Code::DecoyGroupNotTopLevel,
            "/safe_exit/decoy_group",
            Severity::Error,
        ),
        (
            "/instance_name",
            json!("concat('x', ${member_name})"),
            Code::InstanceNameSensitive,
            "/instance_name",
            Severity::Error,
        ),
        (
            "/body/4/relevant",
            json!("${age} >"),
            Code::ExpressionSyntax,
            "/body/4/relevant",
            Severity::Error,
        ),
        (
            "/body/4/relevant",
            json!("${agee} > 3"),
            Code::UnknownReference,
            "/body/4/relevant",
            Severity::Error,
        ),
        (
            "/body/4/relevant",
            json!("frobnicate(${age})"),
            Code::UnknownFunction,
            "/body/4/relevant",
            Severity::Error,
        ),
        (
            "/body/4/relevant",
            json!("concat()  and substr(${age})"),
            Code::WrongArity,
            "/body/4/relevant",
            Severity::Error,
        ),
        (
            "/body/4/constraint",
            json!("regex(., '[a-')"),
            Code::InvalidRegex,
            "/body/4/constraint",
            Severity::Error,
        ),
        (
            "/body/4/relevant",
            json!("selected(${age}, '1')"),
            Code::TypeMismatch,
            "/body/4/relevant",
            Severity::Warning,
        ),
        (
            "/body/4/relevant",
            json!("selected(${sex}, 'x')"),
            Code::UnknownChoice,
            "/body/4/relevant",
            Severity::Warning,
        ),
        (
            "/body/2/relevant",
            json!("${age} > 3"),
            Code::Cycle,
            "/body/2/relevant",
            Severity::Error,
        ),
        (
            "/body/2/calculation",
            json!("${age} + 1"),
            Code::Cycle,
            "/body/2/calculation",
            Severity::Error,
        ),
        (
            "/body/5/relevant",
            json!("${hh_size} > 0"),
            Code::Cycle,
            "/body/5/relevant",
            Severity::Error,
        ),
    ];
    let mut failures = Vec::new();
    for (pointer, value, code, at, severity) in cases {
        let mut form = base();
        set(&mut form, pointer, value);
        let d = diagnostics(&form);
        let hit = d.iter().any(|d| {
            d.code == code && d.pointer == at && d.severity == severity && d.line.is_some()
        });
        if !hit {
            failures.push(format!("{pointer} → expected {code} at {at}, got {d:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn decoy_groups_must_be_innocuous() {
    let mut form = base();
    set(
        &mut form,
        "/safe_exit",
        json!({"title": {"en": "Recipes", "ar": "وصفات"}, "decoy_group": "decoy"}),
    );
    set(
        &mut form,
        "/body/8",
        json!({"type": "group", "name": "decoy", "label": {"en": "Food", "ar": "طعام"}, "body": [
            {"type": "text", "name": "phone", "pii": true, "label": {"en": "Phone", "ar": "هاتف"}}
        ]}),
    );
    let d = diagnostics(&form);
    assert!(
        d.iter()
            .any(|d| d.code == Code::DecoyGroupSensitive && d.message.contains("phone")),
        "{d:#?}"
    );
}

#[test]
fn cycles_are_named() {
    let mut form = base();
    set(
        &mut form,
        "/body/8",
        json!({"type": "calculate", "name": "a", "calculation": "${b} + 1"}),
    );
    set(
        &mut form,
        "/body/9",
        json!({"type": "calculate", "name": "b", "calculation": "${a} + 1"}),
    );
    let d = diagnostics(&form);
    let cycle: Vec<_> = d.iter().filter(|d| d.code == Code::Cycle).collect();
    assert_eq!(cycle.len(), 1, "{d:#?}");
    assert!(
        cycle[0].message.contains("`a`") && cycle[0].message.contains("`b`"),
        "{}",
        cycle[0].message
    );
}

#[test]
fn expression_errors_point_inside_the_string() {
    let text = r#"{"id": "f", "version": "1", "title": "T",
 "languages": [{"code": "en", "name": "English"}], "default_language": "en",
 "body": [{"type": "integer", "name": "age"},
          {"type": "text", "name": "x", "relevant": "${age} > 3 and ${nope} = 1"}]}"#;
    let report = check_source(text);
    assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
    let d = &report.diagnostics[0];
    assert_eq!(d.code, Code::UnknownReference);
    assert_eq!(d.pointer, "/body/1/relevant");
    let line = text.lines().nth(3).unwrap();
    let column = line.find("${nope}").unwrap() + 1;
    assert_eq!((d.line, d.column), (Some(4), Some(column)));
    assert!(report.form.is_some());
}

#[test]
fn json_errors_have_positions_and_pointers() {
    let report = check_source("{\"id\": \"f\",\n \"version\": }");
    assert!(report.form.is_none());
    let d = &report.diagnostics[0];
    assert_eq!(d.code, Code::JsonSyntax);
    assert_eq!(d.line, Some(2));

    let text = r#"{"id": "f", "version": "1", "title": "T",
 "languages": [{"code": "en", "name": "English"}], "default_language": "en",
 "body": [{"type": "text", "name": "a"},
          {"type": "text", "name": "x", "relevent": "1"}]}"#;
    let d = &check_source(text).diagnostics[0];
    assert_eq!(d.code, Code::JsonStructure);
    assert_eq!(d.pointer, "/body/1/relevent", "{d:#?}");
    assert_eq!(d.line, Some(4));
    assert!(d.message.contains("relevent"));

    let text = r#"{"id": "f", "version": "1", "title": "T",
 "languages": [{"code": "en", "name": "English"}], "default_language": "en",
 "body": [{"type": "txt", "name": "a"}]}"#;
    let d = &check_source(text).diagnostics[0];
    assert_eq!(d.pointer, "/body/0/type", "{d:#?}");
}

#[test]
fn deep_nesting_is_a_clear_error_not_a_crash() {
    let depth = 1_000;
    let mut text = String::from(
        r#"{"id": "f", "version": "1", "title": "T", "languages": [{"code": "en", "name": "English"}], "default_language": "en", "body": ["#,
    );
    for i in 0..depth {
        text.push_str(&format!(r#"{{"type": "group", "name": "g{i}", "body": ["#));
    }
    text.push_str(r#"{"type": "text", "name": "leaf"}"#);
    for _ in 0..depth {
        text.push_str("]}");
    }
    text.push_str("]}");
    let report = check_source(&text);
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(report.diagnostics[0].code, Code::NestingTooDeep);
    assert!(report.diagnostics[0].message.contains("nested too deeply"));
}

#[test]
fn ten_thousand_errors_are_all_reported() {
    let mut body = Vec::new();
    for i in 0..10_000 {
        body.push(json!({"type": "text", "name": "dup", "relevant": format!("${{missing{i}}}")}));
    }
    let form = json!({"id": "f", "version": "1", "title": "T",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en", "body": body});
    let d = diagnostics(&form);
    let dups = d.iter().filter(|d| d.code == Code::DuplicateName).count();
    let refs = d
        .iter()
        .filter(|d| d.code == Code::UnknownReference)
        .count();
    assert_eq!((dups, refs), (9_999, 10_000));
    assert!(d.iter().all(|d| d.line.is_some()));
}

#[test]
fn the_stress_form_checks_clean() {
    let form = crate::stress::generate(2_000, 7);
    let errors: Vec<_> = check_form(&form)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn display_is_line_col_pointer_message() {
    let mut d = Diagnostic::error(
        Code::DuplicateName,
        "/body/1/name",
        "name `a` is already used",
    );
    d.line = Some(3);
    d.column = Some(7);
    assert_eq!(
        d.to_string(),
        "3:7: /body/1/name: error[duplicate_name]: name `a` is already used"
    );
}

#[test]
fn huge_expressions_check_without_overflowing() {
    let long_sum = format!("${{age}}{}", " + 1".repeat(25_000));
    let deep = format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000));
    let mut form = base();
    set(&mut form, "/body/4/relevant", json!(long_sum));
    set(&mut form, "/body/2/constraint", json!(deep));
    let d = diagnostics(&form);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].pointer, "/body/2/constraint");
    assert_eq!(d[0].code, Code::ExpressionSyntax);
}

#[test]
fn large_forms_check_in_one_pass() {
    // About 5 MB of form text with a problem near the end.
    let mut body: Vec<Value> = (0..20_000)
        .map(|i| json!({"type": "text", "name": format!("q{i}"), "label": "x".repeat(200)}))
        .collect();
    body.push(json!({"type": "integer", "name": "last", "relevant": "${q19999} = 'a' and ${missing} > 1"}));
    let form = json!({"id": "big", "version": "1", "title": "Big",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en", "body": body});
    let text = serde_json::to_string_pretty(&form).unwrap();
    assert!(text.len() > 4_000_000);
    let report = check_source(&text);
    assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
    let d = &report.diagnostics[0];
    assert_eq!(d.pointer, "/body/20000/relevant");
    let line = text.lines().nth(d.line.unwrap() - 1).unwrap();
    let column_byte = line.char_indices().nth(d.column.unwrap() - 1).unwrap().0;
    assert!(line[column_byte..].starts_with("${missing}"), "{line}");
}

#[test]
fn many_unknown_references_are_reported_and_only_the_first_get_hints() {
    // 10,000 distinct fields, each reading a misspelt name: every reference is
    // reported; "did you mean" hints stop after the first few hundred, which keeps
    // checking linear instead of comparing every wrong name with every field.
    let body: Vec<Value> = (0..10_000)
        .map(|i| json!({"type": "integer", "name": format!("field{i}"), "relevant": format!("${{fieldx{i}}} > 0")}))
        .collect();
    let form = json!({"id": "f", "version": "1", "title": "T",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en", "body": body});
    let refs: Vec<_> = diagnostics(&form)
        .into_iter()
        .filter(|d| d.code == Code::UnknownReference)
        .collect();
    assert_eq!(refs.len(), 10_000);
    let hinted = refs
        .iter()
        .filter(|d| d.message.contains("did you mean"))
        .count();
    assert!(hinted > 0 && hinted < refs.len(), "{hinted} hints");
    assert!(
        refs[0].message.contains("did you mean `field0`"),
        "{}",
        refs[0].message
    );
}

#[test]
fn disaggregation_marks_fit_their_type_once_per_scope() {
    let mut form = base();
    set(&mut form, "/body/2/disaggregation", json!("age"));
    set(&mut form, "/body/3/disaggregation", json!("sex"));
    // A repeat is a scope of its own: the member's age disaggregates member questions.
    set(&mut form, "/body/6/body/1/disaggregation", json!("age"));
    let d = diagnostics(&form);
    assert!(d.is_empty(), "{d:#?}");

    set(&mut form, "/body/7/disaggregation", json!("age"));
    set(
        &mut form,
        "/body/6/body/0/disaggregation",
        json!("disability"),
    );
    let d = diagnostics(&form);
    let found: Vec<(Code, &str)> = d.iter().map(|d| (d.code, d.pointer.as_str())).collect();
    assert_eq!(
        found,
        [
            (Code::DisaggregationType, "/body/6/body/0/disaggregation"),
            (Code::DuplicateDisaggregation, "/body/7/disaggregation"),
        ],
        "{d:#?}"
    );
    assert!(
        d[0].message.contains("needs a select_one or a calculate"),
        "{}",
        d[0].message
    );
    assert!(d[1].message.contains("`age`"), "{}", d[1].message);
}
