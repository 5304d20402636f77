//! Causality: dots and version vectors.
//!
//! Every revision is identified causally by a *dot*: the actor (device or user) that
//! made it and that actor's revision counter for the response (1, 2, 3, …). A revision
//! also carries the *context* it was made on: a version vector saying, per actor, up to
//! which counter the actor had seen that actor's revisions. Revision `a` happened
//! before `b` exactly when `b`'s context covers `a`'s dot; when neither covers the other
//! they are concurrent. This needs no clock agreement at all, which is the point: device
//! clocks in the field are often wrong by days.
//!
//! Contexts are causally closed by construction: a device only ever edits on top of
//! what it holds, and it holds another actor's revision only together with everything
//! that revision had seen (the server hands out merged states with their whole context).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who made a revision: a device id for enumerators, a user id for coordinators.
pub type ActorId = String;

/// The causal identity of one revision: the `seq`-th revision `actor` made of a response.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dot {
    pub actor: ActorId,
    pub seq: u64,
}

impl Dot {
    pub fn new(actor: impl Into<ActorId>, seq: u64) -> Dot {
        Dot {
            actor: actor.into(),
            seq,
        }
    }
}

impl std::fmt::Display for Dot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.actor, self.seq)
    }
}

/// Per actor, the highest revision counter seen (all lower ones are seen too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VersionVector(pub BTreeMap<ActorId, u64>);

impl VersionVector {
    pub fn new() -> VersionVector {
        VersionVector::default()
    }

    /// The counter seen for `actor` (0 = none).
    pub fn get(&self, actor: &str) -> u64 {
        self.0.get(actor).copied().unwrap_or(0)
    }

    /// Whether the revision `dot` is part of this context.
    pub fn covers(&self, dot: &Dot) -> bool {
        self.get(&dot.actor) >= dot.seq
    }

    /// Raise `actor`'s entry to at least `seq`.
    pub fn observe(&mut self, actor: &str, seq: u64) {
        if seq == 0 {
            return;
        }
        match self.0.get_mut(actor) {
            Some(current) => *current = (*current).max(seq),
            None => {
                self.0.insert(actor.to_owned(), seq);
            }
        }
    }

    /// The least upper bound of both contexts.
    pub fn join(&mut self, other: &VersionVector) {
        for (actor, &seq) in &other.0 {
            self.observe(actor, seq);
        }
    }

    /// Whether everything `other` has seen is seen here too.
    pub fn dominates(&self, other: &VersionVector) -> bool {
        other.0.iter().all(|(actor, &seq)| self.get(actor) >= seq)
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(|&seq| seq == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vv(entries: &[(&str, u64)]) -> VersionVector {
        VersionVector(entries.iter().map(|(a, s)| (a.to_string(), *s)).collect())
    }

    #[test]
    fn covers_means_seen_up_to_the_counter() {
        let context = vv(&[("a", 3), ("b", 1)]);
        assert!(context.covers(&Dot::new("a", 1)));
        assert!(context.covers(&Dot::new("a", 3)));
        assert!(!context.covers(&Dot::new("a", 4)));
        assert!(!context.covers(&Dot::new("c", 1)));
    }

    #[test]
    fn join_takes_the_maximum_per_actor() {
        let mut left = vv(&[("a", 3), ("b", 1)]);
        left.join(&vv(&[("a", 1), ("b", 4), ("c", 2)]));
        assert_eq!(left, vv(&[("a", 3), ("b", 4), ("c", 2)]));
        assert!(left.dominates(&vv(&[("a", 3)])));
        assert!(!vv(&[("a", 3)]).dominates(&left));
    }
}
