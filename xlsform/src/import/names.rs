//! Names and where they may repeat: as in XLSForm, a name is unique within its parent
//! group or repeat, so two groups may each hold a question of one name (Voices then
//! addresses each through its group, see `voices_core::form::answer_key`). A `${name}`
//! must still name one item: as pyxform, a reference to a name used more than once in
//! the form is an error naming the places.

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
    /// Declare a name in the innermost open group or repeat and return it. A name
    /// already used in the same group or repeat is an error; one used elsewhere is kept,
    /// and references to it become ambiguous.
    pub(super) fn declare(&mut self, name: &str, at: &CellRef) -> String {
        self.all_names.insert(name.to_owned());
        self.declared
            .entry(name.to_owned())
            .or_default()
            .push(at.clone());
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
        if let Some(first) = self
            .names_in_parent
            .get(&(parent_id, name.to_owned()))
            .cloned()
        {
            let within = if parent_name.is_empty() {
                "at the top of the form".to_owned()
            } else if self.parent_repeats.last() == Some(&true) {
                format!("in the repeat '{parent_name}'")
            } else {
                format!("in the group '{parent_name}'")
            };
            let message = format!(
                "the name '{name}' is already used at {first} {within}; names must be unique \
                 within their group or repeat"
            );
            self.error(Some(at.clone()), "duplicate-name", message);
            return name.to_owned();
        }
        self.names_in_parent
            .insert((parent_id, name.to_owned()), at.clone());
        name.to_owned()
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
                .contains_key(&(parent_id, generated.clone()))
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
