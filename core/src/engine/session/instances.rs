//! The arena of repeat instances: loading answers into it, adding and removing
//! instances, walking them in document order, answer paths to and from
//! (instance, node), and the response built back from it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::answer::{AnswerPath, Step};
use crate::collections::Map;
use crate::response::{Answer, Answers, Response};

use super::super::compile::{NodeIdx, NodeKind, ROOT};
use super::super::{EngineError, Result};
use super::{InstId, Instance, Session, Slot, ROOT_INST};

impl Session {
    pub(super) fn load(&mut self, answers: Answers) {
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

    pub(super) fn add_instance(&mut self, parent: InstId, repeat: NodeIdx) -> InstId {
        let id = self.add_instance_raw(parent, repeat);
        self.pending_defaults.push(id);
        self.added.push(self.instance_path(id));
        self.response.take();
        id
    }

    pub(super) fn remove_instance(&mut self, inst: InstId) {
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

    pub(super) fn instances_of_scope(&mut self, scope: NodeIdx) -> Vec<InstId> {
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
        // Group steps gathered for the answer key of the item below them (`grp_a/name`).
        let mut key = String::new();
        while let Some(step) = steps.next() {
            let last = steps.peek().is_none();
            key.push_str(step.name());
            if matches!(step, Step::Name(_)) && !last {
                key.push('/');
                continue;
            }
            let node = *form
                .scope_names
                .get(&(self.instances[inst].scope, std::mem::take(&mut key)))
                .ok_or_else(unknown)?;
            let index = match step {
                Step::Name(_) => return Ok((inst, node)),
                Step::Instance(_, index) => index,
                // A count (`/m[]`) is a stored value, not something the engine addresses.
                Step::Count(_) => return Err(unknown()),
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
                path.keyed(&self.form.node(repeat).key, Some(index))
            })
    }

    /// The path of a node in an instance (an instance path when the node is its repeat).
    pub(crate) fn path_of(&self, inst: InstId, node: NodeIdx) -> AnswerPath {
        let base = self.instance_path(inst);
        if node == self.instances[inst].scope {
            return base;
        }
        base.keyed(&self.form.node(node).key, None)
    }

    pub(crate) fn slot(&self, inst: InstId, node: NodeIdx) -> &Slot {
        &self.instances[inst].slots[self.form.node(node).slot]
    }

    /// Build the response from the current state.
    pub(super) fn materialize(&self) -> Response {
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
            matching: self.matching.clone(),
            selections: self.selections.clone(),
            outcome: self.outcome.clone(),
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
                            map.insert(node.key.clone(), Answer::Value(v.clone()));
                        }
                    }
                    NodeKind::Repeat if !slot.instances.is_empty() => {
                        let list = slot
                            .instances
                            .iter()
                            .map(|c| built.remove(c).unwrap_or_default())
                            .collect();
                        map.insert(node.key.clone(), Answer::Repeat(list));
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
}
