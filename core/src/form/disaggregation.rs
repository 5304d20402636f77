//! What a field records about the respondent for disaggregation, and the age bands
//! the dashboard groups ages in.

use serde::{Deserialize, Serialize};

use super::FieldType;

/// What a field marked for disaggregation records about the respondent (or, inside a
/// repeat, about the person of that instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disaggregation {
    /// A `select_one` (the groups are its choice names) or a `calculate` (its values).
    Sex,
    /// An `integer` or `decimal` age in years: the groups are [`AGE_BANDS`].
    Age,
    /// A `select_one` (the groups are its choice names) or a `calculate` such as the
    /// Washington Group flag (its values).
    Disability,
}

impl Disaggregation {
    pub const ALL: [Disaggregation; 3] = [
        Disaggregation::Sex,
        Disaggregation::Age,
        Disaggregation::Disability,
    ];

    /// The name used in JSON and in XLSForm's `disaggregation` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Disaggregation::Sex => "sex",
            Disaggregation::Age => "age",
            Disaggregation::Disability => "disability",
        }
    }

    pub fn parse(text: &str) -> Option<Disaggregation> {
        Disaggregation::ALL
            .into_iter()
            .find(|d| d.as_str() == text.trim())
    }

    /// The field types that can carry this mark.
    pub fn fits(self, kind: FieldType) -> bool {
        match self {
            Disaggregation::Age => matches!(
                kind,
                FieldType::Integer | FieldType::Decimal | FieldType::Calculate | FieldType::Range
            ),
            Disaggregation::Sex | Disaggregation::Disability => {
                matches!(kind, FieldType::SelectOne | FieldType::Calculate)
            }
        }
    }
}

/// Age bands of the dashboard, in years: (label, first age, last age). The bands follow
/// the humanitarian standard of children, adolescents, youth, adults and older people
/// (0–14, 15–17, 18–24, 25–49, 50+), so figures compare across surveys.
pub const AGE_BANDS: [(&str, u32, u32); 5] = [
    ("0-14", 0, 14),
    ("15-17", 15, 17),
    ("18-24", 18, 24),
    ("25-49", 25, 49),
    ("50+", 50, u32::MAX),
];

/// The age band of an age answer (years, possibly with a fraction), or `None` when the
/// text is not a non-negative number.
pub fn age_band(answer: &str) -> Option<&'static str> {
    let years: f64 = answer.trim().parse().ok()?;
    if !years.is_finite() || years < 0.0 {
        return None;
    }
    let whole = years.floor().min(f64::from(u32::MAX)) as u32;
    AGE_BANDS
        .iter()
        .find(|(_, first, last)| (*first..=*last).contains(&whole))
        .map(|(label, _, _)| *label)
}
