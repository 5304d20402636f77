//! ODK's `entities` sheet and `save_to` column: kept in the form (`Form::entities`,
//! `Field::save_to`) so they export back, and checked as pyxform checks them.

use std::collections::HashMap;

use voices_core::form::Entity;

use super::entity_scopes::{ContainerPath, Declaration};
use super::expressions::references_in;
use super::names::valid_name;
use super::table::Table;
use super::Importer;
use crate::columns;
use crate::diag::CellRef;

impl Importer<'_> {
    /// Check the entities sheet and every `save_to` cell against it (an error when
    /// `save_to` is used without the sheet). Runs after the survey is read.
    pub(super) fn check_entities(&mut self, table: Option<&Table>) {
        let Some(table) = table else {
            if let Some((_, at, _, _)) = self.save_to.first() {
                let at = at.clone();
                self.error(
                    Some(at),
                    "missing-entities",
                    "save_to is used but there is no 'entities' sheet declaring the entity",
                );
            }
            return;
        };
        let errors_before = self.error_count();
        let declarations = self.entity_declarations(table);
        let declared: HashMap<String, CellRef> = declarations
            .iter()
            .map(|d| (d.name.clone(), d.at.clone()))
            .collect();
        let saves = self.check_save_to(&declared);
        // Placing the entities only makes sense for declarations without errors.
        if self.error_count() == errors_before {
            self.check_entity_scopes(&declarations, &saves);
        }
    }

    /// The entity lists the sheet declares, in order, each with its row and the
    /// questions its columns refer to.
    fn entity_declarations(&mut self, table: &Table) -> Vec<Declaration> {
        for column in &table.columns {
            let known = columns::ENTITIES.contains(&column.key.as_str())
                || column.key == columns::ENTITIES_LIST_NAME_ALIAS;
            if !known || column.lang.is_some() {
                self.error(
                    Some(CellRef::cell(table.sheet, table.header_row, column.index)),
                    "bad-entities",
                    format!(
                        "the entities sheet has an unexpected column '{}' (allowed: {})",
                        column.header,
                        columns::ENTITIES.join(", ")
                    ),
                );
            }
        }
        let mut declared: HashMap<String, CellRef> = HashMap::new();
        let mut declarations = Vec::new();
        for row in table.rows {
            let at = table.row_ref(row);
            let mut referred = Vec::new();
            for key in ["label", "create_if", "update_if", "entity_id"] {
                if let Some(c) = table.get(row, key) {
                    for r in references_in(c.text) {
                        self.references.push((r.to_owned(), c.at.clone()));
                        referred.push(r.to_owned());
                    }
                }
            }
            let list = table
                .get(row, "list_name")
                .or_else(|| table.get(row, columns::ENTITIES_LIST_NAME_ALIAS));
            let Some(list) = list else {
                self.error(Some(at), "bad-entities", "this entity has no list_name");
                continue;
            };
            let name = list.text;
            if !valid_name(name) || name.contains('.') || name.starts_with("__") {
                self.error(
                    Some(list.at.clone()),
                    "bad-entities",
                    format!(
                        "entity list name '{name}' must be a valid name without '.' and not start with '__'"
                    ),
                );
            }
            if let Some(first) = declared.get(name) {
                let message = format!("entity list '{name}' is already declared at {first}");
                self.error(Some(list.at.clone()), "bad-entities", message);
            } else {
                declared.insert(name.to_owned(), list.at.clone());
                let expression = |key: &str| table.get(row, key).map(|c| c.text.trim().to_owned());
                self.entities.push(Entity {
                    list_name: name.to_owned(),
                    label: expression("label"),
                    create_if: expression("create_if"),
                    update_if: expression("update_if"),
                    entity_id: expression("entity_id"),
                });
                declarations.push(Declaration {
                    name: name.to_owned(),
                    at: at.clone(),
                    references: referred,
                });
            }
            let has = |k: &str| table.get(row, k).is_some();
            if !has("label") && !has("entity_id") {
                self.error(
                    Some(at.clone()),
                    "bad-entities",
                    "an entity that is created needs a label",
                );
            }
            if has("entity_id") && has("create_if") && !has("update_if") {
                self.error(
                    Some(at.clone()),
                    "bad-entities",
                    "an entity with entity_id and create_if also needs update_if",
                );
            }
            if has("update_if") && !has("entity_id") {
                self.error(
                    Some(at),
                    "bad-entities",
                    "an entity with update_if needs an entity_id",
                );
            }
        }
        declarations
    }

    /// Check each `save_to` against the declarations; the valid ones as (entity, cell,
    /// groups and repeats around it).
    fn check_save_to(
        &mut self,
        declared: &HashMap<String, CellRef>,
    ) -> Vec<(String, CellRef, ContainerPath)> {
        let save_to = std::mem::take(&mut self.save_to);
        let mut properties: HashMap<(String, String), CellRef> = HashMap::new();
        let mut saves = Vec::new();
        for (target, at, container, path) in save_to {
            if container {
                self.error(
                    Some(at),
                    "bad-entities",
                    "save_to belongs on question rows, not on group or repeat rows",
                );
                continue;
            }
            let (entity, property) = match target.split_once('#') {
                Some((e, p)) => (e.to_owned(), p.to_owned()),
                None if declared.len() == 1 => (
                    declared.keys().next().cloned().unwrap_or_default(),
                    target.clone(),
                ),
                None => {
                    self.error(
                        Some(at),
                        "bad-entities",
                        format!("with several entities, save_to must name one: 'entity#{target}'"),
                    );
                    continue;
                }
            };
            if !declared.contains_key(&entity) {
                self.error(
                    Some(at),
                    "bad-entities",
                    format!("save_to names the entity '{entity}', which the entities sheet does not declare"),
                );
                continue;
            }
            if property.starts_with("__") || ["name", "label"].contains(&property.as_str()) {
                self.error(
                    Some(at),
                    "bad-entities",
                    format!("'{property}' is reserved and cannot be an entity property"),
                );
                continue;
            }
            let key = (entity.clone(), property.clone());
            if let Some(first) = properties.get(&key) {
                let message = format!("entity property '{property}' is already saved from {first}");
                self.error(Some(at), "bad-entities", message);
            } else {
                properties.insert(key, at.clone());
                saves.push((entity, at, path));
            }
        }
        saves
    }
}
