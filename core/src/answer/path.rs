//! Where an answer is in a response: the one path type of Voices.
//!
//! `/age` is a field, `/members[2]/age` a field in an instance of a repeat (1-based),
//! `/members[2]` the instance itself, `/members` the repeat (or a group), `/members[]`
//! the number of instances of a repeat (a value of its own in the flat encoding, see
//! [`super::FlatAnswers`]) and `/` the whole response. Groups that are not repeats
//! appear only where a name is used in two groups of one repeat scope (names are
//! unique within their parent group, as in XLSForm): such an item is addressed by its
//! groups from the scope down, `/grp_a/name`, and every other item by its name alone,
//! so a form whose names are unique in each scope has the paths it always had (see
//! [`crate::form::answer_key`]).
//!
//! A path is kept as its text, checked once when it is made. So paths order as their
//! text does (maps keyed by paths iterate, and serialize, exactly as the maps keyed by
//! strings they replace), borrow as `&str` for lookups, and cost one allocation.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most instances one repeat may have, and so the highest instance number a path may
/// name, where the form sets no lower limit. A path beyond it does not parse, a count
/// beyond it is refused when a revision is checked, and nothing is ever allocated for
/// more than this many.
pub const MAX_INSTANCES: usize = 1_000;

/// Most steps in a path (groups and repeats nested 31 deep, then a field): far beyond any form,
/// and low enough that nothing walking a response's tree recursively can exhaust a stack.
pub const MAX_DEPTH: usize = 32;

/// Longest path text, in bytes, so a path cannot bloat what stores and indexes it.
pub const MAX_PATH_BYTES: usize = 4_096;

/// One step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A field, group or repeat by name.
    Name(&'a str),
    /// Instance `n` (1-based) of the repeat `name`.
    Instance(&'a str, usize),
    /// The number of instances of the repeat `name` (a last step only).
    Count(&'a str),
}

impl<'a> Step<'a> {
    pub fn name(self) -> &'a str {
        match self {
            Step::Name(n) | Step::Instance(n, _) | Step::Count(n) => n,
        }
    }

    /// The instance number, for an instance step.
    pub fn instance(self) -> Option<usize> {
        match self {
            Step::Instance(_, n) => Some(n),
            Step::Name(_) | Step::Count(_) => None,
        }
    }
}

/// What a path names, by its last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// `/`: the whole response.
    Root,
    /// `/a[1]/name`: a field, group or repeat.
    Name,
    /// `/a[1]/name[2]`: an instance of a repeat.
    Instance,
    /// `/a[1]/name[]`: the number of instances of a repeat.
    Count,
}

/// Why a text is not an answer path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is not an answer path: {reason}")]
pub struct PathError {
    /// The text (its first 200 characters).
    pub path: String,
    pub reason: &'static str,
}

impl PathError {
    pub(crate) fn new(text: &str, reason: &'static str) -> PathError {
        PathError {
            path: text.chars().take(200).collect(),
            reason,
        }
    }
}

/// Whether `name` is a valid field, group, repeat or choice-list name: a letter or `_`,
/// then letters, digits, `_`, `-` or `.` (XML element names, as XLSForm requires).
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Where an answer, repeat instance, repeat count or group is in a response.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnswerPath(String);

impl AnswerPath {
    /// `/`, the whole response.
    pub fn root() -> AnswerPath {
        AnswerPath("/".to_owned())
    }

    /// A top-level field: `AnswerPath::field("age")` is `/age`. `name` is a form item's
    /// name (valid once the form is compiled).
    pub fn field(name: &str) -> AnswerPath {
        AnswerPath::root().child(name, None)
    }

    /// Item `name` below this path (an instance, a group or the root), or its instance
    /// `index`. `name` is a form item's name (valid once the form is compiled).
    pub fn child(&self, name: &str, index: Option<usize>) -> AnswerPath {
        debug_assert!(is_valid_name(name), "`{name}` is not a valid name");
        debug_assert!(matches!(
            self.kind(),
            PathKind::Root | PathKind::Instance | PathKind::Name
        ));
        let mut text = String::with_capacity(self.0.len() + name.len() + 8);
        if !self.is_root() {
            text.push_str(&self.0);
        }
        text.push('/');
        text.push_str(name);
        if let Some(i) = index {
            use fmt::Write;
            let _ = write!(text, "[{i}]");
        }
        AnswerPath(text)
    }

    /// [`AnswerPath::child`] for a name that may not be valid (one read from a
    /// document rather than from a compiled form).
    pub fn try_child(&self, name: &str, index: Option<usize>) -> Result<AnswerPath, PathError> {
        if !is_valid_name(name) {
            let text = format!("{}/{name}", self.0.trim_end_matches('/'));
            return Err(PathError::new(
                &text,
                "each step must be a field or repeat name",
            ));
        }
        Ok(self.child(name, index))
    }

    /// The item with answer key `key` below this path (an instance or the root): its
    /// name, or for a name used in two groups of one scope `group/…/name`
    /// ([`crate::form::answer_key`]); with `index`, that repeat's instance.
    pub fn keyed(&self, key: &str, index: Option<usize>) -> AnswerPath {
        match key.rsplit_once('/') {
            None => self.child(key, index),
            Some((groups, name)) => groups
                .split('/')
                .fold(self.clone(), |path, group| path.child(group, None))
                .child(name, index),
        }
    }

    /// [`AnswerPath::keyed`] for a key read from a document: each of its names is checked.
    pub fn try_keyed(&self, key: &str, index: Option<usize>) -> Result<AnswerPath, PathError> {
        if !key.split('/').all(is_valid_name) {
            let text = format!("{}/{key}", self.0.trim_end_matches('/'));
            return Err(PathError::new(
                &text,
                "each step must be a field, group or repeat name",
            ));
        }
        Ok(self.keyed(key, index))
    }

    /// The count path of the repeat this path names (`/a[1]/m[]` for `/a[1]/m` or
    /// `/a[1]/m[3]`); `None` for the root and for a count path.
    pub fn count(&self) -> Option<AnswerPath> {
        match self.kind() {
            PathKind::Name => Some(AnswerPath(format!("{}[]", self.0))),
            PathKind::Instance => {
                let open = self.0.rfind('[')?;
                Some(AnswerPath(format!("{}[]", &self.0[..open])))
            }
            PathKind::Root | PathKind::Count => None,
        }
    }

    /// The path this one is directly below (`/m[2]` for `/m[2]/age`, `/` for `/age`);
    /// `None` for the root.
    pub fn parent(&self) -> Option<AnswerPath> {
        if self.is_root() {
            return None;
        }
        match self.0.rfind('/') {
            Some(0) | None => Some(AnswerPath::root()),
            Some(i) => Some(AnswerPath(self.0[..i].to_owned())),
        }
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The steps from the top (none for the root).
    pub fn steps(&self) -> impl DoubleEndedIterator<Item = Step<'_>> + '_ {
        let rest = if self.is_root() { "" } else { &self.0[1..] };
        rest.split('/')
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('[') {
                None => Step::Name(part),
                Some((name, "]")) => Step::Count(name),
                Some((name, index)) => {
                    // Checked when the path was made: digits, then `]`.
                    let digits = index.strip_suffix(']').unwrap_or(index);
                    Step::Instance(name, digits.parse().unwrap_or(0))
                }
            })
    }

    /// The last step (`None` for the root).
    pub fn last(&self) -> Option<Step<'_>> {
        self.steps().next_back()
    }

    /// The last step's name (the field, group or repeat this path ends at).
    pub fn name(&self) -> Option<&str> {
        self.last().map(Step::name)
    }

    pub fn kind(&self) -> PathKind {
        match self.last() {
            None => PathKind::Root,
            Some(Step::Name(_)) => PathKind::Name,
            Some(Step::Instance(..)) => PathKind::Instance,
            Some(Step::Count(_)) => PathKind::Count,
        }
    }

    /// Parse and check a path. Every step but the last is an instance `name[n]`
    /// (`n` from 1 to [`MAX_INSTANCES`]) or a group's name; the last is a name, an
    /// instance or a count `name[]`. `/` is the root. At most [`MAX_DEPTH`] steps and
    /// [`MAX_PATH_BYTES`] bytes.
    pub fn parse(text: &str) -> Result<AnswerPath, PathError> {
        if text.len() > MAX_PATH_BYTES {
            return Err(PathError::new(text, "a path has at most 4096 bytes"));
        }
        if text.bytes().filter(|b| *b == b'/').count() > MAX_DEPTH {
            return Err(PathError::new(
                text,
                "a path has at most 32 steps (groups and repeats nested 31 deep)",
            ));
        }
        check(text, MAX_INSTANCES)?;
        Ok(AnswerPath(text.to_owned()))
    }

    /// [`AnswerPath::parse`] for a path stored before instance numbers were limited
    /// (up to nine digits, as servers then accepted), so such a state still reads.
    /// Rebuilding a tree skips what lies beyond [`MAX_INSTANCES`] ([`super::tree_from`]).
    pub fn parse_stored(text: &str) -> Result<AnswerPath, PathError> {
        AnswerPath::from_stored(text.to_owned())
    }

    /// [`AnswerPath::parse_stored`], keeping the string itself.
    pub fn from_stored(text: String) -> Result<AnswerPath, PathError> {
        check(&text, STORED_MAX_INSTANCE)?;
        Ok(AnswerPath(text))
    }
}

/// The highest instance number a stored path may hold: nine digits, what servers
/// accepted before [`MAX_INSTANCES`].
const STORED_MAX_INSTANCE: usize = 999_999_999;

/// Check a path's text (see [`AnswerPath::parse`]).
fn check(text: &str, max_instance: usize) -> Result<(), PathError> {
    let err = |reason| PathError::new(text, reason);
    let rest = text
        .strip_prefix('/')
        .ok_or_else(|| err("it must start with `/`"))?;
    if rest.is_empty() {
        return Ok(());
    }
    let mut parts = rest.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        let (name, count) = match part.split_once('[') {
            None => (part, false),
            Some((name, index)) => {
                let index = index
                    .strip_suffix(']')
                    .ok_or_else(|| err("`[` without a closing `]`"))?;
                if index.is_empty() {
                    (name, true)
                } else if index.len() <= 9 && index.bytes().all(|b| b.is_ascii_digit()) {
                    let n: usize = index.parse().unwrap_or(usize::MAX);
                    if n == 0 {
                        return Err(err("instance numbers start at 1"));
                    }
                    if n > max_instance {
                        return Err(err(
                            "an instance number may be at most 1000 (the limit of instances in a repeat)",
                        ));
                    }
                    (name, false)
                } else {
                    return Err(err("an instance number must be a positive integer"));
                }
            }
        };
        if !is_valid_name(name) {
            return Err(err("each step must be a field, group or repeat name"));
        }
        if !last && count {
            return Err(err(
                "a repeat count `name[]` is a value and has no steps below it",
            ));
        }
    }
    Ok(())
}

impl fmt::Display for AnswerPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AnswerPath {
    type Err = PathError;

    fn from_str(text: &str) -> Result<AnswerPath, PathError> {
        AnswerPath::parse(text)
    }
}

impl TryFrom<String> for AnswerPath {
    type Error = PathError;

    fn try_from(text: String) -> Result<AnswerPath, PathError> {
        check(&text, MAX_INSTANCES)?;
        Ok(AnswerPath(text))
    }
}

impl AsRef<str> for AnswerPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Paths compare, hash and order as their text, so a map keyed by paths can be
/// looked up with a `&str`.
impl Borrow<str> for AnswerPath {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for AnswerPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for AnswerPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for AnswerPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AnswerPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        AnswerPath::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
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
            "/members[]",
            "/a[1]/b[3]/c",
            "/a[1]/b[]",
            "/âge",
            // A name used in two groups of one scope is addressed with its groups.
            "/village/age",
            "/m[2]/grp_a/name",
            "/grp_a/m[3]/grp_b/name",
            "/grp_a/m[]",
        ] {
            let path = AnswerPath::parse(text).unwrap();
            assert_eq!(path.to_string(), text);
            assert_eq!(path, text);
        }
    }

    #[test]
    fn bad_paths_say_why() {
        for (text, reason) in [
            ("age", "start with"),
            ("/members[0]/age", "start at 1"),
            ("/members[00]", "start at 1"),
            ("/members[x]", "positive integer"),
            ("/members[1234567890]", "positive integer"),
            ("/members[1001]/age", "at most 1000"),
            ("/members[999999999]/age", "at most 1000"),
            ("/members[-1]", "positive integer"),
            ("/members[2", "closing"),
            ("/members[2/age", "closing"),
            ("/a//b", "field, group or repeat name"),
            ("/a[1]//b", "field, group or repeat name"),
            ("/1abc", "field, group or repeat name"),
            ("/a b", "field, group or repeat name"),
            ("/a/", "field, group or repeat name"),
            ("/members[]/age", "no steps below it"),
            ("/g/members[]/age", "no steps below it"),
        ] {
            let err = AnswerPath::parse(text).unwrap_err();
            assert!(err.to_string().contains(reason), "{text}: {err}");
            assert!(err.to_string().contains(text), "{text}: {err}");
        }
    }

    /// A path 100,000 repeats deep would make every recursive walk of a response's
    /// tree (serializing, dropping, validating) exhaust the stack: refused at parse.
    #[test]
    fn paths_are_bounded_in_depth_and_length() {
        let deep = |levels: usize| format!("{}/x", "/r[1]".repeat(levels));
        assert!(AnswerPath::parse(&deep(MAX_DEPTH - 1)).is_ok());
        let too_deep = AnswerPath::parse(&deep(MAX_DEPTH)).unwrap_err();
        assert!(too_deep.reason.contains("at most 32 steps"), "{too_deep}");
        assert!(AnswerPath::parse(&deep(100_000)).is_err());
        let long = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
        assert!(AnswerPath::parse(&long).is_ok());
        let too_long = AnswerPath::parse(&format!("{long}b")).unwrap_err();
        assert!(too_long.reason.contains("4096 bytes"), "{too_long}");
        assert_eq!(
            too_long.path.chars().count(),
            200,
            "the error quotes only the start"
        );
    }

    #[test]
    fn instance_numbers_are_bounded_unless_stored_before_the_limit() {
        let at_limit = format!("/members[{MAX_INSTANCES}]/age");
        let p = AnswerPath::parse(&at_limit).unwrap();
        assert_eq!(
            p.steps().next(),
            Some(Step::Instance("members", MAX_INSTANCES))
        );
        assert!(AnswerPath::parse("/members[99999999999999999999]/age").is_err());
        let old = AnswerPath::parse_stored("/members[1000001]/age").unwrap();
        assert_eq!(
            old.steps().next(),
            Some(Step::Instance("members", 1_000_001))
        );
        assert!(AnswerPath::parse_stored("/members[1234567890]/age").is_err());
    }

    #[test]
    fn a_long_bad_path_is_quoted_only_in_part() {
        let text = format!("/{}", "x/".repeat(1_000));
        let err = AnswerPath::parse(&text).unwrap_err();
        assert_eq!(err.path.chars().count(), 200);
    }

    #[test]
    fn steps_and_kinds() {
        let p = AnswerPath::parse("/a[2]/b[13]/c").unwrap();
        assert_eq!(
            p.steps().collect::<Vec<_>>(),
            [
                Step::Instance("a", 2),
                Step::Instance("b", 13),
                Step::Name("c")
            ]
        );
        assert_eq!(p.kind(), PathKind::Name);
        assert_eq!(p.name(), Some("c"));
        let kinds = ["/", "/m[2]", "/m[]", "/m"].map(|t| AnswerPath::parse(t).unwrap().kind());
        assert_eq!(
            kinds,
            [
                PathKind::Root,
                PathKind::Instance,
                PathKind::Count,
                PathKind::Name
            ]
        );
        assert_eq!(AnswerPath::root().steps().count(), 0);
    }

    #[test]
    fn children_parents_and_counts() {
        let inst = AnswerPath::field("members")
            .parent()
            .unwrap()
            .child("m", Some(2));
        assert_eq!(inst, "/m[2]");
        let age = inst.child("age", None);
        assert_eq!(age, "/m[2]/age");
        assert_eq!(age.parent().unwrap(), inst);
        assert_eq!(inst.parent().unwrap(), AnswerPath::root());
        assert_eq!(AnswerPath::root().parent(), None);
        assert_eq!(inst.count().unwrap(), "/m[]");
        assert_eq!(age.count().unwrap(), "/m[2]/age[]");
        assert_eq!(AnswerPath::parse("/m[]").unwrap().count(), None);
        assert_eq!(inst.try_child("age", None).unwrap(), age);
        let err = inst.try_child("a/b", None).unwrap_err();
        assert_eq!(err.path, "/m[2]/a/b");
        // Made paths are what parsing their text gives.
        assert_eq!(AnswerPath::parse(age.as_str()).unwrap(), age);
        // Keys of names used in two groups of one scope carry their groups.
        let keyed = inst.keyed("grp_a/inner/age", None);
        assert_eq!(keyed, "/m[2]/grp_a/inner/age");
        assert_eq!(keyed.parent().unwrap(), "/m[2]/grp_a/inner");
        assert_eq!(AnswerPath::root().keyed("g/r", Some(3)), "/g/r[3]");
        assert_eq!(AnswerPath::root().keyed("age", None), "/age");
        assert_eq!(inst.try_keyed("g/age", None).unwrap(), "/m[2]/g/age");
        let err = inst.try_keyed("g//age", None).unwrap_err();
        assert_eq!(err.path, "/m[2]/g//age");
    }

    #[test]
    fn paths_order_as_their_text() {
        let mut paths: Vec<AnswerPath> = ["/m[10]/a", "/m[2]/a", "/m[]", "/age"]
            .iter()
            .map(|t| AnswerPath::parse(t).unwrap())
            .collect();
        paths.sort();
        let mut texts = ["/m[10]/a", "/m[2]/a", "/m[]", "/age"];
        texts.sort();
        assert_eq!(paths, texts);
    }

    #[test]
    fn serde_checks_the_text() {
        let p: AnswerPath = serde_json::from_str("\"/m[2]/age\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"/m[2]/age\"");
        assert!(serde_json::from_str::<AnswerPath>("\"m\"").is_err());
        let map: std::collections::BTreeMap<AnswerPath, u8> =
            serde_json::from_str(r#"{"/b":1,"/a[1]/c":2}"#).unwrap();
        assert_eq!(map.get("/b"), Some(&1));
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"/a[1]/c":2,"/b":1}"#
        );
    }
}
