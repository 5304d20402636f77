//! Running the compiled tasks: metadata and defaults filled in, every task over
//! every instance (`recompute_all`), or only the tasks downstream of a change, in
//! topological order (`drain`), with repeat counts adding and removing instances.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::env::Environment;
use crate::expr::{self, Expr};
use crate::form::FieldType;

use super::super::compile::{Cond, NodeIdx, NodeKind, TaskKind, MAX_COUNT, ROOT};
use super::{InstId, Logged, Session};

#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    value: bool,
    relevance: bool,
    structure: bool,
}

impl Session {
    pub(super) fn fill_metadata(&mut self, env: &mut dyn Environment, finalizing: bool) {
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
    pub(super) fn set_value(&mut self, inst: InstId, node: NodeIdx, value: Option<String>) -> bool {
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
    pub(super) fn drain(&mut self, mut work: BTreeSet<(usize, InstId)>, env: &mut dyn Environment) {
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
    pub(super) fn instances_changed(
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
    pub(super) fn enqueue(
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
                    && self.match_open(inst, node)
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

    pub(super) fn eval_bool(
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
}
