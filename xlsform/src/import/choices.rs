//! The `choices` and `external_choices` sheets: choice lists, their labels, media and
//! properties, and duplicate choice names (an error unless allowed).

use std::collections::{BTreeMap, HashMap};

use voices_core::form::{Choice, Media, Text};

use super::origins::pointer_escape;
use super::table::Table;
use super::{Importer, Origin};
use crate::columns::{self, yes_no};
use crate::diag::CellRef;

impl Importer<'_> {
    /// Every choice of a choices sheet (`sheet_kind`: `choices` or `external_choices`)
    /// into its list.
    pub(super) fn read_choices(&mut self, table: &Table, sheet_kind: &str) {
        for column in ["list_name", "name"] {
            if !table.has(column) {
                self.error(
                    Some(CellRef::sheet(table.sheet)),
                    "missing-column",
                    format!("the '{sheet_kind}' sheet has no '{column}' column"),
                );
                return;
            }
        }
        let allow_duplicates = self.allow_choice_duplicates();
        let mut seen: HashMap<(String, String), CellRef> = HashMap::new();
        for row in table.rows {
            let Some(list) = table.get(row, "list_name") else {
                if row.cells.iter().any(|c| !c.is_empty()) {
                    self.error(
                        Some(table.row_ref(row)),
                        "missing-list-name",
                        "this choice has no list_name",
                    );
                }
                continue;
            };
            let list_name = list.text.to_owned();
            let Some(name) = table.get(row, "name") else {
                self.error(
                    Some(table.row_ref(row)),
                    "missing-choice-name",
                    format!("a choice in list '{list_name}' has no name"),
                );
                continue;
            };
            let label = match table.text(row, "label", &self.default_lang) {
                Some((text, at)) => {
                    self.text_references(&text, &at);
                    text
                }
                None => {
                    if self.media(table, row).is_none() {
                        self.warn(
                            Some(table.row_ref(row)),
                            "missing-choice-label",
                            format!(
                                "choice '{}' in list '{list_name}' has no label; its name is shown instead",
                                name.text
                            ),
                        );
                    }
                    Text::Plain(name.text.to_owned())
                }
            };
            let key = (list_name.clone(), name.text.to_owned());
            let mut merge = false;
            if let Some(first) = seen.get(&key) {
                let message = format!(
                    "choice list '{list_name}' has the name '{}' twice (first at {first}): \
                     duplicate names cannot be told apart in the data",
                    name.text
                );
                if allow_duplicates || self.options.lenient {
                    merge = true;
                    self.warn(
                        Some(name.at.clone()),
                        "duplicate-choice",
                        format!(
                            "{message}; this row is merged into the first (only the \
                             translations, media and properties the first lacks are kept)"
                        ),
                    );
                } else {
                    self.error(
                        Some(name.at.clone()),
                        "duplicate-choice",
                        format!("{message} (use --lenient to import anyway)"),
                    );
                }
            } else {
                seen.insert(key, name.at.clone());
            }
            let mut properties = BTreeMap::new();
            for column in &table.columns {
                if column.lang.is_some() || columns::CHOICES_RESERVED.contains(&column.key.as_str())
                {
                    continue;
                }
                if let Some(cell) = table.cell(row, column) {
                    properties.insert(column.header.clone(), cell.text.to_owned());
                }
            }
            self.choice_lists.insert(list_name.clone());
            if merge {
                let media = self.media(table, row);
                if let Some(first) = self
                    .choices
                    .get_mut(&list_name)
                    .and_then(|list| list.iter_mut().find(|c| c.name == name.text))
                {
                    merge_choice(first, label, media, properties);
                }
                continue;
            }
            let index = self.choices.get(&list_name).map_or(0, Vec::len);
            let origin = Origin::of_row(table, row, |column| {
                columns::choice_property(&column.key, &column.header)
            });
            self.origins.insert(
                format!("/choices/{}/{index}", pointer_escape(&list_name)),
                origin,
            );
            let media = self.media(table, row);
            self.choices.entry(list_name).or_default().push(Choice {
                name: name.text.to_owned(),
                label,
                media,
                properties,
            });
        }
    }

    /// The settings' `allow_choice_duplicates`, read before the settings sheet is.
    fn allow_choice_duplicates(&self) -> bool {
        let Some(sheet) = self.workbook.sheet("settings") else {
            return false;
        };
        let Some((header, rest)) = sheet.rows.split_first() else {
            return false;
        };
        let Some(col) = header
            .cells
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case("allow_choice_duplicates"))
        else {
            return false;
        };
        rest.first()
            .and_then(|r| r.cells.get(col))
            .is_some_and(|v| yes_no(v) == Some(true))
    }
}

/// Fill what `first` lacks from a later duplicate of it: translations, media, properties.
fn merge_choice(
    first: &mut Choice,
    label: Text,
    media: Option<Media>,
    properties: BTreeMap<String, String>,
) {
    if let (Text::Translated(have), Text::Translated(more)) = (&mut first.label, label) {
        for (lang, text) in more {
            have.entry(lang).or_insert(text);
        }
    }
    if first.media.is_none() {
        first.media = media;
    }
    for (key, value) in properties {
        first.properties.entry(key).or_insert(value);
    }
}
