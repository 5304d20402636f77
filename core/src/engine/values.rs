//! Whether an answer's text is a value of its field's type (canonical ODK text).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use crate::form::{FieldType, RangeParams};

use super::compile::ChoiceList;
use super::messages::Msg;

/// What is wrong with a value: the message and its placeholder values.
pub(crate) type Problem = (Msg, Vec<(&'static str, String)>);

/// Check `value` (non-empty) against the field's type, choice list and range.
pub(crate) fn check_value(
    kind: FieldType,
    value: &str,
    list: Option<&ChoiceList>,
    range: Option<&RangeParams>,
) -> Option<Problem> {
    let plain = |m: Msg| Some((m, Vec::new()));
    match kind {
        FieldType::Integer | FieldType::RespondentSelection => {
            (!is_integer(value)).then(|| (Msg::Integer, Vec::new()))
        }
        FieldType::Decimal => parse_number(value)
            .is_none()
            .then(|| (Msg::Decimal, Vec::new())),
        FieldType::Range => {
            let r = range?;
            let ok = parse_number(value).is_some_and(|n| {
                let (lo, hi) = (r.start.min(r.end), r.start.max(r.end));
                let steps = (n - r.start) / r.step;
                n >= lo - 1e-9 && n <= hi + 1e-9 && (steps - steps.round()).abs() < 1e-6
            });
            (!ok).then(|| {
                (
                    Msg::Range,
                    vec![
                        ("start", crate::expr::format_number(r.start)),
                        ("end", crate::expr::format_number(r.end)),
                        ("step", crate::expr::format_number(r.step)),
                    ],
                )
            })
        }
        FieldType::SelectOne => {
            let list = list?;
            (!list.by_name.contains_key(value))
                .then(|| (Msg::NotAChoice, vec![("value", value.to_owned())]))
        }
        FieldType::SelectMultiple | FieldType::Rank => {
            let list = list?;
            let mut seen = crate::collections::Set::default();
            for part in value.split_whitespace() {
                if !list.by_name.contains_key(part) {
                    return Some((Msg::NotAChoice, vec![("value", part.to_owned())]));
                }
                if !seen.insert(part) {
                    return Some((Msg::ChoiceTwice, vec![("value", part.to_owned())]));
                }
            }
            None
        }
        FieldType::Date | FieldType::Today => {
            if NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
                None
            } else {
                plain(Msg::Date)
            }
        }
        FieldType::Time => (!is_time(value)).then(|| (Msg::Time, Vec::new())),
        FieldType::Datetime | FieldType::Start | FieldType::End => {
            (!is_datetime(value)).then(|| (Msg::DateTime, Vec::new()))
        }
        FieldType::Geopoint => (!is_geopoint(value)).then(|| (Msg::Geopoint, Vec::new())),
        FieldType::Geotrace => (!is_geo_list(value, 2)).then(|| (Msg::Geotrace, Vec::new())),
        FieldType::Geoshape => (!is_geo_list(value, 3)).then(|| (Msg::Geoshape, Vec::new())),
        FieldType::Acknowledge => {
            (!matches!(value, "OK" | "1" | "true")).then(|| (Msg::Acknowledge, Vec::new()))
        }
        // The message quotes nothing: which service was accepted can be sensitive.
        FieldType::Referral => crate::referral::ReferralAnswer::parse(value)
            .is_err()
            .then(|| (Msg::Referral, Vec::new())),
        FieldType::Text
        | FieldType::Image
        | FieldType::Audio
        | FieldType::Video
        | FieldType::File
        | FieldType::Barcode
        | FieldType::Note
        | FieldType::Calculate
        | FieldType::Hidden
        | FieldType::Deviceid
        | FieldType::Username => None,
    }
}

fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_number(v: &str) -> Option<f64> {
    let ok_chars = v
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !ok_chars || v.is_empty() {
        return None;
    }
    v.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn is_time(v: &str) -> bool {
    // HH:MM[:SS[.sss]] with an optional offset (Z or ±HH:MM), as ODK writes times.
    let (clock, _offset_ok) = split_offset(v);
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .any(|f| NaiveTime::parse_from_str(clock, f).is_ok())
        && _offset_ok
}

fn split_offset(v: &str) -> (&str, bool) {
    if let Some(clock) = v.strip_suffix('Z') {
        return (clock, true);
    }
    if v.len() > 6 {
        let (clock, off) = v.split_at(v.len() - 6);
        if off.starts_with(['+', '-']) && off.as_bytes()[3] == b':' {
            let ok = off[1..3].bytes().all(|b| b.is_ascii_digit())
                && off[4..].bytes().all(|b| b.is_ascii_digit());
            return (clock, ok);
        }
    }
    (v, true)
}

fn is_datetime(v: &str) -> bool {
    DateTime::parse_from_rfc3339(v).is_ok()
        || [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .any(|f| NaiveDateTime::parse_from_str(v, f).is_ok())
        || {
            let (clock, ok) = split_offset(v);
            ok && clock != v
                && [
                    "%Y-%m-%dT%H:%M:%S%.f",
                    "%Y-%m-%dT%H:%M:%S",
                    "%Y-%m-%dT%H:%M",
                ]
                .iter()
                .any(|f| NaiveDateTime::parse_from_str(clock, f).is_ok())
        }
}

fn is_geopoint(v: &str) -> bool {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if !(2..=4).contains(&parts.len()) {
        return false;
    }
    let nums: Option<Vec<f64>> = parts.iter().map(|p| parse_number(p)).collect();
    let Some(nums) = nums else { return false };
    (-90.0..=90.0).contains(&nums[0])
        && (-180.0..=180.0).contains(&nums[1])
        && nums.get(3).is_none_or(|acc| *acc >= 0.0)
}

fn is_geo_list(v: &str, min_points: usize) -> bool {
    let points: Vec<&str> = v
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    points.len() >= min_points && points.iter().all(|p| is_geopoint(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_their_type() {
        use FieldType as T;
        let cases: &[(T, &str, bool)] = &[
            (T::Integer, "42", true),
            (T::Integer, "-7", true),
            (T::Integer, "4.2", false),
            (T::Integer, "abc", false),
            (T::Integer, "", false),
            (T::Decimal, "4.25", true),
            (T::Decimal, "-1e3", true),
            (T::Decimal, "NaN", false),
            (T::Decimal, "inf", false),
            (T::Decimal, "1,5", false),
            (T::Date, "2024-02-29", true),
            (T::Date, "2023-02-29", false),
            (T::Date, "29/02/2024", false),
            (T::Time, "13:45", true),
            (T::Time, "13:45:10.123+03:00", true),
            (T::Time, "25:00", false),
            (T::Datetime, "2024-05-01T10:00:00.000+02:00", true),
            (T::Datetime, "2024-05-01T10:00", true),
            (T::Datetime, "2024-05-01", false),
            (T::Geopoint, "12.5 -7.25", true),
            (T::Geopoint, "12.5 -7.25 100 5", true),
            (T::Geopoint, "95 10", false),
            (T::Geopoint, "12.5", false),
            (T::Geotrace, "1 2; 3 4", true),
            (T::Geotrace, "1 2", false),
            (T::Geoshape, "1 2;3 4;5 6;1 2", true),
            (T::Geoshape, "1 2;3 4", false),
            (T::Acknowledge, "OK", true),
            (T::Acknowledge, "sure", false),
            (T::Text, "anything at all", true),
        ];
        for (kind, value, ok) in cases {
            let got = check_value(*kind, value, None, None).is_none();
            assert_eq!(got, *ok, "{kind:?} {value:?}");
        }
    }

    #[test]
    fn ranges_check_bounds_and_steps() {
        let r = RangeParams {
            start: 0.0,
            end: 10.0,
            step: 0.5,
        };
        for (v, ok) in [
            ("0", true),
            ("10", true),
            ("2.5", true),
            ("2.3", false),
            ("11", false),
            ("x", false),
        ] {
            assert_eq!(
                check_value(FieldType::Range, v, None, Some(&r)).is_none(),
                ok,
                "{v}"
            );
        }
    }
}
