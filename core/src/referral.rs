//! The referral directory: the services a project refers respondents to (GBVIMS and the
//! WHO's recommendations ask that every respondent who discloses violence can be told,
//! confidentially, where to get help). A coordinator publishes it per project, in
//! versions; the device keeps it so a referral step can list, offline, the services that
//! match the respondent's area and need.
//!
//! Pure: the directory as JSON, its rules, and the matching the referral step uses.

use serde::{Deserialize, Serialize};

use crate::answer::is_valid_name;
use crate::collections::Set;

/// Longest text of one service's name, phone, hours or area, in characters.
pub const MAX_TEXT: usize = 500;
/// Most services in one directory.
pub const MAX_SERVICES: usize = 2_000;

/// A project's referral directory, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub services: Vec<Service>,
}

/// One service respondents may be referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Recorded in the response when the respondent accepts it (a name: letters, digits,
    /// `_`, `-`, `.`; unique in the directory).
    pub id: String,
    pub name: String,
    /// What it offers, as a name a step's need names (`gbv`, `health`, `legal`, `shelter`…).
    pub kind: String,
    pub phone: String,
    /// When it can be reached, as people would say it (`Mon–Fri 8:00–17:00, hotline 24 h`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hours: String,
    /// The areas it serves (the codes the form's area question records); none: everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub areas: Vec<String>,
    /// Languages it can be reached in (codes such as `en`, `ar`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

impl Directory {
    /// A directory from its JSON text, checked ([`Directory::check`]).
    pub fn from_json(text: &str) -> Result<Directory, Vec<String>> {
        let directory: Directory =
            serde_json::from_str(text).map_err(|e| vec![format!("not a directory: {e}")])?;
        directory.check()?;
        Ok(directory)
    }

    /// Every problem of the directory, each naming the service (`services[3]`) and field.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.services.len() > MAX_SERVICES {
            problems.push(format!(
                "a directory lists at most {MAX_SERVICES} services, not {}",
                self.services.len()
            ));
        }
        let mut ids = Set::default();
        for (i, s) in self.services.iter().enumerate() {
            let at = format!("services[{i}]");
            if !is_valid_name(&s.id) {
                problems.push(format!(
                    "{at}.id `{}` is not a name (letters, digits, `_`, `-`, `.`)",
                    s.id
                ));
            } else if !ids.insert(s.id.as_str()) {
                problems.push(format!("{at}.id `{}` is used by an earlier service", s.id));
            }
            if !is_valid_name(&s.kind) {
                problems.push(format!("{at}.kind `{}` is not a name", s.kind));
            }
            for (field, text) in [("name", &s.name), ("phone", &s.phone)] {
                if text.trim().is_empty() {
                    problems.push(format!("{at}.{field} is empty"));
                }
            }
            let texts = [("name", &s.name), ("phone", &s.phone), ("hours", &s.hours)];
            let listed = s.areas.iter().map(|a| ("areas", a));
            for (field, text) in texts.into_iter().chain(listed) {
                if text.chars().count() > MAX_TEXT {
                    problems.push(format!("{at}.{field} is longer than {MAX_TEXT} characters"));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The services for a respondent in `area` with these `needs` (kinds), in directory
    /// order: a service matches when it serves the area (or lists no area) and its kind
    /// is one of the needs. No needs: every service of the area.
    pub fn matching<'a>(&'a self, area: &str, needs: &[&str]) -> Vec<&'a Service> {
        let area = area.trim();
        self.services
            .iter()
            .filter(|s| s.areas.is_empty() || s.areas.iter().any(|a| a == area))
            .filter(|s| needs.is_empty() || needs.contains(&s.kind.as_str()))
            .collect()
    }
}

/// What a referral step records, as its answer's text: the outcome, then the ids of the
/// services accepted (`accepted hotline north_clinic`, `declined`, `no_service`). The
/// outcome comes first so `selected(${referral}, 'accepted')` and
/// `selected(${referral}, 'hotline')` both read it, as they read a `select_multiple`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferralAnswer {
    /// Services were offered and the respondent accepted these (one or more).
    Accepted(Vec<String>),
    /// Services were offered and the respondent declined them all.
    Declined,
    /// No service of the directory matched the respondent's area and needs (or the
    /// device has no directory): nothing could be offered.
    NoService,
}

/// Why an answer's text is not a [`ReferralAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferralAnswerError {
    #[error("a referral answer starts with `accepted`, `declined` or `no_service`, not `{0}`")]
    Outcome(String),
    #[error("`accepted` names the services accepted after it")]
    NoServiceAccepted,
    #[error("`{0}` names no services after it")]
    ServicesAfter(String),
    #[error("`{0}` is not a service id")]
    NotAnId(String),
    #[error("service `{0}` is named twice")]
    Twice(String),
}

impl ReferralAnswer {
    pub const ACCEPTED: &'static str = "accepted";
    pub const DECLINED: &'static str = "declined";
    pub const NO_SERVICE: &'static str = "no_service";

    pub fn parse(text: &str) -> Result<ReferralAnswer, ReferralAnswerError> {
        let mut words = text.split_whitespace();
        let outcome = words.next().unwrap_or("");
        let rest: Vec<&str> = words.collect();
        match outcome {
            Self::ACCEPTED => {
                if rest.is_empty() {
                    return Err(ReferralAnswerError::NoServiceAccepted);
                }
                let mut seen = Set::default();
                for id in &rest {
                    if !is_valid_name(id) {
                        return Err(ReferralAnswerError::NotAnId((*id).to_owned()));
                    }
                    if !seen.insert(*id) {
                        return Err(ReferralAnswerError::Twice((*id).to_owned()));
                    }
                }
                Ok(ReferralAnswer::Accepted(
                    rest.into_iter().map(str::to_owned).collect(),
                ))
            }
            Self::DECLINED | Self::NO_SERVICE if !rest.is_empty() => {
                Err(ReferralAnswerError::ServicesAfter(outcome.to_owned()))
            }
            Self::DECLINED => Ok(ReferralAnswer::Declined),
            Self::NO_SERVICE => Ok(ReferralAnswer::NoService),
            other => Err(ReferralAnswerError::Outcome(other.to_owned())),
        }
    }

    /// The outcome word (`accepted`, `declined`, `no_service`): the CSV's column.
    pub fn outcome(&self) -> &'static str {
        match self {
            ReferralAnswer::Accepted(_) => Self::ACCEPTED,
            ReferralAnswer::Declined => Self::DECLINED,
            ReferralAnswer::NoService => Self::NO_SERVICE,
        }
    }

    /// The services accepted (none unless `accepted`).
    pub fn services(&self) -> &[String] {
        match self {
            ReferralAnswer::Accepted(ids) => ids,
            _ => &[],
        }
    }

    /// Whether services were offered (accepted or declined): the step listed some.
    pub fn offered(&self) -> bool {
        !matches!(self, ReferralAnswer::NoService)
    }

    /// The answer's text.
    pub fn to_text(&self) -> String {
        match self {
            ReferralAnswer::Accepted(ids) => format!("{} {}", Self::ACCEPTED, ids.join(" ")),
            other => other.outcome().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_referral_answer_is_its_outcome_then_the_services_accepted() {
        let accepted = ReferralAnswer::parse(" accepted  hotline north_clinic ").unwrap();
        assert_eq!(
            accepted,
            ReferralAnswer::Accepted(vec!["hotline".into(), "north_clinic".into()])
        );
        assert_eq!(accepted.to_text(), "accepted hotline north_clinic");
        assert_eq!(accepted.outcome(), "accepted");
        assert_eq!(accepted.services(), ["hotline", "north_clinic"]);
        assert!(accepted.offered());
        assert_eq!(
            ReferralAnswer::parse("declined"),
            Ok(ReferralAnswer::Declined)
        );
        let none = ReferralAnswer::parse("no_service").unwrap();
        assert!(!none.offered() && none.services().is_empty());
        for (text, error) in [
            ("accepted", ReferralAnswerError::NoServiceAccepted),
            (
                "declined hotline",
                ReferralAnswerError::ServicesAfter("declined".into()),
            ),
            (
                "no_service x",
                ReferralAnswerError::ServicesAfter("no_service".into()),
            ),
            ("offered", ReferralAnswerError::Outcome("offered".into())),
            ("", ReferralAnswerError::Outcome(String::new())),
            ("accepted a a", ReferralAnswerError::Twice("a".into())),
            ("accepted a=1", ReferralAnswerError::NotAnId("a=1".into())),
        ] {
            assert_eq!(ReferralAnswer::parse(text), Err(error), "{text}");
        }
    }

    fn directory() -> Directory {
        Directory::from_json(
            r#"{"services": [
              {"id": "hotline", "name": "National GBV hotline", "kind": "gbv", "phone": "1190",
               "hours": "24 h", "languages": ["en", "ar"]},
              {"id": "north_clinic", "name": "North clinic", "kind": "health", "phone": "+256 700 000 001",
               "areas": ["north"]},
              {"id": "north_legal", "name": "Legal aid north", "kind": "legal", "phone": "+256 700 000 002",
               "areas": ["north", "east"]},
              {"id": "south_clinic", "name": "South clinic", "kind": "health", "phone": "+256 700 000 003",
               "areas": ["south"]}
            ]}"#,
        )
        .unwrap()
    }

    fn ids(found: Vec<&Service>) -> Vec<&str> {
        found.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn services_match_the_area_and_the_need() {
        let d = directory();
        assert_eq!(ids(d.matching("north", &["health"])), ["north_clinic"]);
        assert_eq!(ids(d.matching("south", &["health"])), ["south_clinic"]);
        assert_eq!(
            ids(d.matching("north", &["gbv", "legal"])),
            ["hotline", "north_legal"]
        );
        // A service listing no area serves everywhere, an unknown area too.
        assert_eq!(ids(d.matching("west", &["gbv", "health"])), ["hotline"]);
        // No need named: every service of the area, in directory order.
        assert_eq!(ids(d.matching(" east ", &[])), ["hotline", "north_legal"]);
        assert!(d.matching("south", &["shelter"]).is_empty());
    }

    #[test]
    fn a_directory_with_problems_says_each_and_where() {
        let problems = Directory::from_json(
            r#"{"services": [
              {"id": "a", "name": "A", "kind": "gbv", "phone": "1"},
              {"id": "a", "name": " ", "kind": "not a name", "phone": ""},
              {"id": "b c", "name": "B", "kind": "gbv", "phone": "2"}
            ]}"#,
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "services[1].id `a` is used by an earlier service",
                "services[1].kind `not a name` is not a name",
                "services[1].name is empty",
                "services[1].phone is empty",
                "services[2].id `b c` is not a name (letters, digits, `_`, `-`, `.`)",
            ]
        );
        let unknown = Directory::from_json(r#"{"services": [], "extra": 1}"#).unwrap_err();
        assert!(
            unknown[0].starts_with("not a directory: unknown field `extra`"),
            "{unknown:?}"
        );
    }
}
