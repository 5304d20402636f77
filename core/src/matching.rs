//! Enumerator–respondent matching: the enumerator's profile a device is given at
//! provisioning (sex, languages, home area), which a section's `match` rule reads through
//! `enumerator('sex' | 'languages' | 'area')`, and the record of what happened at a
//! section with a rule (matched, handed over to another enumerator, a hand-over refused
//! because that colleague does not meet the rule either, or skipped).
//!
//! The profile comes in through [`crate::env::Environment::enumerator`]: the core never
//! reads where a device keeps it.

use serde::{Deserialize, Serialize};

use crate::expr::{Expr, ExprKind, Function};

/// The sexes a profile or a hand-over names (what `enumerator('sex')` gives).
pub const SEXES: [&str; 3] = ["female", "male", "other"];
/// The keys `enumerator()` reads.
pub const KEYS: [&str; 3] = ["sex", "languages", "area"];
/// Longest area name, and longest name of the enumerator a section is handed over to.
pub const MAX_TEXT: usize = 200;
/// Most languages in a profile.
pub const MAX_LANGUAGES: usize = 20;
/// Most refused hand-overs one section's record keeps (a bound on what a device sends).
pub const MAX_REFUSED: usize = 50;

/// The profile keys a `match` rule reads through `enumerator(key)`, in [`KEYS`] order:
/// what a hand-over asks of the colleague. A key that is not a literal (computed) could
/// be any of them, so it reads all three.
pub fn keys_read(rule: &Expr) -> Vec<&'static str> {
    let mut read = [false; 3];
    for site in rule.calls() {
        if site.call.function != Some(Function::Enumerator) {
            continue;
        }
        match site.call.args.first().map(|a| &a.kind) {
            Some(ExprKind::String(key)) => {
                if let Some(i) = KEYS.iter().position(|k| **k == **key) {
                    read[i] = true;
                }
            }
            _ => read = [true; 3],
        }
    }
    KEYS.iter()
        .zip(read)
        .filter_map(|(k, r)| r.then_some(*k))
        .collect()
}

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

    /// Whether the part `key` reads (one of [`KEYS`]) is known.
    pub fn knows(&self, key: &str) -> bool {
        match key {
            "sex" => self.sex.is_some(),
            "languages" => !self.languages.is_empty(),
            "area" => self.area.is_some(),
            _ => false,
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
    /// Another enumerator, who meets the rule, took the section over: it is asked.
    HandedOver,
    /// A hand-over was refused: the colleague does not meet the rule either (or did not
    /// state what it reads). The section stays closed and still needs a hand-over to
    /// someone who meets it, or a skip.
    HandOverRefused,
    /// No suitable enumerator: the section is skipped.
    Skipped,
}

impl MatchingOutcome {
    pub const ALL: [MatchingOutcome; 4] = [
        MatchingOutcome::Matched,
        MatchingOutcome::HandedOver,
        MatchingOutcome::HandOverRefused,
        MatchingOutcome::Skipped,
    ];

    /// The name serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchingOutcome::Matched => "matched",
            MatchingOutcome::HandedOver => "handed_over",
            MatchingOutcome::HandOverRefused => "hand_over_refused",
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
        matches!(self, MatchingOutcome::Matched | MatchingOutcome::HandedOver)
    }

    /// Whether the section is settled (asked or skipped); a refused hand-over is not.
    pub fn settles(self) -> bool {
        self != MatchingOutcome::HandOverRefused
    }
}

/// A colleague a section was offered to whose stated profile does not meet the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedHandOver {
    pub by: String,
    /// The colleague's sex as stated (unknown: not stated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// When it was refused (RFC 3339, device local offset).
    pub at: String,
}

/// Who a section is offered to: their name and the profile they state, which the
/// section's own rule is evaluated with (`Session::hand_over`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Colleague {
    pub by: String,
    pub profile: EnumeratorProfile,
}

impl Colleague {
    /// The colleague with the name trimmed and the profile normalized, or what is wrong:
    /// a name on one line of at most [`MAX_TEXT`] characters and a valid profile.
    pub fn normalized(&self) -> Result<Colleague, String> {
        let by = self.by.trim();
        if by.is_empty() {
            return Err("a hand-over names who takes the section over".into());
        }
        if by.chars().count() > MAX_TEXT || by.chars().any(char::is_control) {
            return Err(format!(
                "the name of who takes over is at most {MAX_TEXT} characters on one line"
            ));
        }
        Ok(Colleague {
            by: by.to_owned(),
            profile: self.profile.normalized()?,
        })
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
    /// For a hand-over: the languages who took it over stated (asked when the rule
    /// reads `enumerator('languages')`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// For a hand-over: the home area who took it over stated (asked when the rule
    /// reads `enumerator('area')`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The hand-overs refused before this record, oldest first: each colleague offered
    /// the section who did not meet the rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedHandOver>,
}

impl MatchingRecord {
    /// A record with no one named (matched, skipped) after `refused` hand-overs.
    pub fn plain(outcome: MatchingOutcome, at: String, refused: Vec<RefusedHandOver>) -> Self {
        MatchingRecord {
            outcome,
            at,
            by: None,
            sex: None,
            languages: Vec::new(),
            area: None,
            refused,
        }
    }

    /// `Err` says what is wrong: a hand-over names who took over (one line, at most
    /// [`MAX_TEXT`] characters) and their sex (one of [`SEXES`]); a refused hand-over
    /// lists who was refused; the other outcomes name nobody.
    pub fn check(&self) -> Result<(), String> {
        if self.refused.len() > MAX_REFUSED {
            return Err(format!(
                "a section's record keeps at most {MAX_REFUSED} refused hand-overs"
            ));
        }
        for r in &self.refused {
            let by = r.by.trim();
            if by.is_empty() || by.chars().count() > MAX_TEXT || by.chars().any(char::is_control) {
                return Err(format!(
                    "a refused hand-over names who was refused, on one line of at most {MAX_TEXT} characters"
                ));
            }
            if r.sex.as_deref().is_some_and(|s| !SEXES.contains(&s)) {
                return Err(format!(
                    "the sex of a colleague refused is one of {}",
                    SEXES.join(", ")
                ));
            }
        }
        let names_someone = self.by.is_some()
            || self.sex.is_some()
            || !self.languages.is_empty()
            || self.area.is_some();
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
            MatchingOutcome::HandOverRefused if self.refused.is_empty() => {
                Err("a refused hand-over lists who was refused".into())
            }
            MatchingOutcome::Matched
            | MatchingOutcome::Skipped
            | MatchingOutcome::HandOverRefused => {
                if names_someone {
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

    /// The record in one export cell: `handed_over:female:Amal`, `matched`, `skipped`,
    /// then each refused hand-over: `handed_over:female:Amal,refused:male:Omar`
    /// (`refused:unknown:…` when the colleague stated no sex).
    pub fn cell(&self) -> String {
        let mut cell = match (self.outcome, &self.sex, &self.by) {
            (MatchingOutcome::HandedOver, Some(sex), Some(by)) => {
                format!("handed_over:{sex}:{by}")
            }
            (outcome, _, _) => outcome.as_str().to_owned(),
        };
        for r in &self.refused {
            let sex = r.sex.as_deref().unwrap_or("unknown");
            cell.push_str(&format!(",refused:{sex}:{}", r.by));
        }
        cell
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
    fn a_rule_reads_the_keys_it_names_and_a_computed_key_reads_all() {
        let keys = |src: &str| keys_read(&crate::expr::parse(src).unwrap());
        assert_eq!(keys("enumerator('sex') = 'female'"), ["sex"]);
        assert_eq!(
            keys("enumerator('area') = ${d} and selected(enumerator('languages'), 'ar')"),
            ["languages", "area"]
        );
        assert_eq!(keys("${a} = 1"), Vec::<&str>::new());
        assert_eq!(keys("enumerator(${k}) = 'x'"), KEYS);
        let colleague = Colleague {
            by: " Amal ".into(),
            profile: EnumeratorProfile {
                sex: Some("female".into()),
                ..Default::default()
            },
        }
        .normalized()
        .unwrap();
        assert_eq!(colleague.by, "Amal");
        assert!(colleague.profile.knows("sex") && !colleague.profile.knows("area"));
        assert!(Colleague::default().normalized().is_err());
    }

    #[test]
    fn a_hand_over_names_who_and_which_sex() {
        let mut r = MatchingRecord {
            by: Some("Amal".into()),
            sex: Some("female".into()),
            ..MatchingRecord::plain(
                MatchingOutcome::HandedOver,
                "2026-12-07T10:00:00+00:00".into(),
                Vec::new(),
            )
        };
        assert_eq!(r.check(), Ok(()));
        assert_eq!(r.cell(), "handed_over:female:Amal");
        r.sex = None;
        assert!(r.check().is_err());
        r.sex = Some("female".into());
        r.by = Some(" ".into());
        assert!(r.check().is_err());
        let skipped = MatchingRecord {
            by: Some("x".into()),
            ..MatchingRecord::plain(
                MatchingOutcome::Skipped,
                "2026-12-07T10:00:00+00:00".into(),
                Vec::new(),
            )
        };
        assert!(skipped.check().is_err());
        // A refused hand-over lists who was refused, and names nobody as taking over.
        let mut refused = MatchingRecord::plain(
            MatchingOutcome::HandOverRefused,
            "2026-12-07T10:00:00+00:00".into(),
            Vec::new(),
        );
        assert!(refused.check().is_err());
        refused.refused.push(RefusedHandOver {
            by: "Omar".into(),
            sex: Some("male".into()),
            languages: vec![],
            area: None,
            at: "2026-12-07T10:00:00+00:00".into(),
        });
        assert_eq!(refused.check(), Ok(()));
        assert!(!refused.outcome.opens() && !refused.outcome.settles());
        let mut many = refused.clone();
        many.refused = vec![refused.refused[0].clone(); MAX_REFUSED + 1];
        assert!(many.check().unwrap_err().contains("at most"));
        refused.refused[0].sex = Some("man".into());
        assert!(refused.check().is_err());
        for o in MatchingOutcome::ALL {
            assert_eq!(MatchingOutcome::from_name(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
