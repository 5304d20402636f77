//! `import(export(form)) == form` for every example form in `schemas/forms/`.

use std::path::Path;

use voices_core::form::Form;
use voices_xlsform::{export_xlsx, import_spreadsheet_bytes, ImportOptions};

#[test]
fn every_example_form_survives_export_and_import() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/forms");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no example forms in {}", dir.display());
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut form = Form::from_json(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        form.schema = None;
        let bytes = export_xlsx(&form).unwrap_or_else(|e| panic!("{name}: export: {e}"));
        let report = import_spreadsheet_bytes(&bytes, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: import: {e}"));
        let diagnostics: Vec<String> = report.diagnostics.iter().map(|d| d.render(&name)).collect();
        let imported = report
            .form
            .unwrap_or_else(|| panic!("{name} did not import:\n{}", diagnostics.join("\n")));
        assert!(
            diagnostics.is_empty(),
            "{name}: an exported form imports without warnings:\n{}",
            diagnostics.join("\n")
        );
        if imported != form {
            let want = serde_json::to_string_pretty(&form).unwrap();
            let got = serde_json::to_string_pretty(&imported).unwrap();
            let first_diff = want
                .lines()
                .zip(got.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| format!("line {}: expected {a}\n          got {b}", i + 1))
                .unwrap_or_else(|| "lengths differ".to_owned());
            panic!("{name} changed in the round trip; {first_diff}");
        }
    }
}

/// The real workbooks, imported, exported and imported again, give the same form.
#[test]
fn real_workbooks_survive_a_second_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/xlsform");
    assert!(
        dir.exists(),
        "conformance workbooks missing: {} (the repository must sit next to shared/)",
        dir.display()
    );
    let options = ImportOptions {
        source_name: "form".into(),
        lenient: true,
    };
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let first = voices_xlsform::import_file(&path, &options)
            .unwrap()
            .form
            .unwrap_or_else(|| panic!("{name} does not import"));
        let bytes = export_xlsx(&first).unwrap();
        let second = import_spreadsheet_bytes(&bytes, &options)
            .unwrap()
            .form
            .unwrap_or_else(|| panic!("{name} does not import after export"));
        assert!(first == second, "{name} changed in the round trip");
        count += 1;
    }
    assert_eq!(count, 4, "expected the four conformance workbooks");
}

/// Every property Voices adds (consent, privacy, pii, sensitive, disaggregation, safe exit,
/// repeat bounds, inline groups, an unusual writing direction) survives the spreadsheet.
#[test]
fn people_centred_metadata_round_trips() {
    let json = r#"{
      "id": "meta", "version": "3", "title": {"en": "Visit", "ar": "زيارة"},
      "languages": [
        {"code": "en", "name": "English"},
        {"code": "ar", "name": "العربية", "direction": "rtl"},
        {"code": "xx", "name": "Test", "direction": "rtl"}
      ],
      "default_language": "en",
      "instance_name": "concat('visit ', ${visit_no})",
      "safe_exit": {"title": {"en": "Recipes"}, "message": {"en": "Cooking notes"}, "decoy_group": "decoy"},
      "body": [
        {"type": "consent", "name": "consent", "text_version": "2024-03",
         "label": {"en": "Consent"}, "text": {"en": "We would like to ask…", "ar": "نود أن نسأل…"},
         "question": {"en": "Do you agree?"}, "agree_label": {"en": "Yes"}, "decline_label": {"en": "No"},
         "decline_message": {"en": "Thank you."}},
        {"type": "integer", "name": "visit_no", "label": {"en": "Visit"}, "default": "1", "required": true},
        {"type": "assent", "name": "minor_ok", "text_version": "2024-03-minor", "minor": "${visit_no} = 1",
         "label": {"en": "Your say"}, "text": {"en": "Your parent agreed, but you decide…", "ar": "وافق والدك، لكن القرار لك…"},
         "question": {"en": "Do you want to take part?"}, "agree_label": {"en": "Yes"}, "decline_label": {"en": "No"},
         "decline_message": {"en": "That is fine."}},
        {"type": "text", "name": "first_name", "label": {"en": "First name"}, "pii": true,
         "default": "'none'", "read_only": "${visit_no} > 1"},
        {"type": "group", "name": "violence", "label": {"en": "Safety"}, "privacy": "required",
         "privacy_prompt": {"en": "Are we alone?"}, "sensitive": true, "page": false,
         "body": [{"type": "select_one", "name": "felt_unsafe", "label": {"en": "Unsafe?"}, "choices": "yn",
                   "sensitive": true, "appearance": "minimal", "parameters": {"randomize": "true"}}]},
        {"type": "repeat", "name": "members", "label": {"en": "Members"}, "min": 1, "max": 20,
         "add_label": {"en": "Add a member"},
         "body": [{"type": "range", "name": "age", "label": {"en": "Age"},
                   "range": {"start": 0, "end": 120, "step": 1}, "disaggregation": "age"}]},
        {"type": "group", "name": "decoy", "label": {"en": "Recipes"},
         "body": [{"type": "note", "name": "recipe", "label": {"en": "Rice and beans"}}]}
      ],
      "choices": {"yn": [{"name": "yes", "label": {"en": "Yes", "ar": "نعم"}, "region": "north"},
                         {"name": "no", "label": {"en": "No", "ar": "لا"}}]}
    }"#;
    let form = Form::from_json(json).unwrap();
    let bytes = export_xlsx(&form).unwrap();
    let report = import_spreadsheet_bytes(&bytes, &ImportOptions::default()).unwrap();
    let rendered: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| d.render("meta.xlsx"))
        .collect();
    let imported = report
        .form
        .unwrap_or_else(|| panic!("does not import:\n{}", rendered.join("\n")));
    assert_eq!(imported, form, "{}", rendered.join("\n"));
}

/// The `disaggregation` column takes `sex`, `age` or `disability` (any case) and reports
/// anything else at its cell.
#[test]
fn the_disaggregation_column_is_read_and_checked() {
    let md = "| survey |\n\
        | | type | name | label | disaggregation |\n\
        | | integer | age | Age | Age |\n\
        | | select_one yn | sex | Sex | sex |\n\
        | | text | height | Height | tallness |\n\
        | choices |\n\
        | | list_name | name | label |\n\
        | | yn | f | F |\n\
        | | yn | m | M |\n";
    let report = voices_xlsform::import_markdown(md, &ImportOptions::default());
    let errors: Vec<_> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, "bad-disaggregation");
    assert!(
        errors[0].message.contains("'tallness'"),
        "{}",
        errors[0].message
    );
    let fixed = md.replace("tallness", "");
    let report = voices_xlsform::import_markdown(&fixed, &ImportOptions::default());
    let form = report.form.expect("imports once the bad cell is emptied");
    let marks: Vec<_> = form
        .body
        .iter()
        .filter_map(|item| match item {
            voices_core::form::Item::Field(f) => Some((f.name.as_str(), f.disaggregation)),
            _ => None,
        })
        .collect();
    use voices_core::form::Disaggregation;
    assert_eq!(
        marks,
        [
            ("age", Some(Disaggregation::Age)),
            ("sex", Some(Disaggregation::Sex)),
            ("height", None)
        ]
    );
}

/// A `respondent_selection` row reads its roster, eligibility and method from the
/// `selection_*` columns (a method other than uniform or kish is reported at its cell),
/// and writes them back.
#[test]
fn respondent_selection_rows_are_read_checked_and_written() {
    let md = "| survey |\n\
        | | type | name | label | selection_roster | selection_eligible | selection_method |\n\
        | | begin repeat | members | Members | | | |\n\
        | | integer | member_age | Age | | | |\n\
        | | end repeat | | | | | |\n\
        | | respondent_selection | selected | Draw one adult | members | ${member_age} >= 18 | Kish |\n\
        | | respondent_selection | other | Draw anyone | members | | lottery |\n";
    let report = voices_xlsform::import_markdown(md, &ImportOptions::default());
    let errors: Vec<_> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, "bad-selection-method");
    assert!(
        errors[0].message.contains("'lottery'"),
        "{}",
        errors[0].message
    );

    let fixed = md.replace("lottery", "uniform");
    let form = voices_xlsform::import_markdown(&fixed, &ImportOptions::default())
        .form
        .expect("imports once the method is known");
    use voices_core::form::{FieldType, Item, SelectionMethod};
    let selections: Vec<_> = form
        .body
        .iter()
        .filter_map(|item| match item {
            Item::Field(f) if f.kind == FieldType::RespondentSelection => f.selection.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(selections.len(), 2);
    assert_eq!(selections[0].roster, "members");
    assert_eq!(
        selections[0].eligible.as_deref(),
        Some("${member_age} >= 18")
    );
    assert_eq!(selections[0].method, SelectionMethod::Kish);
    assert_eq!(selections[1].eligible, None);
    assert_eq!(selections[1].method, SelectionMethod::Uniform);

    let bytes = export_xlsx(&form).unwrap();
    let again = import_spreadsheet_bytes(&bytes, &ImportOptions::default())
        .unwrap()
        .form
        .expect("the exported workbook imports");
    assert_eq!(again, form);
}

/// A `referral` row reads the respondent's area and needs from `referral_area` and
/// `referral_needs`, is checked by the core (a step without its area is refused at its
/// row), and writes them back.
#[test]
fn referral_rows_are_read_checked_and_written() {
    let md = "| survey |\n\
        | | type | name | label | referral_area | referral_needs | required |\n\
        | | select_one areas | district | District | | | |\n\
        | | select_multiple kinds | needs | Needs | | | |\n\
        | | referral | services | Services | ${district} | ${needs} | yes |\n\
        | | referral | any | Any service | ${district} | | |\n\
        | choices |\n\
        | | list_name | name | label |\n\
        | | areas | north | North |\n\
        | | kinds | health | Health |\n\
        | | kinds | legal | Legal |\n";
    let form = voices_xlsform::import_markdown(md, &ImportOptions::default())
        .form
        .expect("imports");
    use voices_core::form::{FieldType, Item};
    let referrals: Vec<_> = form
        .body
        .iter()
        .filter_map(|item| match item {
            Item::Field(f) if f.kind == FieldType::Referral => f.referral.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(referrals.len(), 2);
    assert_eq!(referrals[0].area, "${district}");
    assert_eq!(referrals[0].needs.as_deref(), Some("${needs}"));
    assert_eq!(referrals[1].needs, None);
    assert!(voices_core::check::check_form(&form)
        .iter()
        .all(|d| d.severity != voices_core::diagnostic::Severity::Error));

    let bytes = export_xlsx(&form).unwrap();
    let again = import_spreadsheet_bytes(&bytes, &ImportOptions::default())
        .unwrap()
        .form
        .expect("the exported workbook imports");
    assert_eq!(again, form);

    // A referral row without its area: the core's finding, placed at the row.
    let missing = md.replace(
        "| referral | any | Any service | ${district} |",
        "| referral | any | Any service | |",
    );
    let report = voices_xlsform::import_markdown(&missing, &ImportOptions::default());
    let errors: Vec<_> = report.errors().collect();
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("referral step `any`")),
        "{errors:#?}"
    );
}

/// ODK entities (the `entities` sheet and `save_to`) are kept in the form and written
/// back, so a workbook survives import and export with them.
#[test]
fn entities_round_trip() {
    let md = r#"
| survey |
| | type | name | label | save_to |
| | text | tree_name | Tree | |
| | integer | height | Height | height_m |
| | geopoint | location | Where | geometry |
| entities |
| | list_name | label | create_if |
| | trees | concat(${tree_name}, ' ', ${height}) | ${height} > 1 |
"#;
    let report = voices_xlsform::import_markdown(md, &ImportOptions::default());
    let form = report.form.expect("imports");
    assert_eq!(form.entities.len(), 1);
    let entity = &form.entities[0];
    assert_eq!(entity.list_name, "trees");
    assert_eq!(
        entity.label.as_deref(),
        Some("concat(${tree_name}, ' ', ${height})")
    );
    assert_eq!(entity.create_if.as_deref(), Some("${height} > 1"));
    let saved: Vec<Option<&str>> = form
        .body
        .iter()
        .map(|item| match item {
            voices_core::form::Item::Field(f) => f.save_to.as_deref(),
            _ => None,
        })
        .collect();
    assert_eq!(saved, [None, Some("height_m"), Some("geometry")]);
    let bytes = export_xlsx(&form).unwrap();
    let again = import_spreadsheet_bytes(&bytes, &ImportOptions::default()).unwrap();
    let rendered: Vec<String> = again
        .diagnostics
        .iter()
        .map(|d| d.render("e.xlsx"))
        .collect();
    let imported = again
        .form
        .unwrap_or_else(|| panic!("does not import:\n{}", rendered.join("\n")));
    assert_eq!(imported, form, "{}", rendered.join("\n"));
}

/// `select_one ${name}`: the choices are the answers of a field inside a repeat
/// (`choices_from`), written back the same way.
#[test]
fn choices_from_a_repeat_round_trip() {
    let md = r#"
| survey |
| | type | name | label | choice_filter |
| | integer | min_age | Youngest | |
| | begin repeat | members | Member | |
| | text | member_name | Name | |
| | integer | member_age | Age | |
| | end repeat | members | | |
| | select_one ${member_name} | head | Head | ${member_age} >= ${min_age} |
| | select_multiple ${member_name} | carers | Carers | |
"#;
    let report = voices_xlsform::import_markdown(md, &ImportOptions::default());
    let rendered: Vec<String> = report.diagnostics.iter().map(|d| d.render("md")).collect();
    let form = report
        .form
        .unwrap_or_else(|| panic!("does not import:\n{}", rendered.join("\n")));
    let sources: Vec<(Option<&str>, Option<&str>)> = form
        .body
        .iter()
        .filter_map(|item| match item {
            voices_core::form::Item::Field(f) if f.kind.uses_choices() => {
                Some((f.choices.as_deref(), f.choices_from.as_deref()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        sources,
        [(None, Some("member_name")), (None, Some("member_name"))]
    );
    let bytes = export_xlsx(&form).unwrap();
    let again = import_spreadsheet_bytes(&bytes, &ImportOptions::default()).unwrap();
    let rendered: Vec<String> = again
        .diagnostics
        .iter()
        .map(|d| d.render("x.xlsx"))
        .collect();
    let imported = again
        .form
        .unwrap_or_else(|| panic!("does not import:\n{}", rendered.join("\n")));
    assert_eq!(imported, form, "{}", rendered.join("\n"));
}

/// pyxform's instance ids: one id loaded from two sources, or two external instances of
/// one name, is refused at the later cell.
#[test]
fn an_instance_id_stands_for_one_source() {
    let codes = |md: &str| -> Vec<(String, String)> {
        voices_xlsform::import_markdown(md, &ImportOptions::default())
            .errors()
            .map(|d| (d.code.to_string(), d.render("md")))
            .collect()
    };
    let clash = codes(
        r#"
| survey |
| | type | name | label | calculation |
| | xml-external | fruits | | |
| | calculate | f | | pulldata('fruits', 'name', 'name', 'mango') |
"#,
    );
    assert_eq!(clash.len(), 1, "{clash:?}");
    assert_eq!(clash[0].0, "duplicate-instance");
    assert!(clash[0].1.contains("survey!D3"), "{clash:?}");
    let twice = codes(
        r#"
| survey |
| | type | name | label |
| | xml-external | places | |
| | begin group | g | G |
| | csv-external | places | |
| | end group | g | |
"#,
    );
    assert_eq!(twice.len(), 1, "{twice:?}");
    assert!(
        twice[0].1.contains("already declared at survey!B2"),
        "{twice:?}"
    );
    // The same file through two routes is one instance.
    assert!(codes(
        r#"
| survey |
| | type | name | label | calculation |
| | csv-external | city | | |
| | select_one_from_file city.csv | c | City | |
| | calculate | p | | pulldata('city', 'n', 'n', 'x') |
"#
    )
    .is_empty());
}

/// A `match` cell on a `begin group` row is the group's enumerator–respondent matching
/// rule (with `enumerator()`), written back on export; on a repeat it is reported at its
/// cell, and the core checks the rule's key.
#[test]
fn match_rules_on_groups_round_trip() {
    let md = "| survey |\n\
        | | type | name | label | match |\n\
        | | select_one sex | resp_sex | Respondent's sex | |\n\
        | | begin group | violence | Experiences | enumerator('sex') = 'female' or ${resp_sex} != 'female' |\n\
        | | text | hurt | Hurt? | |\n\
        | | end group | | | |\n\
        | | begin repeat | visits | Visits | true() |\n\
        | | text | note | Note | |\n\
        | | end repeat | | | |\n\
        | choices |\n\
        | | list_name | name | label |\n\
        | | sex | female | Female |\n\
        | | sex | male | Male |\n";
    let report = voices_xlsform::import_markdown(md, &ImportOptions::default());
    let errors: Vec<_> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].message.contains("'match' is a rule on a group"),
        "{errors:#?}"
    );

    let fixed = md.replace("| Visits | true() |", "| Visits | |");
    let form = voices_xlsform::import_markdown(&fixed, &ImportOptions::default())
        .form
        .expect("imports without the cell on the repeat");
    use voices_core::form::Item;
    let rule = form.body.iter().find_map(|item| match item {
        Item::Group(g) if g.name == "violence" => g.match_rule.clone(),
        _ => None,
    });
    assert_eq!(
        rule.as_deref(),
        Some("enumerator('sex') = 'female' or ${resp_sex} != 'female'")
    );
    let bytes = export_xlsx(&form).unwrap();
    let again = import_spreadsheet_bytes(&bytes, &ImportOptions::default())
        .unwrap()
        .form
        .expect("the exported workbook imports");
    assert_eq!(again, form);

    let wrong_key = fixed.replace("enumerator('sex')", "enumerator('gender')");
    let report = voices_xlsform::import_markdown(&wrong_key, &ImportOptions::default());
    assert!(
        report
            .errors()
            .any(|e| e.message.contains("`sex`, `languages` or `area`")),
        "{:#?}",
        report.errors().collect::<Vec<_>>()
    );
}

/// A minor's assent row: read with its `minor` column and consent columns, written back,
/// and refused with the cell named when it is misused.
#[test]
fn assent_rows_are_read_checked_and_written() {
    let md = "| survey |\n\
        | | type | name | label | consent_version | minor | calculation | relevant |\n\
        | | consent | | We ask you or your guardian | c1 | | | |\n\
        | | integer | age | Age | | | | |\n\
        | | assent | | Your guardian agreed; you decide | a1 | ${age} < 18 | | |\n\
        | | text | school | School | | | | |\n";
    let report = voices_xlsform::import_markdown(md, &ImportOptions::default());
    let errors: Vec<_> = report.errors().collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let form = report.form.expect("imports");
    use voices_core::form::{ConsentRole, Item};
    let Item::Consent(assent) = &form.body[2] else {
        panic!("{:?}", form.body[2]);
    };
    assert_eq!(assent.role, ConsentRole::Assent);
    assert_eq!(assent.name, "assent");
    assert_eq!(assent.text_version, "a1");
    assert_eq!(assent.minor.as_deref(), Some("${age} < 18"));
    assert!(voices_core::check::check_form(&form)
        .iter()
        .all(|d| !d.is_error()));
    // Written back as an `assent` row with its `minor`, and read again unchanged.
    let bytes = export_xlsx(&form).unwrap();
    let again = import_spreadsheet_bytes(&bytes, &ImportOptions::default())
        .unwrap()
        .form
        .expect("re-imports");
    assert_eq!(again, form);

    for (bad, code, cell) in [
        (
            md.replace("| ${age} < 18 | | |", "| ${age} < 18 | 'yes' | |"),
            "assent-misuse",
            "F4",
        ),
        (
            md.replace("| ${age} < 18 | | |", "| ${age} < 18 | | true() |"),
            "assent-misuse",
            "G4",
        ),
        (md.replace("| ${age} < 18 |", "| |"), "missing-minor", "4"),
    ] {
        let report = voices_xlsform::import_markdown(&bad, &ImportOptions::default());
        let errors: Vec<_> = report.errors().collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].code, code);
        let rendered = errors[0].render("f.xlsx");
        assert!(rendered.contains(cell), "{rendered}");
    }
    // The core's rules hold on import too: an assent with no consent before it.
    let no_consent = md.replace(
        "| | consent | | We ask you or your guardian | c1 | | | |\n",
        "",
    );
    let report = voices_xlsform::import_markdown(&no_consent, &ImportOptions::default());
    assert!(
        report.errors().any(|d| d.code == "assent-without-consent"),
        "{:#?}",
        report.diagnostics
    );
}
