//! What one operation changed ([`Changes`]), built from the session's log so the
//! interface updates only that.

use crate::answer::AnswerPath;

use super::super::compile::NodeIdx;
use super::super::compile::NodeKind;
use super::{InstId, Logged, Session, Violation};

/// Everything one operation changed, so the interface updates only that.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Changes {
    pub values: Vec<ValueChange>,
    /// Fields, groups and repeats that appeared or disappeared.
    pub relevance: Vec<FlagChange>,
    pub required: Vec<FlagChange>,
    pub read_only: Vec<FlagChange>,
    /// The current violations of every field whose state changed (empty: now valid).
    pub violations: Vec<FieldViolations>,
    pub instances_added: Vec<AnswerPath>,
    /// Paths as they were before removal.
    pub instances_removed: Vec<AnswerPath>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
            && self.relevance.is_empty()
            && self.required.is_empty()
            && self.read_only.is_empty()
            && self.violations.is_empty()
            && self.instances_added.is_empty()
            && self.instances_removed.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValueChange {
    pub path: AnswerPath,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlagChange {
    pub path: AnswerPath,
    pub value: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldViolations {
    pub path: AnswerPath,
    pub violations: Vec<Violation>,
}

impl Session {
    /// Turn the log into [`Changes`] (with current violations of touched fields).
    pub(super) fn take_changes(&mut self) -> Changes {
        let log = std::mem::take(&mut self.log);
        let mut changes = Changes {
            instances_added: std::mem::take(&mut self.added),
            instances_removed: std::mem::take(&mut self.removed),
            ..Changes::default()
        };
        let lang = self.language.clone();
        let mut touched: Vec<(InstId, NodeIdx)> = Vec::new();
        for (inst, node, what) in log {
            if !self.instances[inst].alive {
                continue;
            }
            let slot = &self.instances[inst].slots[self.form.node(node).slot];
            let path = self.path_of(inst, node);
            match what {
                Logged::Value => changes.values.push(ValueChange {
                    path,
                    value: slot.value.clone(),
                }),
                Logged::Relevance => changes.relevance.push(FlagChange {
                    path,
                    value: slot.relevant,
                }),
                Logged::Required => changes.required.push(FlagChange {
                    path,
                    value: slot.required,
                }),
                Logged::ReadOnly => changes.read_only.push(FlagChange {
                    path,
                    value: slot.read_only,
                }),
                Logged::Constraint => {}
            }
            if matches!(self.form.node(node).kind, NodeKind::Field(_))
                && touched.last() != Some(&(inst, node))
            {
                touched.push((inst, node));
            }
        }
        for (inst, node) in touched {
            changes.violations.push(FieldViolations {
                path: self.path_of(inst, node),
                violations: self.field_violations(inst, node, &lang),
            });
        }
        changes
    }
}
