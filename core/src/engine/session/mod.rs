//! A form session: the state of one response being filled in.
//!
//! The session keeps answers in an arena of repeat instances with, per node, its
//! relevance, required and read-only flags and constraint outcome. Changing an
//! answer re-runs only the tasks that read it (and what reads those), in the
//! compiled topological order; adding or removing repeat instances re-runs
//! everything (rare, and still cheap). Non-relevant answers are cleared, as in
//! XLSForm.
//!
//! This module holds the session and its operations; `instances` the arena and
//! the answer paths into it, `recompute` the running of tasks, `consent_privacy`
//! the consent and privacy-check gates, `validation` a response's violations,
//! `changes` what one operation changed, and `context` the data tree as
//! expressions see it.

mod changes;
mod consent_privacy;
mod context;
mod instances;
mod matching;
pub use matching::HandOver;
mod recompute;
mod validation;

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::answer::AnswerPath;
use crate::collections::Map;
use crate::env::Environment;
use crate::form::FieldType;
use crate::response::{
    Answer, ConsentRecord, OutcomeRecord, PrivacyRecord, Response, SelectionRecord,
};

use super::compile::{CompiledForm, ItemData, NodeIdx, NodeKind, ROOT};
use super::{EngineError, Result};

pub use changes::{Changes, FieldViolations, FlagChange, ValueChange};
pub(crate) use context::response_node;
pub use validation::{Violation, ViolationCode};

pub(crate) type InstId = usize;

pub(crate) const ROOT_INST: InstId = 0;

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub value: Option<String>,
    pub relevant: bool,
    pub required: bool,
    pub read_only: bool,
    /// `Err` holds why the constraint could not be evaluated.
    pub constraint: std::result::Result<bool, String>,
    /// For a repeat's slot: its instances, in order.
    pub instances: Vec<InstId>,
}

#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub scope: NodeIdx,
    pub parent: Option<InstId>,
    pub alive: bool,
    pub slots: Vec<Slot>,
    /// Answers the form has no field for (or of the wrong shape), kept so nothing is lost.
    pub extras: BTreeMap<String, Answer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Logged {
    Value,
    Relevance,
    Required,
    ReadOnly,
    Constraint,
}

/// The state of one response being filled in.
#[derive(Debug)]
pub struct Session {
    pub(crate) form: Arc<CompiledForm>,
    pub(crate) instances: Vec<Instance>,
    pub(crate) language: String,
    id: String,
    pub(crate) consent: Option<ConsentRecord>,
    pub(crate) privacy: BTreeMap<AnswerPath, PrivacyRecord>,
    pub(crate) matching: BTreeMap<AnswerPath, crate::matching::MatchingRecord>,
    pub(crate) selections: BTreeMap<AnswerPath, SelectionRecord>,
    pub(crate) outcome: Option<OutcomeRecord>,
    pub(super) response: OnceCell<Response>,
    log: BTreeSet<(InstId, NodeIdx, Logged)>,
    added: Vec<AnswerPath>,
    removed: Vec<AnswerPath>,
    pending_defaults: Vec<InstId>,
    /// Instances per scope in document order, rebuilt after structural changes.
    scope_cache: Map<NodeIdx, Vec<InstId>>,
}

impl Session {
    /// Start or resume a response. A response with no answers is new: metadata
    /// and defaults are filled in. Answers the form does not know are kept.
    pub fn new(
        form: Arc<CompiledForm>,
        response: Response,
        env: &mut dyn Environment,
    ) -> Result<Session> {
        let f = form.form();
        if response.form_id != f.id || response.form_version != f.version {
            return Err(EngineError::FormMismatch {
                response: format!("{} {}", response.form_id, response.form_version),
                form: format!("{} {}", f.id, f.version),
            });
        }
        let language = f.default_language.clone();
        let fresh = response.answers.0.is_empty();
        let mut session = Session {
            form,
            instances: Vec::new(),
            language,
            id: response.id,
            consent: response.consent,
            privacy: response.privacy,
            matching: response.matching,
            selections: response.selections,
            outcome: response.outcome,
            response: OnceCell::new(),
            log: BTreeSet::new(),
            added: Vec::new(),
            removed: Vec::new(),
            pending_defaults: Vec::new(),
            scope_cache: Map::default(),
        };
        session.load(response.answers);
        if fresh {
            session.pending_defaults.push(ROOT_INST);
        }
        session.fill_metadata(env, false);
        session.recompute_all(env);
        session.log.clear();
        session.added.clear();
        Ok(session)
    }

    pub fn form(&self) -> &Arc<CompiledForm> {
        &self.form
    }

    /// The language used for messages in [`Changes`] and for `jr:choice-name`.
    pub fn language(&self) -> &str {
        &self.language
    }

    pub fn set_language(&mut self, lang: &str) {
        self.language = lang.to_owned();
    }

    /// The response as it stands (built on first call after a change).
    pub fn response(&self) -> &Response {
        self.response.get_or_init(|| self.materialize())
    }

    /// Answer a question (`None` or `""` clears it).
    pub fn set_answer(
        &mut self,
        path: &AnswerPath,
        value: Option<String>,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let (inst, node) = self.locate(path)?;
        let n = self.form.node(node);
        let value = value.filter(|v| !v.is_empty());
        match n.kind {
            NodeKind::Consent if Some(node) == self.form.assent => {
                return match value.as_deref() {
                    Some("yes") => self.record_assent(true, env),
                    Some("no") => self.record_assent(false, env),
                    None => {
                        if let Some(c) = &mut self.consent {
                            c.assent = None;
                        }
                        self.response.take();
                        self.assign(inst, node, None, env)
                    }
                    Some(other) => Err(EngineError::InvalidConsentAnswer(other.to_owned())),
                };
            }
            NodeKind::Consent => {
                return match value.as_deref() {
                    Some("yes") => self.record_consent(true, env),
                    Some("no") => self.record_consent(false, env),
                    None => {
                        self.consent = None;
                        self.assign(inst, node, None, env)
                    }
                    Some(other) => Err(EngineError::InvalidConsentAnswer(other.to_owned())),
                };
            }
            NodeKind::Field(kind) => {
                if kind.is_metadata() || n.calculation.is_some() {
                    return Err(EngineError::NotAnswerable {
                        path: path.to_string(),
                        reason: "its value is calculated",
                    });
                }
                if kind == FieldType::Note {
                    return Err(EngineError::NotAnswerable {
                        path: path.to_string(),
                        reason: "it is a note",
                    });
                }
                if kind == FieldType::RespondentSelection {
                    return Err(EngineError::NotAnswerable {
                        path: path.to_string(),
                        reason: "the respondent is drawn by the app",
                    });
                }
                if self.matching_pending(inst, node) {
                    return Err(EngineError::NotAnswerable {
                        path: path.to_string(),
                        reason: "its section needs a matching enumerator first (matched, or handed over)",
                    });
                }
            }
            NodeKind::Group | NodeKind::Repeat | NodeKind::Root => {
                return Err(EngineError::NotAnswerable {
                    path: path.to_string(),
                    reason: "it is a group or repeat, not a question",
                })
            }
        }
        let slot = &self.instances[inst].slots[n.slot];
        if !slot.relevant {
            return Err(EngineError::NotRelevant(path.to_string()));
        }
        if slot.read_only {
            return Err(EngineError::ReadOnly(path.to_string()));
        }
        self.assign(inst, node, value, env)
    }

    pub(super) fn assign(
        &mut self,
        inst: InstId,
        node: NodeIdx,
        value: Option<String>,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        if self.set_value(inst, node, value) {
            let mut work = BTreeSet::new();
            self.enqueue(&mut work, node, inst, false);
            self.drain(work, env);
        }
        Ok(self.take_changes())
    }

    /// The response's name in draft and sent lists (the form's `instance_name`), if it has one.
    pub fn instance_name(&self, env: &mut dyn Environment) -> Option<String> {
        let expr = self.form.instance_name.as_ref()?;
        self.eval_string(expr, ROOT_INST, ROOT, env)
            .ok()
            .filter(|name| !name.trim().is_empty())
    }

    /// Add an instance at the end of an enumerator-controlled repeat (`/members`).
    pub fn add_repeat_instance(
        &mut self,
        path: &AnswerPath,
        env: &mut dyn Environment,
    ) -> Result<(AnswerPath, Changes)> {
        let (inst, node) = self.locate(path)?;
        let n = self.form.node(node);
        let ItemData::Repeat(repeat) = &n.item else {
            return Err(EngineError::NotARepeat(path.to_string()));
        };
        if n.count.is_some() {
            return Err(EngineError::RepeatControlled(path.to_string()));
        }
        let slot = &self.instances[inst].slots[n.slot];
        if !slot.relevant {
            return Err(EngineError::NotRelevant(path.to_string()));
        }
        let count = slot.instances.len();
        if let Some(max) = repeat.max {
            if count >= max as usize {
                return Err(EngineError::RepeatLimit {
                    path: path.to_string(),
                    limit: format!("at most {max}"),
                });
            }
        }
        let new = self.add_instance(inst, node);
        let new_path = self.instance_path(new);
        let mut work = BTreeSet::new();
        self.instances_changed(&mut work, inst, node, env);
        self.drain(work, env);
        Ok((new_path, self.take_changes()))
    }

    /// Remove one instance of an enumerator-controlled repeat (`/members[2]`).
    pub fn remove_repeat_instance(
        &mut self,
        path: &AnswerPath,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let (inst, node) = self.locate(path)?;
        let n = self.form.node(node);
        let ItemData::Repeat(repeat) = &n.item else {
            return Err(EngineError::NotARepeat(path.to_string()));
        };
        if self.instances[inst].scope != node || inst == ROOT_INST {
            return Err(EngineError::NotARepeat(format!(
                "{path} (name an instance, e.g. {path}[1])"
            )));
        }
        if n.count.is_some() {
            return Err(EngineError::RepeatControlled(path.to_string()));
        }
        let parent = self.instances[inst].parent.unwrap_or(ROOT_INST);
        if self.roster_drawn(parent, node) {
            // Removing a member would give the drawn number to someone else.
            return Err(EngineError::RosterDrawn(path.to_string()));
        }
        let count = self.instances[parent].slots[n.slot].instances.len();
        if let Some(min) = repeat.min {
            if count <= min as usize {
                return Err(EngineError::RepeatLimit {
                    path: path.to_string(),
                    limit: format!("at least {min}"),
                });
            }
        }
        self.remove_instance(inst);
        let mut work = BTreeSet::new();
        self.instances_changed(&mut work, parent, node, env);
        self.drain(work, env);
        Ok(self.take_changes())
    }

    /// Fill the `end` metadata (and any other metadata still empty): call when finalizing.
    pub fn finalize(&mut self, env: &mut dyn Environment) -> Changes {
        self.fill_metadata(env, true);
        self.recompute_all(env);
        self.take_changes()
    }
}
