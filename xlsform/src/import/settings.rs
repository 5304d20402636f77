//! The `settings` sheet: the form's id, version, title, default language, instance
//! name and safe exit, and each language's writing direction.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use voices_core::form::{Form, Item, SafeExit, Text};

use super::names::valid_name;
use super::table::Table;
use super::{Importer, Origin};
use crate::columns::{self, yes_no};
use crate::diag::CellRef;
use crate::workbook::{SheetRow, Workbook};

impl Importer<'_> {
    pub(super) fn read_settings(
        &mut self,
        table: Option<&Table>,
        row: Option<&SheetRow>,
        body: Vec<Item>,
    ) -> Form {
        let get = |key: &str| match (table, row) {
            (Some(t), Some(r)) => t.get(r, key),
            _ => None,
        };
        let default_lang = self.default_lang.clone();
        let text = |key: &str| match (table, row) {
            (Some(t), Some(r)) => t.text(r, key, &default_lang).map(|t| t.0),
            _ => None,
        };
        let id = match get("form_id") {
            Some(c) if valid_form_id(c.text) => c.text.to_owned(),
            Some(c) => {
                let id = form_id_from(c.text);
                self.warn(
                    Some(c.at.clone()),
                    "form-id-changed",
                    format!(
                        "form_id '{}' may only use letters, digits, '_', '.' or '-': using '{id}'",
                        c.text
                    ),
                );
                id
            }
            None => form_id_from(&self.options.source_name),
        };
        let version = match get("version") {
            Some(c) => c.text.to_owned(),
            None => {
                let derived = derived_version(self.workbook);
                self.warn(
                    Some(CellRef::sheet(table.map_or("settings", |t| t.sheet))),
                    "derived-version",
                    format!(
                        "no version in settings: using '{derived}', derived from the workbook's content; \
                         set 'version' so you control it"
                    ),
                );
                derived
            }
        };
        if let Some(c) = get("name") {
            if !valid_name(c.text) {
                self.error(
                    Some(c.at.clone()),
                    "bad-name",
                    format!("settings name '{}' is not a valid name", c.text),
                );
            }
        }
        if let Some(c) = get("flat").filter(|c| yes_no(c.text) != Some(false)) {
            self.warn(
                Some(c.at.clone()),
                "flat-instance",
                "flat (ODK Tables' data without group elements): Voices keeps the groups as \
                 pages, their relevance applying to what they hold; answers inside groups are at \
                 the top level in Voices already, as flat asks (repeats keep their instances)",
            );
        }
        if let (Some(t), Some(r)) = (table, row) {
            let mut origin = Origin::of_row(t, r, |column| {
                Some(columns::settings_property(&column.key).to_owned())
            });
            if let Some(col) = origin.columns.get("default_language").copied() {
                origin.columns.entry("languages".to_owned()).or_insert(col);
            }
            self.origins.insert(String::new(), origin);
        }
        let title = text("form_title").unwrap_or_else(|| Text::Plain(id.clone()));
        let instance_name = get("instance_name").map(|c| self.expression(&c));
        let safe_exit = text("safe_exit_title").map(|title| SafeExit {
            title,
            message: text("safe_exit_message"),
            decoy_group: get("safe_exit_decoy_group").map(|c| c.text.to_owned()),
        });
        if safe_exit.is_none() {
            for key in ["safe_exit_message", "safe_exit_decoy_group"] {
                if let Some(c) = get(key).or_else(|| {
                    table.zip(row).and_then(|(t, r)| {
                        t.columns
                            .iter()
                            .filter(|col| col.key == key)
                            .find_map(|col| t.cell(r, col))
                    })
                }) {
                    self.error(
                        Some(c.at),
                        "missing-safe-exit-title",
                        format!("{key} needs safe_exit_title"),
                    );
                }
            }
        }
        if let (Some(t), Some(r)) = (table, row) {
            self.read_directions(t, r);
        }
        Form {
            schema: None,
            id,
            version,
            title,
            description: text("description"),
            languages: self.used_languages(),
            default_language: self.default_lang.clone(),
            instance_name,
            safe_exit,
            body,
            choices: BTreeMap::new(),
            entities: Vec::new(),
        }
    }
}

fn valid_form_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A form id from a file name: characters outside `[A-Za-z0-9_.-]` become `_`.
fn form_id_from(source: &str) -> String {
    let mut id: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    if id == "_" {
        "form".to_owned()
    } else {
        id
    }
}

/// A version that changes whenever any cell changes: a digest of every sheet's cells.
fn derived_version(workbook: &Workbook) -> String {
    let mut hasher = Sha256::new();
    for sheet in &workbook.sheets {
        hasher.update(sheet.name.as_bytes());
        hasher.update([0]);
        for row in &sheet.rows {
            hasher.update(row.number.to_le_bytes());
            for cell in &row.cells {
                hasher.update(cell.as_bytes());
                hasher.update([0]);
            }
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_ids_come_from_file_names() {
        assert_eq!(form_id_from("My Survey 2024"), "My_Survey_2024");
        assert_eq!(form_id_from("2024 survey"), "_2024_survey");
    }
}
