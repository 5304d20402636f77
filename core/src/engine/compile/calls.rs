//! Checking an expression's function calls: unknown names (with a "did you
//! mean"), argument counts, invalid regular expressions, and `selected(…)` on
//! something that is not a select or with a choice its list does not have.

use crate::collections::Map;
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{Expr, ExprKind, Function};

use super::build::Builder;
use super::{resolve_in, ChoiceList, NodeIdx, NodeKind, Resolution};

impl Builder {
    pub(super) fn check_calls(
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
                Function::Enumerator => {
                    if let Some(ExprKind::String(key)) = call.args.first().map(|a| &a.kind) {
                        if !crate::matching::KEYS.contains(&&**key) {
                            let span = call.args[0].span;
                            self.diagnostics.push(
                                Diagnostic::error(
                                    Code::UnknownEnumeratorKey,
                                    pointer,
                                    format!(
                                        "`enumerator` reads `sex`, `languages` or `area`, not `{key}`{}",
                                        crate::diagnostic::suggestion(
                                            key,
                                            crate::matching::KEYS.iter().copied()
                                        )
                                    ),
                                )
                                .with_span(span.start, span.end),
                            );
                        }
                    }
                }
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
