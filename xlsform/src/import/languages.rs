//! Translations: the languages named by `::language` column suffixes, the default
//! language, translated texts and media, and each language's writing direction.

use voices_core::form::{Direction, Language, Media, Text};

use super::table::Table;
use super::Importer;
use crate::language::parse_language;
use crate::workbook::SheetRow;

/// Languages in order of first appearance, keyed by code.
#[derive(Default)]
pub(super) struct LanguageSet {
    pub(super) languages: Vec<Language>,
}

impl LanguageSet {
    /// The code of the language a `::suffix` names, added when new.
    pub(super) fn add(&mut self, suffix: &str) -> String {
        let language = parse_language(suffix);
        let code = language.code.clone();
        if !self.languages.iter().any(|l| l.code == code) {
            self.languages.push(language);
        } else if let Some(existing) = self.languages.iter_mut().find(|l| l.code == code) {
            // Prefer a name given with an explicit code: `English (en)` over `en`.
            if existing.name == existing.code && language.name != language.code {
                existing.name = language.name;
            }
        }
        code
    }
}

impl Importer<'_> {
    /// The default language: the settings' `default_language`, else the first one
    /// named in a header, else `und`.
    pub(super) fn resolve_default_language(
        &mut self,
        settings: Option<&Table>,
        row: Option<&SheetRow>,
    ) {
        let declared = match (settings, row) {
            (Some(t), Some(r)) => t.get(r, "default_language").map(|c| c.text.to_owned()),
            _ => None,
        };
        self.default_lang = match declared {
            Some(d) if d.eq_ignore_ascii_case("default") => self.first_language_or_und(),
            Some(d) => self.languages.add(&d),
            None => self.first_language_or_und(),
        };
    }

    fn first_language_or_und(&mut self) -> String {
        match self.languages.languages.first() {
            Some(l) => l.code.clone(),
            None => {
                self.languages.languages.push(Language {
                    code: "und".to_owned(),
                    name: "Default".to_owned(),
                    direction: Direction::Ltr,
                });
                "und".to_owned()
            }
        }
    }

    /// Translatable text; `${name}` references in it (shown answers) are checked too.
    pub(super) fn text(&mut self, table: &Table, row: &SheetRow, key: &str) -> Option<Text> {
        let (text, at) = table.text(row, key, &self.default_lang)?;
        self.text_references(&text, &at);
        Some(text)
    }

    pub(super) fn media(&mut self, table: &Table, row: &SheetRow) -> Option<Media> {
        let media = Media {
            image: self.text(table, row, "image"),
            audio: self.text(table, row, "audio"),
            video: self.text(table, row, "video"),
        };
        (media.image.is_some() || media.audio.is_some() || media.video.is_some()).then_some(media)
    }

    /// `direction::Name (code)` on the settings row: a writing direction other than
    /// the one the language's code implies.
    pub(super) fn read_directions(&mut self, table: &Table, row: &SheetRow) {
        for column in table.columns.iter().filter(|c| c.key == "direction") {
            let (Some(code), Some(cell)) = (&column.lang, table.cell(row, column)) else {
                continue;
            };
            let direction = match cell.text.to_lowercase().as_str() {
                "rtl" => Direction::Rtl,
                "ltr" => Direction::Ltr,
                _ => {
                    self.error(
                        Some(cell.at),
                        "bad-direction",
                        format!("direction must be rtl or ltr, not '{}'", cell.text),
                    );
                    continue;
                }
            };
            if let Some(l) = self
                .languages
                .languages
                .iter_mut()
                .find(|l| &l.code == code)
            {
                l.direction = direction;
            }
        }
    }

    /// The form's languages: those the workbook uses; `und` only when nothing is
    /// translated.
    pub(super) fn used_languages(&self) -> Vec<Language> {
        let mut languages = self.languages.languages.clone();
        if languages.len() > 1 {
            languages.retain(|l| l.code != "und" || l.code == self.default_lang);
        }
        languages
    }
}
