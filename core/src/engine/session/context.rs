//! The data tree as expressions see it: node ids for the response's instances
//! and the choice lists (secondary instances), and [`Ctx`], the session seen
//! from one node of one instance, implementing [`EvalContext`].

use std::borrow::Cow;

use crate::expr::{EvalContext, NodeId};

use super::super::compile::{CompiledForm, NodeIdx, NodeKind, Resolution, ROOT};
use super::{InstId, Session, ROOT_INST};

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

/// The instance and node a node id of the response designates (`None` for choice lists
/// and the document root).
pub(crate) fn response_node(id: NodeId) -> Option<(InstId, NodeIdx)> {
    match decode(id) {
        Decoded::Main(inst, node) => Some((inst, node)),
        _ => None,
    }
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
            Resolution::Found(t) => t,
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
            Resolution::Found(t) => t,
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

impl Session {
    pub(crate) fn context(&self, inst: InstId, node: NodeIdx) -> Ctx<'_> {
        Ctx {
            session: self,
            inst,
            node,
        }
    }
}
