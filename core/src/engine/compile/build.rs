//! Building a compiled form: the items flattened into nodes (parents, scopes,
//! slots, names), the choice lists indexed, then the expressions compiled and the
//! tasks ordered by the sibling modules.

use crate::collections::Map;
use crate::diagnostic::Diagnostic;
use crate::form::{ConsentRole, FieldType, Form, Group, Item, Repeat};

use super::super::selection::CompiledSelection;
use super::super::tree::{flatten, has_privacy_check, Flat};
use super::order::{index_repeats, order_tasks};
use super::{ChoiceList, CompiledForm, Cond, ItemData, Node, NodeIdx, NodeKind, Task, ROOT};

pub(super) struct Builder {
    pub(super) nodes: Vec<Node>,
    pub(super) diagnostics: Vec<Diagnostic>,
    /// "Did you mean" hints left to compute. Each compares the wrong name with every
    /// field name, so without a cap a form with thousands of bad references would
    /// take quadratic time; the first ones are what a designer reads anyway.
    pub(super) suggestions_left: usize,
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
    let top_level = |role: ConsentRole| {
        flat.iter()
            .position(|f| f.depth == 0 && matches!(f.item, Item::Consent(c) if c.role == role))
    };
    let consent_index = top_level(ConsentRole::Consent);
    let assent_index = top_level(ConsentRole::Assent);
    for (i, f) in flat.iter().enumerate() {
        let node = make_node(f, i, consent_index, assent_index);
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
        scope_names.entry((n.scope, n.key.clone())).or_insert(idx);
    }
    let (lists, list_index) = index_choice_lists(form);
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
    let selections = compile_selections(&mut b, &flat, &by_name, &lists);
    let referrals = super::referral::compile_referrals(&mut b, &flat, &by_name, &lists);
    let consent = consent_index.map(|c| c + 1);
    let assent = assent_index.map(|a| a + 1);
    let instance_name = form
        .instance_name
        .as_ref()
        .and_then(|src| b.compile_instance_name(src, &by_name, &lists));

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
        assent,
        instance_name,
        selections,
        referrals,
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

/// The form's choice lists, with each list's choices by name and its extra properties.
fn index_choice_lists(form: &Form) -> (Vec<ChoiceList>, Map<String, usize>) {
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
    (lists, list_index)
}

/// Each respondent selection's roster and eligibility. The expression is checked as
/// read from inside a roster member's instance (where `${member_age}` is theirs); a
/// roster that is not beside the field is the structural check's to report.
fn compile_selections(
    b: &mut Builder,
    flat: &[Flat<'_>],
    by_name: &Map<String, Vec<NodeIdx>>,
    lists: &[ChoiceList],
) -> Map<NodeIdx, CompiledSelection> {
    let mut out = Map::default();
    for (i, f) in flat.iter().enumerate() {
        let Item::Field(field) = f.item else { continue };
        if field.kind != FieldType::RespondentSelection {
            continue;
        }
        let Some(params) = &field.selection else {
            continue;
        };
        let idx = i + 1;
        let scope = b.nodes[idx].scope;
        let roster = by_name.get(&params.roster).and_then(|candidates| {
            candidates
                .iter()
                .copied()
                .find(|&r| b.nodes[r].kind == NodeKind::Repeat && b.nodes[r].scope == scope)
        });
        let Some(roster) = roster else { continue };
        let context = b.nodes[roster].children.first().copied().unwrap_or(roster);
        let eligible = params.eligible.as_deref().and_then(|src| {
            let pointer = format!("{}/selection/eligible", f.pointer);
            let expr = b.parse_at(&pointer, src)?;
            b.check_expr(&pointer, &expr, context, by_name, lists);
            Some(expr)
        });
        out.insert(
            idx,
            CompiledSelection {
                roster,
                eligible,
                method: params.method,
            },
        );
    }
    out
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
        entities: Vec::new(),
    }
}

fn root_node() -> Node {
    Node {
        kind: NodeKind::Root,
        name: "data".to_owned(),
        key: String::new(),
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
        repeat_choices: None,
        list: None,
        pii: false,
        sensitive: false,
        consent_gated: false,
        assent_gated: false,
        privacy_check: false,
        match_rule: None,
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

fn make_node(
    f: &Flat<'_>,
    index: usize,
    consent_index: Option<usize>,
    assent_index: Option<usize>,
) -> Node {
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
                match_rule: g.match_rule.clone(),
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
        key: f.key.clone(),
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
        repeat_choices: None,
        list: None,
        pii,
        sensitive: f.sensitive,
        consent_gated: f.depth == 0 && consent_index.is_some_and(|c| index > c) && !metadata,
        assent_gated: f.depth == 0 && assent_index.is_some_and(|a| index > a) && !metadata,
        privacy_check: has_privacy_check(f.item),
        match_rule: None,
        page,
        nondeterministic: false,
        item,
    }
}
