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

#[cfg(test)]
mod tests {
    use super::*;

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
