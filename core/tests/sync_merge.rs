//! Property tests of the merge: order and repetition never change the result, and no
//! accepted value is ever lost.

use std::collections::BTreeMap;

use proptest::prelude::*;
use voices_core::answer::AnswerValue;
use voices_core::sync::{Hlc, ResponseState, Revision, Value};

const KEYS: [&str; 4] = ["/age", "/name", "/members[]", "/members[1]/age"];

/// One step of a simulated field history.
#[derive(Debug, Clone)]
enum Step {
    /// Actor `actor` edits: writes `value` to each key whose bit is set in `keys`.
    Edit { actor: usize, keys: u8, value: u8 },
    /// Actor `to` receives everything actor `from` holds (as through the server).
    Sync { from: usize, to: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..3usize, 1..16u8, 0..4u8).prop_map(|(actor, keys, value)| Step::Edit { actor, keys, value }),
        2 => (0..3usize, 0..3usize).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

/// Run the history: every actor keeps the revisions it holds and edits on top of their
/// merged state, so contexts are causally closed as on real devices.
fn simulate(steps: &[Step]) -> Vec<Revision> {
    let mut held: Vec<Vec<Revision>> = vec![Vec::new(); 3];
    let mut clocks = [Hlc::ZERO; 3];
    let mut all = Vec::new();
    for (t, step) in steps.iter().enumerate() {
        match *step {
            Step::Edit { actor, keys, value } => {
                let mut state = ResponseState::new("resp", "hh");
                for r in &held[actor] {
                    state.apply(r).unwrap();
                }
                let name = format!("dev{actor}");
                let seq = state.revisions.get(&name).map_or(0, |m| m.len() as u64) + 1;
                let mut seen = state.context();
                seen.0.remove(&name);
                // Skewed clocks: device 2 runs days behind, which must not matter.
                let wall = if actor == 2 {
                    t as u64
                } else {
                    86_400_000 * 5 + t as u64
                };
                clocks[actor] = clocks[actor].tick(wall);
                let set: BTreeMap<String, Option<AnswerValue>> = KEYS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| keys & (1 << i) != 0)
                    .map(|(_, k)| {
                        let v = if value == 0 {
                            None
                        } else {
                            Some(value.to_string().into())
                        };
                        (k.to_string(), v)
                    })
                    .collect();
                let rev = Revision {
                    id: format!("{name}-{seq}"),
                    response: "resp".into(),
                    form: "hh".into(),
                    version: "1".into(),
                    actor: name,
                    seq,
                    validated: false,
                    files: Default::default(),
                    hlc: clocks[actor],
                    seen,
                    set,
                    consent: None,
                    privacy: BTreeMap::new(),
                    selections: BTreeMap::new(),
                    matching: BTreeMap::new(),
                    outcome: None,
                    status: None,
                };
                held[actor].push(rev.clone());
                all.push(rev);
            }
            Step::Sync { from, to } => {
                let incoming: Vec<Revision> = held[from]
                    .iter()
                    .filter(|r| !held[to].iter().any(|h| h.id == r.id))
                    .cloned()
                    .collect();
                held[to].extend(incoming);
            }
        }
    }
    all
}

fn merge(revisions: &[Revision], order: impl Iterator<Item = usize>) -> ResponseState {
    let mut state = ResponseState::new("resp", "hh");
    for i in order {
        state.apply(&revisions[i]).unwrap();
    }
    state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_order_with_any_duplication_converges(
        steps in prop::collection::vec(step(), 1..40),
        seed in any::<u64>(),
        dup_every in 1usize..5,
    ) {
        let revisions = simulate(&steps);
        prop_assume!(!revisions.is_empty());
        let in_order = merge(&revisions, 0..revisions.len());

        // A permutation from the seed (Fisher–Yates with SplitMix64), with duplicates.
        let mut order: Vec<usize> = (0..revisions.len()).collect();
        let mut x = seed;
        for i in (1..order.len()).rev() {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let z = (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            order.swap(i, (z % (i as u64 + 1)) as usize);
        }
        let with_dups: Vec<usize> = order
            .iter()
            .enumerate()
            .flat_map(|(n, &i)| if n % dup_every == 0 { vec![i, i] } else { vec![i] })
            .chain(order.iter().rev().copied().step_by(dup_every))
            .collect();
        let shuffled = merge(&revisions, with_dups.into_iter());
        prop_assert_eq!(&shuffled, &in_order);
        prop_assert_eq!(shuffled.revision_count(), revisions.len());
    }

    #[test]
    fn no_accepted_value_is_lost(steps in prop::collection::vec(step(), 1..40)) {
        let revisions = simulate(&steps);
        let state = merge(&revisions, (0..revisions.len()).rev());
        for r in &revisions {
            for (key, value) in voices_core::sync::merge::writes(r).unwrap() {
                let live = state.registers.get(&key).is_some_and(|entries| {
                    entries.iter().any(|e| e.dot == r.dot() && e.value == value)
                });
                let superseded = revisions.iter().any(|s| {
                    s.id != r.id && s.context().covers(&r.dot()) && voices_core::sync::merge::writes(s).unwrap().any(|(k, _)| k == key)
                });
                prop_assert!(
                    live || superseded,
                    "value {:?} of {} at {} is neither live nor causally superseded",
                    value, r.id, key
                );
                // And a live value is never one that something later replaced.
                if superseded {
                    prop_assert!(!live, "{} at {} is live although superseded", r.id, key);
                }
            }
        }
        // Concurrent writes of different values are all visible as a conflict.
        for (key, entries) in &state.registers {
            let distinct: std::collections::BTreeSet<_> = entries.iter().map(|e| format!("{:?}", e.value)).collect();
            let flagged = state.conflicts().iter().any(|c| &c.key == key);
            prop_assert_eq!(distinct.len() > 1, flagged);
        }
        let _ = Value::Text(None);
    }
}
