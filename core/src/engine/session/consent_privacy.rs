//! The consent and privacy-check gates: recording the consent answer and a
//! privacy check's outcome, what stays closed until they are given, and the
//! violations when they are missing, out of date or interrupted.

use std::collections::BTreeSet;

use crate::answer::AnswerPath;
use crate::env::Environment;
use crate::form::ConsentRole;
use crate::response::{AssentRecord, ConsentRecord, PrivacyOutcome, PrivacyRecord, Response};

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
        // A minor's assent stands while the guardian's consent does.
        let assent = self.consent.take().and_then(|c| c.assent).filter(|_| given);
        self.consent = Some(ConsentRecord {
            given,
            at: env.now().to_rfc3339(),
            text_version,
            assent,
        });
        self.response.take();
        let value = Some(if given { "yes" } else { "no" }.to_owned());
        self.assign(ROOT_INST, node, value, env)
    }

    /// Record a minor's assent with its time and the assent text version. It is asked
    /// only after the guardian's consent was given, and only when the assent block's
    /// `minor` holds; a refusal closes everything after it, as a consent refusal does.
    pub fn record_assent(&mut self, given: bool, env: &mut dyn Environment) -> Result<Changes> {
        let Some(node) = self.form.assent else {
            return Err(EngineError::NoAssentBlock);
        };
        if !self.consent.as_ref().is_some_and(|c| c.given) {
            return Err(EngineError::AssentBeforeConsent);
        }
        if !self.instances[ROOT_INST].slots[self.form.node(node).slot].relevant {
            return Err(EngineError::AssentNotAsked);
        }
        let text_version = match &self.form.node(node).item {
            ItemData::Consent(c) => c.text_version.clone(),
            _ => String::new(),
        };
        if let Some(consent) = &mut self.consent {
            consent.assent = Some(AssentRecord {
                given,
                at: env.now().to_rfc3339(),
                text_version,
            });
        }
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

    /// Whether the consent (and a minor's assent) let `node` be asked. The assent block
    /// itself is asked only after consent was actually given (a guardian's yes).
    pub(super) fn consent_open(&self, node: NodeIdx) -> bool {
        let form = &self.form;
        let answer = |block: NodeIdx| {
            let slot = &self.instances[ROOT_INST].slots[form.node(block).slot];
            (slot.relevant, slot.value.as_deref() == Some("yes"))
        };
        if Some(node) == form.assent {
            return form.consent.is_some_and(|c| answer(c) == (true, true));
        }
        let n = form.node(node);
        let open = |gated: bool, block: Option<NodeIdx>| {
            !gated || block.is_none_or(|b| matches!(answer(b), (false, _) | (true, true)))
        };
        open(n.consent_gated, form.consent) && open(n.assent_gated, form.assent)
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
        let declined = |block: Option<NodeIdx>| {
            block.is_some_and(|b| {
                let slot = &self.instances[ROOT_INST].slots[form.node(b).slot];
                slot.relevant && slot.value.as_deref() == Some("no")
            })
        };
        let (consent_no, assent_no) = (declined(form.consent), declined(form.assent));
        if !consent_no && !assent_no {
            return Vec::new();
        }
        original
            .answers
            .0
            .keys()
            .filter(|name| {
                form.scope_names
                    .get(&(ROOT, (*name).clone()))
                    .is_some_and(|&n| {
                        // A question inside a group is gated with its top-level group.
                        let mut top = n;
                        while let Some(p) = form.node(top).parent.filter(|&p| p != ROOT) {
                            top = p;
                        }
                        let top = form.node(top);
                        (consent_no && top.consent_gated) || (assent_no && top.assent_gated)
                    })
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
        // The assent's record lives inside the consent record.
        let record = match block.role {
            ConsentRole::Consent => self
                .consent
                .as_ref()
                .map(|c| (c.given, c.text_version.as_str())),
            ConsentRole::Assent => self
                .consent
                .as_ref()
                .and_then(|c| c.assent.as_ref())
                .map(|a| (a.given, a.text_version.as_str())),
        };
        let assent = block.role == ConsentRole::Assent;
        let pick = |consent: Msg, assent_msg: Msg| if assent { assent_msg } else { consent };
        match (&slot.value, record) {
            (None, _) => vec![violation(
                pick(Msg::ConsentMissing, Msg::AssentMissing),
                &[],
            )],
            (Some(_), None) => vec![violation(
                pick(Msg::ConsentRecordMissing, Msg::AssentRecordMissing),
                &[],
            )],
            (Some(v), Some((given, text_version))) => {
                let mut out = Vec::new();
                if given != (v == "yes") {
                    out.push(violation(
                        pick(Msg::ConsentRecordMissing, Msg::AssentRecordMissing),
                        &[],
                    ));
                }
                if text_version != block.text_version {
                    out.push(violation(
                        pick(Msg::ConsentVersion, Msg::AssentVersion),
                        &[("recorded", text_version), ("current", &block.text_version)],
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
