//! Addresses of answers: `/age`, `/members[2]/age`, `/members[2]` (an instance).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One step: a name, with a 1-based instance number when it names a repeat instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathSegment {
    pub name: String,
    pub index: Option<usize>,
}

/// Where an answer (or repeat instance, or group) is in a response.
///
/// Groups that are not repeats do not appear: names are unique within a repeat scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnswerPath(pub Vec<PathSegment>);

impl AnswerPath {
    pub fn root() -> AnswerPath {
        AnswerPath(Vec::new())
    }

    /// A child of this path.
    pub fn child(&self, name: &str, index: Option<usize>) -> AnswerPath {
        let mut segments = self.0.clone();
        segments.push(PathSegment {
            name: name.to_owned(),
            index,
        });
        AnswerPath(segments)
    }

    /// A top-level field: `AnswerPath::field("age")` is `/age`.
    pub fn field(name: &str) -> AnswerPath {
        AnswerPath::root().child(name, None)
    }

    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// The last name (the field or repeat this path ends at).
    pub fn name(&self) -> Option<&str> {
        self.0.last().map(|s| s.name.as_str())
    }
}

impl fmt::Display for AnswerPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for seg in &self.0 {
            write!(f, "/{}", seg.name)?;
            if let Some(i) = seg.index {
                write!(f, "[{i}]")?;
            }
        }
        Ok(())
    }
}

/// Why a path text is not a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an answer path ({reason}); write e.g. `/age` or `/members[2]/age`")]
pub struct PathParseError {
    pub text: String,
    pub reason: &'static str,
}

impl FromStr for AnswerPath {
    type Err = PathParseError;

    fn from_str(text: &str) -> Result<AnswerPath, PathParseError> {
        let fail = |reason| PathParseError {
            text: text.to_owned(),
            reason,
        };
        let Some(rest) = text.strip_prefix('/') else {
            return Err(fail("it must start with `/`"));
        };
        if rest.is_empty() {
            return Ok(AnswerPath::root());
        }
        let mut segments = Vec::new();
        for part in rest.split('/') {
            let (name, index) = match part.split_once('[') {
                Some((name, idx)) => {
                    let idx = idx
                        .strip_suffix(']')
                        .ok_or_else(|| fail("an instance number needs a closing `]`"))?;
                    let n: usize = idx
                        .parse()
                        .map_err(|_| fail("an instance number is a whole number"))?;
                    if n == 0 {
                        return Err(fail("instance numbers start at 1"));
                    }
                    if n > crate::sync::paths::MAX_INSTANCES {
                        return Err(fail("an instance number may be at most 1000"));
                    }
                    (name, Some(n))
                }
                None => (part, None),
            };
            if name.is_empty() {
                return Err(fail("a name is empty"));
            }
            segments.push(PathSegment {
                name: name.to_owned(),
                index,
            });
        }
        Ok(AnswerPath(segments))
    }
}

impl Serialize for AnswerPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AnswerPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_text() {
        for text in [
            "/",
            "/age",
            "/members[2]/age",
            "/members[10]",
            "/a[1]/b[3]/c",
        ] {
            let path: AnswerPath = text.parse().unwrap();
            assert_eq!(path.to_string(), text);
        }
    }

    #[test]
    fn bad_paths_say_why() {
        for (text, reason) in [
            ("age", "start with"),
            ("/members[0]/age", "start at 1"),
            ("/members[x]", "whole number"),
            ("/members[2", "closing"),
            ("/a//b", "empty"),
        ] {
            let err = text.parse::<AnswerPath>().unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn instance_numbers_are_bounded_like_revision_paths() {
        assert!("/members[1000]/age".parse::<AnswerPath>().is_ok());
        let e = "/members[1001]/age".parse::<AnswerPath>().unwrap_err();
        assert!(e.reason.contains("1000"), "{e}");
        assert!("/members[99999999999999999999]/age"
            .parse::<AnswerPath>()
            .is_err());
    }
}
