//! Compiling a node's expressions: each parsed at its JSON pointer, its `${name}`
//! references resolved in the node's repeat scope, the nodes it reads collected as
//! the inputs of its task.

use crate::collections::Map;
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::ast::{Axis, NodeTest, PathStart};
use crate::expr::{self, ErrorKind, Expr, ExprKind, Function};
use crate::form::{Condition, ConsentRole, Item};

use super::super::tree::Flat;
use super::build::Builder;
use super::{resolve_in, ChoiceList, Cond, NodeIdx, Resolution, Task, TaskKind, ROOT};

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
    Match,
    /// An assent block's `minor`, which is its relevance.
    Minor,
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
            Prop::Match => "match",
            Prop::Minor => "minor",
        }
    }
}

impl Builder {
    pub(super) fn parse_at(&mut self, pointer: &str, source: &str) -> Option<Expr> {
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
    pub(super) fn compile_item(
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
                // An assent block is asked when its `minor` holds (the checker refuses
                // `relevant` on it).
                Item::Consent(c) if c.role == ConsentRole::Assent => {
                    (c.minor.as_deref(), None, None, None, None, None, None, None)
                }
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

        let relevant_prop = match f.item {
            Item::Consent(c) if c.role == ConsentRole::Assent => Prop::Minor,
            _ => Prop::Relevant,
        };
        if let Some((e, refs)) = compile(self, relevant_prop, relevant) {
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
        if let Item::Group(g) = f.item {
            // Evaluated when the enumerator reaches the group, so it is no task: its
            // references are only checked.
            if let Some((e, _refs)) = compile(self, Prop::Match, g.match_rule.as_deref()) {
                self.nodes[idx].match_rule = Some(e);
            }
        }
        if let Some((e, refs)) = compile(self, Prop::Count, count) {
            self.nodes[idx].count = Some(e);
            task_deps(TaskKind::Count, refs);
        }
        if let Item::Field(field) = f.item {
            if let Some(source) = field
                .choices_from
                .as_deref()
                .filter(|_| field.kind.uses_choices())
            {
                self.compile_repeat_choices(idx, &ptr, source, filter, by_name, lists);
            }
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
    pub(super) fn check_expr(
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

    /// The form's `instance_name`: read at the top level, never from pii or sensitive fields.
    pub(super) fn compile_instance_name(
        &mut self,
        src: &str,
        by_name: &Map<String, Vec<NodeIdx>>,
        lists: &[ChoiceList],
    ) -> Option<Expr> {
        let expr = self.parse_at("/instance_name", src)?;
        for r in expr.references() {
            match resolve_in(&self.nodes, by_name, r.name, ROOT) {
                Resolution::Unknown => self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownReference,
                        "/instance_name",
                        format!("`${{{}}}` does not name a field of this form", r.name),
                    )
                    .with_span(r.span.start, r.span.end),
                ),
                Resolution::Found(n) => {
                    let node = &self.nodes[n];
                    if node.pii || node.sensitive {
                        self.diagnostics.push(
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
        self.check_calls("/instance_name", &expr, ROOT, by_name, lists);
        Some(expr)
    }
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
