//! Names and their scopes: a name is unique within its repeat (outside repeats, in
//! the whole form); pyxform allows the same name in two groups, so the second is
//! renamed after its group.

use super::table::{Cell, Table};
use super::Importer;
use crate::diag::CellRef;
use crate::workbook::SheetRow;

/// A field name XLSForm accepts: an XML name without a colon.
pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Importer<'_> {
    /// Declare a name in the current repeat scope and return the name to use. A name
    /// already used in another group of the same scope (pyxform allows that, Voices does
    /// not) is renamed `group_name`, with a warning; in the same group it is an error.
    pub(super) fn declare(&mut self, name: &str, at: &CellRef) -> String {
        self.all_names.insert(name.to_owned());
        if self.has_entities {
            let path = self.container_path();
            self.declared_paths
                .push((name.to_owned(), at.clone(), path));
        }
        if name == "meta" {
            self.error(
                Some(at.clone()),
                "reserved-name",
                "'meta' is reserved for the form's metadata; choose another name",
            );
        }
        let (parent_id, parent_name) = self.parents.last().cloned().unwrap_or((0, String::new()));
        // Only a `…_count` name can clash with a generated repeat count element.
        if name.ends_with("_count") {
            self.names_in_parent.insert((parent_id, name.to_owned()));
        }
        let scope = self
            .scopes
            .last_mut()
            .expect("the form scope is never popped");
        let Some(first) = scope.get(name).cloned() else {
            scope.insert(name.to_owned(), (at.clone(), parent_id));
            return name.to_owned();
        };
        if first.1 == parent_id || parent_name.is_empty() {
            let message = format!(
                "the name '{name}' is already used at {}; names must be unique \
                 (outside of repeats, groups do not separate names in Voices)",
                first.0
            );
            self.error(Some(at.clone()), "duplicate-name", message);
            return name.to_owned();
        }
        let base = format!("{parent_name}_{name}");
        let mut renamed = base.clone();
        let mut n = 2;
        while scope.contains_key(&renamed) {
            renamed = format!("{base}_{n}");
            n += 1;
        }
        scope.insert(renamed.clone(), (at.clone(), parent_id));
        self.ambiguous.insert(name.to_owned());
        self.all_names.insert(renamed.clone());
        self.warn(
            Some(at.clone()),
            "renamed",
            format!(
                "'{name}' is also the name at {}: Voices needs names unique outside repeats, \
                 so this one is imported as '{renamed}'",
                first.0
            ),
        );
        renamed
    }

    /// The row's `name`, checked and declared; `what` the row is, for messages.
    pub(super) fn name(
        &mut self,
        table: &Table,
        row: &SheetRow,
        what: &str,
    ) -> Option<(String, CellRef)> {
        let Some(cell) = table.get(row, "name").filter(|c| !c.text.trim().is_empty()) else {
            // pyxform names a nameless note after its row; any other row needs a name.
            let is_note = table
                .get(row, "type")
                .is_some_and(|t| t.text.trim().eq_ignore_ascii_case("note"));
            if is_note {
                let at = table.row_ref(row);
                let name = self.declare(&format!("generated_note_name_{}", row.number), &at);
                return Some((name, at));
            }
            self.error(
                Some(table.row_ref(row)),
                "missing-name",
                format!("this {what} has no name"),
            );
            return None;
        };
        if !valid_name(cell.text) {
            self.error(
                Some(cell.at.clone()),
                "bad-name",
                format!(
                    "'{}' is not a valid name: start with a letter or '_', then use letters, \
                     digits, '_', '-' or '.'",
                    cell.text
                ),
            );
            return None;
        }
        let name = self.declare(cell.text, &cell.at);
        Some((name, cell.at))
    }

    /// pyxform's rules on repeat names, which ODK tools rely on: a repeat is not named
    /// like the form's root element (settings `name`, default `data`), no two repeats
    /// share a name anywhere in the form, and a computed `repeat_count` (not a plain
    /// `${name}`) becomes an element `NAME_count` beside the repeat, which no item there
    /// may already be called.
    pub(super) fn check_repeat_name(&mut self, name: &str, at: &CellRef, count: Option<&Cell>) {
        let root = self
            .settings_value("name")
            .unwrap_or_else(|| "data".to_owned());
        if name == root {
            self.refuse_unless_lenient(
                at,
                "reserved-name",
                format!(
                    "a repeat cannot be named '{name}', the name of the form's root element \
                     (settings 'name', default 'data')"
                ),
            );
        }
        if let Some(first) = self.repeat_names.get(name).cloned() {
            self.refuse_unless_lenient(
                at,
                "duplicate-name",
                format!("the repeat name '{name}' is already used at {first}; repeat names must be unique in the whole form"),
            );
        } else {
            self.repeat_names.insert(name.to_owned(), at.clone());
        }
        if let Some(cell) = count {
            let plain_reference = {
                let t = cell.text.trim();
                t.starts_with("${")
                    && t.ends_with('}')
                    && t[2..t.len() - 1].chars().all(|c| c != '}' && c != '$')
            };
            if !plain_reference {
                let parent_id = self.parents.last().map_or(0, |p| p.0);
                self.generated_counts
                    .push((parent_id, format!("{name}_count"), cell.at.clone()));
            }
        }
    }

    /// Report generated `NAME_count` elements that clash with an item of the same parent.
    pub(super) fn check_generated_counts(&mut self) {
        for (parent_id, generated, at) in std::mem::take(&mut self.generated_counts) {
            if self
                .names_in_parent
                .contains(&(parent_id, generated.clone()))
            {
                self.refuse_unless_lenient(
                    &at,
                    "duplicate-name",
                    format!(
                        "this repeat count is computed, so ODK adds an element '{generated}' beside \
                         the repeat, and that name is already used there; rename that question"
                    ),
                );
            }
        }
    }

    /// An error, or with `--lenient` a warning: for names Voices itself could accept
    /// but ODK's XForms cannot hold.
    fn refuse_unless_lenient(&mut self, at: &CellRef, code: &'static str, message: String) {
        if self.options.lenient {
            self.warn(Some(at.clone()), code, message);
        } else {
            self.error(Some(at.clone()), code, message);
        }
    }
}
