//! The consent and privacy-check gates: recording the consent answer and a
//! privacy check's outcome, what stays closed until they are given, and the
//! violations when they are missing, out of date or interrupted.

use std::collections::BTreeSet;

use crate::answer::AnswerPath;
use crate::env::Environment;
use crate::response::{ConsentRecord, PrivacyOutcome, PrivacyRecord, Response};

use super::super::compile::{ItemData, NodeIdx, ROOT};
use super::super::messages::{self, Msg};
use super::super::{EngineError, Result};
use super::{Changes, InstId, Session, Violation, ViolationCode, ROOT_INST};

impl Session {
    /// Record the consent answer with its time and the consent text version.
    pub fn record_consent(&mut self, given: bool, env: &mut dyn Environment) -> Result<Changes> {
        let Some(node) = self.form.consent else {
            return Err(EngineError::NoConsentBlock);
        };
        let text_version = match &self.form.node(node).item {
            ItemData::Consent(c) => c.text_version.clone(),
            _ => String::new(),
        };
        self.consent = Some(ConsentRecord {
            given,
            at: env.now().to_rfc3339(),
            text_version,
        });
        self.response.take();
        let value = Some(if given { "yes" } else { "no" }.to_owned());
        self.assign(ROOT_INST, node, value, env)
    }

    /// Record the outcome of the privacy check before a `privacy: required` group.
    pub fn record_privacy(
        &mut self,
        path: &AnswerPath,
        outcome: PrivacyOutcome,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let (mut inst, node) = self.locate(path)?;
        if !self.form.node(node).privacy_check {
            return Err(EngineError::NotPrivacyChecked(path.to_string()));
        }
        // A repeat is checked once, before all its instances: `/members[2]` means `/members`.
        if node == self.instances[inst].scope {
            inst = self.instances[inst].parent.unwrap_or(ROOT_INST);
        }
        let key = self.path_of(inst, node);
        self.privacy.insert(
            key,
            PrivacyRecord {
                outcome,
                at: env.now().to_rfc3339(),
            },
        );
        self.response.take();
        if let Some(task) = self.form.node_tasks[node].relevance {
            let mut work = BTreeSet::new();
            work.insert((task, inst));
            self.drain(work, env);
        }
        Ok(self.take_changes())
    }

    /// The outcome recorded for a privacy-checked group (`/group`, `/members[2]/group`).
    pub fn privacy_outcome(&self, path: &AnswerPath) -> Option<PrivacyOutcome> {
        self.privacy.get(path).map(|r| r.outcome)
    }

    pub(super) fn consent_open(&self, node: NodeIdx) -> bool {
        let form = &self.form;
        if !form.node(node).consent_gated {
            return true;
        }
        let Some(c) = form.consent else { return true };
        let slot = &self.instances[ROOT_INST].slots[form.node(c).slot];
        !slot.relevant || slot.value.as_deref() == Some("yes")
    }

    pub(super) fn privacy_open(&self, inst: InstId, node: NodeIdx) -> bool {
        if !self.form.node(node).privacy_check {
            return true;
        }
        let key = self.path_of(inst, node);
        self.privacy.get(&key).map(|r| r.outcome) != Some(PrivacyOutcome::NotPrivate)
    }

    /// Whether an enclosing privacy-checked group has no `private` outcome yet
    /// (its questions are not asked until it does).
    pub(crate) fn privacy_pending(&self, inst: InstId, node: NodeIdx) -> bool {
        self.any_enclosing_group(inst, node, |inst, p| {
            self.form.node(p).privacy_check
                && self.privacy.get(&self.path_of(inst, p)).map(|r| r.outcome)
                    != Some(PrivacyOutcome::Private)
        })
    }

    /// Whether `test` holds for a group enclosing `node`, each given with the instance it
    /// lives in (leaving a repeat instance, the repeat node lives in the parent instance).
    pub(crate) fn any_enclosing_group(
        &self,
        mut inst: InstId,
        node: NodeIdx,
        test: impl Fn(InstId, NodeIdx) -> bool,
    ) -> bool {
        let mut cur = self.form.node(node).parent;
        while let Some(p) = cur {
            if p == ROOT {
                return false;
            }
            if p == self.instances[inst].scope {
                let Some(parent) = self.instances[inst].parent else {
                    return false;
                };
                inst = parent;
            }
            if test(inst, p) {
                return true;
            }
            cur = self.form.node(p).parent;
        }
        false
    }

    /// Answers a response carries although consent was declined (they must not be kept).
    pub(crate) fn declined_with_answers(&self, original: &Response, lang: &str) -> Vec<Violation> {
        let form = &self.form;
        let Some(consent) = form.consent else {
            return Vec::new();
        };
        if self.instances[ROOT_INST].slots[form.node(consent).slot]
            .value
            .as_deref()
            != Some("no")
        {
            return Vec::new();
        }
        original
            .answers
            .0
            .keys()
            .filter(|name| {
                form.scope_names
                    .get(&(ROOT, (*name).clone()))
                    .is_some_and(|&n| form.node(n).consent_gated)
            })
            .map(|name| Violation {
                path: AnswerPath::root().keyed(name, None),
                code: ViolationCode::Consent,
                message: messages::text(Msg::DeclinedWithAnswers, lang, &[]),
                without_answer: None,
            })
            .collect()
    }

    pub(super) fn consent_violations(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Vec<Violation> {
        let n = self.form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        if !slot.relevant {
            return Vec::new();
        }
        let path = self.path_of(inst, node);
        let violation = |msg: Msg, args: &[(&str, &str)]| Violation {
            path: path.clone(),
            code: ViolationCode::Consent,
            message: messages::text(msg, lang, args),
            without_answer: None,
        };
        let ItemData::Consent(block) = &n.item else {
            return Vec::new();
        };
        match (&slot.value, &self.consent) {
            (None, _) => vec![violation(Msg::ConsentMissing, &[])],
            (Some(_), None) => vec![violation(Msg::ConsentRecordMissing, &[])],
            (Some(v), Some(record)) => {
                let mut out = Vec::new();
                if record.given != (v == "yes") {
                    out.push(violation(Msg::ConsentRecordMissing, &[]));
                }
                if record.text_version != block.text_version {
                    out.push(violation(
                        Msg::ConsentVersion,
                        &[
                            ("recorded", &record.text_version),
                            ("current", &block.text_version),
                        ],
                    ));
                }
                out
            }
        }
    }

    pub(super) fn privacy_violation(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Option<Violation> {
        let n = self.form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        if !slot.relevant || self.privacy_pending(inst, node) {
            return None;
        }
        let path = self.path_of(inst, node);
        let msg = match self.privacy.get(&path).map(|r| r.outcome) {
            None => Msg::PrivacyMissing,
            Some(PrivacyOutcome::Interrupted) => Msg::PrivacyInterrupted,
            Some(PrivacyOutcome::Private | PrivacyOutcome::NotPrivate) => return None,
        };
        Some(Violation {
            path,
            code: ViolationCode::PrivacyCheck,
            message: messages::text(msg, lang, &[]),
            without_answer: None,
        })
    }
}
