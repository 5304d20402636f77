//! Compiling a form: items flattened with ids, expressions parsed, `${name}`
//! references resolved per repeat scope, the dependency graph built and
//! ordered, choice lists indexed. Every problem is reported at once.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::collections::{Map, Set};

use crate::diagnostic::{Code, Diagnostic};
use crate::expr::ast::{Axis, NodeTest, PathStart};
use crate::expr::{self, ErrorKind, Expr, ExprKind, Function};
use crate::form::{Choice, Condition, Consent, Field, FieldType, Form, Group, Item, Repeat};

use super::tree::{flatten, has_privacy_check, Flat};

/// Index of a node in [`CompiledForm`]; 0 is the document element (the top-level scope).
pub(crate) type NodeIdx = usize;
pub(crate) const ROOT: NodeIdx = 0;

/// Most instances a count expression may create (a runaway count must not exhaust memory).
pub(crate) const MAX_COUNT: usize = 5_000;

/// A form ready to run: shareable between threads (`Arc<CompiledForm>`), never mutated.
#[derive(Debug)]
pub struct CompiledForm {
    pub(crate) form: Form,
    pub(crate) nodes: Vec<Node>,
    /// Nodes by name, for `${name}` (several when names repeat in different scopes).
    pub(crate) by_name: Map<String, Vec<NodeIdx>>,
    /// `(scope, name)` → node: how answers and paths are addressed.
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
    pub(crate) instance_name: Option<Expr>,
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
    pub pii: bool,
    /// Own flag or inherited from an enclosing group or repeat.
    pub sensitive: bool,
    /// Only relevant once consent is given (top-level items after the consent block).
    pub consent_gated: bool,
    pub privacy_check: bool,
    /// A group shown as a page of its own.
    pub page: bool,
    /// The calculation calls `now()`, `random()`, `uuid()`…: computed once, then kept.
    pub nondeterministic: bool,
    /// The form item (groups and repeats without their bodies).
    pub item: ItemData,
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

/// Which expression of a node a diagnostic is about.
#[derive(Clone, Copy)]
enum Prop {
    Relevant,
    Calculation,
    Constraint,
    Default,
    Required,
    ReadOnly,
    Count,
    ChoiceFilter,
}

impl Prop {
    fn key(self) -> &'static str {
        match self {
            Prop::Relevant => "relevant",
            Prop::Calculation => "calculation",
            Prop::Constraint => "constraint",
            Prop::Default => "default",
            Prop::Required => "required",
            Prop::ReadOnly => "read_only",
            Prop::Count => "count",
            Prop::ChoiceFilter => "choice_filter",
        }
    }
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

fn resolve_in(
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

struct Builder {
    nodes: Vec<Node>,
    diagnostics: Vec<Diagnostic>,
    /// "Did you mean" hints left to compute. Each compares the wrong name with every
    /// field name, so without a cap a form with thousands of bad references would
    /// take quadratic time; the first ones are what a designer reads anyway.
    suggestions_left: usize,
}

/// How many unknown-reference diagnostics get a "did you mean" hint.
const MAX_REFERENCE_SUGGESTIONS: usize = 200;

/// Build the compiled form, collecting every expression diagnostic. Never fails:
/// unparsable expressions are left out, so the result is only used when clean.
/// The result holds an empty stand-in form; [`CompiledForm::compile`] puts the real one
/// in (so checking alone never copies the whole form).
pub(crate) fn build(form: &Form) -> (CompiledForm, Vec<Diagnostic>) {
    let flat = flatten(form);
    let mut b = Builder {
        nodes: Vec::with_capacity(flat.len() + 1),
        diagnostics: Vec::new(),
        suggestions_left: MAX_REFERENCE_SUGGESTIONS,
    };
    b.nodes.push(root_node());
    let consent_index = flat
        .iter()
        .position(|f| f.depth == 0 && matches!(f.item, Item::Consent(_)));
    for (i, f) in flat.iter().enumerate() {
        let node = make_node(f, i, consent_index);
        b.nodes.push(node);
    }
    // Flat index i is node i + 1; fix parents, scopes, children and slots.
    let mut scope_locals: Vec<Vec<NodeIdx>> = vec![Vec::new(); b.nodes.len()];
    for (i, f) in flat.iter().enumerate() {
        let idx = i + 1;
        let parent = f.parent.map_or(ROOT, |p| p + 1);
        let scope = f.scope.map_or(ROOT, |s| s + 1);
        b.nodes[idx].parent = Some(parent);
        b.nodes[idx].scope = scope;
        b.nodes[parent].children.push(idx);
        b.nodes[idx].slot = scope_locals[scope].len();
        scope_locals[scope].push(idx);
    }
    let mut by_name: Map<String, Vec<NodeIdx>> = Map::default();
    let mut scope_names = Map::default();
    for (idx, n) in b.nodes.iter().enumerate().skip(1) {
        by_name.entry(n.name.clone()).or_default().push(idx);
        scope_names.entry((n.scope, n.name.clone())).or_insert(idx);
    }
    let mut lists = Vec::new();
    let mut list_index = Map::default();
    for (name, choices) in &form.choices {
        let mut by = Map::default();
        let mut properties: Vec<String> = Vec::new();
        for (i, c) in choices.iter().enumerate() {
            by.entry(c.name.clone()).or_insert(i);
            for key in c.properties.keys() {
                if !properties.contains(key) {
                    properties.push(key.clone());
                }
            }
        }
        list_index.insert(name.clone(), lists.len());
        lists.push(ChoiceList {
            name: name.clone(),
            choices: choices.clone(),
            by_name: by,
            properties,
        });
    }
    for (i, f) in flat.iter().enumerate() {
        if let Item::Field(field) = f.item {
            b.nodes[i + 1].list = field
                .choices
                .as_ref()
                .and_then(|l| list_index.get(l).copied());
        }
    }

    // Parse every expression, then check references and calls.
    let mut deps: Vec<(Task, Vec<(NodeIdx, bool)>)> = Vec::new();
    for (i, f) in flat.iter().enumerate() {
        let idx = i + 1;
        b.compile_item(idx, f, &by_name, &lists, &mut deps);
    }
    let consent = consent_index.map(|c| c + 1);
    let instance_name = form.instance_name.as_ref().and_then(|src| {
        let expr = b.parse_at("/instance_name", src)?;
        for r in expr.references() {
            match resolve_in(&b.nodes, &by_name, r.name, ROOT) {
                Resolution::Unknown => b.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownReference,
                        "/instance_name",
                        format!("`${{{}}}` does not name a field of this form", r.name),
                    )
                    .with_span(r.span.start, r.span.end),
                ),
                Resolution::Found(n) => {
                    let node = &b.nodes[n];
                    if node.pii || node.sensitive {
                        b.diagnostics.push(
                            Diagnostic::error(
                                Code::InstanceNameSensitive,
                                "/instance_name",
                                format!(
                                    "instance_name is shown in draft and sent lists, but `{}` is {}; name responses by neutral fields",
                                    r.name,
                                    if node.pii { "pii" } else { "sensitive" }
                                ),
                            )
                            .with_span(r.span.start, r.span.end),
                        );
                    }
                }
                Resolution::Ambiguous(_) => {}
            }
        }
        b.check_calls("/instance_name", &expr, ROOT, &by_name, &lists);
        Some(expr)
    });

    // The graph: tasks, their inputs, topological order, cycles.
    let (tasks, value_dependents, relevance_dependents, node_tasks) = order_tasks(&mut b, deps);
    let compiled = CompiledForm {
        form: stand_in(),
        nodes: b.nodes,
        by_name,
        scope_names,
        lists,
        list_index,
        tasks,
        value_dependents,
        relevance_dependents,
        node_tasks,
        consent,
        instance_name,
        scope_locals,
        repeat_inside_tasks: Map::default(),
        repeat_outside_readers: Map::default(),
        child_repeats: Vec::new(),
        defaulted: Vec::new(),
    };
    let mut compiled = compiled;
    index_repeats(&mut compiled);
    (compiled, b.diagnostics)
}

fn stand_in() -> Form {
    Form {
        schema: None,
        id: String::new(),
        version: String::new(),
        title: crate::form::Text::Plain(String::new()),
        description: None,
        languages: Vec::new(),
        default_language: String::new(),
        instance_name: None,
        safe_exit: None,
        body: Vec::new(),
        choices: Default::default(),
    }
}

/// What a change in a repeat's instances touches, per repeat.
fn index_repeats(c: &mut CompiledForm) {
    c.child_repeats = vec![Vec::new(); c.nodes.len()];
    for (idx, n) in c.nodes.iter().enumerate() {
        if n.kind == NodeKind::Repeat {
            c.child_repeats[n.scope].push(idx);
        }
    }
    c.defaulted = c
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Value && c.nodes[t.node].default.is_some())
        .map(|t| t.node)
        .collect();
    for n in &mut c.nodes {
        n.nondeterministic = n.calculation.as_ref().is_some_and(|e| {
            e.calls().iter().any(|call| {
                call.call
                    .function
                    .is_some_and(|f| f.signature().nondeterministic)
            })
        });
    }
    for r in 0..c.nodes.len() {
        if c.nodes[r].kind != NodeKind::Repeat {
            continue;
        }
        let inside = |n: NodeIdx| c.scope_contains(r, c.nodes[n].scope);
        let inside_tasks: Vec<usize> = (0..c.tasks.len())
            .filter(|&pos| inside(c.tasks[pos].node))
            .collect();
        let mut readers: Vec<usize> = (0..c.nodes.len())
            .filter(|&n| n == r || inside(n))
            .flat_map(|n| c.value_dependents[n].iter().copied())
            .filter(|&pos| !inside(c.tasks[pos].node))
            .collect();
        readers.sort_unstable();
        readers.dedup();
        c.repeat_inside_tasks.insert(r, inside_tasks);
        c.repeat_outside_readers.insert(r, readers);
    }
}

fn root_node() -> Node {
    Node {
        kind: NodeKind::Root,
        name: "data".to_owned(),
        pointer: String::new(),
        parent: None,
        children: Vec::new(),
        scope: ROOT,
        slot: 0,
        relevant: None,
        calculation: None,
        constraint: None,
        default: None,
        required: Cond::Const(false),
        read_only: Cond::Const(false),
        count: None,
        choice_filter: None,
        list: None,
        pii: false,
        sensitive: false,
        consent_gated: false,
        privacy_check: false,
        page: false,
        nondeterministic: false,
        item: ItemData::Root,
    }
}

/// `/body/2/body/0` → `[2, 0]`.
fn body_indices(pointer: &str) -> Box<[u32]> {
    pointer
        .split('/')
        .filter_map(|part| part.parse().ok())
        .collect()
}

fn make_node(f: &Flat<'_>, index: usize, consent_index: Option<usize>) -> Node {
    let (kind, item, pii, page) = match f.item {
        Item::Field(field) => (
            NodeKind::Field(field.kind),
            ItemData::Field(body_indices(&f.pointer)),
            field.pii,
            false,
        ),
        Item::Group(g) => (
            NodeKind::Group,
            ItemData::Group(Box::new(Group {
                name: g.name.clone(),
                label: g.label.clone(),
                hint: g.hint.clone(),
                relevant: g.relevant.clone(),
                appearance: g.appearance.clone(),
                page: g.page,
                privacy: g.privacy,
                privacy_prompt: g.privacy_prompt.clone(),
                sensitive: g.sensitive,
                // The body lives on as this node's children; copying it here would be quadratic.
                body: Vec::new(),
            })),
            false,
            g.page,
        ),
        Item::Repeat(r) => (
            NodeKind::Repeat,
            ItemData::Repeat(Box::new(Repeat {
                name: r.name.clone(),
                label: r.label.clone(),
                hint: r.hint.clone(),
                relevant: r.relevant.clone(),
                appearance: r.appearance.clone(),
                count: r.count.clone(),
                min: r.min,
                max: r.max,
                add_label: r.add_label.clone(),
                privacy: r.privacy,
                privacy_prompt: r.privacy_prompt.clone(),
                sensitive: r.sensitive,
                body: Vec::new(),
            })),
            false,
            true,
        ),
        Item::Consent(c) => (
            NodeKind::Consent,
            ItemData::Consent(Box::new(c.clone())),
            false,
            true,
        ),
    };
    let metadata = matches!(kind, NodeKind::Field(k) if k.is_metadata());
    Node {
        kind,
        name: f.item.name().to_owned(),
        pointer: f.pointer.clone(),
        parent: None,
        children: Vec::new(),
        scope: ROOT,
        slot: 0,
        relevant: None,
        calculation: None,
        constraint: None,
        default: None,
        required: Cond::Const(false),
        read_only: Cond::Const(false),
        count: None,
        choice_filter: None,
        list: None,
        pii,
        sensitive: f.sensitive,
        consent_gated: f.depth == 0 && consent_index.is_some_and(|c| index > c) && !metadata,
        privacy_check: has_privacy_check(f.item),
        page,
        nondeterministic: false,
        item,
    }
}

impl Builder {
    fn parse_at(&mut self, pointer: &str, source: &str) -> Option<Expr> {
        match expr::parse(source) {
            Ok(e) => Some(e),
            Err(err) => {
                let code = match err.kind {
                    ErrorKind::Unsupported => Code::UnsupportedExpression,
                    ErrorKind::UnknownFunction => Code::UnknownFunction,
                    ErrorKind::Arity => Code::WrongArity,
                    ErrorKind::Regex => Code::InvalidRegex,
                    _ => Code::ExpressionSyntax,
                };
                self.diagnostics.push(
                    Diagnostic::error(code, pointer, err.message.clone())
                        .with_span(err.span.start, err.span.end),
                );
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compile_item(
        &mut self,
        idx: NodeIdx,
        f: &Flat<'_>,
        by_name: &Map<String, Vec<NodeIdx>>,
        lists: &[ChoiceList],
        deps: &mut Vec<(Task, Vec<(NodeIdx, bool)>)>,
    ) {
        let ptr = f.pointer.clone();
        let (relevant, calculation, constraint, default, required, read_only, count, filter) =
            match f.item {
                Item::Field(field) => (
                    field.relevant.as_deref(),
                    field.calculation.as_deref(),
                    field.constraint.as_deref(),
                    field.default.as_deref(),
                    field.required.as_ref(),
                    field.read_only.as_ref(),
                    None,
                    field.choice_filter.as_deref(),
                ),
                Item::Group(g) => (
                    g.relevant.as_deref(),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ),
                Item::Repeat(r) => (
                    r.relevant.as_deref(),
                    None,
                    None,
                    None,
                    None,
                    None,
                    r.count.as_deref(),
                    None,
                ),
                Item::Consent(c) => (
                    c.relevant.as_deref(),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ),
            };
        let compile = |b: &mut Builder,
                       prop: Prop,
                       src: Option<&str>|
         -> Option<(Expr, Vec<(NodeIdx, bool)>)> {
            let src = src?;
            let pointer = format!("{ptr}/{}", prop.key());
            let expr = b.parse_at(&pointer, src)?;
            let refs = b.check_expr(&pointer, &expr, idx, by_name, lists);
            Some((expr, refs))
        };
        let mut task_deps = |kind: TaskKind, refs: Vec<(NodeIdx, bool)>| {
            deps.push((Task { node: idx, kind }, refs));
        };

        if let Some((e, refs)) = compile(self, Prop::Relevant, relevant) {
            self.nodes[idx].relevant = Some(e);
            task_deps(TaskKind::Relevance, refs);
        }
        if let Some((e, refs)) = compile(self, Prop::Calculation, calculation) {
            self.nodes[idx].calculation = Some(e);
            // `.` in a calculation reads the field's previous value (`once()`-style), not a cycle.
            let refs = refs
                .into_iter()
                .filter(|(n, dot)| *n != idx || !*dot)
                .collect();
            task_deps(TaskKind::Value, refs);
        }
        if let Some((e, mut refs)) = compile(self, Prop::Constraint, constraint) {
            self.nodes[idx].constraint = Some(e);
            // Constraints are only checked on answers, so they always read their own value.
            refs.push((idx, true));
            task_deps(TaskKind::Constraint, refs);
        }
        if let Some((e, refs)) = compile(self, Prop::Default, default) {
            // Defaults run once, at creation; one that needs its own field can never run.
            // Reading the same field of another repeat instance is fine: ODK's
            // `indexed-repeat(${q}, ${r}, position(..) - 1)` carries the previous answer forward.
            let own_name = self.nodes[idx].name.clone();
            let reads_own_instance = e.references().iter().any(|r| {
                *r.name == *own_name
                    && !inside_other_instance(&e, r.span)
                    && matches!(
                        resolve_in(&self.nodes, by_name, r.name, idx),
                        Resolution::Found(n) if n == idx
                    )
            });
            self.nodes[idx].default = Some(e);
            if reads_own_instance {
                self.diagnostics.push(Diagnostic::error(
                    Code::Cycle,
                    format!("{ptr}/default"),
                    format!("the default of `{}` refers to itself", self.nodes[idx].name),
                ));
            }
            let refs = refs.into_iter().filter(|(n, _)| *n != idx).collect();
            task_deps(TaskKind::Value, refs);
        }
        for (prop, cond, is_required) in [
            (Prop::Required, required, true),
            (Prop::ReadOnly, read_only, false),
        ] {
            let compiled = match cond {
                None => Cond::Const(false),
                Some(Condition::Always(v)) => Cond::Const(*v),
                Some(Condition::Expression(src)) => match src.trim() {
                    // XLSForm spreadsheets say `yes`/`true()`; accept them as constants.
                    "yes" | "true" | "true()" => Cond::Const(true),
                    "no" | "false" | "false()" | "" => Cond::Const(false),
                    _ => match compile(self, prop, Some(src)) {
                        Some((e, refs)) => {
                            task_deps(
                                if is_required {
                                    TaskKind::Required
                                } else {
                                    TaskKind::ReadOnly
                                },
                                refs,
                            );
                            Cond::Expr(e)
                        }
                        None => Cond::Const(false),
                    },
                },
            };
            if is_required {
                self.nodes[idx].required = compiled;
            } else {
                self.nodes[idx].read_only = compiled;
            }
        }
        if let Some((e, refs)) = compile(self, Prop::Count, count) {
            self.nodes[idx].count = Some(e);
            task_deps(TaskKind::Count, refs);
        }
        if let (Some(src), Some(list)) = (filter, self.nodes[idx].list) {
            let pointer = format!("{ptr}/{}", Prop::ChoiceFilter.key());
            if let Some(e) = self.parse_at(&pointer, src) {
                // The filter only shapes the view; its inputs are read when the view is built.
                self.check_expr(&pointer, &e, idx, by_name, lists);
                let list = &lists[list];
                // Bare names in a filter are the choice's properties: catch typos.
                for p in e.paths() {
                    let first = match (&p.path.start, p.path.steps.first()) {
                        (PathStart::Context, Some(step)) if step.axis == Axis::Child => step,
                        _ => continue,
                    };
                    let NodeTest::Name(name) = &first.test else {
                        continue;
                    };
                    let known = matches!(&**name, "name" | "label")
                        || list.properties.iter().any(|prop| prop == &**name);
                    if !known {
                        self.diagnostics.push(
                            Diagnostic::warning(
                                Code::UnknownChoiceProperty,
                                pointer.clone(),
                                format!(
                                    "no choice in list `{}` has a property `{name}`{}; bare names in a choice filter are choice properties (write `${{{name}}}` for a field)",
                                    list.name,
                                    crate::diagnostic::suggestion(
                                        name,
                                        list.properties.iter().map(String::as_str)
                                    )
                                ),
                            )
                            .with_span(first.span.start, first.span.end),
                        );
                    }
                }
                let wrapped = format!("instance('{}')/root/item[{src}]", list.name);
                if let Ok(full) = expr::parse(&wrapped) {
                    self.nodes[idx].choice_filter = Some(full);
                }
            }
        }
    }

    /// Check references and calls; returns the nodes read (`true` when read through `.`).
    fn check_expr(
        &mut self,
        pointer: &str,
        expr: &Expr,
        context: NodeIdx,
        by_name: &Map<String, Vec<NodeIdx>>,
        lists: &[ChoiceList],
    ) -> Vec<(NodeIdx, bool)> {
        let mut read = Vec::new();
        for r in expr.references() {
            match resolve_in(&self.nodes, by_name, r.name, context) {
                Resolution::Found(n) => read.push((n, false)),
                Resolution::Unknown => {
                    let hint = if self.suggestions_left > 0 {
                        self.suggestions_left -= 1;
                        crate::diagnostic::suggestion(r.name, by_name.keys().map(String::as_str))
                    } else {
                        String::new()
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::UnknownReference,
                            pointer,
                            format!("`${{{}}}` does not name a field of this form{hint}", r.name,),
                        )
                        .with_span(r.span.start, r.span.end),
                    )
                }
                Resolution::Ambiguous(nodes) => self.diagnostics.push(
                    Diagnostic::error(
                        Code::AmbiguousReference,
                        pointer,
                        format!(
                            "`${{{}}}` is ambiguous here: it names {}; rename one of them",
                            r.name,
                            nodes
                                .iter()
                                .map(|&n| self.nodes[n].pointer.as_str())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    )
                    .with_span(r.span.start, r.span.end),
                ),
            }
        }
        // Paths (`/data/x`, `../x`, `.`): read every field with a name the path mentions.
        for p in expr.paths() {
            if let PathStart::Filter { expr: start, .. } = &p.path.start {
                if matches!(&start.kind, ExprKind::Call(c) if c.function == Some(Function::Instance))
                {
                    continue;
                }
            }
            if matches!(p.path.start, PathStart::Context)
                && p.path.steps.len() == 1
                && p.path.steps[0].axis == Axis::SelfNode
            {
                read.push((context, true));
                continue;
            }
            for step in &p.path.steps {
                if let NodeTest::Name(name) = &step.test {
                    if let Some(nodes) = by_name.get(&**name) {
                        read.extend(nodes.iter().map(|&n| (n, false)));
                    }
                }
            }
        }
        self.check_calls(pointer, expr, context, by_name, lists);
        read
    }

    fn check_calls(
        &mut self,
        pointer: &str,
        expr: &Expr,
        context: NodeIdx,
        by_name: &Map<String, Vec<NodeIdx>>,
        lists: &[ChoiceList],
    ) {
        for site in expr.calls() {
            let call = site.call;
            let Some(function) = call.function else {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownFunction,
                        pointer,
                        format!(
                            "unknown function `{}`{}",
                            call.name,
                            crate::diagnostic::suggestion(
                                &call.name,
                                Function::ALL.iter().map(|f| f.signature().name)
                            )
                        ),
                    )
                    .with_span(call.name_span.start, call.name_span.end),
                );
                continue;
            };
            let sig = function.signature();
            if !sig.accepts(call.args.len()) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::WrongArity,
                        pointer,
                        format!(
                            "`{}` takes {} argument{}, not {}",
                            call.name,
                            sig.arity_text(),
                            if sig.arity_text() == "1" { "" } else { "s" },
                            call.args.len()
                        ),
                    )
                    .with_span(site.span.start, site.span.end),
                );
                continue;
            }
            match function {
                Function::Regex => {
                    if let Some(ExprKind::String(pattern)) = call.args.get(1).map(|a| &a.kind) {
                        if let Err(err) = regex::Regex::new(pattern) {
                            let span = call.args[1].span;
                            self.diagnostics.push(
                                Diagnostic::error(
                                    Code::InvalidRegex,
                                    pointer,
                                    format!(
                                        "invalid regular expression: {}",
                                        first_line(&err.to_string())
                                    ),
                                )
                                .with_span(span.start, span.end),
                            );
                        }
                    }
                }
                Function::Selected | Function::CountSelected | Function::SelectedAt => {
                    let Some(ExprKind::Reference(name)) = call.args.first().map(|a| &a.kind) else {
                        continue;
                    };
                    let Resolution::Found(target) = resolve_in(&self.nodes, by_name, name, context)
                    else {
                        continue;
                    };
                    let node = &self.nodes[target];
                    let is_select = matches!(node.kind, NodeKind::Field(k) if k.uses_choices())
                        || node.kind == NodeKind::Consent;
                    if !is_select {
                        let span = call.args[0].span;
                        self.diagnostics.push(
                            Diagnostic::warning(
                                Code::TypeMismatch,
                                pointer,
                                format!(
                                    "`{}` expects a select question, but `{name}` is {}",
                                    call.name,
                                    describe(node.kind)
                                ),
                            )
                            .with_span(span.start, span.end),
                        );
                        continue;
                    }
                    if function != Function::Selected {
                        continue;
                    }
                    let (Some(list), Some(ExprKind::String(choice))) =
                        (node.list, call.args.get(1).map(|a| &a.kind))
                    else {
                        continue;
                    };
                    let list = &lists[list];
                    if !list.by_name.contains_key(&**choice) {
                        let span = call.args[1].span;
                        self.diagnostics.push(
                            Diagnostic::warning(
                                Code::UnknownChoice,
                                pointer,
                                format!(
                                    "`{choice}` is not a choice of `{name}` (list `{}`), so this is never selected{}",
                                    list.name,
                                    crate::diagnostic::suggestion(
                                        choice,
                                        list.choices.iter().map(|c| c.name.as_str())
                                    )
                                ),
                            )
                            .with_span(span.start, span.end),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

fn describe(kind: NodeKind) -> String {
    match kind {
        NodeKind::Field(k) => {
            let kind = k.as_str();
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {kind} field")
        }
        NodeKind::Group => "a group".to_owned(),
        NodeKind::Repeat => "a repeat".to_owned(),
        NodeKind::Consent => "the consent block".to_owned(),
        NodeKind::Root => "the form".to_owned(),
    }
}

type Ordered = (Vec<Task>, Vec<Vec<usize>>, Vec<Vec<usize>>, Vec<NodeTasks>);

/// Build every task with its inputs, order them topologically and report cycles.
fn order_tasks(b: &mut Builder, explicit: Vec<(Task, Vec<(NodeIdx, bool)>)>) -> Ordered {
    // Vertices: every task. Inputs are (node, reads relevance?) pairs.
    let mut inputs: Map<Task, Vec<(NodeIdx, bool)>> = Map::default();
    for (idx, n) in b.nodes.iter().enumerate().skip(1) {
        let mut rel_inputs = Vec::new();
        if let Some(p) = n.parent.filter(|&p| p != ROOT) {
            rel_inputs.push((p, true));
        }
        inputs.insert(
            Task {
                node: idx,
                kind: TaskKind::Relevance,
            },
            rel_inputs,
        );
        if matches!(n.kind, NodeKind::Field(_) | NodeKind::Consent) {
            inputs.insert(
                Task {
                    node: idx,
                    kind: TaskKind::Value,
                },
                vec![(idx, true)],
            );
        }
    }
    let consent = b.nodes.iter().position(|n| n.kind == NodeKind::Consent);
    for (idx, n) in b.nodes.iter().enumerate() {
        if n.consent_gated {
            if let Some(c) = consent {
                if let Some(v) = inputs.get_mut(&Task {
                    node: idx,
                    kind: TaskKind::Relevance,
                }) {
                    v.push((c, false));
                    v.push((c, true));
                }
            }
        }
    }
    for (task, reads) in explicit {
        let entry = inputs.entry(task).or_default();
        for (node, _dot) in reads {
            entry.push((node, false));
        }
    }
    // Map inputs to producing tasks: value of a field → its Value task; relevance → Relevance task.
    let mut all: Vec<Task> = inputs.keys().copied().collect();
    all.sort_by_key(|t| (t.node, t.kind));
    let id_of: Map<Task, usize> = all.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let producer = |node: NodeIdx, relevance: bool| -> Option<usize> {
        let kind = if relevance {
            TaskKind::Relevance
        } else {
            TaskKind::Value
        };
        id_of.get(&Task { node, kind }).copied()
    };
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
    let mut indegree = vec![0usize; all.len()];
    let mut producers = Vec::new();
    for (i, task) in all.iter().enumerate() {
        producers.clear();
        producers.extend(
            inputs[task]
                .iter()
                .filter_map(|&(node, relevance)| producer(node, relevance)),
        );
        producers.sort_unstable();
        producers.dedup();
        for &p in &producers {
            edges[p].push(i);
            indegree[i] += 1;
        }
    }
    // Kahn's algorithm, taking the earliest task in document order first (stable output).
    let mut heap: BinaryHeap<Reverse<usize>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, &d)| d == 0)
        .map(|(i, _)| Reverse(i))
        .collect();
    let mut order = Vec::with_capacity(all.len());
    let mut remaining = indegree.clone();
    while let Some(Reverse(t)) = heap.pop() {
        order.push(t);
        for &next in &edges[t] {
            remaining[next] -= 1;
            if remaining[next] == 0 {
                heap.push(Reverse(next));
            }
        }
    }
    if order.len() < all.len() {
        report_cycles(b, &all, &edges, &remaining);
        // Keep going with the acyclic part so later stages still work.
        let placed: Set<usize> = order.iter().copied().collect();
        order.extend((0..all.len()).filter(|t| !placed.contains(t)));
    }
    let position: Vec<usize> = {
        let mut p = vec![0; all.len()];
        for (pos, &t) in order.iter().enumerate() {
            p[t] = pos;
        }
        p
    };
    let tasks: Vec<Task> = order.iter().map(|&t| all[t]).collect();
    let mut value_dependents = vec![Vec::new(); b.nodes.len()];
    let mut relevance_dependents = vec![Vec::new(); b.nodes.len()];
    let mut node_tasks = vec![NodeTasks::default(); b.nodes.len()];
    for (pos, task) in tasks.iter().enumerate() {
        match task.kind {
            TaskKind::Relevance => node_tasks[task.node].relevance = Some(pos),
            TaskKind::Value => node_tasks[task.node].value = Some(pos),
            _ => {}
        }
        for &(node, relevance) in &inputs[task] {
            if relevance {
                relevance_dependents[node].push(pos);
            } else {
                value_dependents[node].push(pos);
            }
        }
    }
    for list in value_dependents
        .iter_mut()
        .chain(relevance_dependents.iter_mut())
    {
        list.sort_unstable();
        list.dedup();
    }
    let _ = position;
    (tasks, value_dependents, relevance_dependents, node_tasks)
}

fn report_cycles(b: &mut Builder, all: &[Task], edges: &[Vec<usize>], remaining: &[usize]) {
    // Every task left with inputs sits on or behind a cycle; find cycles by walking
    // backwards-free DFS among them, iteratively.
    let stuck: std::collections::BTreeSet<usize> =
        (0..all.len()).filter(|&t| remaining[t] > 0).collect();
    let mut state = vec![0u8; all.len()]; // 0 new, 1 on stack, 2 done
    let mut reported: Set<Vec<NodeIdx>> = Set::default();
    for &start in &stuck {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path: Vec<usize> = vec![start];
        state[start] = 1;
        while let Some(&mut (t, ref mut next)) = stack.last_mut() {
            let outs: Vec<usize> = edges[t]
                .iter()
                .copied()
                .filter(|e| stuck.contains(e))
                .collect();
            if *next < outs.len() {
                let n = outs[*next];
                *next += 1;
                match state[n] {
                    0 => {
                        state[n] = 1;
                        stack.push((n, 0));
                        path.push(n);
                    }
                    1 => {
                        let from = path.iter().position(|&p| p == n).unwrap_or(0);
                        let cycle: Vec<usize> = path[from..].to_vec();
                        let mut nodes: Vec<NodeIdx> = Vec::new();
                        for &c in &cycle {
                            if nodes.last() != Some(&all[c].node) {
                                nodes.push(all[c].node);
                            }
                        }
                        if nodes.len() > 1 && nodes.first() == nodes.last() {
                            nodes.pop();
                        }
                        let mut key = nodes.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            report_cycle(b, &cycle.iter().map(|&c| all[c]).collect::<Vec<_>>());
                        }
                    }
                    _ => {}
                }
            } else {
                state[t] = 2;
                stack.pop();
                path.pop();
            }
        }
    }
}

fn report_cycle(b: &mut Builder, cycle: &[Task]) {
    // Start the story (and point) at a task the designer wrote an expression for.
    let written = |t: &Task| {
        let n = &b.nodes[t.node];
        match t.kind {
            TaskKind::Relevance => n.relevant.is_some(),
            TaskKind::Value => n.calculation.is_some() || n.default.is_some(),
            TaskKind::Required => matches!(n.required, Cond::Expr(_)),
            TaskKind::ReadOnly => matches!(n.read_only, Cond::Expr(_)),
            TaskKind::Constraint | TaskKind::Count => true,
        }
    };
    let start = cycle.iter().position(written).unwrap_or(0);
    let mut rotated = cycle[start..].to_vec();
    rotated.extend_from_slice(&cycle[..start]);
    let cycle = rotated.as_slice();
    let describe_task = |t: &Task| {
        let what = match t.kind {
            TaskKind::Relevance => "relevance",
            TaskKind::Value => "value",
            TaskKind::Required => "required",
            TaskKind::ReadOnly => "read_only",
            TaskKind::Constraint => "constraint",
            TaskKind::Count => "count",
        };
        format!("{} of `{}`", what, b.nodes[t.node].name)
    };
    let mut names: Vec<String> = cycle.iter().map(describe_task).collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    let first = cycle[0];
    let prop = match first.kind {
        TaskKind::Relevance => "relevant",
        TaskKind::Value => {
            let n = &b.nodes[first.node];
            if n.calculation.is_some() {
                "calculation"
            } else if n.default.is_some() {
                "default"
            } else {
                "relevant"
            }
        }
        TaskKind::Required => "required",
        TaskKind::ReadOnly => "read_only",
        TaskKind::Constraint => "constraint",
        TaskKind::Count => "count",
    };
    let pointer = format!("{}/{prop}", b.nodes[first.node].pointer);
    b.diagnostics.push(Diagnostic::error(
        Code::Cycle,
        pointer,
        format!(
            "these depend on each other in a cycle: {}",
            names.join(" → ")
        ),
    ));
}

/// Whether `span` lies in the first argument of an `indexed-repeat(…)` call, which reads a
/// field of another (explicitly numbered) repeat instance rather than the current one.
fn inside_other_instance(expr: &Expr, span: crate::expr::Span) -> bool {
    expr.calls().iter().any(|site| {
        site.call.function == Some(Function::IndexedRepeat)
            && site
                .call
                .args
                .first()
                .is_some_and(|arg| arg.span.start <= span.start && span.end <= arg.span.end)
    })
}
