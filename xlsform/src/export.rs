//! Voices form → XLSForm `.xlsx`, so designers can keep working in a spreadsheet.
//!
//! Every property of the form is written to a column [`crate::import`] reads back
//! (the shared vocabulary is [`crate::columns`]), so `import(export(form)) == form`.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Format, Workbook as XlsxWorkbook};
use voices_core::form::{
    Condition, Direction, Field, FieldType, Form, Item, Language, Media, Text,
};

use crate::columns::{self, default_cell};
use crate::language::{direction_of, language_suffix};
use crate::Result;

/// One sheet being assembled: rows of `(column, language)` → cell text.
#[derive(Default)]
struct SheetBuilder {
    rows: Vec<BTreeMap<(String, Option<String>), String>>,
    /// Base columns in the order they should appear, with whether each is translatable.
    order: Vec<&'static str>,
    /// Extra untranslated columns (choice properties) in first-seen order.
    extra: Vec<String>,
}

impl SheetBuilder {
    fn new(order: &[&'static str]) -> Self {
        SheetBuilder {
            order: order.to_vec(),
            ..SheetBuilder::default()
        }
    }

    fn row(&mut self) -> Row<'_> {
        self.rows.push(BTreeMap::new());
        Row {
            cells: self.rows.last_mut().expect("just pushed"),
        }
    }

    /// The header: each base column untranslated if used, then per language if used.
    /// `always_translated` columns get every language, so the languages survive.
    fn columns(
        &self,
        languages: &[Language],
        always_translated: &[&str],
    ) -> Vec<(String, Option<String>)> {
        let used = |key: &(String, Option<String>)| self.rows.iter().any(|r| r.contains_key(key));
        let mut out = Vec::new();
        for base in &self.order {
            let plain = ((*base).to_owned(), None);
            if used(&plain) {
                out.push(plain);
            }
            for language in languages {
                let key = ((*base).to_owned(), Some(language.code.clone()));
                if used(&key) || always_translated.contains(base) {
                    out.push(key);
                }
            }
            // Translations in languages the form does not declare still get a column.
            let mut stray: Vec<String> = self
                .rows
                .iter()
                .flat_map(|r| r.keys())
                .filter(|(b, l)| {
                    b == base
                        && l.as_ref()
                            .is_some_and(|l| !languages.iter().any(|x| &x.code == l))
                })
                .filter_map(|(_, l)| l.clone())
                .collect();
            stray.sort();
            stray.dedup();
            out.extend(stray.into_iter().map(|l| ((*base).to_owned(), Some(l))));
        }
        out.extend(self.extra.iter().map(|e| (e.clone(), None)));
        out
    }
}

struct Row<'a> {
    cells: &'a mut BTreeMap<(String, Option<String>), String>,
}

impl Row<'_> {
    fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.cells.insert((key.to_owned(), None), value);
        }
    }

    fn opt(&mut self, key: &str, value: Option<&String>) {
        if let Some(v) = value {
            self.set(key, v.clone());
        }
    }

    fn text(&mut self, key: &str, text: Option<&Text>) {
        match text {
            None => {}
            Some(Text::Plain(s)) => {
                self.cells.insert((key.to_owned(), None), s.clone());
            }
            Some(Text::Translated(map)) => {
                for (lang, s) in map {
                    self.cells
                        .insert((key.to_owned(), Some(lang.clone())), s.clone());
                }
            }
        }
    }

    fn condition(&mut self, key: &str, condition: Option<&Condition>) {
        match condition {
            None => {}
            Some(Condition::Always(true)) => self.set(key, "yes"),
            Some(Condition::Always(false)) => self.set(key, "no"),
            Some(Condition::Expression(e)) => self.set(key, e.clone()),
        }
    }

    fn flag(&mut self, key: &str, value: bool) {
        if value {
            self.set(key, "yes");
        }
    }

    fn media(&mut self, media: Option<&Media>) {
        if let Some(m) = media {
            self.text("image", m.image.as_ref());
            self.text("audio", m.audio.as_ref());
            self.text("video", m.video.as_ref());
        }
    }
}

/// Write `form` as an XLSForm workbook and return the `.xlsx` bytes.
pub fn export_xlsx(form: &Form) -> Result<Vec<u8>> {
    let mut survey = SheetBuilder::new(columns::SURVEY);
    write_items(&mut survey, &form.body);

    let mut choices = SheetBuilder::new(columns::CHOICES);
    for (list, items) in &form.choices {
        for choice in items {
            for key in choice.properties.keys() {
                if !choices.extra.contains(key) {
                    choices.extra.push(key.clone());
                }
            }
            let mut row = choices.row();
            row.set("list_name", list.clone());
            row.set("name", choice.name.clone());
            row.text("label", Some(&choice.label));
            row.media(choice.media.as_ref());
            for (key, value) in &choice.properties {
                row.cells.insert((key.clone(), None), value.clone());
            }
        }
    }

    let mut settings = SheetBuilder::new(columns::SETTINGS);
    {
        let mut row = settings.row();
        row.set("form_id", form.id.clone());
        row.set("version", form.version.clone());
        row.text("form_title", Some(&form.title));
        let default = form
            .language(&form.default_language)
            .map(language_suffix)
            .unwrap_or_else(|| form.default_language.clone());
        row.set("default_language", default);
        row.opt("instance_name", form.instance_name.as_ref());
        row.text("description", form.description.as_ref());
        if let Some(exit) = &form.safe_exit {
            row.text("safe_exit_title", Some(&exit.title));
            row.text("safe_exit_message", exit.message.as_ref());
            row.opt("safe_exit_decoy_group", exit.decoy_group.as_ref());
        }
        for language in &form.languages {
            if language.direction != direction_of(&language.code) {
                let value = match language.direction {
                    Direction::Rtl => "rtl",
                    Direction::Ltr => "ltr",
                };
                row.cells.insert(
                    ("direction".to_owned(), Some(language.code.clone())),
                    value.to_owned(),
                );
            }
        }
    }

    let mut entities = SheetBuilder::new(columns::ENTITIES);
    for entity in &form.entities {
        let mut row = entities.row();
        row.set("list_name", entity.list_name.clone());
        row.opt("label", entity.label.as_ref());
        row.opt("create_if", entity.create_if.as_ref());
        row.opt("update_if", entity.update_if.as_ref());
        row.opt("entity_id", entity.entity_id.as_ref());
    }

    // Every language gets a label column when the form has several, so none is lost.
    let label_everywhere: &[&str] = if form.languages.len() > 1 {
        &["label"]
    } else {
        &[]
    };
    let mut book = XlsxWorkbook::new();
    let header_format = Format::new().set_bold();
    for (name, builder, always) in [
        ("survey", &survey, label_everywhere),
        ("choices", &choices, label_everywhere),
        ("settings", &settings, &[][..]),
        ("entities", &entities, &[][..]),
    ] {
        if name == "entities" && builder.rows.is_empty() {
            continue;
        }
        let columns = builder.columns(&form.languages, always);
        let sheet = book.add_worksheet();
        sheet.set_name(name)?;
        for (c, (base, lang)) in columns.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            let header = match lang {
                None => base.clone(),
                Some(code) => {
                    let suffix = form
                        .language(code)
                        .map(language_suffix)
                        .unwrap_or_else(|| format!("{code} ({code})"));
                    format!("{base}::{suffix}")
                }
            };
            sheet.write_string_with_format(0, col, &header, &header_format)?;
            for (r, cells) in builder.rows.iter().enumerate() {
                if let Some(value) = cells.get(&(base.clone(), lang.clone())) {
                    let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
                    sheet.write_string(row, col, value)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    Ok(book.save_to_buffer()?)
}

fn write_items(sheet: &mut SheetBuilder, items: &[Item]) {
    for item in items {
        match item {
            Item::Field(field) => write_field(sheet, field),
            Item::Group(group) => {
                let mut row = sheet.row();
                row.set("type", "begin_group");
                row.set("name", group.name.clone());
                row.text("label", group.label.as_ref());
                row.text("hint", group.hint.as_ref());
                row.opt("relevant", group.relevant.as_ref());
                row.opt("appearance", group.appearance.as_ref());
                if !group.page {
                    row.set("page", "no");
                }
                if group.privacy.is_some() {
                    row.set("privacy", "required");
                }
                row.text("privacy_prompt", group.privacy_prompt.as_ref());
                row.opt("match", group.match_rule.as_ref());
                row.flag("sensitive", group.sensitive);
                write_items(sheet, &group.body);
                sheet.row().set("type", "end_group");
            }
            Item::Repeat(repeat) => {
                let mut row = sheet.row();
                row.set("type", "begin_repeat");
                row.set("name", repeat.name.clone());
                row.text("label", repeat.label.as_ref());
                row.text("hint", repeat.hint.as_ref());
                row.opt("relevant", repeat.relevant.as_ref());
                row.opt("appearance", repeat.appearance.as_ref());
                row.opt("repeat_count", repeat.count.as_ref());
                if let Some(min) = repeat.min {
                    row.set("repeat_min", min.to_string());
                }
                if let Some(max) = repeat.max {
                    row.set("repeat_max", max.to_string());
                }
                row.text("add_label", repeat.add_label.as_ref());
                if repeat.privacy.is_some() {
                    row.set("privacy", "required");
                }
                row.text("privacy_prompt", repeat.privacy_prompt.as_ref());
                row.flag("sensitive", repeat.sensitive);
                write_items(sheet, &repeat.body);
                sheet.row().set("type", "end_repeat");
            }
            Item::Consent(consent) => {
                let mut row = sheet.row();
                row.set("type", consent.role.as_str());
                row.set("name", consent.name.clone());
                row.text("label", Some(&consent.text));
                row.set("consent_version", consent.text_version.clone());
                row.text("consent_title", consent.label.as_ref());
                row.text("consent_question", consent.question.as_ref());
                row.text("consent_agree", consent.agree_label.as_ref());
                row.text("consent_decline", consent.decline_label.as_ref());
                row.text("consent_decline_message", consent.decline_message.as_ref());
                row.opt("relevant", consent.relevant.as_ref());
                row.opt("minor", consent.minor.as_ref());
            }
        }
    }
}

fn field_type_cell(field: &Field) -> String {
    let kind = field.kind;
    if kind.uses_choices() {
        if let Some(file) = &field.choices_file {
            let command = match kind {
                FieldType::SelectMultiple => "select_multiple_from_file",
                _ => "select_one_from_file",
            };
            return format!("{command} {file}");
        }
        if let Some(source) = &field.choices_from {
            return format!("{} ${{{source}}}", kind.as_str());
        }
        return format!(
            "{} {}",
            kind.as_str(),
            field.choices.as_deref().unwrap_or("")
        );
    }
    kind.as_str().to_owned()
}

fn write_field(sheet: &mut SheetBuilder, field: &Field) {
    let mut row = sheet.row();
    row.set("type", field_type_cell(field));
    row.set("name", field.name.clone());
    row.text("label", field.label.as_ref());
    row.text("hint", field.hint.as_ref());
    row.text("guidance_hint", field.guidance.as_ref());
    row.condition("required", field.required.as_ref());
    row.text("required_message", field.required_message.as_ref());
    row.opt("relevant", field.relevant.as_ref());
    row.opt("constraint", field.constraint.as_ref());
    row.text("constraint_message", field.constraint_message.as_ref());
    row.opt("calculation", field.calculation.as_ref());
    if let Some(default) = &field.default {
        row.set("default", default_cell(default));
    }
    row.condition("read_only", field.read_only.as_ref());
    row.opt("appearance", field.appearance.as_ref());
    row.opt("choice_filter", field.choice_filter.as_ref());
    let mut parameters: Vec<String> = Vec::new();
    if let Some(range) = &field.range {
        parameters.push(format!("start={}", range.start));
        parameters.push(format!("end={}", range.end));
        parameters.push(format!("step={}", range.step));
    }
    parameters.extend(field.parameters.iter().map(|(k, v)| format!("{k}={v}")));
    row.set("parameters", parameters.join(" "));
    row.media(field.media.as_ref());
    row.flag("pii", field.pii);
    row.flag("sensitive", field.sensitive);
    row.opt(
        "disaggregation",
        field.disaggregation.map(|d| d.as_str().to_owned()).as_ref(),
    );
    if let Some(selection) = &field.selection {
        row.set("selection_roster", selection.roster.clone());
        row.opt("selection_eligible", selection.eligible.as_ref());
        row.set("selection_method", selection.method.as_str().to_owned());
    }
    if let Some(referral) = &field.referral {
        row.set("referral_area", referral.area.clone());
        row.opt("referral_needs", referral.needs.as_ref());
    }
    row.opt("save_to", field.save_to.as_ref());
}
