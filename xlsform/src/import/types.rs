//! XLSForm type names (pyxform's question type dictionary and aliases) to Voices.

use voices_core::form::FieldType;

/// What a `type` cell means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowType {
    Field(FieldType),
    /// A select; `list` is the choice list (or file), `from_file` for `*_from_file`,
    /// `external` for `select_one_external` (choices on the `external_choices` sheet).
    Select {
        kind: FieldType,
        list: String,
        or_other: bool,
        from_file: bool,
        external: bool,
    },
    /// A device property Voices does not collect (phone number, SIM serial, e-mail…):
    /// imported as an empty hidden field so references still resolve.
    UncollectedProperty(&'static str),
    /// A form-level pyxform feature with no Voices meaning (audit, background audio…).
    Unsupported(&'static str),
    /// `xml-external` / `csv-external`: a secondary instance.
    ExternalInstance,
    BeginGroup,
    EndGroup,
    BeginRepeat,
    EndRepeat,
    BeginLoop(String),
    EndLoop,
    Consent,
    /// A minor's assent after the guardian's consent.
    Assent,
}

const SELECT_COMMANDS: &[(&str, FieldType, bool, bool)] = &[
    // (command, kind, from_file, external)
    (
        "add select one prompt using",
        FieldType::SelectOne,
        false,
        false,
    ),
    (
        "add select multiple prompt using",
        FieldType::SelectMultiple,
        false,
        false,
    ),
    (
        "select all that apply from",
        FieldType::SelectMultiple,
        false,
        false,
    ),
    (
        "select multiple from file",
        FieldType::SelectMultiple,
        true,
        false,
    ),
    ("select one from file", FieldType::SelectOne, true, false),
    (
        "select_multiple_from_file",
        FieldType::SelectMultiple,
        true,
        false,
    ),
    ("select_one_from_file", FieldType::SelectOne, true, false),
    (
        "select multiple from",
        FieldType::SelectMultiple,
        false,
        false,
    ),
    (
        "select multiple using",
        FieldType::SelectMultiple,
        false,
        false,
    ),
    ("select one using", FieldType::SelectOne, false, false),
    ("select one from", FieldType::SelectOne, false, false),
    ("select_one_external", FieldType::SelectOne, false, true),
    ("select one external", FieldType::SelectOne, false, true),
    (
        "select all that apply",
        FieldType::SelectMultiple,
        false,
        false,
    ),
    ("select_multiple", FieldType::SelectMultiple, false, false),
    ("select multiple", FieldType::SelectMultiple, false, false),
    ("select_one", FieldType::SelectOne, false, false),
    ("select one", FieldType::SelectOne, false, false),
    ("select1", FieldType::SelectOne, false, false),
    ("q select1", FieldType::SelectOne, false, false),
    ("q select", FieldType::SelectMultiple, false, false),
    ("rank", FieldType::Rank, false, false),
];

/// Plain (list-less) types from pyxform's dictionary, by exact name.
fn plain_type(name: &str) -> Option<RowType> {
    use FieldType as F;
    let field = |k| Some(RowType::Field(k));
    match name {
        "text" | "string" | "q string" | "add text prompt" | "phone number" => field(F::Text),
        "integer" | "int" | "q int" | "add integer prompt" | "percentage"
        | "number of days in last month" | "number of days in last six months"
        | "number of days in last year" => field(F::Integer),
        "decimal" | "q decimal" | "add decimal prompt" => field(F::Decimal),
        "range" => field(F::Range),
        "date" | "q date" | "add date prompt" => field(F::Date),
        "time" => field(F::Time),
        "datetime" | "dateTime" | "date time" | "q date time" | "q dateTime"
        | "add date time prompt" | "add dateTime prompt" => field(F::Datetime),
        "geopoint" | "q geopoint" | "location" | "q location" | "gps" | "add location prompt" => {
            field(F::Geopoint)
        }
        "geotrace" | "q geotrace" => field(F::Geotrace),
        "geoshape" | "q geoshape" => field(F::Geoshape),
        "image" | "photo" | "q picture" | "q image" | "add image prompt" | "add photo prompt" => {
            field(F::Image)
        }
        "audio" | "q audio" | "add audio prompt" => field(F::Audio),
        "video" | "q video" | "add video prompt" => field(F::Video),
        "file" | "add file prompt" => field(F::File),
        "barcode" | "q barcode" | "add barcode prompt" => field(F::Barcode),
        "note" | "q note" | "add note prompt" => field(F::Note),
        "acknowledge" | "q acknowledge" | "add acknowledge prompt" | "trigger" => {
            field(F::Acknowledge)
        }
        "calculate" | "q calculate" | "add calculate prompt" => field(F::Calculate),
        "hidden" => field(F::Hidden),
        "start" | "start time" | "get start time" => field(F::Start),
        "end" | "end time" | "get end time" => field(F::End),
        "today" | "get today" => field(F::Today),
        "deviceid" | "device id" | "imei" | "get device id" | "uri:deviceid" => field(F::Deviceid),
        "username" | "uri:username" | "enumerator" => field(F::Username),
        "phonenumber" | "get phone number" | "uri:phonenumber" => {
            Some(RowType::UncollectedProperty("the device's phone number"))
        }
        "simserial" | "sim id" | "get sim id" | "uri:simserial" => {
            Some(RowType::UncollectedProperty("the SIM card serial number"))
        }
        "subscriberid" | "subscriber id" | "get subscriber id" | "uri:subscriberid" => {
            Some(RowType::UncollectedProperty("the subscriber id"))
        }
        "email" | "uri:email" => Some(RowType::UncollectedProperty("the user's e-mail address")),
        "audit" => Some(RowType::Unsupported(
            "audit logs are not supported by Voices",
        )),
        "background-audio" => Some(RowType::Unsupported(
            "background audio recording is not supported (covert recording puts respondents at risk)",
        )),
        "background-geopoint" => Some(RowType::Unsupported(
            "background location capture is not supported",
        )),
        "start-geopoint" => field(F::Geopoint),
        "osm" => field(F::File),
        "xml-external" | "csv-external" => Some(RowType::ExternalInstance),
        "consent" => Some(RowType::Consent),
        "assent" => Some(RowType::Assent),
        "respondent_selection" => field(F::RespondentSelection),
        "referral" => field(F::Referral),
        _ => None,
    }
}

/// Parse a `type` cell. `None` when the type is unknown.
pub fn parse_type(cell: &str) -> Option<RowType> {
    let collapsed = cell.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(t) = plain_type(&collapsed) {
        return Some(t);
    }
    let lower = collapsed.to_lowercase();
    if let Some(t) = plain_type(&lower) {
        return Some(t);
    }
    if let Some(t) = control_type(&lower) {
        return Some(t);
    }
    // `osm <tag list>`: an OpenStreetMap file; the tag list has no Voices meaning.
    if lower.strip_prefix("osm ").is_some_and(|l| !l.contains(' ')) {
        return Some(RowType::Field(FieldType::File));
    }
    for (command, kind, from_file, external) in SELECT_COMMANDS {
        let Some(rest) = lower.strip_prefix(command) else {
            continue;
        };
        if !rest.starts_with(' ') {
            continue;
        }
        // The list name keeps the designer's case. Lowercasing can change byte lengths
        // (`K` → `k`), never spaces, so count words rather than bytes.
        let command_words = command.split(' ').count();
        let mut words: Vec<&str> = collapsed.split(' ').skip(command_words).collect();
        let mut or_other = false;
        for suffix in [
            &["or_other"][..],
            &["or", "other"],
            &["or", "specify", "other"],
        ] {
            if words.len() > suffix.len()
                && words[words.len() - suffix.len()..]
                    .iter()
                    .zip(suffix.iter())
                    .all(|(w, s)| w.eq_ignore_ascii_case(s))
            {
                words.truncate(words.len() - suffix.len());
                or_other = true;
                break;
            }
        }
        if words.len() != 1 {
            return None;
        }
        return Some(RowType::Select {
            kind: *kind,
            list: words[0].to_owned(),
            or_other,
            from_file: *from_file,
            external: *external,
        });
    }
    None
}

/// Whether pyxform, which matches type names case-sensitively, reads `cell` as written
/// (Voices also reads `Integer` or `Select_one list`, with a warning).
pub fn in_pyxform_case(cell: &str) -> bool {
    let collapsed = cell.split_whitespace().collect::<Vec<_>>().join(" ");
    plain_type(&collapsed).is_some()
        || control_type(&collapsed).is_some()
        || collapsed.starts_with("osm ")
        || SELECT_COMMANDS.iter().any(|(command, ..)| {
            collapsed
                .strip_prefix(command)
                .is_some_and(|rest| rest.starts_with(' '))
        })
}

fn control_type(lower: &str) -> Option<RowType> {
    let (verb, rest) = lower
        .strip_prefix("begin")
        .map(|r| ("begin", r))
        .or_else(|| lower.strip_prefix("end").map(|r| ("end", r)))?;
    let rest = rest.strip_prefix([' ', '_'])?;
    let (control, tail) = match rest.split_once(' ') {
        Some((c, t)) if c != "looped" => (c, t.trim()),
        _ if rest.starts_with("looped group") => ("repeat", rest["looped group".len()..].trim()),
        _ => (rest, ""),
    };
    match (verb, control, tail) {
        ("begin", "group", "") => Some(RowType::BeginGroup),
        ("end", "group", "") => Some(RowType::EndGroup),
        ("begin", "repeat" | "lgroup", "") => Some(RowType::BeginRepeat),
        ("end", "repeat" | "lgroup", "") => Some(RowType::EndRepeat),
        ("begin", "loop", tail) => {
            let list = tail.strip_prefix("over ").unwrap_or(tail).trim();
            if list.is_empty() || list.contains(' ') {
                None
            } else {
                Some(RowType::BeginLoop(list.to_owned()))
            }
        }
        ("end", "loop", "") => Some(RowType::EndLoop),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selects_and_controls() {
        assert_eq!(
            parse_type("select_one yes_no or_other"),
            Some(RowType::Select {
                kind: FieldType::SelectOne,
                list: "yes_no".into(),
                or_other: true,
                from_file: false,
                external: false
            })
        );
        assert_eq!(
            parse_type("select all that apply  Fruits"),
            Some(RowType::Select {
                kind: FieldType::SelectMultiple,
                list: "Fruits".into(),
                or_other: false,
                from_file: false,
                external: false
            })
        );
        assert!(matches!(
            parse_type("select_one_from_file villages.csv"),
            Some(RowType::Select {
                from_file: true,
                ..
            })
        ));
        assert_eq!(parse_type("begin_group"), Some(RowType::BeginGroup));
        assert_eq!(parse_type("Begin Repeat"), Some(RowType::BeginRepeat));
        assert_eq!(parse_type("end group"), Some(RowType::EndGroup));
        assert_eq!(
            parse_type("begin loop over c1"),
            Some(RowType::BeginLoop("c1".into()))
        );
        assert_eq!(
            parse_type("dateTime"),
            Some(RowType::Field(FieldType::Datetime))
        );
        assert_eq!(parse_type("select_one"), None);
        assert!(in_pyxform_case("select_one Fruits or_other"));
        assert!(in_pyxform_case("begin_group"));
        assert!(in_pyxform_case("dateTime"));
        for other_case in ["Begin Repeat", "Integer", "Select one from source"] {
            assert!(parse_type(other_case).is_some(), "{other_case}");
            assert!(!in_pyxform_case(other_case), "{other_case}");
        }
        // U+212A KELVIN SIGN lowercases to a one-byte `k`.
        assert!(matches!(
            parse_type("select_one \u{212A}x"),
            Some(RowType::Select { list, .. }) if list == "\u{212A}x"
        ));
        assert_eq!(parse_type("txt"), None);
    }

    #[test]
    fn every_pyxform_type_and_alias_is_understood() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/types-and-functions.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "conformance material missing: {} ({e}); the repository must sit next to shared/",
                path.display()
            )
        });
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let types = json["pyxform_question_type_dictionary"]["types"]
            .as_array()
            .expect("types");
        assert!(
            types.len() >= 100,
            "expected pyxform's full type dictionary"
        );
        let mut unknown = Vec::new();
        for t in types {
            let name = t["type"].as_str().unwrap();
            // Select types name their list in the same cell.
            let cell = match t["control_tag"].as_str() {
                Some("select" | "select1" | "odk:rank") => format!("{name} list1"),
                _ => name.to_owned(),
            };
            if parse_type(&cell).is_none() {
                unknown.push(cell);
            }
        }
        let aliases = &json["pyxform_aliases"]["aliases"];
        for (group, suffix) in [
            ("select", " list1"),
            ("select_from_file", " items.csv"),
            ("_type_alias_map", ""),
        ] {
            for alias in aliases[group]["entries"].as_object().unwrap().keys() {
                let cell = format!("{alias}{suffix}");
                if parse_type(&cell).is_none() {
                    unknown.push(cell);
                }
            }
        }
        for control in aliases["control"]["entries"].as_object().unwrap().keys() {
            for verb in ["begin", "end"] {
                let cell = if control == "loop" && verb == "begin" {
                    "begin loop over list1".to_owned()
                } else {
                    format!("{verb} {control}")
                };
                if parse_type(&cell).is_none() {
                    unknown.push(cell);
                }
            }
        }
        assert!(unknown.is_empty(), "types not understood: {unknown:?}");
    }
}
