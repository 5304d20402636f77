use super::*;

#[test]
fn field_type_round_trips_through_json_type() {
    for kind in FieldType::ALL {
        let json = format!(r#"{{"type":"{}","name":"q"}}"#, kind.as_str());
        let item: Item = serde_json::from_str(&json).unwrap();
        let Item::Field(f) = &item else {
            panic!("{json} is not a field")
        };
        assert_eq!(f.kind, kind);
        let back = serde_json::to_value(&item).unwrap();
        assert_eq!(back["type"], kind.as_str());
    }
}

#[test]
fn age_bands_cover_every_age_once() {
    assert_eq!(age_band("0"), Some("0-14"));
    assert_eq!(age_band("14.9"), Some("0-14"));
    assert_eq!(age_band("15"), Some("15-17"));
    assert_eq!(age_band("17"), Some("15-17"));
    assert_eq!(age_band(" 18 "), Some("18-24"));
    assert_eq!(age_band("24"), Some("18-24"));
    assert_eq!(age_band("25"), Some("25-49"));
    assert_eq!(age_band("49"), Some("25-49"));
    assert_eq!(age_band("50"), Some("50+"));
    assert_eq!(age_band("110"), Some("50+"));
    assert_eq!(age_band("-1"), None);
    assert_eq!(age_band("NaN"), None);
    assert_eq!(age_band("thirty"), None);
    assert_eq!(age_band(""), None);
}

#[test]
fn disaggregation_marks_round_trip_and_fit_their_types() {
    let item: Item = serde_json::from_str(
        r#"{"type":"select_one","name":"sex","choices":"sex","disaggregation":"sex"}"#,
    )
    .unwrap();
    let Item::Field(f) = &item else {
        panic!("not a field")
    };
    assert_eq!(f.disaggregation, Some(Disaggregation::Sex));
    assert_eq!(
        serde_json::to_value(&item).unwrap()["disaggregation"],
        "sex"
    );
    for d in Disaggregation::ALL {
        assert_eq!(Disaggregation::parse(d.as_str()), Some(d));
    }
    assert!(Disaggregation::Age.fits(FieldType::Integer));
    assert!(!Disaggregation::Age.fits(FieldType::SelectOne));
    assert!(Disaggregation::Sex.fits(FieldType::SelectOne));
    assert!(!Disaggregation::Disability.fits(FieldType::Text));
    assert!(serde_json::from_str::<Item>(
        r#"{"type":"integer","name":"age","disaggregation":"height"}"#
    )
    .is_err());
}

#[test]
fn unknown_property_is_rejected() {
    let err = serde_json::from_str::<Item>(r#"{"type":"text","name":"q","relevent":"1"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("relevent"), "{err}");
}

#[test]
fn enumerator_is_an_alias_of_username() {
    let item: Item = serde_json::from_str(r#"{"type":"enumerator","name":"who"}"#).unwrap();
    assert!(matches!(
        item,
        Item::Field(Field {
            kind: FieldType::Username,
            ..
        })
    ));
}
