//! Enumerator–respondent matching: a group's `match` rule evaluated with the device's
//! enumerator profile when the enumerator reaches the group, the record of a hand-over
//! or a skip when it is not met, what stays closed until one of them is recorded, and
//! the violation when a reached group has no record.

use std::collections::BTreeSet;

use crate::answer::AnswerPath;
use crate::env::Environment;
use crate::matching::{MatchingOutcome, MatchingRecord};

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
        if self.matching.contains_key(&key) {
            return Ok(Some(self.take_changes()));
        }
        let form = std::sync::Arc::clone(&self.form);
        let Some(rule) = &form.node(node).match_rule else {
            return Err(EngineError::NoMatchRule(path.to_string()));
        };
        if !self.eval_bool(rule, inst, node, env).unwrap_or(false) {
            return Ok(None);
        }
        self.put_matching(
            inst,
            node,
            MatchingRecord {
                outcome: MatchingOutcome::Matched,
                at: env.now().to_rfc3339(),
                by: None,
                sex: None,
            },
            env,
        )
        .map(Some)
    }

    /// Record that the group at `path` was handed over to another enumerator (`by`, of
    /// `sex`) or skipped. `matched` is recorded only by [`Session::check_matching`], when
    /// the rule holds.
    pub fn record_matching(
        &mut self,
        path: &AnswerPath,
        outcome: MatchingOutcome,
        by: Option<String>,
        sex: Option<String>,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let (inst, node) = self.locate_match(path)?;
        if outcome == MatchingOutcome::Matched {
            return Err(EngineError::MatchedByRule(path.to_string()));
        }
        let record = MatchingRecord {
            outcome,
            at: env.now().to_rfc3339(),
            by: by.map(|b| b.trim().to_owned()),
            sex,
        };
        record.check().map_err(EngineError::BadMatching)?;
        self.put_matching(inst, node, record, env)
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
        self.matching.get(&key).is_none_or(|r| r.outcome.opens())
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
        if self.matching.contains_key(&path) {
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
