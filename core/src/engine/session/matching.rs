//! Enumerator–respondent matching: a group's `match` rule evaluated with the device's
//! enumerator profile when the enumerator reaches the group; when it is not met, the
//! same rule evaluated with the stated profile of the colleague the section is offered
//! to (a hand-over is accepted only when they meet it), or a skip; what stays closed
//! until the section is settled, and the violation when a reached group is not.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};

use crate::answer::AnswerPath;
use crate::env::Environment;
use crate::matching::{
    self, Colleague, EnumeratorProfile, MatchingOutcome, MatchingRecord, RefusedHandOver,
};

use super::super::compile::NodeIdx;
use super::super::messages::{self, Msg};
use super::super::{EngineError, Result};
use super::{Changes, InstId, Session, Violation, ViolationCode};

impl Session {
    /// Evaluate the `match` rule of the group at `path` with the enumerator the
    /// environment gives (`enumerator()`). When it holds, `matched` is recorded and the
    /// group opens: `Some(changes)`. When it does not (an unknown profile never meets a
    /// rule that names a value, and a rule that cannot be evaluated is not met), nothing
    /// is recorded: `None`, and the group stays closed until [`Session::record_matching`]
    /// records a hand-over or a skip. A group already recorded answers `Some` unchanged.
    pub fn check_matching(
        &mut self,
        path: &AnswerPath,
        env: &mut dyn Environment,
    ) -> Result<Option<Changes>> {
        let (inst, node) = self.locate_match(path)?;
        let key = self.path_of(inst, node);
        let earlier = self.matching.get(&key);
        if earlier.is_some_and(|r| r.outcome.settles()) {
            return Ok(Some(self.take_changes()));
        }
        let refused = earlier.map(|r| r.refused.clone()).unwrap_or_default();
        let form = std::sync::Arc::clone(&self.form);
        let Some(rule) = &form.node(node).match_rule else {
            return Err(EngineError::NoMatchRule(path.to_string()));
        };
        if !self.eval_bool(rule, inst, node, env).unwrap_or(false) {
            return Ok(None);
        }
        let record =
            MatchingRecord::plain(MatchingOutcome::Matched, env.now().to_rfc3339(), refused);
        self.put_matching(inst, node, record, env).map(Some)
    }

    /// Offer the group at `path` to a colleague: the group's own rule is evaluated with
    /// the profile they state in place of the device's. A part the rule reads that they
    /// did not state does not meet it (so an unknown area never passes as "the same
    /// area"). Met: `handed_over` is recorded (who, and what they stated) and the group
    /// opens. Not met: `hand_over_refused` is recorded, the colleague added to the
    /// refusals, and the group stays closed for another hand-over or a skip.
    pub fn hand_over(
        &mut self,
        path: &AnswerPath,
        colleague: &Colleague,
        env: &mut dyn Environment,
    ) -> Result<HandOver> {
        let (inst, node) = self.locate_match(path)?;
        let colleague = colleague.normalized().map_err(EngineError::BadMatching)?;
        if colleague.profile.sex.is_none() {
            return Err(EngineError::BadMatching(format!(
                "a hand-over gives the sex of who takes over: one of {}",
                matching::SEXES.join(", ")
            )));
        }
        let key = self.path_of(inst, node);
        if self.matching.get(&key).is_some_and(|r| r.outcome.opens()) {
            return Err(EngineError::MatchingSettled(path.to_string()));
        }
        let mut refused = self
            .matching
            .get(&key)
            .map(|r| r.refused.clone())
            .unwrap_or_default();
        let form = std::sync::Arc::clone(&self.form);
        let Some(rule) = &form.node(node).match_rule else {
            return Err(EngineError::NoMatchRule(path.to_string()));
        };
        let stated = matching::keys_read(rule)
            .into_iter()
            .all(|k| colleague.profile.knows(k));
        let at = env.now();
        let accepted = stated && {
            let mut as_colleague = AsColleague {
                env: &mut *env,
                profile: &colleague.profile,
                at,
            };
            self.eval_bool(rule, inst, node, &mut as_colleague)
                .unwrap_or(false)
        };
        let Colleague { by, profile } = colleague;
        let EnumeratorProfile {
            sex,
            languages,
            area,
        } = profile;
        let record = if accepted {
            MatchingRecord {
                outcome: MatchingOutcome::HandedOver,
                at: at.to_rfc3339(),
                by: Some(by),
                sex,
                languages,
                area,
                refused,
            }
        } else {
            refused.push(RefusedHandOver {
                by,
                sex,
                languages,
                area,
                at: at.to_rfc3339(),
            });
            MatchingRecord::plain(MatchingOutcome::HandOverRefused, at.to_rfc3339(), refused)
        };
        record.check().map_err(EngineError::BadMatching)?;
        let changes = self.put_matching(inst, node, record, env)?;
        Ok(HandOver { accepted, changes })
    }

    /// Record that the group at `path` was skipped (no suitable enumerator): its
    /// questions are not asked. The refused hand-overs before it are kept.
    pub fn skip_matching(
        &mut self,
        path: &AnswerPath,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let (inst, node) = self.locate_match(path)?;
        let key = self.path_of(inst, node);
        let refused = self
            .matching
            .get(&key)
            .map(|r| r.refused.clone())
            .unwrap_or_default();
        let record =
            MatchingRecord::plain(MatchingOutcome::Skipped, env.now().to_rfc3339(), refused);
        self.put_matching(inst, node, record, env)
    }

    /// The profile keys the `match` rule of the group at `path` reads (what a hand-over
    /// asks of the colleague), in `sex`, `languages`, `area` order.
    pub fn matching_keys(&self, path: &AnswerPath) -> Result<Vec<&'static str>> {
        let (_, node) = self.locate_match(path)?;
        Ok(self
            .form
            .node(node)
            .match_rule
            .as_ref()
            .map(matching::keys_read)
            .unwrap_or_default())
    }

    /// The record of the group at `path` (`/group`, `/members[2]/group`).
    pub fn matching_record(&self, path: &AnswerPath) -> Option<&MatchingRecord> {
        self.matching.get(path)
    }

    fn locate_match(&self, path: &AnswerPath) -> Result<(InstId, NodeIdx)> {
        let (inst, node) = self.locate(path)?;
        if self.form.node(node).match_rule.is_none() {
            return Err(EngineError::NoMatchRule(path.to_string()));
        }
        Ok((inst, node))
    }

    fn put_matching(
        &mut self,
        inst: InstId,
        node: NodeIdx,
        record: MatchingRecord,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let key = self.path_of(inst, node);
        self.matching.insert(key, record);
        self.response.take();
        if let Some(task) = self.form.node_tasks[node].relevance {
            let mut work = BTreeSet::new();
            work.insert((task, inst));
            self.drain(work, env);
        }
        Ok(self.take_changes())
    }

    /// Whether a group with a rule is open: not skipped.
    pub(super) fn match_open(&self, inst: InstId, node: NodeIdx) -> bool {
        if self.form.node(node).match_rule.is_none() {
            return true;
        }
        let key = self.path_of(inst, node);
        self.matching
            .get(&key)
            .is_none_or(|r| r.outcome != MatchingOutcome::Skipped)
    }

    /// Whether an enclosing group with a rule has no record that opens it yet (its
    /// questions are not asked until it has).
    pub(crate) fn matching_pending(&self, inst: InstId, node: NodeIdx) -> bool {
        self.any_enclosing_group(inst, node, |inst, p| {
            self.form.node(p).match_rule.is_some()
                && !self
                    .matching
                    .get(&self.path_of(inst, p))
                    .is_some_and(|r| r.outcome.opens())
        })
    }

    /// A reached group with a rule and no record.
    pub(super) fn matching_violation(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Option<Violation> {
        let n = self.form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        if n.match_rule.is_none()
            || !slot.relevant
            || self.privacy_pending(inst, node)
            || self.matching_pending(inst, node)
        {
            return None;
        }
        let path = self.path_of(inst, node);
        if self
            .matching
            .get(&path)
            .is_some_and(|r| r.outcome.settles())
        {
            return None;
        }
        Some(Violation {
            path,
            code: ViolationCode::Matching,
            message: messages::text(Msg::MatchingMissing, lang, &[]),
            without_answer: None,
        })
    }
}

/// What offering a section to a colleague did.
#[derive(Debug)]
pub struct HandOver {
    /// The colleague meets the rule: the section is handed over and open.
    pub accepted: bool,
    pub changes: Changes,
}

/// The shell's environment with the colleague's stated profile in place of the device's
/// enumerator (the clock fixed at the hand-over), so the rule reads them.
struct AsColleague<'a> {
    env: &'a mut dyn Environment,
    profile: &'a EnumeratorProfile,
    at: DateTime<FixedOffset>,
}

impl Environment for AsColleague<'_> {
    fn now(&self) -> DateTime<FixedOffset> {
        self.at
    }
    fn random(&mut self) -> f64 {
        self.env.random()
    }
    fn random_bytes(&mut self) -> [u8; 16] {
        self.env.random_bytes()
    }
    fn device_id(&self) -> Option<String> {
        self.env.device_id()
    }
    fn username(&self) -> Option<String> {
        self.env.username()
    }
    fn enumerator(&self, key: &str) -> Option<String> {
        self.profile.value(key)
    }
}
