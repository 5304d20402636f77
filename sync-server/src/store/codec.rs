//! How a response's merged state is stored: compact JSON text.
//!
//! `ResponseState`'s own JSON repeats each value's edit (`{"dot":{"actor":…,"seq":…},
//! "hlc":…}`) in every register, though most registers of a response were written by the
//! same few edits. Stored, each distinct (edit, stamp) is listed once and registers point
//! at it by index: the household response shrinks from about 6.5 KB to under 3 KB, which
//! is what the ingest writes (twice, through SQLite's WAL) and what pull and export parse.
//!
//! The text starts with `{"c":1,`; anything else is read as `ResponseState`'s own JSON,
//! which is how states were stored before, so older databases keep working unchanged.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use voices_core::sync::merge::{Entry, Register, Value};
use voices_core::sync::{Dot, Hlc, ResponseState, VersionVector};

use crate::Result;

const COMPACT_PREFIX: &str = "{\"c\":1,";

#[derive(Serialize, Deserialize)]
struct Compact<'a> {
    /// Codec version (first, so the prefix identifies the format).
    c: u8,
    response: std::borrow::Cow<'a, str>,
    form: std::borrow::Cow<'a, str>,
    revisions: std::borrow::Cow<'a, BTreeMap<String, BTreeMap<u64, String>>>,
    contexts: Vec<(Dot, VersionVector)>,
    first_hlc: Hlc,
    last_hlc: Hlc,
    /// Distinct (edit, stamp) pairs of the registers' values.
    stamps: Vec<(Dot, Hlc)>,
    /// Register key, then its values as (index into `stamps`, value).
    registers: Vec<(Register, Vec<(u32, Value)>)>,
}

/// The stored text of a state.
pub fn encode(state: &ResponseState) -> Result<String> {
    let mut index: HashMap<(&Dot, Hlc), u32> = HashMap::new();
    let mut stamps = Vec::new();
    let mut registers = Vec::with_capacity(state.registers.len());
    for (key, entries) in &state.registers {
        let mut values = Vec::with_capacity(entries.len());
        for entry in entries {
            let at = *index.entry((&entry.dot, entry.hlc)).or_insert_with(|| {
                stamps.push((entry.dot.clone(), entry.hlc));
                (stamps.len() - 1) as u32
            });
            values.push((at, entry.value.clone()));
        }
        registers.push((key.clone(), values));
    }
    let compact = Compact {
        c: 1,
        response: state.response.as_str().into(),
        form: state.form.as_str().into(),
        revisions: std::borrow::Cow::Borrowed(&state.revisions),
        contexts: state
            .contexts
            .iter()
            .map(|(d, v)| (d.clone(), v.clone()))
            .collect(),
        first_hlc: state.first_hlc,
        last_hlc: state.last_hlc,
        stamps,
        registers,
    };
    let text = serde_json::to_string(&compact)?;
    debug_assert!(text.starts_with(COMPACT_PREFIX));
    Ok(text)
}

/// A state from its stored text, in either format.
pub fn decode(text: &str) -> Result<ResponseState> {
    if !text.starts_with(COMPACT_PREFIX) {
        return Ok(serde_json::from_str(text)?);
    }
    let compact: Compact<'_> = serde_json::from_str(text)?;
    let mut registers = BTreeMap::new();
    for (key, values) in compact.registers {
        let mut entries = Vec::with_capacity(values.len());
        for (at, value) in values {
            let (dot, hlc) = compact.stamps.get(at as usize).ok_or_else(|| {
                crate::Error::Schema(format!(
                    "stored state of response {}: register {key} points at edit {at}, which is not listed",
                    compact.response
                ))
            })?;
            entries.push(Entry {
                dot: dot.clone(),
                hlc: *hlc,
                value,
            });
        }
        registers.insert(key, entries);
    }
    Ok(ResponseState {
        response: compact.response.into_owned(),
        form: compact.form.into_owned(),
        revisions: compact.revisions.into_owned(),
        registers,
        contexts: compact.contexts.into_iter().collect(),
        first_hlc: compact.first_hlc,
        last_hlc: compact.last_hlc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::household_revision;
    use voices_core::sync::Revision;

    fn merged() -> ResponseState {
        let first = household_revision(11, "dev-a", "1");
        let mut state = ResponseState::for_revision(&first);
        state.apply(&first).unwrap();
        // A concurrent edit by another device: a conflict, two stamps, contexts.
        let other = Revision {
            id: "b1".into(),
            actor: "dev-b".into(),
            hlc: Hlc::new(1_764_300_000_000, 3),
            set: [
                ("/resp_age".to_string(), Some("999".into())),
                ("/village".to_string(), None),
            ]
            .into(),
            ..first.clone()
        };
        state.apply(&other).unwrap();
        state
    }

    #[test]
    fn compact_text_decodes_to_the_same_state_and_is_smaller() {
        let state = merged();
        assert!(state.has_conflicts());
        let text = encode(&state).unwrap();
        assert!(text.starts_with(COMPACT_PREFIX), "{text}");
        assert_eq!(decode(&text).unwrap(), state);
        let plain = serde_json::to_string(&state).unwrap();
        assert!(
            text.len() * 2 < plain.len(),
            "compact {} bytes, plain {} bytes",
            text.len(),
            plain.len()
        );
    }

    #[test]
    fn states_stored_in_the_earlier_format_still_read() {
        let state = merged();
        let plain = serde_json::to_string(&state).unwrap();
        assert_eq!(decode(&plain).unwrap(), state);
    }

    #[test]
    fn a_damaged_stored_state_is_an_error_not_a_panic() {
        let text = encode(&merged()).unwrap();
        let damaged = text.replacen("[[0,", "[[99,", 1);
        assert_ne!(damaged, text);
        let err = decode(&damaged).unwrap_err();
        assert!(err.to_string().contains("edit 99"), "{err}");
        assert!(decode("{\"c\":1,").is_err());
    }
}
