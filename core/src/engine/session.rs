//! A form session: the state of one response being filled in.
//!
//! The session keeps answers in an arena of repeat instances with, per node, its
//! relevance, required and read-only flags and constraint outcome. Changing an
//! answer re-runs only the tasks that read it (and what reads those), in the
//! compiled topological order; adding or removing repeat instances re-runs
//! everything (rare, and still cheap). Non-relevant answers are cleared, as in
//! XLSForm.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::collections::Map;
use std::sync::Arc;

use crate::env::Environment;
use crate::expr::{self, EvalContext, Expr, NodeId};
use crate::form::FieldType;
use crate::response::{Answer, Answers, ConsentRecord, PrivacyOutcome, PrivacyRecord, Response};

use super::compile::{CompiledForm, Cond, ItemData, NodeIdx, NodeKind, TaskKind, MAX_COUNT, ROOT};
use super::messages::{self, Msg};
use super::values;
use super::{EngineError, Result};
use crate::answer::{AnswerPath, Step};

pub(crate) type InstId = usize;
pub(crate) const ROOT_INST: InstId = 0;

/// One problem with a response, with where it is and a message in the asked language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    pub path: AnswerPath,
    pub code: ViolationCode,
    pub message: String,
}

/// What kind of problem a [`Violation`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationCode {
    /// A required question is unanswered.
    Required,
    /// The answer breaks the field's constraint (or the constraint could not be evaluated).
    Constraint,
    /// The answer is not a value of the field's type (or not in its choice list).
    Type,
    /// An answer to a field the form does not have, or of the wrong shape.
    UnknownField,
    /// A repeat has fewer or more instances than allowed.
    RepeatCount,
    /// The consent answer or its record is missing, or records another text version.
    Consent,
    /// A privacy-checked section has no outcome, or was interrupted.
    PrivacyCheck,
}

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
    response: OnceCell<Response>,
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

    fn assign(
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

    /// The response's name in draft and sent lists (the form's `instance_name`), if it has one.
    pub fn instance_name(&self, env: &mut dyn Environment) -> Option<String> {
        let expr = self.form.instance_name.as_ref()?;
        self.eval_string(expr, ROOT_INST, ROOT, env)
            .ok()
            .filter(|name| !name.trim().is_empty())
    }

    /// The outcome recorded for a privacy-checked group (`/group`, `/members[2]/group`).
    pub fn privacy_outcome(&self, path: &AnswerPath) -> Option<PrivacyOutcome> {
        self.privacy.get(path).map(|r| r.outcome)
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

    /// Every violation of the response as it stands, messages in `lang`.
    pub fn validate(&self, lang: &str) -> Vec<Violation> {
        let mut out = Vec::new();
        let form = &self.form;
        for inst in self.all_instances() {
            let base = self.instance_path(inst);
            for (name, answer) in &self.instances[inst].extras {
                // A name no path can hold (from a document) is reported at its scope.
                let path = base.try_child(name, None).unwrap_or_else(|_| base.clone());
                let msg = match (
                    form.scope_names
                        .get(&(self.instances[inst].scope, name.clone())),
                    answer,
                ) {
                    (Some(&n), Answer::Repeat(_)) if form.node(n).kind != NodeKind::Repeat => {
                        Msg::NotAValue
                    }
                    (Some(&n), Answer::Value(_)) if form.node(n).kind == NodeKind::Repeat => {
                        Msg::NotARepeat
                    }
                    _ => Msg::UnknownField,
                };
                out.push(Violation {
                    path,
                    code: ViolationCode::UnknownField,
                    message: messages::text(msg, lang, &[("name", name)]),
                });
            }
            let scope = self.instances[inst].scope;
            for &node in &form.scope_locals[scope] {
                let n = form.node(node);
                match n.kind {
                    NodeKind::Field(_) => out.extend(self.field_violations(inst, node, lang)),
                    NodeKind::Repeat => {
                        if let Some(v) = self.repeat_violation(inst, node, lang) {
                            out.push(v);
                        }
                    }
                    NodeKind::Consent => out.extend(self.consent_violations(inst, node, lang)),
                    NodeKind::Group | NodeKind::Root => {}
                }
                if n.privacy_check {
                    if let Some(v) = self.privacy_violation(inst, node, lang) {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    // ----- violations -----

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
                path: AnswerPath::field(name),
                code: ViolationCode::Consent,
                message: messages::text(Msg::DeclinedWithAnswers, lang, &[]),
            })
            .collect()
    }

    pub(crate) fn field_violations(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Vec<Violation> {
        let form = &self.form;
        let n = form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        let NodeKind::Field(kind) = n.kind else {
            return Vec::new();
        };
        if !slot.relevant || self.privacy_pending(inst, node) {
            return Vec::new();
        }
        let Some(field) = form.field(node) else {
            return Vec::new();
        };
        let path = || self.path_of(inst, node);
        let default_lang = &form.form().default_language;
        let mut out = Vec::new();
        match &slot.value {
            None => {
                if slot.required && kind.is_shown_question() && kind != FieldType::Note {
                    let message = field
                        .required_message
                        .as_ref()
                        .map(|t| t.get(lang, default_lang).to_owned())
                        .unwrap_or_else(|| messages::text(Msg::Required, lang, &[]));
                    out.push(Violation {
                        path: path(),
                        code: ViolationCode::Required,
                        message,
                    });
                }
            }
            Some(value) => {
                let list = n.list.map(|l| &form.lists[l]);
                if let Some((msg, args)) =
                    values::check_value(kind, value, list, field.range.as_ref())
                {
                    let args: Vec<(&str, &str)> =
                        args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    out.push(Violation {
                        path: path(),
                        code: ViolationCode::Type,
                        message: messages::text(msg, lang, &args),
                    });
                } else if let Some(chosen) = self.filtered_out_choice(inst, node, value) {
                    // Kept, not cleared: the enumerator sees it and chooses again.
                    out.push(Violation {
                        path: path(),
                        code: ViolationCode::Type,
                        message: messages::text(Msg::FilteredOut, lang, &[("value", chosen)]),
                    });
                }
                match &slot.constraint {
                    Ok(true) => {}
                    Ok(false) => out.push(Violation {
                        path: path(),
                        code: ViolationCode::Constraint,
                        message: field
                            .constraint_message
                            .as_ref()
                            .map(|t| t.get(lang, default_lang).to_owned())
                            .unwrap_or_else(|| messages::text(Msg::Constraint, lang, &[])),
                    }),
                    Err(error) => out.push(Violation {
                        path: path(),
                        code: ViolationCode::Constraint,
                        message: messages::text(Msg::ConstraintError, lang, &[("error", error)]),
                    }),
                }
            }
        }
        out
    }

    /// The first chosen value that the field's choice filter no longer offers: answered
    /// earlier, then an answer the filter reads changed (country → region).
    fn filtered_out_choice<'v>(
        &self,
        inst: InstId,
        node: NodeIdx,
        value: &'v str,
    ) -> Option<&'v str> {
        let kept = self.choices_kept(inst, node)?;
        let list = &self.form.lists[self.form.node(node).list?];
        let filtered_out = |part: &&str| {
            list.by_name
                .get(*part)
                .is_some_and(|&i| !kept.get(i).copied().unwrap_or(true))
        };
        // A select_one answer is one choice name, which may hold spaces.
        if self
            .form
            .field(node)
            .is_some_and(|f| f.kind == FieldType::SelectOne)
        {
            return Some(value).filter(filtered_out);
        }
        value.split_whitespace().find(filtered_out)
    }

    fn repeat_violation(&self, inst: InstId, node: NodeIdx, lang: &str) -> Option<Violation> {
        let n = self.form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        let ItemData::Repeat(repeat) = &n.item else {
            return None;
        };
        if !slot.relevant || n.count.is_some() || self.privacy_pending(inst, node) {
            return None;
        }
        let count = slot.instances.len();
        let count_text = count.to_string();
        let (msg, args) = match (repeat.min, repeat.max) {
            (Some(min), _) if count < min as usize => {
                (Msg::TooFewInstances, vec![("min", min.to_string())])
            }
            (_, Some(max)) if count > max as usize => {
                (Msg::TooManyInstances, vec![("max", max.to_string())])
            }
            _ => return None,
        };
        let mut args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        args.push(("count", &count_text));
        Some(Violation {
            path: self.path_of(inst, node),
            code: ViolationCode::RepeatCount,
            message: messages::text(msg, lang, &args),
        })
    }

    fn consent_violations(&self, inst: InstId, node: NodeIdx, lang: &str) -> Vec<Violation> {
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

    fn privacy_violation(&self, inst: InstId, node: NodeIdx, lang: &str) -> Option<Violation> {
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
        })
    }

    /// Whether an enclosing privacy-checked group has no `private` outcome yet
    /// (its questions are not asked until it does).
    pub(crate) fn privacy_pending(&self, inst: InstId, node: NodeIdx) -> bool {
        let form = &self.form;
        let mut cur = form.node(node).parent;
        let mut inst = inst;
        while let Some(p) = cur {
            if p == ROOT {
                return false;
            }
            if p == self.instances[inst].scope {
                // Leaving a repeat instance: the repeat node lives in the parent instance.
                let Some(parent) = self.instances[inst].parent else {
                    return false;
                };
                inst = parent;
            }
            if form.node(p).privacy_check {
                let outcome = self.privacy.get(&self.path_of(inst, p)).map(|r| r.outcome);
                if outcome != Some(PrivacyOutcome::Private) {
                    return true;
                }
            }
            cur = form.node(p).parent;
        }
        false
    }

    // ----- structure -----

    fn load(&mut self, answers: Answers) {
        let form = Arc::clone(&self.form);
        let root = self.new_instance(ROOT, None);
        debug_assert_eq!(root, ROOT_INST);
        let mut stack: Vec<(InstId, Answers)> = vec![(root, answers)];
        while let Some((inst, answers)) = stack.pop() {
            let scope = self.instances[inst].scope;
            for (name, answer) in answers.0 {
                let node = form.scope_names.get(&(scope, name.clone())).copied();
                let kind = node.map(|n| form.node(n).kind);
                match (node, kind, answer) {
                    (Some(n), Some(NodeKind::Field(_) | NodeKind::Consent), Answer::Value(v)) => {
                        let slot = form.node(n).slot;
                        self.instances[inst].slots[slot].value = Some(v).filter(|v| !v.is_empty());
                    }
                    (Some(_), Some(NodeKind::Repeat), Answer::Value(v)) if v.is_empty() => {}
                    // A sealed answer cannot be read here (the server holds no key): the
                    // field stays unanswered; the device validated it before sealing.
                    (Some(_), Some(NodeKind::Field(_)), Answer::Sealed(_)) => {}
                    (Some(n), Some(NodeKind::Repeat), Answer::Repeat(list)) => {
                        for child in list {
                            let id = self.add_instance_raw(inst, n);
                            stack.push((id, child));
                        }
                    }
                    (_, _, answer) => {
                        self.instances[inst].extras.insert(name, answer);
                    }
                }
            }
        }
        self.scope_cache.clear();
    }

    fn new_instance(&mut self, scope: NodeIdx, parent: Option<InstId>) -> InstId {
        let form = &self.form;
        let slots = form.scope_locals[scope]
            .iter()
            .map(|&n| {
                let node = form.node(n);
                Slot {
                    value: None,
                    relevant: true,
                    required: node.required.constant().unwrap_or(false),
                    read_only: node.read_only.constant().unwrap_or(false),
                    constraint: Ok(true),
                    instances: Vec::new(),
                }
            })
            .collect();
        self.instances.push(Instance {
            scope,
            parent,
            alive: true,
            slots,
            extras: BTreeMap::new(),
        });
        self.instances.len() - 1
    }

    fn add_instance_raw(&mut self, parent: InstId, repeat: NodeIdx) -> InstId {
        let id = self.new_instance(repeat, Some(parent));
        let slot = self.form.node(repeat).slot;
        self.instances[parent].slots[slot].instances.push(id);
        self.scope_cache.clear();
        id
    }

    fn add_instance(&mut self, parent: InstId, repeat: NodeIdx) -> InstId {
        let id = self.add_instance_raw(parent, repeat);
        self.pending_defaults.push(id);
        self.added.push(self.instance_path(id));
        self.response.take();
        id
    }

    fn remove_instance(&mut self, inst: InstId) {
        self.removed.push(self.instance_path(inst));
        if let Some(parent) = self.instances[inst].parent {
            let slot = self.form.node(self.instances[inst].scope).slot;
            self.instances[parent].slots[slot]
                .instances
                .retain(|&i| i != inst);
        }
        let mut stack = vec![inst];
        while let Some(i) = stack.pop() {
            self.instances[i].alive = false;
            for slot in &self.instances[i].slots {
                stack.extend(slot.instances.iter().copied());
            }
        }
        self.log.retain(|(i, _, _)| self.instances[*i].alive);
        self.scope_cache.clear();
        self.response.take();
    }

    /// Every live instance, in document order.
    pub(crate) fn all_instances(&self) -> Vec<InstId> {
        let mut out = Vec::new();
        let mut stack = vec![ROOT_INST];
        while let Some(i) = stack.pop() {
            out.push(i);
            let inst = &self.instances[i];
            for &n in self.form.child_repeats[inst.scope].iter().rev() {
                stack.extend(inst.slots[self.form.node(n).slot].instances.iter().rev());
            }
        }
        out
    }

    /// Live instances of `scope` inside instance `top` (itself when it is of that scope).
    pub(crate) fn instances_under(&self, top: InstId, scope: NodeIdx, out: &mut Vec<InstId>) {
        let form = &self.form;
        let mut stack = vec![top];
        while let Some(i) = stack.pop() {
            let inst = &self.instances[i];
            if inst.scope == scope {
                out.push(i);
                continue;
            }
            for &n in form.child_repeats[inst.scope].iter().rev() {
                if form.scope_contains(n, scope) {
                    stack.extend(inst.slots[form.node(n).slot].instances.iter().rev());
                }
            }
        }
    }

    /// The instance of `scope` that contains `inst`.
    pub(crate) fn ancestor(&self, mut inst: InstId, scope: NodeIdx) -> InstId {
        while self.instances[inst].scope != scope {
            match self.instances[inst].parent {
                Some(p) => inst = p,
                None => return ROOT_INST,
            }
        }
        inst
    }

    fn instances_of_scope(&mut self, scope: NodeIdx) -> Vec<InstId> {
        if let Some(v) = self.scope_cache.get(&scope) {
            return v.clone();
        }
        let mut out = Vec::new();
        self.instances_under(ROOT_INST, scope, &mut out);
        self.scope_cache.insert(scope, out.clone());
        out
    }

    /// Resolve an answer path to an instance and node.
    pub(crate) fn locate(&self, path: &AnswerPath) -> Result<(InstId, NodeIdx)> {
        let form = &self.form;
        let unknown = || EngineError::UnknownPath(path.to_string());
        let mut inst = ROOT_INST;
        let mut steps = path.steps().peekable();
        while let Some(step) = steps.next() {
            let last = steps.peek().is_none();
            let node = *form
                .scope_names
                .get(&(self.instances[inst].scope, step.name().to_owned()))
                .ok_or_else(unknown)?;
            let index = match step {
                Step::Name(_) if last => return Ok((inst, node)),
                Step::Instance(_, index) => index,
                // A count (`/m[]`) is a stored value, not something the engine addresses.
                Step::Name(_) | Step::Count(_) => return Err(unknown()),
            };
            if form.node(node).kind != NodeKind::Repeat {
                return Err(unknown());
            }
            let slot = form.node(node).slot;
            inst = *index
                .checked_sub(1)
                .and_then(|i| self.instances[inst].slots[slot].instances.get(i))
                .ok_or_else(unknown)?;
            if last {
                return Ok((inst, node));
            }
        }
        Err(unknown())
    }

    /// The path of an instance (`/members[2]`; `/` for the top level).
    pub(crate) fn instance_path(&self, inst: InstId) -> AnswerPath {
        let mut chain = Vec::new();
        let mut cur = inst;
        while let Some(parent) = self.instances[cur].parent {
            let repeat = self.instances[cur].scope;
            let slot = self.form.node(repeat).slot;
            let index = self.instances[parent].slots[slot]
                .instances
                .iter()
                .position(|&i| i == cur)
                .map_or(0, |i| i + 1);
            chain.push((repeat, index));
            cur = parent;
        }
        chain
            .iter()
            .rev()
            .fold(AnswerPath::root(), |path, &(repeat, index)| {
                path.child(&self.form.node(repeat).name, Some(index))
            })
    }

    /// The path of a node in an instance (an instance path when the node is its repeat).
    pub(crate) fn path_of(&self, inst: InstId, node: NodeIdx) -> AnswerPath {
        let base = self.instance_path(inst);
        if node == self.instances[inst].scope {
            return base;
        }
        base.child(&self.form.node(node).name, None)
    }

    // ----- evaluation -----

    fn fill_metadata(&mut self, env: &mut dyn Environment, finalizing: bool) {
        let now = env.now();
        let form = Arc::clone(&self.form);
        for (idx, n) in form.nodes.iter().enumerate() {
            let NodeKind::Field(kind) = n.kind else {
                continue;
            };
            let value = match kind {
                FieldType::Start => Some(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)),
                FieldType::End if finalizing => {
                    Some(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, false))
                }
                FieldType::Today => Some(now.format("%Y-%m-%d").to_string()),
                FieldType::Deviceid => env.device_id(),
                FieldType::Username => env.username(),
                _ => None,
            };
            let Some(value) = value else { continue };
            for inst in self.instances_of_scope(n.scope) {
                let current = &self.instances[inst].slots[n.slot].value;
                if current.is_none() || (kind == FieldType::End && finalizing) {
                    self.set_value(inst, idx, Some(value.clone()));
                }
            }
        }
    }

    /// Set a value, logging it; returns whether it changed.
    fn set_value(&mut self, inst: InstId, node: NodeIdx, value: Option<String>) -> bool {
        let slot = self.form.node(node).slot;
        let current = &mut self.instances[inst].slots[slot].value;
        if *current == value {
            return false;
        }
        *current = value;
        self.log.insert((inst, node, Logged::Value));
        self.response.take();
        true
    }

    /// Run every task over every instance, until repeat counts settle.
    pub(crate) fn recompute_all(&mut self, env: &mut dyn Environment) {
        let form = Arc::clone(&self.form);
        for _round in 0..8 {
            let mut structure = false;
            for (pos, task) in form.tasks.iter().enumerate() {
                let scope = form.node(task.node).scope;
                for inst in self.instances_of_scope(scope) {
                    if self.instances[inst].alive {
                        structure |= self.run(pos, inst, env).structure;
                    }
                }
            }
            if !self.pending_defaults.is_empty() {
                self.apply_defaults(env);
                structure = true;
            }
            if !structure {
                break;
            }
        }
    }

    fn apply_defaults(&mut self, env: &mut dyn Environment) {
        let form = Arc::clone(&self.form);
        let pending = std::mem::take(&mut self.pending_defaults);
        for top in pending {
            if !self.instances[top].alive {
                continue;
            }
            // Defaults of the new instance and of instances nested in it, in task order.
            for &node in &form.defaulted {
                let n = form.node(node);
                let Some(default) = &n.default else { continue };
                let mut targets = Vec::new();
                if form.scope_contains(self.instances[top].scope, n.scope) {
                    self.instances_under(top, n.scope, &mut targets);
                }
                for inst in targets {
                    let slot = &self.instances[inst].slots[n.slot];
                    if slot.value.is_some() || !slot.relevant {
                        continue;
                    }
                    let value = self.eval_string(default, inst, node, env).ok();
                    self.set_value(inst, node, value.filter(|v| !v.is_empty()));
                }
            }
        }
    }

    /// Re-run queued tasks in topological order, queueing what reads each change.
    fn drain(&mut self, mut work: BTreeSet<(usize, InstId)>, env: &mut dyn Environment) {
        let form = Arc::clone(&self.form);
        while let Some((pos, inst)) = work.pop_first() {
            if !self.instances[inst].alive {
                continue;
            }
            let outcome = self.run(pos, inst, env);
            let node = form.tasks[pos].node;
            if outcome.value {
                self.enqueue(&mut work, node, inst, false);
            }
            if outcome.relevance {
                self.enqueue(&mut work, node, inst, true);
            }
            if outcome.structure {
                self.instances_changed(&mut work, inst, node, env);
            }
        }
    }

    /// Instances of `repeat` inside `parent` were added or removed: fill defaults of
    /// new ones, then queue every task inside the repeat (new instances start from
    /// nothing; old ones may read their siblings) and every task outside it that reads it.
    fn instances_changed(
        &mut self,
        work: &mut BTreeSet<(usize, InstId)>,
        parent: InstId,
        repeat: NodeIdx,
        env: &mut dyn Environment,
    ) {
        let form = Arc::clone(&self.form);
        if !self.pending_defaults.is_empty() {
            self.apply_defaults(env);
        }
        let mut targets = Vec::new();
        for &pos in &form.repeat_inside_tasks[&repeat] {
            targets.clear();
            self.instances_under(parent, form.node(form.tasks[pos].node).scope, &mut targets);
            work.extend(targets.iter().map(|&t| (pos, t)));
        }
        let repeat_scope = form.node(repeat).scope;
        for &pos in &form.repeat_outside_readers[&repeat] {
            let target_scope = form.node(form.tasks[pos].node).scope;
            let common = form.common_scope(target_scope, repeat_scope);
            let top = self.ancestor(parent, common);
            targets.clear();
            self.instances_under(top, target_scope, &mut targets);
            work.extend(targets.iter().map(|&t| (pos, t)));
        }
    }

    /// Queue the tasks reading `node` (its value, or its relevance) in the instances it affects.
    fn enqueue(
        &mut self,
        work: &mut BTreeSet<(usize, InstId)>,
        node: NodeIdx,
        inst: InstId,
        relevance: bool,
    ) {
        let form = Arc::clone(&self.form);
        let dependents = if relevance {
            &form.relevance_dependents[node]
        } else {
            &form.value_dependents[node]
        };
        let source_scope = self.instances[inst].scope;
        let mut targets = Vec::new();
        for &pos in dependents {
            let target_scope = form.node(form.tasks[pos].node).scope;
            let common = form.common_scope(target_scope, source_scope);
            let top = self.ancestor(inst, common);
            targets.clear();
            self.instances_under(top, target_scope, &mut targets);
            for &t in &targets {
                work.insert((pos, t));
            }
        }
    }

    fn run(&mut self, pos: usize, inst: InstId, env: &mut dyn Environment) -> Outcome {
        let form = Arc::clone(&self.form);
        let task = form.tasks[pos];
        let node = task.node;
        let n = form.node(node);
        let mut outcome = Outcome::default();
        match task.kind {
            TaskKind::Relevance => {
                let relevant = self.parent_relevant(inst, node)
                    && self.consent_open(node)
                    && self.privacy_open(inst, node)
                    && n.relevant.as_ref().is_none_or(|e| {
                        // An expression that cannot be evaluated keeps the question (and its answer).
                        self.eval_bool(e, inst, node, env).unwrap_or(true)
                    });
                let slot = &mut self.instances[inst].slots[n.slot];
                if slot.relevant != relevant {
                    slot.relevant = relevant;
                    self.log.insert((inst, node, Logged::Relevance));
                    outcome.relevance = true;
                }
            }
            TaskKind::Value => {
                let slot = &self.instances[inst].slots[n.slot];
                let new = if !slot.relevant {
                    None
                } else if let Some(calc) = &n.calculation {
                    if slot.value.is_some() && n.nondeterministic {
                        // `now()`, `random()`, `uuid()`: computed once, then kept (as ODK's `once`).
                        slot.value.clone()
                    } else {
                        self.eval_string(calc, inst, node, env)
                            .ok()
                            .filter(|v| !v.is_empty())
                    }
                } else {
                    slot.value.clone()
                };
                outcome.value = self.set_value(inst, node, new);
            }
            TaskKind::Required | TaskKind::ReadOnly => {
                let cond = if task.kind == TaskKind::Required {
                    &n.required
                } else {
                    &n.read_only
                };
                let value = match cond {
                    Cond::Const(b) => *b,
                    Cond::Expr(e) => self.eval_bool(e, inst, node, env).unwrap_or(false),
                };
                let slot = &mut self.instances[inst].slots[n.slot];
                let (flag, logged) = if task.kind == TaskKind::Required {
                    (&mut slot.required, Logged::Required)
                } else {
                    (&mut slot.read_only, Logged::ReadOnly)
                };
                if *flag != value {
                    *flag = value;
                    self.log.insert((inst, node, logged));
                }
            }
            TaskKind::Constraint => {
                let slot = &self.instances[inst].slots[n.slot];
                let result = match (&slot.value, &n.constraint) {
                    (Some(_), Some(e)) => self
                        .eval_bool(e, inst, node, env)
                        .map_err(|err| err.message),
                    _ => Ok(true),
                };
                let slot = &mut self.instances[inst].slots[n.slot];
                if slot.constraint != result {
                    slot.constraint = result;
                    self.log.insert((inst, node, Logged::Constraint));
                }
            }
            TaskKind::Count => {
                let Some(count) = &n.count else {
                    return outcome;
                };
                let wanted = self.eval_number(count, inst, node, env).unwrap_or(0.0);
                let wanted = if wanted.is_finite() && wanted > 0.0 {
                    (wanted.round() as usize).min(MAX_COUNT)
                } else {
                    0
                };
                let current = self.instances[inst].slots[n.slot].instances.len();
                if wanted != current {
                    outcome.structure = true;
                    for _ in current..wanted {
                        self.add_instance(inst, node);
                    }
                    for _ in wanted..current {
                        if let Some(&last) = self.instances[inst].slots[n.slot].instances.last() {
                            self.remove_instance(last);
                        }
                    }
                }
            }
        }
        outcome
    }

    fn parent_relevant(&self, inst: InstId, node: NodeIdx) -> bool {
        let form = &self.form;
        let Some(p) = form.node(node).parent else {
            return true;
        };
        if p == ROOT {
            return true;
        }
        if p == self.instances[inst].scope {
            let Some(parent) = self.instances[inst].parent else {
                return true;
            };
            return self.instances[parent].slots[form.node(p).slot].relevant;
        }
        self.instances[inst].slots[form.node(p).slot].relevant
    }

    fn consent_open(&self, node: NodeIdx) -> bool {
        let form = &self.form;
        if !form.node(node).consent_gated {
            return true;
        }
        let Some(c) = form.consent else { return true };
        let slot = &self.instances[ROOT_INST].slots[form.node(c).slot];
        !slot.relevant || slot.value.as_deref() == Some("yes")
    }

    fn privacy_open(&self, inst: InstId, node: NodeIdx) -> bool {
        if !self.form.node(node).privacy_check {
            return true;
        }
        let key = self.path_of(inst, node);
        self.privacy.get(&key).map(|r| r.outcome) != Some(PrivacyOutcome::NotPrivate)
    }

    pub(crate) fn context(&self, inst: InstId, node: NodeIdx) -> Ctx<'_> {
        Ctx {
            session: self,
            inst,
            node,
        }
    }

    fn eval_bool(
        &self,
        e: &Expr,
        inst: InstId,
        node: NodeIdx,
        env: &mut dyn Environment,
    ) -> std::result::Result<bool, expr::ExprError> {
        expr::evaluate_boolean(e, &self.context(inst, node), env)
    }

    pub(crate) fn eval_string(
        &self,
        e: &Expr,
        inst: InstId,
        node: NodeIdx,
        env: &mut dyn Environment,
    ) -> std::result::Result<String, expr::ExprError> {
        expr::evaluate_string(e, &self.context(inst, node), env)
    }

    fn eval_number(
        &self,
        e: &Expr,
        inst: InstId,
        node: NodeIdx,
        env: &mut dyn Environment,
    ) -> std::result::Result<f64, expr::ExprError> {
        expr::evaluate_number(e, &self.context(inst, node), env)
    }

    /// Turn the log into [`Changes`] (with current violations of touched fields).
    fn take_changes(&mut self) -> Changes {
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

    /// Build the response from the current state.
    fn materialize(&self) -> Response {
        let form = &self.form;
        let f = form.form();
        let answers = self.instance_answers(ROOT_INST);
        Response {
            id: self.id.clone(),
            form_id: f.id.clone(),
            form_version: f.version.clone(),
            answers,
            consent: self.consent.clone(),
            privacy: self.privacy.clone(),
        }
    }

    fn instance_answers(&self, top: InstId) -> Answers {
        // Iterative post-order: children's answers are built before their parent's.
        let form = &self.form;
        let mut built: Map<InstId, Answers> = Map::default();
        let mut order = Vec::new();
        let mut stack = vec![top];
        while let Some(i) = stack.pop() {
            order.push(i);
            for slot in &self.instances[i].slots {
                stack.extend(slot.instances.iter().copied());
            }
        }
        for &i in order.iter().rev() {
            let inst = &self.instances[i];
            let mut map = BTreeMap::new();
            for &n in &form.scope_locals[inst.scope] {
                let node = form.node(n);
                let slot = &inst.slots[node.slot];
                match node.kind {
                    NodeKind::Field(_) | NodeKind::Consent => {
                        if let Some(v) = &slot.value {
                            map.insert(node.name.clone(), Answer::Value(v.clone()));
                        }
                    }
                    NodeKind::Repeat if !slot.instances.is_empty() => {
                        let list = slot
                            .instances
                            .iter()
                            .map(|c| built.remove(c).unwrap_or_default())
                            .collect();
                        map.insert(node.name.clone(), Answer::Repeat(list));
                    }
                    _ => {}
                }
            }
            for (k, v) in &inst.extras {
                map.entry(k.clone()).or_insert_with(|| v.clone());
            }
            built.insert(i, Answers(map));
        }
        built.remove(&top).unwrap_or_default()
    }

    pub(crate) fn slot(&self, inst: InstId, node: NodeIdx) -> &Slot {
        &self.instances[inst].slots[self.form.node(node).slot]
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    value: bool,
    relevance: bool,
    structure: bool,
}

// ----- the data tree as expressions see it -----

const DOC_ROOT: u64 = 1 << 62;
const SECONDARY: u64 = 1 << 63;

/// Node ids: `instance << 24 | node` for the response, a tagged id for choice lists.
/// Ids sort in document order within one repeat (instances are only appended).
fn main_id(inst: InstId, node: NodeIdx) -> NodeId {
    NodeId(((inst as u64) << 24) | node as u64)
}

enum Decoded {
    DocRoot,
    Main(InstId, NodeIdx),
    /// (list, level 0 doc / 1 root / 2 item / 3 property, item, property)
    Secondary(usize, u8, usize, usize),
}

fn decode(id: NodeId) -> Decoded {
    let v = id.0;
    if v & SECONDARY != 0 {
        let list = ((v >> 44) & 0xFFFF) as usize;
        let level = ((v >> 42) & 0x3) as u8;
        let item = ((v >> 16) & 0x3FF_FFFF) as usize;
        let prop = (v & 0xFFFF) as usize;
        return Decoded::Secondary(list, level, item, prop);
    }
    if v == DOC_ROOT {
        return Decoded::DocRoot;
    }
    Decoded::Main((v >> 24) as usize, (v & 0xFF_FFFF) as usize)
}

fn secondary_id(list: usize, level: u8, item: usize, prop: usize) -> NodeId {
    NodeId(
        SECONDARY
            | ((list as u64 & 0xFFFF) << 44)
            | ((u64::from(level) & 0x3) << 42)
            | ((item as u64 & 0x3FF_FFFF) << 16)
            | (prop as u64 & 0xFFFF),
    )
}

/// An evaluation context: the session seen from one node of one instance.
pub(crate) struct Ctx<'a> {
    session: &'a Session,
    inst: InstId,
    node: NodeIdx,
}

impl Ctx<'_> {
    fn form(&self) -> &CompiledForm {
        &self.session.form
    }
}

impl EvalContext for Ctx<'_> {
    fn context_node(&self) -> Option<NodeId> {
        Some(main_id(self.inst, self.node))
    }

    fn root(&self) -> Option<NodeId> {
        Some(NodeId(DOC_ROOT))
    }

    fn resolve_reference(&self, name: &str, from: Option<NodeId>, out: &mut Vec<NodeId>) -> bool {
        let (inst, node) = match from.map(decode) {
            Some(Decoded::Main(i, n)) => (i, n),
            _ => (self.inst, self.node),
        };
        let form = self.form();
        let s = self.session;
        let target = match form.resolve(name, node) {
            super::compile::Resolution::Found(t) => t,
            _ => return false,
        };
        let target_scope = form.node(target).scope;
        let common = form.common_scope(target_scope, s.instances[inst].scope);
        let top = s.ancestor(inst, common);
        let t = form.node(target);
        if t.kind == NodeKind::Repeat {
            let mut holders = Vec::new();
            s.instances_under(top, target_scope, &mut holders);
            for h in holders {
                out.extend(
                    s.instances[h].slots[t.slot]
                        .instances
                        .iter()
                        .map(|&j| main_id(j, target)),
                );
            }
        } else if target_scope == common {
            out.push(main_id(top, target));
        } else {
            let mut holders = Vec::new();
            s.instances_under(top, target_scope, &mut holders);
            out.extend(holders.into_iter().map(|h| main_id(h, target)));
        }
        true
    }

    fn children(&self, node: NodeId, name: Option<&str>, out: &mut Vec<NodeId>) {
        let form = self.form();
        let s = self.session;
        match decode(node) {
            Decoded::DocRoot => {
                if name.is_none_or(|n| n == "data" || n == form.form().id) {
                    out.push(main_id(ROOT_INST, ROOT));
                }
            }
            Decoded::Main(inst, n) => {
                let Some(instance) = s.instances.get(inst) else {
                    return;
                };
                let is_element = n == instance.scope || form.node(n).kind == NodeKind::Group;
                if !is_element {
                    return;
                }
                for &c in &form.node(n).children {
                    let child = form.node(c);
                    if name.is_some_and(|want| want != child.name) {
                        continue;
                    }
                    if child.kind == NodeKind::Repeat {
                        out.extend(
                            instance.slots[child.slot]
                                .instances
                                .iter()
                                .map(|&j| main_id(j, c)),
                        );
                    } else {
                        out.push(main_id(inst, c));
                    }
                }
            }
            Decoded::Secondary(list, level, item, _) => {
                let Some(l) = form.lists.get(list) else {
                    return;
                };
                match level {
                    0 if name.is_none_or(|n| n == "root") => out.push(secondary_id(list, 1, 0, 0)),
                    1 if name.is_none_or(|n| n == "item") => {
                        out.extend((0..l.choices.len()).map(|i| secondary_id(list, 2, i, 0)));
                    }
                    2 => {
                        let fixed = ["name", "label"];
                        for (p, key) in fixed
                            .iter()
                            .copied()
                            .chain(l.properties.iter().map(String::as_str))
                            .enumerate()
                        {
                            if name.is_none_or(|n| n == key) {
                                out.push(secondary_id(list, 3, item, p));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn parent(&self, node: NodeId) -> Option<NodeId> {
        let form = self.form();
        let s = self.session;
        match decode(node) {
            Decoded::DocRoot => None,
            Decoded::Main(inst, n) => {
                let instance = s.instances.get(inst)?;
                if n == ROOT {
                    return Some(NodeId(DOC_ROOT));
                }
                let p = form.node(n).parent?;
                if n == instance.scope {
                    return Some(main_id(instance.parent?, p));
                }
                Some(main_id(inst, p))
            }
            Decoded::Secondary(list, level, item, _) => match level {
                0 => None,
                1 => Some(secondary_id(list, 0, 0, 0)),
                2 => Some(secondary_id(list, 1, 0, 0)),
                _ => Some(secondary_id(list, 2, item, 0)),
            },
        }
    }

    fn name(&self, node: NodeId) -> Cow<'_, str> {
        let form = self.form();
        match decode(node) {
            Decoded::DocRoot => Cow::Borrowed(""),
            Decoded::Main(_, n) => Cow::Borrowed(form.nodes.get(n).map_or("", |n| n.name.as_str())),
            Decoded::Secondary(list, level, _, prop) => match level {
                0 => Cow::Borrowed(""),
                1 => Cow::Borrowed("root"),
                2 => Cow::Borrowed("item"),
                _ => Cow::Borrowed(match prop {
                    0 => "name",
                    1 => "label",
                    p => form
                        .lists
                        .get(list)
                        .and_then(|l| l.properties.get(p - 2))
                        .map_or("", String::as_str),
                }),
            },
        }
    }

    fn value(&self, node: NodeId) -> Cow<'_, str> {
        let form = self.form();
        let s = self.session;
        match decode(node) {
            Decoded::DocRoot => Cow::Borrowed(""),
            Decoded::Main(inst, n) => {
                let Some(instance) = s.instances.get(inst) else {
                    return Cow::Borrowed("");
                };
                if n == instance.scope || n >= form.nodes.len() {
                    return Cow::Borrowed("");
                }
                Cow::Borrowed(
                    instance.slots[form.node(n).slot]
                        .value
                        .as_deref()
                        .unwrap_or(""),
                )
            }
            Decoded::Secondary(list, level, item, prop) => {
                let Some(choice) = form.lists.get(list).and_then(|l| l.choices.get(item)) else {
                    return Cow::Borrowed("");
                };
                if level != 3 {
                    return Cow::Borrowed("");
                }
                match prop {
                    0 => Cow::Borrowed(choice.name.as_str()),
                    1 => {
                        Cow::Borrowed(choice.label.get(&s.language, &form.form().default_language))
                    }
                    p => {
                        let key = form.lists[list].properties.get(p - 2);
                        Cow::Borrowed(
                            key.and_then(|k| choice.properties.get(k))
                                .map_or("", String::as_str),
                        )
                    }
                }
            }
        }
    }

    fn position(&self, node: NodeId) -> Option<usize> {
        let s = self.session;
        match decode(node) {
            Decoded::Main(inst, n) => {
                let instance = s.instances.get(inst)?;
                if n == instance.scope && inst != ROOT_INST {
                    let parent = instance.parent?;
                    let slot = self.form().node(n).slot;
                    return s.instances[parent].slots[slot]
                        .instances
                        .iter()
                        .position(|&i| i == inst)
                        .map(|i| i + 1);
                }
                Some(1)
            }
            Decoded::Secondary(_, 2, item, _) => Some(item + 1),
            _ => Some(1),
        }
    }

    fn instance(&self, id: &str) -> Option<NodeId> {
        self.form()
            .list_index
            .get(id)
            .map(|&l| secondary_id(l, 0, 0, 0))
    }

    fn choice_label(&self, field: &str, value: &str) -> Option<String> {
        let form = self.form();
        let name = field
            .trim()
            .trim_start_matches("${")
            .trim_end_matches('}')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let target = match form.resolve(name, self.node) {
            super::compile::Resolution::Found(t) => t,
            _ => return None,
        };
        let list = &form.lists[form.node(target).list?];
        let choice = &list.choices[*list.by_name.get(value)?];
        Some(
            choice
                .label
                .get(&self.session.language, &form.form().default_language)
                .to_owned(),
        )
    }
}
