//! Compiling a form into a [`CompiledForm`]: the nodes and tasks the session runs.
//! `build` flattens the items into nodes and indexes the choice lists;
//! `expressions` parses every expression and resolves its `${name}` references
//! per repeat scope (`calls` checks its function calls); `order` builds the
//! dependency graph and its topological order. Every problem is reported at once.

mod build;
mod calls;
mod expressions;
mod order;
mod referral;
mod repeat_choices;

use crate::collections::Map;
use crate::diagnostic::Diagnostic;
use crate::expr::Expr;
use crate::form::{Choice, Consent, Field, FieldType, Form, Group, Item, Repeat};

use super::referral::CompiledReferral;
use super::selection::CompiledSelection;

pub(crate) use build::build;

/// Index of a node in [`CompiledForm`]; 0 is the document element (the top-level scope).
pub(crate) type NodeIdx = usize;
pub(crate) const ROOT: NodeIdx = 0;

/// Most instances a count expression may create (a runaway count must not exhaust
/// memory): as many as a path may name.
pub(crate) const MAX_COUNT: usize = crate::answer::MAX_INSTANCES;

/// A form ready to run: shareable between threads (`Arc<CompiledForm>`), never mutated.
#[derive(Debug)]
pub struct CompiledForm {
    pub(crate) form: Form,
    pub(crate) nodes: Vec<Node>,
    /// Nodes by name, for `${name}` (several when names repeat in different scopes).
    pub(crate) by_name: Map<String, Vec<NodeIdx>>,
    /// `(scope, answer key)` → node: how answers and paths are addressed (the key is the
    /// name, or `grp_a/name` for a name used in two groups of the scope; `Node::key`).
    pub(crate) scope_names: Map<(NodeIdx, String), NodeIdx>,
    pub(crate) lists: Vec<ChoiceList>,
    pub(crate) list_index: Map<String, usize>,
    /// Every evaluation step, in an order where each comes after what it reads.
    pub(crate) tasks: Vec<Task>,
    /// Per node: the tasks that read its value.
    pub(crate) value_dependents: Vec<Vec<usize>>,
    /// Per node: the tasks that read its relevance.
    pub(crate) relevance_dependents: Vec<Vec<usize>>,
    /// Per node: its tasks by kind.
    pub(crate) node_tasks: Vec<NodeTasks>,
    pub(crate) consent: Option<NodeIdx>,
    /// The assent block, asked of a minor after the guardian's consent.
    pub(crate) assent: Option<NodeIdx>,
    pub(crate) instance_name: Option<Expr>,
    /// Respondent-selection fields: their roster and eligibility.
    pub(crate) selections: Map<NodeIdx, CompiledSelection>,
    /// Each referral step's area and needs.
    pub(crate) referrals: Map<NodeIdx, CompiledReferral>,
    /// Per scope (a repeat or [`ROOT`]): its nodes by slot.
    pub(crate) scope_locals: Vec<Vec<NodeIdx>>,
    /// Per repeat: tasks of the nodes inside it (re-run when its instances change).
    pub(crate) repeat_inside_tasks: Map<NodeIdx, Vec<usize>>,
    /// Per repeat: tasks outside it that read it or anything inside it.
    pub(crate) repeat_outside_readers: Map<NodeIdx, Vec<usize>>,
    /// Per scope: the repeats directly in it, in document order.
    pub(crate) child_repeats: Vec<Vec<NodeIdx>>,
    /// Fields with a default, in task order (defaults may read each other).
    pub(crate) defaulted: Vec<NodeIdx>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NodeTasks {
    pub relevance: Option<usize>,
    pub value: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct ChoiceList {
    pub name: String,
    pub choices: Vec<Choice>,
    pub by_name: Map<String, usize>,
    /// Names of the extra properties, in a stable order (the item's children after name and label).
    pub properties: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Root,
    Field(FieldType),
    Group,
    Repeat,
    Consent,
}

/// `true`, `false` or a compiled expression.
#[derive(Debug)]
pub(crate) enum Cond {
    Const(bool),
    Expr(Expr),
}

impl Cond {
    pub fn constant(&self) -> Option<bool> {
        match self {
            Cond::Const(b) => Some(*b),
            Cond::Expr(_) => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub name: String,
    /// Where the node's answer is in an instance of its scope: its name, or `grp_a/name`
    /// for a name used in two groups of the scope (see `crate::form::answer_key`).
    pub key: String,
    pub pointer: String,
    pub parent: Option<NodeIdx>,
    pub children: Vec<NodeIdx>,
    /// The repeat (or [`ROOT`]) whose instances hold this node; for a repeat, its enclosing scope.
    pub scope: NodeIdx,
    /// Position among the nodes of its scope.
    pub slot: usize,
    pub relevant: Option<Expr>,
    pub calculation: Option<Expr>,
    pub constraint: Option<Expr>,
    pub default: Option<Expr>,
    pub required: Cond,
    pub read_only: Cond,
    pub count: Option<Expr>,
    /// `instance('list')/root/item[filter]`, evaluated with the field as `current()`.
    pub choice_filter: Option<Expr>,
    pub list: Option<usize>,
    /// Choices from the answers of a field inside a repeat (`choices_from`).
    pub repeat_choices: Option<Box<RepeatChoices>>,
    pub pii: bool,
    /// Own flag or inherited from an enclosing group or repeat.
    pub sensitive: bool,
    /// Only relevant once consent is given (top-level items after the consent block).
    pub consent_gated: bool,
    /// Only relevant once a minor assented, when assent applies (top-level items after
    /// the assent block).
    pub assent_gated: bool,
    pub privacy_check: bool,
    /// A group's `match` rule (enumerator–respondent matching), evaluated when the
    /// enumerator reaches the group, not a task of the dependency graph.
    pub match_rule: Option<Expr>,
    /// A group shown as a page of its own.
    pub page: bool,
    /// The calculation calls `now()`, `random()`, `uuid()`…: computed once, then kept.
    pub nondeterministic: bool,
    /// The form item (groups and repeats without their bodies).
    pub item: ItemData,
}

/// A select whose choices are the answers of a field inside a repeat (`choices_from`).
#[derive(Debug)]
pub(crate) struct RepeatChoices {
    /// The field whose answer, in each instance of its repeat, is a choice.
    pub field: NodeIdx,
    /// `${repeat}`, the choice filter as its predicate: the instances that offer a choice,
    /// evaluated with the select as `current()`.
    pub itemset: Expr,
}

/// What the view needs of the original item.
#[derive(Debug)]
pub(crate) enum ItemData {
    Root,
    /// Where the field sits in the form's body (indices into `body`, then each enclosing
    /// group's or repeat's `body`); see [`CompiledForm::field`]. Fields are most of a form,
    /// so they are read from the form itself instead of being copied into the nodes.
    Field(Box<[u32]>),
    Group(Box<Group>),
    Repeat(Box<Repeat>),
    Consent(Box<Consent>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TaskKind {
    /// A repeat's `count`: how many instances it has (evaluated in the enclosing scope).
    Count,
    Relevance,
    /// A field's value: cleared when not relevant, else its calculation.
    Value,
    Required,
    ReadOnly,
    Constraint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Task {
    pub node: NodeIdx,
    pub kind: TaskKind,
}

impl CompiledForm {
    /// Compile a form; any error-severity problem fails with every diagnostic.
    pub fn compile(form: Form) -> Result<CompiledForm, Vec<Diagnostic>> {
        let mut diagnostics = super::structure::check(&form);
        let (mut compiled, expression_diagnostics) = build(&form);
        compiled.form = form;
        diagnostics.extend(expression_diagnostics);
        if diagnostics.iter().any(Diagnostic::is_error) {
            diagnostics.retain(Diagnostic::is_error);
            crate::diagnostic::sort(&mut diagnostics);
            return Err(diagnostics);
        }
        Ok(compiled)
    }

    /// The form this was compiled from.
    pub fn form(&self) -> &Form {
        &self.form
    }

    pub(crate) fn node(&self, idx: NodeIdx) -> &Node {
        &self.nodes[idx]
    }

    /// Whether the answer at `path` (a flat key, `/members[2]/name`) is sealed before it
    /// leaves the device: its field is flagged `pii` or `sensitive` (its own flag or an
    /// enclosing group's). Repeat counts and unknown paths are not.
    pub fn seals(&self, path: &crate::answer::AnswerPath) -> bool {
        use crate::answer::Step;
        let mut scope = ROOT;
        let mut steps = path.steps().peekable();
        while let Some(step) = steps.next() {
            let last = steps.peek().is_none();
            let Some(&idx) = self.scope_names.get(&(scope, step.name().to_owned())) else {
                return false;
            };
            let node = &self.nodes[idx];
            match step {
                Step::Name(_) if last => {
                    return matches!(node.kind, NodeKind::Field(_)) && (node.pii || node.sensitive)
                }
                Step::Instance(..) if node.kind == NodeKind::Repeat => scope = idx,
                _ => return false,
            }
        }
        false
    }

    /// The roster and eligibility of a respondent-selection field.
    pub(crate) fn selection(&self, node: NodeIdx) -> Option<&CompiledSelection> {
        self.selections.get(&node)
    }

    /// The form's field that `node` was compiled from (`None` for other nodes).
    pub(crate) fn field(&self, node: NodeIdx) -> Option<&Field> {
        let ItemData::Field(indices) = &self.nodes[node].item else {
            return None;
        };
        let (first, rest) = indices.split_first()?;
        let mut item = self.form.body.get(*first as usize)?;
        for &i in rest {
            item = match item {
                Item::Group(g) => g.body.get(i as usize)?,
                Item::Repeat(r) => r.body.get(i as usize)?,
                Item::Field(_) | Item::Consent(_) => return None,
            };
        }
        match item {
            Item::Field(field) => Some(field),
            _ => None,
        }
    }

    /// The node `${name}` designates from `context`, if exactly one is meant.
    pub(crate) fn resolve(&self, name: &str, context: NodeIdx) -> Resolution {
        resolve_in(&self.nodes, &self.by_name, name, context)
    }

    /// Whether `ancestor` is `scope` or encloses it.
    pub(crate) fn scope_contains(&self, ancestor: NodeIdx, mut scope: NodeIdx) -> bool {
        loop {
            if scope == ancestor {
                return true;
            }
            if scope == ROOT {
                return false;
            }
            scope = self.nodes[scope].scope;
        }
    }

    /// The innermost scope enclosing both.
    pub(crate) fn common_scope(&self, a: NodeIdx, b: NodeIdx) -> NodeIdx {
        let mut s = a;
        loop {
            if self.scope_contains(s, b) {
                return s;
            }
            s = self.nodes[s].scope;
        }
    }
}

pub(crate) enum Resolution {
    Found(NodeIdx),
    Unknown,
    Ambiguous(Vec<NodeIdx>),
}

pub(super) fn resolve_in(
    nodes: &[Node],
    by_name: &Map<String, Vec<NodeIdx>>,
    name: &str,
    context: NodeIdx,
) -> Resolution {
    let Some(candidates) = by_name.get(name) else {
        return Resolution::Unknown;
    };
    if let [only] = candidates.as_slice() {
        return Resolution::Found(*only);
    }
    // Prefer the candidate in the innermost scope enclosing the context.
    let mut scope = nodes[context].scope;
    loop {
        let here: Vec<NodeIdx> = candidates
            .iter()
            .copied()
            .filter(|&c| nodes[c].scope == scope)
            .collect();
        match here.as_slice() {
            [one] => return Resolution::Found(*one),
            [] => {}
            _ => return Resolution::Ambiguous(here),
        }
        if scope == ROOT {
            return Resolution::Ambiguous(candidates.clone());
        }
        scope = nodes[scope].scope;
    }
}

/// The expression diagnostics of a form (structure is checked elsewhere).
pub(crate) fn compile_diagnostics(form: &Form) -> Vec<Diagnostic> {
    build(form).1
}
