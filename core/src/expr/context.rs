//! What an expression can see: the [`EvalContext`] the form engine implements,
//! and [`MapContext`], a small tree built from absolute paths for tests and tools.

use crate::collections::Map;
use std::borrow::Cow;

/// A node of the data tree, as the context numbers it.
///
/// Ids must sort in document order (the evaluator sorts node-sets by id when
/// it merges them); otherwise their meaning belongs to the implementor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u64);

/// The data an expression is evaluated against.
///
/// The form engine implements this over a response; every method is a cheap
/// lookup so evaluation stays fast. Node-sets are filled into caller-owned
/// vectors to avoid allocating per lookup.
pub trait EvalContext {
    /// The node the expression belongs to: `.` outside predicates, and `current()`.
    fn context_node(&self) -> Option<NodeId>;

    /// The document element's parent (what `/` designates), if there is a document.
    fn root(&self) -> Option<NodeId>;

    /// Append the nodes `${name}` designates as seen from `from`: inside a repeat
    /// instance, the field in the same instance; outside, every instance's node.
    /// Returns `false` when no field has that name (an evaluation error).
    fn resolve_reference(&self, name: &str, from: Option<NodeId>, out: &mut Vec<NodeId>) -> bool;

    /// Append the children of `node` named `name` (all element children for `None`), in order.
    fn children(&self, node: NodeId, name: Option<&str>, out: &mut Vec<NodeId>);

    /// The parent of `node`, `None` for the root.
    fn parent(&self, node: NodeId) -> Option<NodeId>;

    /// The element name of `node`.
    fn name(&self, node: NodeId) -> Cow<'_, str>;

    /// The string value of `node` (its answer in canonical text; empty when unanswered).
    fn value(&self, node: NodeId) -> Cow<'_, str>;

    /// The 1-based position of `node` among its same-named siblings (the repeat instance number).
    fn position(&self, node: NodeId) -> Option<usize> {
        let parent = self.parent(node)?;
        let name = self.name(node);
        let mut siblings = Vec::new();
        self.children(parent, Some(&name), &mut siblings);
        siblings.iter().position(|n| *n == node).map(|i| i + 1)
    }

    /// The node `instance('id')` designates: a node whose child is `root`, whose
    /// children are the `item`s (choice lists: `name`, `label` and extra properties).
    fn instance(&self, _id: &str) -> Option<NodeId> {
        None
    }

    /// The label, in the active language, of choice `value` of the select field
    /// `field` (for `jr:choice-name`). `field` is the second argument with
    /// `${…}` removed, or the path as written.
    fn choice_label(&self, _field: &str, _value: &str) -> Option<String> {
        None
    }
}

/// An [`EvalContext`] over a tree built from absolute paths and values.
///
/// Used by the conformance tests and handy for tests elsewhere:
/// ```
/// use voices_core::expr::{MapContext, parse, evaluate};
/// use voices_core::env::FixedEnvironment;
/// let mut ctx = MapContext::new();
/// ctx.push("/data/age", "34");
/// let expr = parse("/data/age + 1").unwrap();
/// let mut env = FixedEnvironment::new(chrono::DateTime::UNIX_EPOCH.fixed_offset(), 1);
/// let value = evaluate(&expr, &ctx, &mut env).unwrap();
/// assert_eq!(value.to_string_value(&ctx), "35");
/// ```
#[derive(Debug, Clone)]
pub struct MapContext {
    nodes: Vec<MapNode>,
    context: Option<usize>,
    instances: Map<String, usize>,
    labels: Map<(String, String), String>,
}

#[derive(Debug, Clone)]
struct MapNode {
    name: String,
    value: String,
    parent: Option<usize>,
    children: Vec<usize>,
}

impl Default for MapContext {
    fn default() -> Self {
        Self::new()
    }
}

impl MapContext {
    /// An empty document (only the root).
    pub fn new() -> MapContext {
        MapContext {
            nodes: vec![MapNode {
                name: String::new(),
                value: String::new(),
                parent: None,
                children: Vec::new(),
            }],
            context: None,
            instances: Map::default(),
            labels: Map::default(),
        }
    }

    /// Add a leaf at an absolute path (`/data/group/q`), creating missing
    /// ancestors (reusing the first existing one of each name). Pushing the same
    /// path again adds a same-named sibling, as repeat instances are.
    /// Returns the new node.
    pub fn push(&mut self, path: &str, value: &str) -> NodeId {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut node = 0;
        if let Some((leaf, ancestors)) = parts.split_last() {
            for part in ancestors {
                node = self.child_or_new(node, part);
            }
            node = self.new_node(node, leaf, value);
        }
        NodeId(node as u64)
    }

    /// Make the node at `path` (created empty if missing) the context node.
    pub fn set_context_path(&mut self, path: &str) -> NodeId {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut node = 0;
        for part in parts {
            node = self.child_or_new(node, part);
        }
        self.context = Some(node);
        NodeId(node as u64)
    }

    /// Make a detached node holding `value` the context node (`.`).
    pub fn set_context_value(&mut self, value: &str) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(MapNode {
            name: "context".to_owned(),
            value: value.to_owned(),
            parent: None,
            children: Vec::new(),
        });
        self.context = Some(id);
        NodeId(id as u64)
    }

    /// Add a secondary instance `instance(id)/root/item`, one item per map of properties.
    pub fn add_instance<'a>(
        &mut self,
        id: &str,
        items: impl IntoIterator<Item = &'a [(&'a str, &'a str)]>,
    ) {
        let doc = self.nodes.len();
        self.nodes.push(MapNode {
            name: String::new(),
            value: String::new(),
            parent: None,
            children: Vec::new(),
        });
        let root = self.new_node(doc, "root", "");
        for item in items {
            let item_node = self.new_node(root, "item", "");
            for (key, value) in item {
                self.new_node(item_node, key, value);
            }
        }
        self.instances.insert(id.to_owned(), doc);
    }

    /// Set the label `jr:choice-name(value, field)` returns.
    pub fn set_choice_label(&mut self, field: &str, value: &str, label: &str) {
        self.labels
            .insert((field.to_owned(), value.to_owned()), label.to_owned());
    }

    fn child_or_new(&mut self, parent: usize, name: &str) -> usize {
        if let Some(&existing) = self.nodes[parent]
            .children
            .iter()
            .find(|&&c| self.nodes[c].name == name)
        {
            return existing;
        }
        self.new_node(parent, name, "")
    }

    fn new_node(&mut self, parent: usize, name: &str, value: &str) -> usize {
        let id = self.nodes.len();
        self.nodes.push(MapNode {
            name: name.to_owned(),
            value: value.to_owned(),
            parent: Some(parent),
            children: Vec::new(),
        });
        self.nodes[parent].children.push(id);
        id
    }

    fn index(&self, node: NodeId) -> Option<&MapNode> {
        usize::try_from(node.0).ok().and_then(|i| self.nodes.get(i))
    }
}

impl EvalContext for MapContext {
    fn context_node(&self) -> Option<NodeId> {
        self.context.map(|c| NodeId(c as u64))
    }

    fn root(&self) -> Option<NodeId> {
        Some(NodeId(0))
    }

    fn resolve_reference(&self, name: &str, from: Option<NodeId>, out: &mut Vec<NodeId>) -> bool {
        // Siblings of `from` first (same repeat instance), else every node with that name.
        if let Some(parent) = from.and_then(|f| self.index(f)).and_then(|n| n.parent) {
            let before = out.len();
            out.extend(
                self.nodes[parent]
                    .children
                    .iter()
                    .filter(|&&c| self.nodes[c].name == name)
                    .map(|&c| NodeId(c as u64)),
            );
            if out.len() > before {
                return true;
            }
        }
        let before = out.len();
        // Node ids are assigned in insertion order, which is document order here.
        let mut stack = vec![0usize];
        let mut found = Vec::new();
        while let Some(n) = stack.pop() {
            if n != 0 && self.nodes[n].name == name {
                found.push(NodeId(n as u64));
            }
            stack.extend(self.nodes[n].children.iter().rev());
        }
        out.extend(found);
        out.len() > before
    }

    fn children(&self, node: NodeId, name: Option<&str>, out: &mut Vec<NodeId>) {
        if let Some(n) = self.index(node) {
            out.extend(
                n.children
                    .iter()
                    .filter(|&&c| name.is_none_or(|name| self.nodes[c].name == name))
                    .map(|&c| NodeId(c as u64)),
            );
        }
    }

    fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.index(node)?.parent.map(|p| NodeId(p as u64))
    }

    fn name(&self, node: NodeId) -> Cow<'_, str> {
        Cow::Borrowed(self.index(node).map_or("", |n| n.name.as_str()))
    }

    fn value(&self, node: NodeId) -> Cow<'_, str> {
        Cow::Borrowed(self.index(node).map_or("", |n| n.value.as_str()))
    }

    fn instance(&self, id: &str) -> Option<NodeId> {
        self.instances.get(id).map(|&n| NodeId(n as u64))
    }

    fn choice_label(&self, field: &str, value: &str) -> Option<String> {
        self.labels
            .get(&(field.to_owned(), value.to_owned()))
            .cloned()
    }
}
