//! The dependency graph: every task with the nodes it reads, ordered
//! topologically (Kahn's algorithm, document order first), cycles reported with
//! the chain of what depends on what, and per repeat what a change in its
//! instances touches.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::collections::{Map, Set};
use crate::diagnostic::{Code, Diagnostic};

use super::build::Builder;
use super::{CompiledForm, Cond, ItemData, NodeIdx, NodeKind, NodeTasks, Task, TaskKind, ROOT};
use crate::form::ConsentRole;

type Ordered = (Vec<Task>, Vec<Vec<usize>>, Vec<Vec<usize>>, Vec<NodeTasks>);

/// Build every task with its inputs, order them topologically and report cycles.
pub(super) fn order_tasks(b: &mut Builder, explicit: Vec<(Task, Vec<(NodeIdx, bool)>)>) -> Ordered {
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
    // A gated item's relevance reads the consent (and the assent) answer and relevance.
    let block = |role: ConsentRole| {
        b.nodes.iter().position(
            |n| matches!(&n.item, ItemData::Consent(c) if c.role == role && n.kind == NodeKind::Consent && n.parent == Some(ROOT)),
        )
    };
    let (consent, assent) = (block(ConsentRole::Consent), block(ConsentRole::Assent));
    for (idx, n) in b.nodes.iter().enumerate() {
        let gates = [
            consent.filter(|_| n.consent_gated),
            assent.filter(|_| n.assent_gated),
        ];
        for g in gates.into_iter().flatten() {
            if let Some(v) = inputs.get_mut(&Task {
                node: idx,
                kind: TaskKind::Relevance,
            }) {
                v.push((g, false));
                v.push((g, true));
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

/// What a change in a repeat's instances touches, per repeat.
pub(super) fn index_repeats(c: &mut CompiledForm) {
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
