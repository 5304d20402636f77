//! Names and their scopes: a name is unique within its repeat (outside repeats, in
//! the whole form); pyxform allows the same name in two groups, so the second is
//! renamed after its group.

use super::table::Table;
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
        if name == "meta" {
            self.error(
                Some(at.clone()),
                "reserved-name",
                "'meta' is reserved for the form's metadata; choose another name",
            );
        }
        let (parent_id, parent_name) = self.parents.last().cloned().unwrap_or((0, String::new()));
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
        let Some(cell) = table.get(row, "name") else {
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
}
