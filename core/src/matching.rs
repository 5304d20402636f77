//! Enumerator–respondent matching: the enumerator's profile a device is given at
//! provisioning (sex, languages, home area), which a section's `match` rule reads through
//! `enumerator('sex' | 'languages' | 'area')`, and the record of what happened at a
//! section with a rule (matched, handed over to another enumerator, or skipped).
//!
//! The profile comes in through [`crate::env::Environment::enumerator`]: the core never
//! reads where a device keeps it.

use serde::{Deserialize, Serialize};

/// The sexes a profile or a hand-over names (what `enumerator('sex')` gives).
pub const SEXES: [&str; 3] = ["female", "male", "other"];
/// The keys `enumerator()` reads.
pub const KEYS: [&str; 3] = ["sex", "languages", "area"];
/// Longest area name, and longest name of the enumerator a section is handed over to.
pub const MAX_TEXT: usize = 200;
/// Most languages in a profile.
pub const MAX_LANGUAGES: usize = 20;

/// Who the device's enumerator is, as far as matching rules ask. Every part may be
/// unknown: `enumerator()` then gives the empty string, which matches no rule that
/// names a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumeratorProfile {
    /// `female`, `male` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Language codes the enumerator can interview in (`ar`, `en`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The enumerator's home area, as the project names areas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

impl EnumeratorProfile {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.sex.is_none() && self.languages.is_empty() && self.area.is_none()
    }

    /// The value `enumerator(key)` gives: the languages space-separated (so that
    /// `selected(enumerator('languages'), 'ar')` reads them), `""` when unknown, `None`
    /// for a key that is not one of [`KEYS`].
    pub fn value(&self, key: &str) -> Option<String> {
        match key {
            "sex" => Some(self.sex.clone().unwrap_or_default()),
            "languages" => Some(self.languages.join(" ")),
            "area" => Some(self.area.clone().unwrap_or_default()),
            _ => None,
        }
    }

    /// The profile with surrounding spaces taken off and empty parts as unknown, or what
    /// is wrong with it.
    pub fn normalized(&self) -> Result<EnumeratorProfile, String> {
        let sex = self
            .sex
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                if SEXES.contains(&s) {
                    Ok(s.to_owned())
                } else {
                    Err(format!(
                        "sex is `{}`; it is one of {}",
                        s.chars().take(40).collect::<String>(),
                        SEXES.join(", ")
                    ))
                }
            })
            .transpose()?;
        let mut languages: Vec<String> = Vec::new();
        for code in &self.languages {
            let code = code.trim();
            if code.is_empty() {
                continue;
            }
            let valid = code.len() <= 35
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                return Err(format!(
                    "`{}` is not a language code (letters, digits, `-` or `_`, such as `ar` or `pt-BR`)",
                    code.chars().take(40).collect::<String>()
                ));
            }
            if !languages.iter().any(|l| l == code) {
                languages.push(code.to_owned());
            }
        }
        if languages.len() > MAX_LANGUAGES {
            return Err(format!(
                "{} languages; a profile lists at most {MAX_LANGUAGES}",
                languages.len()
            ));
        }
        let area = self
            .area
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                if a.chars().count() > MAX_TEXT || a.chars().any(char::is_control) {
                    Err(format!(
                        "the area is at most {MAX_TEXT} characters on one line"
                    ))
                } else {
                    Ok(a.to_owned())
                }
            })
            .transpose()?;
        Ok(EnumeratorProfile {
            sex,
            languages,
            area,
        })
    }
}

/// What happened at a section with a `match` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchingOutcome {
    /// The device's enumerator met the rule: the section is asked.
    Matched,
    /// Another enumerator took the section over: it is asked.
    HandedOver,
    /// No suitable enumerator: the section is skipped.
    Skipped,
}

impl MatchingOutcome {
    pub const ALL: [MatchingOutcome; 3] = [
        MatchingOutcome::Matched,
        MatchingOutcome::HandedOver,
        MatchingOutcome::Skipped,
    ];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchingOutcome::Matched => "matched",
            MatchingOutcome::HandedOver => "handed_over",
            MatchingOutcome::Skipped => "skipped",
        }
    }

    pub fn from_name(name: &str) -> Option<MatchingOutcome> {
        MatchingOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == name)
    }

    /// Whether the section's questions are asked after this outcome.
    pub fn opens(self) -> bool {
        self != MatchingOutcome::Skipped
    }
}

/// The record of a section's matching, part of the response (keyed by the group's path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingRecord {
    pub outcome: MatchingOutcome,
    /// When it was recorded (RFC 3339, device local offset).
    pub at: String,
    /// For a hand-over: who took the section over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// For a hand-over: the sex of who took it over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
}

impl MatchingRecord {
    /// `Err` says what is wrong: a hand-over names who took over (one line, at most
    /// [`MAX_TEXT`] characters) and their sex (one of [`SEXES`]); the other outcomes name
    /// nobody.
    pub fn check(&self) -> Result<(), String> {
        match self.outcome {
            MatchingOutcome::HandedOver => {
                let by = self.by.as_deref().map(str::trim).unwrap_or("");
                if by.is_empty() {
                    return Err("a hand-over names who took the section over".into());
                }
                if by.chars().count() > MAX_TEXT || by.chars().any(char::is_control) {
                    return Err(format!(
                        "the name of who took over is at most {MAX_TEXT} characters on one line"
                    ));
                }
                match self.sex.as_deref() {
                    Some(s) if SEXES.contains(&s) => Ok(()),
                    _ => Err(format!(
                        "a hand-over gives the sex of who took over: one of {}",
                        SEXES.join(", ")
                    )),
                }
            }
            MatchingOutcome::Matched | MatchingOutcome::Skipped => {
                if self.by.is_some() || self.sex.is_some() {
                    Err(format!(
                        "only a hand-over names who took over, not `{}`",
                        self.outcome.as_str()
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The record in one export cell: `handed_over:female:Amal`, `matched`, `skipped`.
    pub fn cell(&self) -> String {
        match (self.outcome, &self.sex, &self.by) {
            (MatchingOutcome::HandedOver, Some(sex), Some(by)) => {
                format!("handed_over:{sex}:{by}")
            }
            (outcome, _, _) => outcome.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_gives_its_values_and_empty_when_unknown() {
        let p = EnumeratorProfile {
            sex: Some("female".into()),
            languages: vec!["ar".into(), "en".into()],
            area: Some("North".into()),
        };
        assert_eq!(p.value("sex").as_deref(), Some("female"));
        assert_eq!(p.value("languages").as_deref(), Some("ar en"));
        assert_eq!(p.value("area").as_deref(), Some("North"));
        assert_eq!(p.value("age"), None);
        let unknown = EnumeratorProfile::default();
        assert!(unknown.is_empty());
        assert_eq!(unknown.value("sex").as_deref(), Some(""));
        assert_eq!(unknown.value("languages").as_deref(), Some(""));
    }

    #[test]
    fn normalizing_trims_dedups_and_refuses_what_is_wrong() {
        let p = EnumeratorProfile {
            sex: Some(" male ".into()),
            languages: vec![" uk".into(), "".into(), "uk".into(), "pt-BR".into()],
            area: Some("  ".into()),
        }
        .normalized()
        .unwrap();
        assert_eq!(p.sex.as_deref(), Some("male"));
        assert_eq!(p.languages, ["uk", "pt-BR"]);
        assert_eq!(p.area, None);
        let bad_sex = EnumeratorProfile {
            sex: Some("woman".into()),
            ..Default::default()
        };
        assert!(bad_sex
            .normalized()
            .unwrap_err()
            .contains("female, male, other"));
        let bad_language = EnumeratorProfile {
            languages: vec!["ar en".into()],
            ..Default::default()
        };
        assert!(bad_language.normalized().unwrap_err().contains("`ar en`"));
        let bad_area = EnumeratorProfile {
            area: Some("a\nb".into()),
            ..Default::default()
        };
        assert!(bad_area.normalized().is_err());
    }

    #[test]
    fn a_hand_over_names_who_and_which_sex() {
        let mut r = MatchingRecord {
            outcome: MatchingOutcome::HandedOver,
            at: "2026-12-07T10:00:00+00:00".into(),
            by: Some("Amal".into()),
            sex: Some("female".into()),
        };
        assert_eq!(r.check(), Ok(()));
        assert_eq!(r.cell(), "handed_over:female:Amal");
        r.sex = None;
        assert!(r.check().is_err());
        r.sex = Some("female".into());
        r.by = Some(" ".into());
        assert!(r.check().is_err());
        let skipped = MatchingRecord {
            outcome: MatchingOutcome::Skipped,
            at: "2026-12-07T10:00:00+00:00".into(),
            by: Some("x".into()),
            sex: None,
        };
        assert!(skipped.check().is_err());
        for o in MatchingOutcome::ALL {
            assert_eq!(MatchingOutcome::from_name(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
