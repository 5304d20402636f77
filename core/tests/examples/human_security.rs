//! The human-security example: its people-centred constructs, and a complete
//! interview that is valid and computes its indicators under the form's rules.

use super::*;

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
        "violence": "no", "sought_help": "no",
        "support_needs": ["health", "legal"],
        "referral_services": "accepted mx_tapachula_health mx_tapachula_legal"
    });
    if let (Some(base), Value::Object(changes)) = (answers.as_object_mut(), overrides) {
        base.extend(changes);
    }
    let at = "2026-11-26T10:00:00-06:00".to_owned();
    voices_core::Response {
        id: "01936d5c-0000-7000-8000-000000000001".into(),
        form_id: "community_life".into(),
        form_version: "2026120801".into(),
        answers: serde_json::from_value(answers).expect("answers"),
        consent: Some(ConsentRecord {
            given: true,
            at: at.clone(),
            text_version: "2026-12-v2".into(),
            assent: None,
        }),
        privacy: BTreeMap::from([(
            "/experiences".parse().expect("a group path"),
            PrivacyRecord {
                outcome: PrivacyOutcome::Private,
                at,
            },
        )]),
        selections: BTreeMap::new(),
        // The violence section asks for a female enumerator with a female respondent; a
        // male respondent meets the rule whoever interviews.
        matching: BTreeMap::from([(
            "/experiences".parse().expect("a group path"),
            voices_core::matching::MatchingRecord {
                outcome: voices_core::matching::MatchingOutcome::Matched,
                at: "2026-11-26T10:00:00-06:00".into(),
                by: None,
                sex: None,
                languages: Vec::new(),
                area: None,
                refused: Vec::new(),
            },
        )]),
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
    // A child too young to interview, "none" with another threat, and a member older
    // than possible.
    // (Under 18, so with the minor's assent: what follows it is asked.)
    let mut young = complete_interview(serde_json::json!({
        "age": 12,
        "assent": "yes",
        "main_threats": ["none", "violence"],
        "members": [{ "member_name": "Rosa", "member_relationship": "spouse_partner",
                      "member_sex": "female", "member_age": 130 }],
    }));
    young.consent.as_mut().expect("consent").assent = Some(voices_core::response::AssentRecord {
        given: true,
        at: "2026-11-26T10:01:00-06:00".into(),
        text_version: "2026-12-minor-v1".into(),
    });
    let session = human_security_session(young);
    let violations: BTreeMap<String, String> = session
        .validate("es")
        .into_iter()
        .map(|v| (v.path.to_string(), v.message))
        .collect();
    assert_eq!(
        violations.get("/age").map(String::as_str),
        Some("Ingrese una edad entre 15 y 110. No se entrevista a personas menores de 15 años.")
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

#[test]
fn the_violence_section_asks_for_a_female_enumerator_with_a_female_respondent() {
    let mut response = complete_interview(serde_json::json!({"sex": "female"}));
    response.matching.clear();
    let mut session = human_security_session(response);
    let group: voices_core::engine::AnswerPath = "/experiences".parse().expect("a group path");
    let mut env = voices_core::env::FixedEnvironment::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00-06:00").expect("time"),
        1,
    );
    // No profile, then a male enumerator: not met.
    assert!(session.check_matching(&group, &mut env).unwrap().is_none());
    env.enumerator = Some(voices_core::matching::EnumeratorProfile {
        sex: Some("male".into()),
        ..Default::default()
    });
    assert!(session.check_matching(&group, &mut env).unwrap().is_none());
    env.enumerator = Some(voices_core::matching::EnumeratorProfile {
        sex: Some("female".into()),
        ..Default::default()
    });
    assert!(session.check_matching(&group, &mut env).unwrap().is_some());
    assert!(session.validate("en").is_empty());
}

/// The referral step of the example lists, from the example directory, the services of the
/// respondent's district for the needs named, and records the ones accepted.
#[test]
fn the_human_security_referral_step_matches_the_example_directory() {
    let directory = voices_core::referral::Directory::from_json(&read(&repo_path(
        "schemas/referrals/human-security-perceptions.json",
    )))
    .expect("the example directory checks");
    let session = human_security_session(complete_interview(serde_json::json!({})));
    let view = session.view("es");
    let referral = view
        .pages
        .iter()
        .flat_map(|p| &p.items)
        .find_map(|i| match i {
            voices_core::engine::ItemView::Field(f) if f.name == "referral_services" => {
                f.referral.clone()
            }
            _ => None,
        })
        .expect("the referral step is shown after a disclosure");
    assert_eq!(referral.area, "mex_tapachula");
    assert_eq!(referral.needs, ["health", "legal"]);
    assert!(referral
        .need_labels
        .contains(&("legal".to_owned(), "Asesoría legal".to_owned())));
    let needs: Vec<&str> = referral.needs.iter().map(String::as_str).collect();
    let ids: Vec<&str> = directory
        .matching(&referral.area, &needs)
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["mx_tapachula_health", "mx_tapachula_legal"]);
    // No needs named: every service of the district, those serving everywhere first.
    let all: Vec<&str> = directory
        .matching("mex_tapachula", &[])
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        all,
        [
            "mx_national_line",
            "mx_tapachula_health",
            "mx_tapachula_legal",
            "mx_chiapas_shelter"
        ]
    );

    // Without a disclosure the step is not asked, and the interview is still complete.
    let quiet = human_security_session(complete_interview(serde_json::json!({
        "officials_abuse": "no", "officials_abuse_kind": null, "sought_help": null,
        "support_needs": null, "referral_services": null
    })));
    assert!(quiet
        .validate("en")
        .iter()
        .all(|v| !v.path.to_string().contains("referral")));
}

/// A 16-year-old takes part with a guardian's consent and their own assent, recorded
/// with its version; they are not asked the adults' questions (gender identity, the
/// Washington Group set, the experiences of abuse and violence), and their refusal
/// ends the interview even though the guardian agreed.
#[test]
fn a_minor_takes_part_with_a_guardian_s_consent_and_their_own_assent() {
    use voices_core::response::AssentRecord;
    let minor = |given: bool| {
        let mut response = complete_interview(
            serde_json::json!({ "age": 16, "assent": if given { "yes" } else { "no" } }),
        );
        let answers = &mut response.answers.0;
        for adult_only in [
            "gender_identity",
            "wg_seeing",
            "wg_hearing",
            "wg_walking",
            "wg_cognition",
            "wg_selfcare",
            "wg_communication",
            "officials_abuse",
            "officials_abuse_kind",
            "violence",
            "sought_help",
            "support_needs",
            "referral_services",
        ] {
            answers.remove(adult_only);
        }
        response.privacy.clear();
        response.matching.clear();
        response.consent.as_mut().expect("consent").assent = Some(AssentRecord {
            given,
            at: "2026-11-26T10:01:00-06:00".into(),
            text_version: "2026-12-minor-v1".into(),
        });
        response
    };
    let session = human_security_session(minor(true));
    let violations: Vec<String> = session
        .validate("en")
        .into_iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
    let view = session.view("en");
    let assent = view
        .pages
        .iter()
        .find_map(|p| p.consent.as_ref().filter(|c| c.assent))
        .expect("the assent page");
    assert_eq!(assent.text_version, "2026-12-minor-v1");
    for lang in ["ar", "uk", "es"] {
        let translated = session.view(lang);
        let page = translated
            .pages
            .iter()
            .find_map(|p| p.consent.as_ref().filter(|c| c.assent))
            .expect("the assent page");
        assert_ne!(page.text, assent.text, "{lang} has its own assent text");
    }
    let shown = serde_json::to_string(&view).expect("a view serializes");
    for skipped in [
        "/experiences",
        "/functioning",
        "/wg_seeing",
        "/gender_identity",
        "/violence",
    ] {
        assert!(
            !shown.contains(&format!("\"{skipped}\"")),
            "{skipped} is not asked of a minor"
        );
    }
    assert!(
        shown.contains("\"/hh_size\""),
        "the household questions are"
    );

    // Without the minor's own yes nothing after the assent may be kept.
    let declined = human_security_session(minor(false));
    let violations = declined.validate("en");
    assert!(violations.is_empty(), "{violations:#?}");
    let compiled = std::sync::Arc::clone(declined.form());
    let mut env = voices_core::env::FixedEnvironment::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00-06:00").expect("time"),
        1,
    );
    let kept = voices_core::engine::validate_response(&compiled, &minor(false), "en", &mut env);
    assert!(
        kept.iter().any(|v| v.path.as_str() == "/hh_size"),
        "answers after a refusal are refused: {kept:#?}"
    );
}
