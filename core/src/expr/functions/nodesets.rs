//! Node-sets, repeats and instances: `count`, `position`, `instance`,
//! `pulldata`, `indexed-repeat` (a field inside chosen repeat instances) and
//! `randomize`.

use crate::expr::ast::{Axis, Expr, ExprKind, NodeTest, PathStart};
use crate::expr::context::NodeId;
use crate::expr::eval::Focus;
use crate::expr::value::Value;
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, num, text, Args};

pub(super) fn count(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(num(a.nodes(0, "a node-set")?.len() as f64))
}

pub(super) fn count_non_empty(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let nodes = a.nodes(0, "a node-set")?;
    Ok(num(nodes
        .iter()
        .filter(|&&n| !a.ev.ctx.value(n).is_empty())
        .count() as f64))
}

/// `position()`: the focus's place in its node-set (or among its siblings);
/// `position(node)`: that node's place among its siblings.
pub(super) fn position(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    if a.len() == 0 {
        let focus = a.focus;
        let position = match focus.position {
            0 => focus.node.and_then(|n| a.ev.ctx.position(n)).unwrap_or(1),
            p => p,
        };
        return Ok(num(position as f64));
    }
    let nodes = a.nodes(0, "a node")?;
    Ok(match nodes.first().and_then(|&n| a.ev.ctx.position(n)) {
        Some(p) => num(p as f64),
        None => num(f64::NAN),
    })
}

pub(super) fn instance(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let id = a.string(0)?;
    match a.ev.ctx.instance(&id) {
        Some(node) => Ok(Value::Nodes(vec![node])),
        None => Err(err(
            ErrorKind::UnknownInstance,
            a.expr(0).span,
            format!("there is no instance (choice list) named `{id}`"),
        )),
    }
}

/// `pulldata(instance, wanted, key, query)`: the `wanted` child of the first
/// `item` of that instance whose `key` child equals `query`; "" when none does.
pub(super) fn pulldata(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let id = a.string(0)?;
    let wanted = a.string(1)?;
    let key = a.string(2)?;
    let query = a.string(3)?;
    Ok(text(lookup(a, &id, &wanted, &key, &query)))
}

fn lookup(a: &Args<'_, '_, '_>, id: &str, wanted: &str, key: &str, query: &str) -> String {
    let ctx = a.ev.ctx;
    let Some(doc) = ctx.instance(id) else {
        return String::new();
    };
    let mut roots = Vec::new();
    ctx.children(doc, Some("root"), &mut roots);
    let mut items = Vec::new();
    for r in roots {
        ctx.children(r, Some("item"), &mut items);
    }
    let mut scratch = Vec::new();
    for item in items {
        scratch.clear();
        ctx.children(item, Some(key), &mut scratch);
        if scratch.iter().any(|&k| ctx.value(k) == query) {
            scratch.clear();
            ctx.children(item, Some(wanted), &mut scratch);
            return scratch
                .first()
                .map(|&n| ctx.value(n).into_owned())
                .unwrap_or_default();
        }
    }
    String::new()
}

pub(super) fn randomize(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let mut nodes = a.nodes(0, "a node-set")?;
    let seed = if a.len() > 1 {
        Some(a.number(1)?)
    } else {
        None
    };
    shuffle(&mut nodes, seed, a.ev.env);
    Ok(Value::Nodes(nodes))
}

fn shuffle(nodes: &mut [NodeId], seed: Option<f64>, env: &mut dyn crate::env::Environment) {
    // With a seed, a deterministic generator (so a seeded order is reproducible); else the environment's.
    let mut state = seed.map(|s| s.to_bits() ^ 0x2545_F491_4F6C_DD1D);
    let mut next = |env: &mut dyn crate::env::Environment| -> f64 {
        match state.as_mut() {
            Some(s) => {
                *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = *s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            }
            None => env.random(),
        }
    };
    for i in (1..nodes.len()).rev() {
        let j = ((next(env) * (i + 1) as f64) as usize).min(i);
        nodes.swap(i, j);
    }
}

#[inline(never)]
pub(super) fn indexed_repeat(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    if a.len() % 2 == 0 {
        return Err(err(
            ErrorKind::Arity,
            a.span(),
            "`indexed-repeat` takes a field, then pairs of repeat and index",
        ));
    }
    let mut anchor: Option<NodeId> = None;
    let mut anchor_path_len = 0usize;
    let mut i = 1;
    while i < a.len() {
        let repeat_expr = a.expr(i).clone();
        let index = a.number(i + 1)?;
        let candidates = match anchor {
            None => a.nodes(i, "a repeat")?,
            Some(node) => relative_nodes(a, &repeat_expr, node, anchor_path_len)?,
        };
        let chosen = if index >= 1.0 && index.is_finite() {
            candidates.get(index as usize - 1).copied()
        } else {
            None
        };
        let Some(chosen) = chosen else {
            return Ok(Value::Nodes(Vec::new()));
        };
        anchor = Some(chosen);
        anchor_path_len = absolute_steps(&repeat_expr).map_or(0, |s| s.len());
        i += 2;
    }
    let target = a.expr(0).clone();
    match anchor {
        Some(node) => Ok(Value::Nodes(relative_nodes(
            a,
            &target,
            node,
            anchor_path_len,
        )?)),
        None => Ok(Value::Nodes(Vec::new())),
    }
}

/// The child steps of a plain absolute path (`/data/r/x`), if it is one.
fn absolute_steps(e: &Expr) -> Option<Vec<&str>> {
    let ExprKind::Path(path) = &e.kind else {
        return None;
    };
    if !matches!(path.start, PathStart::Root) {
        return None;
    }
    path.steps
        .iter()
        .map(|s| match (&s.axis, &s.test, s.predicates.is_empty()) {
            (Axis::Child, NodeTest::Name(n), true) => Some(&**n),
            _ => None,
        })
        .collect()
}

/// Evaluate `e` as seen from inside repeat instance `anchor`: `${name}` resolves
/// in that instance; an absolute path continues below it.
fn relative_nodes(
    a: &mut Args<'_, '_, '_>,
    e: &Expr,
    anchor: NodeId,
    anchor_path_len: usize,
) -> Result<Vec<NodeId>, ExprError> {
    if let ExprKind::Reference(name) = &e.kind {
        let mut out = Vec::new();
        if a.ev.ctx.resolve_reference(name, Some(anchor), &mut out) {
            return Ok(out);
        }
        return Err(err(
            ErrorKind::UnknownReference,
            e.span,
            format!("`${{{name}}}` does not name a field of this form"),
        ));
    }
    if let Some(steps) = absolute_steps(e) {
        if steps.len() > anchor_path_len && anchor_path_len > 0 {
            let mut nodes = vec![anchor];
            let mut next = Vec::new();
            for name in &steps[anchor_path_len..] {
                next.clear();
                for &n in &nodes {
                    a.ev.ctx.children(n, Some(name), &mut next);
                }
                std::mem::swap(&mut nodes, &mut next);
            }
            return Ok(nodes);
        }
    }
    let focus = Focus {
        node: Some(anchor),
        position: 0,
        size: 1,
    };
    match a.ev.eval(e, focus)? {
        Value::Nodes(n) => Ok(n),
        other => Err(err(
            ErrorKind::Type,
            e.span,
            format!(
                "`indexed-repeat` needs fields and repeats here, not a {}",
                other.type_name()
            ),
        )),
    }
}
