//! Checks that wait until the whole workbook is read: `${name}` references, triggers,
//! choice lists used by selects and range tick labels.

use voices_core::form::Text;

use super::expressions::references_in;
use super::table::Cell;
use super::Importer;
use crate::diag::CellRef;

impl Importer<'_> {
    /// `${name}` references in a text (answers shown in a label), to check.
    pub(super) fn text_references(&mut self, text: &Text, at: &CellRef) {
        let values: Vec<&String> = match text {
            Text::Plain(s) => vec![s],
            Text::Translated(m) => m.values().collect(),
        };
        for value in values {
            for r in references_in(value) {
                let name = r.strip_prefix("last-saved#").unwrap_or(r);
                self.references.push((name.to_owned(), at.clone()));
            }
        }
    }

    /// `trigger`: pyxform's "set this value when that question changes". Voices has no
    /// equivalent; the reference is still checked so the designer learns of mistakes.
    pub(super) fn trigger(&mut self, cell: &Cell, name: &str) {
        let refs = references_in(cell.text);
        let single = refs.len() == 1 && cell.text.starts_with("${") && cell.text.ends_with('}');
        if !single {
            self.error(
                Some(cell.at.clone()),
                "bad-trigger",
                format!(
                    "trigger must name one question, like ${{q1}}, not '{}'",
                    cell.text
                ),
            );
            return;
        }
        self.references.push((refs[0].to_owned(), cell.at.clone()));
        self.triggers
            .push((refs[0].to_owned(), name.to_owned(), cell.at.clone()));
        self.warn(
            Some(cell.at.clone()),
            "unsupported-trigger",
            "'trigger' (set a value when another question changes) is not supported by Voices \
             and is ignored; use a calculation",
        );
    }

    /// Run the checks that waited for the whole workbook.
    pub(super) fn check_references(&mut self) {
        let references = std::mem::take(&mut self.references);
        for (name, at) in references {
            let places = self.declared.get(&name).filter(|p| p.len() > 1);
            if let Some(places) = places {
                let places: Vec<String> = places.iter().map(ToString::to_string).collect();
                let message = format!(
                    "${{{name}}} is ambiguous: '{name}' is the name at {}; a referenced name \
                     must be unique in the form (rename one)",
                    places.join(" and at ")
                );
                self.error(Some(at), "ambiguous-reference", message);
            } else if let Some(row) = self.loop_names.get(&name) {
                let message = format!(
                    "${{{name}}} is ambiguous: the loop at {row} makes one '{name}' per choice"
                );
                self.error(Some(at), "ambiguous-reference", message);
            } else if !self.all_names.contains(&name) {
                self.error(
                    Some(at),
                    "unknown-reference",
                    format!("${{{name}}} refers to no question, group or repeat in the form"),
                );
            }
        }
        let triggers = std::mem::take(&mut self.triggers);
        for (source, target, at) in triggers {
            if let Some((kind, computed)) = self.field_kinds.get(&source) {
                if !kind.is_shown_question() || *computed {
                    self.error(
                        Some(at),
                        "bad-trigger",
                        format!(
                            "${{{source}}} is not shown to the enumerator, so it cannot trigger ${{{target}}}"
                        ),
                    );
                }
            }
        }
        for check in std::mem::take(&mut self.tick_checks) {
            let Some(choices) = self.choices.get(&check.list) else {
                continue;
            };
            for choice in choices {
                let Ok(value) = choice.name.parse::<f64>() else {
                    self.error(
                        Some(check.at.clone()),
                        "bad-parameters",
                        format!(
                            "tick_labelset '{}' has the choice '{}', which is not a number",
                            check.list, choice.name
                        ),
                    );
                    break;
                };
                // With no-ticks only the two ends of the scale carry labels.
                if check.no_ticks && value != check.start && value != check.end {
                    self.error(
                        Some(check.at.clone()),
                        "bad-parameters",
                        format!(
                            "with appearance no-ticks, tick_labelset '{}' may only label the start \
                             ({}) and end ({}) of the range, not {}",
                            check.list, check.start, check.end, choice.name
                        ),
                    );
                    break;
                }
            }
        }
        let uses = std::mem::take(&mut self.list_uses);
        for (list, at) in uses {
            if !self.choice_lists.contains(&list) {
                self.error(
                    Some(at),
                    "missing-choice-list",
                    format!("choice list '{list}' is not defined on the choices sheet"),
                );
            }
        }
    }
}
