//! A sealed answer: the answer to a `sensitive` or `pii` field, encrypted on the device
//! to the project's recipients before it entered a revision.
//!
//! The core never encrypts or decrypts (it stays pure; the app seals with `age`, the
//! `voices decrypt` command and the console open): it only carries sealed values, merges
//! them as opaque values (two seals of one answer differ, so concurrent writes of the
//! same clear value are a conflict a coordinator resolves) and keeps them apart from
//! clear answers, so nothing that reads answers — search, dashboard, map, validation —
//! mistakes a ciphertext for an answer. On the wire, in stored states and in the
//! response tree a sealed value is the object `{"sealed": "<base64 age file>"}`, where
//! a clear answer is a string.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest sealed value accepted, in base64 characters (a 64 KiB answer sealed to
/// a few dozen recipients fits).
pub const MAX_SEALED: usize = 128 * 1024;

/// An `age` encrypted file (binary format), base64-encoded with padding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Sealed {
    sealed: String,
}

/// Why a text is not a sealed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealedError {
    #[error("a sealed value is empty")]
    Empty,
    #[error("a sealed value is too long ({0} characters; the limit is {MAX_SEALED})")]
    TooLong(usize),
    #[error("a sealed value must be base64 (an age file); found `{0}` at character {1}")]
    NotBase64(char, usize),
}

impl Sealed {
    /// A sealed value from the base64 text of an age file. Only its shape is checked:
    /// what it holds can be known only with an identity.
    pub fn new(base64: impl Into<String>) -> Result<Sealed, SealedError> {
        let sealed = base64.into();
        if sealed.is_empty() {
            return Err(SealedError::Empty);
        }
        if sealed.len() > MAX_SEALED {
            return Err(SealedError::TooLong(sealed.len()));
        }
        if let Some((at, bad)) = sealed
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
        {
            return Err(SealedError::NotBase64(bad, at));
        }
        Ok(Sealed { sealed })
    }

    /// The base64 text of the age file.
    pub fn as_str(&self) -> &str {
        &self.sealed
    }

    /// The name the file of a sealed file answer goes by, in a revision's `files` and at
    /// the console's `…/files/{name}`: `sealed-`, the first 32 hex digits of the SHA-256
    /// of this sealed text, `.age`. Derived from the ciphertext, so it tells nothing of
    /// the file's own name (which is inside the seal), and the server and the console
    /// both find a sealed answer's file from the sealed answer alone.
    pub fn file_name(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.sealed.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("sealed-{hex}.age")
    }
}

impl fmt::Display for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sealed)
    }
}

impl<'de> Deserialize<'de> for Sealed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            sealed: String,
        }
        let wire = Wire::deserialize(d)?;
        Sealed::new(wire.sealed).map_err(serde::de::Error::custom)
    }
}

/// A value a revision sets: clear text, or sealed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    Text(String),
    Sealed(Sealed),
}

impl AnswerValue {
    /// The clear text, if the value is not sealed.
    pub fn text(&self) -> Option<&str> {
        match self {
            AnswerValue::Text(text) => Some(text),
            AnswerValue::Sealed(_) => None,
        }
    }

    pub fn sealed(&self) -> Option<&Sealed> {
        match self {
            AnswerValue::Text(_) => None,
            AnswerValue::Sealed(sealed) => Some(sealed),
        }
    }

    /// Characters the value takes (its text, or its base64).
    pub fn len(&self) -> usize {
        match self {
            AnswerValue::Text(text) => text.len(),
            AnswerValue::Sealed(sealed) => sealed.as_str().len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for AnswerValue {
    fn from(text: String) -> AnswerValue {
        AnswerValue::Text(text)
    }
}

impl From<&str> for AnswerValue {
    fn from(text: &str) -> AnswerValue {
        AnswerValue::Text(text.to_owned())
    }
}

impl From<Sealed> for AnswerValue {
    fn from(sealed: Sealed) -> AnswerValue {
        AnswerValue::Sealed(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_sealed_values_keep_their_wire_shapes() {
        let text: AnswerValue = serde_json::from_str("\"34\"").unwrap();
        assert_eq!(text, AnswerValue::Text("34".into()));
        let sealed: AnswerValue = serde_json::from_str(r#"{"sealed":"YWdl+/="}"#).unwrap();
        assert_eq!(sealed.sealed().map(Sealed::as_str), Some("YWdl+/="));
        assert_eq!(sealed.text(), None);
        assert_eq!(
            serde_json::to_string(&sealed).unwrap(),
            r#"{"sealed":"YWdl+/="}"#
        );
        assert_eq!(serde_json::to_string(&text).unwrap(), "\"34\"");
    }

    #[test]
    fn malformed_sealed_values_are_refused_with_the_reason() {
        assert_eq!(Sealed::new(""), Err(SealedError::Empty));
        assert_eq!(Sealed::new("ab c"), Err(SealedError::NotBase64(' ', 2)));
        assert!(matches!(
            Sealed::new("A".repeat(MAX_SEALED + 1)),
            Err(SealedError::TooLong(_))
        ));
        for bad in [
            r#"{"sealed":""}"#,
            r#"{"sealed":"a","x":1}"#,
            r#"{"seal":"a"}"#,
        ] {
            assert!(serde_json::from_str::<AnswerValue>(bad).is_err(), "{bad}");
        }
    }
}
