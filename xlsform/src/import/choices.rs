//! The `choices` and `external_choices` sheets: choice lists, their labels, media and
//! properties, and duplicate choice names (an error unless allowed).

use std::collections::{BTreeMap, HashMap};

use voices_core::form::{Choice, Media, Text};

use super::expressions::plain_quote;
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
        let external = sheet_kind == "external_choices";
        let on_choices_sheet: Vec<String> = if external {
            self.choices.keys().cloned().collect()
        } else {
            Vec::new()
        };
        // (list, name) → the first choice's cell and its index in the list.
        let mut seen: HashMap<(String, String), (CellRef, usize)> = HashMap::new();
        for row in table.rows {
            let Some(list) = table.get(row, "list_name") else {
                // pyxform leaves such rows out (they are often notes to the designer).
                if row.cells.iter().any(|c| !c.is_empty()) {
                    self.warn(
                        Some(table.row_ref(row)),
                        "missing-list-name",
                        "this row has no list_name and is ignored",
                    );
                }
                continue;
            };
            let list_name = if on_choices_sheet.iter().any(|l| l == list.text) {
                self.external_list_name(list.text)
            } else {
                list.text.to_owned()
            };
            let Some(name_cell) = table.get(row, "name") else {
                self.error(
                    Some(table.row_ref(row)),
                    "missing-choice-name",
                    format!("a choice in list '{list_name}' has no name"),
                );
                continue;
            };
            // The name is the stored answer: typographic quotes read as pyxform reads them.
            let name = ChoiceName {
                text: name_cell.text.chars().map(plain_quote).collect(),
                at: name_cell.at,
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
            let key = (list_name.clone(), name.text.clone());
            let mut merge_into = None;
            if let Some((first, first_index)) = seen.get(&key) {
                let message = format!(
                    "choice list '{list_name}' has the name '{}' twice (first at {first}): \
                     duplicate names cannot be told apart in the data",
                    name.text
                );
                // pyxform never checks `external_choices` (ODK reads it from a file).
                if allow_duplicates || self.options.lenient || external {
                    merge_into = Some(*first_index);
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
            if let Some(first_index) = merge_into {
                let media = self.media(table, row);
                if let Some(first) = self
                    .choices
                    .get_mut(&list_name)
                    .and_then(|list| list.get_mut(first_index))
                {
                    merge_choice(first, label, media, properties);
                }
                continue;
            }
            let index = self.choices.get(&list_name).map_or(0, Vec::len);
            seen.entry(key).or_insert((name.at.clone(), index));
            let origin = Origin::of_row(table, row, |column| {
                columns::choice_property(&column.key, &column.header)
            });
            self.origins.insert(
                format!("/choices/{}/{index}", pointer_escape(&list_name)),
                origin,
            );
            let media = self.media(table, row);
            self.choices.entry(list_name).or_default().push(Choice {
                name: name.text,
                label,
                media,
                properties,
            });
        }
    }

    /// The name an `external_choices` list is kept under when the `choices` sheet has a
    /// list of the same name: `NAME_external` (or `NAME_external2`, … if that is taken).
    fn external_list_name(&mut self, list: &str) -> String {
        if let Some(kept) = self.external_lists.get(list) {
            return kept.clone();
        }
        let mut kept = format!("{list}_external");
        let mut n = 2;
        while self.choices.contains_key(&kept) {
            kept = format!("{list}_external{n}");
            n += 1;
        }
        self.external_lists.insert(list.to_owned(), kept.clone());
        kept
    }

    /// The settings' `allow_choice_duplicates`, read before the settings sheet is.
    fn allow_choice_duplicates(&self) -> bool {
        self.settings_value("allow_choice_duplicates")
            .is_some_and(|v| yes_no(&v) == Some(true))
    }

    /// A settings cell by its header, read before the settings sheet is.
    pub(super) fn settings_value(&self, column: &str) -> Option<String> {
        let sheet = self.workbook.sheet("settings")?;
        let (header, rest) = sheet.rows.split_first()?;
        let col = header
            .cells
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(column))?;
        rest.first()
            .and_then(|r| r.cells.get(col))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// A choice's name as read (quotes made plain) and its cell.
struct ChoiceName {
    text: String,
    at: CellRef,
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
