//! Choices from the answers of a field inside a repeat (`choices_from`, XLSForm's
//! `select_one ${name}`): the source field resolved from the select, and the choice
//! filter turned into a predicate over the repeat's instances, as pyxform writes the
//! itemset `../rep[filter]`. In the filter, `${x}` for a field of that repeat means its
//! value in the instance being offered (pyxform's `./x`); every other reference keeps its
//! meaning from the select (pyxform's `current()/../x`).

use crate::collections::Map;
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{self, Expr};

use super::build::Builder;
use super::{resolve_in, ChoiceList, NodeIdx, NodeKind, RepeatChoices, Resolution, ROOT};

impl Builder {
    pub(super) fn compile_repeat_choices(
        &mut self,
        select: NodeIdx,
        ptr: &str,
        source: &str,
        filter: Option<&str>,
        by_name: &Map<String, Vec<NodeIdx>>,
        lists: &[ChoiceList],
    ) {
        let pointer = format!("{ptr}/choices_from");
        let field = match resolve_in(&self.nodes, by_name, source, select) {
            Resolution::Found(n) => n,
            Resolution::Unknown => {
                let hint =
                    crate::diagnostic::suggestion(source, by_name.keys().map(String::as_str));
                self.diagnostics.push(Diagnostic::error(
                    Code::UnknownReference,
                    pointer,
                    format!("choices_from names `{source}`, which is no field of this form{hint}"),
                ));
                return;
            }
            Resolution::Ambiguous(nodes) => {
                let places: Vec<&str> = nodes
                    .iter()
                    .map(|&n| self.nodes[n].pointer.as_str())
                    .collect();
                self.diagnostics.push(Diagnostic::error(
                    Code::AmbiguousReference,
                    pointer,
                    format!(
                        "choices_from `{source}` is ambiguous here: it names {}; rename one of them",
                        places.join(" and ")
                    ),
                ));
                return;
            }
        };
        let repeat = self.nodes[field].scope;
        if !matches!(self.nodes[field].kind, NodeKind::Field(_)) || repeat == ROOT {
            self.diagnostics.push(Diagnostic::error(
                Code::ChoicesFromNotInRepeat,
                pointer,
                format!(
                    "choices_from must name a field inside a repeat (its answers, one per \
                     instance, are the choices); `{source}` at {} is not",
                    self.nodes[field].pointer
                ),
            ));
            return;
        }
        // The itemset starts from `${repeat}`, so that name must lead back to the repeat.
        let repeat_name = self.nodes[repeat].name.clone();
        if !matches!(
            resolve_in(&self.nodes, by_name, &repeat_name, select),
            Resolution::Found(r) if r == repeat
        ) {
            self.diagnostics.push(Diagnostic::error(
                Code::AmbiguousReference,
                pointer,
                format!(
                    "the repeat `{repeat_name}` holding `{source}` shares its name with another \
                     item seen from here; rename one of them"
                ),
            ));
            return;
        }
        let predicate = match filter {
            None => None,
            Some(src) => {
                let filter_pointer = format!("{ptr}/choice_filter");
                let Some(parsed) = self.parse_at(&filter_pointer, src) else {
                    return;
                };
                self.check_expr(&filter_pointer, &parsed, select, by_name, lists);
                Some(self.read_in_instance(&parsed, src, select, repeat, by_name))
            }
        };
        let text = match predicate {
            Some(p) => format!("${{{repeat_name}}}[{p}]"),
            None => format!("${{{repeat_name}}}"),
        };
        // Only references became paths, so a filter that parsed still parses.
        if let Ok(itemset) = expr::parse(&text) {
            self.nodes[select].repeat_choices = Some(Box::new(RepeatChoices { field, itemset }));
        }
    }

    /// The filter's text with each `${x}` naming a node inside `repeat` written as the
    /// path from the repeat's instance to it (`./group/x`).
    fn read_in_instance(
        &self,
        parsed: &Expr,
        src: &str,
        select: NodeIdx,
        repeat: NodeIdx,
        by_name: &Map<String, Vec<NodeIdx>>,
    ) -> String {
        let mut references = parsed.references();
        references.sort_by_key(|r| std::cmp::Reverse(r.span.start));
        let mut text = src.to_owned();
        for r in references {
            let Resolution::Found(target) = resolve_in(&self.nodes, by_name, r.name, select) else {
                continue;
            };
            let Some(path) = self.path_below(repeat, target) else {
                continue;
            };
            if text.get(r.span.start..r.span.end).is_some() {
                text.replace_range(r.span.start..r.span.end, &path);
            }
        }
        text
    }

    /// `./a/b`: the element path from an instance of `repeat` down to `node`, if inside it.
    fn path_below(&self, repeat: NodeIdx, node: NodeIdx) -> Option<String> {
        let mut names = Vec::new();
        let mut at = node;
        while at != repeat {
            names.push(self.nodes[at].name.as_str());
            at = self.nodes[at].parent?;
            if at == ROOT {
                return None;
            }
        }
        if names.is_empty() {
            return None;
        }
        names.push(".");
        names.reverse();
        Some(names.join("/"))
    }
}
