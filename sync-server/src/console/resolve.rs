//! A coordinator resolving a conflict: a revision by the coordinator's own actor
//! (`user:NAME`) that has seen every value of the conflict and writes the chosen one. It
//! goes through the ingest like any device's edit, so the merge, the history and the
//! devices' next pull treat it the same way.

use voices_core::answer::{is_key, AnswerPath, AnswerValue};
use voices_core::sync::merge::Value;
use voices_core::sync::{Hlc, ResponseState, Revision};

use super::history::COORDINATOR_ACTOR_PREFIX;

/// Why a resolution cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    BadPath(String),
    #[error("`{0}` holds no conflict; there is nothing to resolve")]
    NoConflict(String),
    #[error("`{0}` is sealed: the server cannot read or write it, so a resolution must keep one of the conflict's sealed values as it is")]
    SealedValue(String),
}

/// The revision that resolves `path` of `state` to `value` (`None` clears it), made by
/// coordinator `user` at `now_ms` with revision id `id`.
pub fn resolution(
    state: &ResponseState,
    user: &str,
    path: &str,
    value: Option<String>,
    now_ms: u64,
    id: String,
) -> Result<Revision, ResolveError> {
    match AnswerPath::parse(path) {
        Err(e) => return Err(ResolveError::BadPath(e.to_string())),
        Ok(p) if !is_key(&p) => {
            return Err(ResolveError::BadPath(format!(
                "`{path}` is not an answer path: it must end with a field name or a repeat count `name[]`"
            )))
        }
        Ok(_) => {}
    }
    let Some(conflict) = state.conflicts().into_iter().find(|c| c.key == path) else {
        return Err(ResolveError::NoConflict(path.to_owned()));
    };
    // A sealed answer can only be resolved to one of its values, as sealed and
    // validated by the device that wrote it.
    let sealed_values: Vec<_> = conflict
        .values
        .iter()
        .filter_map(|v| match &v.value {
            Value::Sealed(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let (value, validated) = if sealed_values.is_empty() {
        (value.map(AnswerValue::Text), false)
    } else {
        let chosen = sealed_values
            .into_iter()
            .find(|s| value.as_deref() == Some(s.as_str()))
            .ok_or_else(|| ResolveError::SealedValue(path.to_owned()))?;
        (Some(AnswerValue::Sealed(chosen)), true)
    };
    let actor = format!("{COORDINATOR_ACTOR_PREFIX}{user}");
    let seq = state
        .revisions
        .get(&actor)
        .and_then(|by_seq| by_seq.keys().next_back().copied())
        .unwrap_or(0)
        + 1;
    let mut seen = state.context();
    // A revision's own earlier edits are implied by its number, never listed in `seen`.
    seen.0.remove(&actor);
    Ok(Revision {
        id,
        response: state.response.clone(),
        form: state.form.clone(),
        version: state.form_version().unwrap_or_default().to_owned(),
        actor,
        seq,
        validated,
        // A kept file name is found through the revision that first named it.
        files: Default::default(),
        hlc: Hlc::new(now_ms.max(state.last_hlc.wall_ms), 0).tick(now_ms),
        seen,
        set: [(path.to_owned(), value)].into(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use voices_core::sync::VersionVector;

    fn rev(id: &str, actor: &str, seq: u64, seen: &[(&str, u64)], age: &str) -> Revision {
        Revision {
            id: id.into(),
            response: "r".into(),
            form: "f".into(),
            version: "1".into(),
            actor: actor.into(),
            seq,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(1_000 * seq, 0),
            seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
            set: [("/age".to_string(), Some(age.into()))].into(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
            status: None,
        }
    }

    #[test]
    fn the_resolution_supersedes_every_value_of_the_conflict() {
        let mut state = ResponseState::new("r", "f");
        state.apply(&rev("a1", "tab-a", 1, &[], "30")).unwrap();
        state.apply(&rev("a2", "tab-a", 2, &[], "31")).unwrap();
        state
            .apply(&rev("b1", "tab-b", 1, &[("tab-a", 1)], "32"))
            .unwrap();
        assert!(state.has_conflicts());
        assert_eq!(
            resolution(&state, "cora", "/name", None, 5, "x".into()),
            Err(ResolveError::NoConflict("/name".into()))
        );
        assert!(matches!(
            resolution(&state, "cora", "age", None, 5, "x".into()),
            Err(ResolveError::BadPath(_))
        ));
        let fix = resolution(&state, "cora", "/age", Some("31".into()), 5, "c1".into()).unwrap();
        assert_eq!((fix.actor.as_str(), fix.seq), ("user:cora", 1));
        state.apply(&fix).unwrap();
        assert!(!state.has_conflicts());
        // A second resolution by the same coordinator takes the next number.
        state.apply(&rev("b2", "tab-b", 2, &[], "40")).unwrap();
        state
            .apply(&rev("a3", "tab-a", 3, &[("tab-b", 1)], "41"))
            .unwrap();
        let again = resolution(&state, "cora", "/age", Some("41".into()), 6, "c2".into()).unwrap();
        assert_eq!(again.seq, 2);
        assert!(!again.seen.0.contains_key("user:cora"));
        state.apply(&again).unwrap();
        assert!(!state.has_conflicts());
    }
}
