//! Property test of the send-back loop: any interleaving of the enumerator's edits and
//! finalizations, coordinators' edits, send-backs and approvals, uploads (cut part way,
//! repeated) and device-feed pulls (every coordinator edit delivered again each time)
//! ends, two syncs after the last of them, with the same revisions, answers and review
//! state on the device and on the server, and no conflict left. Along the way a pull
//! never overwrites what the enumerator changed: a coordinator's different value for it
//! is a conflict shown on the device.
//!
//! The device is modelled as the app runs it (`src-tauri/src/store/returned.rs`): its
//! stored revisions folded before and after the feed's edits, [`merge_local`] into the
//! answers it holds, [`next_revision`] when the enumerator finalizes. The server applies
//! what arrives with the same merge; its review state follows the server's rule (a send
//! back becomes `resubmitted` when the device's next edit arrives).

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;
use voices_core::answer::{AnswerPath, FlatAnswers};
use voices_core::sync::outgoing::{Author, Built, Current};
use voices_core::sync::{merge_local, next_revision, Applied, Hlc, ResponseState, Revision};

const PATHS: [&str; 3] = ["/village", "/hh_size", "/members[1]/age"];
const VALUES: [&str; 3] = ["x", "y", "z"];
const ME: &str = "tab";
const COORDINATORS: [&str; 2] = ["user:cora", "user:dan"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Review {
    Received,
    SentBack,
    Resubmitted,
    Approved,
}

#[derive(Debug, Clone)]
enum Op {
    /// The enumerator changes (or clears, `None`) an answer on the device.
    DeviceEdit(usize, Option<usize>),
    /// The enumerator finalizes: the device builds its next revision.
    Finalize,
    /// The device uploads its first `n` unsent revisions (the connection is cut after
    /// them), sending again the ones already sent when `again` (a lost acknowledgement).
    Upload {
        n: usize,
        again: bool,
    },
    /// The device pulls its feed: the review state and every coordinator's edit.
    Pull,
    /// A coordinator edits an answer on the server, on top of what the server holds.
    CoordinatorEdit(usize, usize, Option<usize>),
    SendBack,
    Approve,
}

fn op() -> impl Strategy<Value = Op> {
    let value = prop::option::weighted(0.8, 0..VALUES.len());
    prop_oneof![
        4 => (0..PATHS.len(), value.clone()).prop_map(|(p, v)| Op::DeviceEdit(p, v)),
        3 => Just(Op::Finalize),
        3 => (0..4usize, any::<bool>()).prop_map(|(n, again)| Op::Upload { n, again }),
        3 => Just(Op::Pull),
        4 => (0..COORDINATORS.len(), 0..PATHS.len(), value)
            .prop_map(|(c, p, v)| Op::CoordinatorEdit(c, p, v)),
        2 => Just(Op::SendBack),
        1 => Just(Op::Approve),
    ]
}

fn path(i: usize) -> AnswerPath {
    AnswerPath::parse(PATHS[i]).unwrap()
}

fn fold<'a>(revisions: impl IntoIterator<Item = &'a Revision>) -> ResponseState {
    let mut state = ResponseState::new("r", "hh");
    for revision in revisions {
        state.apply(revision).unwrap();
    }
    state
}

struct Server {
    state: ResponseState,
    /// Every revision, in arrival order.
    log: Vec<Revision>,
    review: Review,
}

impl Server {
    fn receive(&mut self, revision: &Revision) {
        if self.state.apply(revision).unwrap() == Applied::New {
            self.log.push(revision.clone());
            if revision.actor == ME && self.review == Review::SentBack {
                self.review = Review::Resubmitted;
            }
        }
    }
}

struct Device {
    /// The answers as the enumerator left them (may hold edits not finalized yet).
    local: FlatAnswers,
    /// Its own revisions and the coordinators' edits the feed brought.
    revisions: Vec<Revision>,
    /// Ids of its own revisions the server acknowledged.
    sent: BTreeSet<String>,
    review: Option<Review>,
    conflicts: Vec<voices_core::sync::LocalConflict>,
    built: usize,
}

struct World {
    device: Device,
    server: Server,
    clock: u64,
}

impl World {
    fn new() -> World {
        let mut local = FlatAnswers::new();
        local.insert(path(0), "start".into()).unwrap();
        local.insert(path(1), "3".into()).unwrap();
        let mut world = World {
            device: Device {
                local,
                revisions: Vec::new(),
                sent: BTreeSet::new(),
                review: None,
                conflicts: Vec::new(),
                built: 0,
            },
            server: Server {
                state: ResponseState::new("r", "hh"),
                log: Vec::new(),
                review: Review::Received,
            },
            clock: 1_000_000,
        };
        world.finalize();
        world.upload(usize::MAX, false);
        world
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1_000;
        self.clock
    }

    fn finalize(&mut self) {
        let now_ms = self.tick();
        let device = &mut self.device;
        let all = fold(&device.revisions);
        let (privacy, selections, matching, files) = (
            Default::default(),
            Default::default(),
            Default::default(),
            Default::default(),
        );
        let current = Current {
            answers: &device.local,
            consent: None,
            privacy: &privacy,
            selections: &selections,
            matching: &matching,
            outcome: None,
            files: &files,
        };
        let built = Built {
            all: &all,
            held: &all,
            orphaned: false,
        };
        let author = Author {
            revision_id: format!("tab-{}", device.built),
            actor: ME.into(),
            form_version: "1".into(),
            now_ms,
        };
        if let Some(revision) = next_revision(current, built, author).unwrap() {
            device.built += 1;
            device.revisions.push(revision);
        }
        // Finalizing settles the conflicts the enumerator was shown (the app's
        // `mark_resubmitted`).
        device.conflicts.clear();
        if device.review == Some(Review::SentBack) {
            device.review = Some(Review::Resubmitted);
        }
    }

    fn upload(&mut self, n: usize, again: bool) {
        let device = &mut self.device;
        let own = device.revisions.iter().filter(|r| r.actor == ME);
        let (sent, unsent): (Vec<&Revision>, Vec<&Revision>) =
            own.partition(|r| device.sent.contains(&r.id));
        if again {
            for revision in sent {
                self.server.receive(revision);
            }
        }
        for revision in unsent.into_iter().take(n) {
            self.server.receive(revision);
            device.sent.insert(revision.id.clone());
        }
    }

    fn pull(&mut self) {
        let device = &mut self.device;
        let before = fold(&device.revisions);
        let mut after = before.clone();
        for edit in self.server.log.iter().filter(|r| r.actor != ME) {
            if !after.contains(edit) {
                after.apply(edit).unwrap();
                device.revisions.push(edit.clone());
            }
        }
        let merged = merge_local(&device.local, &before, &after, ME);
        let (was, now) = (before.answers(), after.answers());
        for p in PATHS {
            let (old, new, mine) = (was.get(p), now.get(p), device.local.get(p));
            let got = merged.answers.get(p);
            if mine != old {
                assert_eq!(got, mine, "{p}: the enumerator's change was overwritten");
                if new != old && new != mine {
                    assert!(
                        merged.conflicts.iter().any(|c| c.path.as_str() == p),
                        "{p}: both changed it ({mine:?} here, {new:?} there) and no conflict shows"
                    );
                }
            }
        }
        device.local = merged.answers;
        device.conflicts = merged.conflicts;
        device.review = Some(self.server.review);
    }

    fn coordinator_edit(&mut self, who: &str, p: usize, value: Option<usize>) {
        let hlc = Hlc::new(self.tick(), 0);
        let seq = self
            .server
            .log
            .iter()
            .filter(|r| r.actor == who)
            .map(|r| r.seq)
            .max()
            .unwrap_or(0)
            + 1;
        let mut seen = self.server.state.context();
        seen.0.remove(who);
        let edit: Revision = serde_json::from_value(json!({
            "id": format!("{who}-{seq}"),
            "response": "r",
            "form": "hh",
            "version": "1",
            "actor": who,
            "seq": seq,
            "hlc": hlc,
            "seen": seen,
            "set": { PATHS[p]: value.map(|v| VALUES[v]) },
        }))
        .unwrap();
        self.server.receive(&edit);
    }

    fn run(&mut self, op: &Op) {
        match *op {
            Op::DeviceEdit(p, v) => {
                self.device
                    .local
                    .set(path(p), v.map(|v| VALUES[v].to_owned()))
                    .unwrap();
            }
            Op::Finalize => self.finalize(),
            Op::Upload { n, again } => self.upload(n, again),
            Op::Pull => self.pull(),
            Op::CoordinatorEdit(c, p, v) => self.coordinator_edit(COORDINATORS[c], p, v),
            Op::SendBack => self.server.review = Review::SentBack,
            Op::Approve => self.server.review = Review::Approved,
        }
    }

    /// The app's sync after the enumerator finalized: upload everything, then pull.
    fn sync(&mut self) {
        self.finalize();
        self.upload(usize::MAX, false);
        self.pull();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_interleaving_converges_on_device_and_server(ops in prop::collection::vec(op(), 0..40)) {
        let mut world = World::new();
        for op in &ops {
            world.run(op);
        }
        world.sync();
        world.sync();
        let (device, server) = (&world.device, &world.server);
        let ids = |revisions: &[Revision]| -> BTreeSet<String> {
            revisions.iter().map(|r| r.id.clone()).collect()
        };
        prop_assert_eq!(ids(&device.revisions), ids(&server.log), "the same revisions");
        let held = fold(&device.revisions);
        prop_assert_eq!(held.answers(), server.state.answers());
        prop_assert_eq!(held.context(), server.state.context());
        prop_assert!(!server.state.has_conflicts(), "{:?}", server.state.conflicts());
        prop_assert_eq!(&device.local, &server.state.answers(), "the device shows what the server holds");
        prop_assert!(device.conflicts.is_empty(), "{:?}", device.conflicts);
        prop_assert_eq!(device.review, Some(server.review));
        // A third sync has nothing to send or merge.
        let before = server.log.len();
        world.sync();
        prop_assert_eq!(world.server.log.len(), before);
    }
}
