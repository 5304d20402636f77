//! Secondary instances as ODK names them. An `xml-external`/`csv-external` row, a
//! `pulldata('id', …)` call, a select from a file, `${last-saved#…}` and each choice list
//! a select uses become instances whose id must stand for one source: pyxform refuses a
//! workbook where one id would load two different files, or where two external instances
//! share a name. Voices loads none of the external ones, but it refuses what ODK's tools
//! refuse, naming both cells.

use std::collections::HashMap;

use super::table::{Cell, Table};
use super::Importer;
use crate::diag::CellRef;
use crate::workbook::SheetRow;

const EXTERNAL: &str = "external instance";

/// One source ODK would load as the instance `id`.
pub(super) struct InstanceSource {
    id: String,
    /// The URI it is loaded from (`None` for a choice list, held in the form).
    uri: Option<String>,
    /// What makes it, for messages.
    what: &'static str,
    at: CellRef,
}

impl Importer<'_> {
    /// An `xml-external` or `csv-external` row: its name declared like any other (unique
    /// within its group), and the instance it loads.
    pub(super) fn external_instance(&mut self, table: &Table, row: &SheetRow, type_cell: &Cell) {
        let Some((name, at)) = self.name(table, row, EXTERNAL) else {
            return;
        };
        let uri = if type_cell.text.trim().starts_with("csv") {
            format!("jr://file-csv/{name}.csv")
        } else {
            format!("jr://file/{name}.xml")
        };
        if let Some(first) = self
            .instances
            .iter()
            .find(|s| s.what == EXTERNAL && s.id == name)
        {
            let message = format!(
                "the external instance '{name}' is already declared at {}; instance names must \
                 be unique in the whole form",
                first.at
            );
            self.error(Some(at.clone()), "duplicate-instance", message);
        }
        self.instances.push(InstanceSource {
            id: name,
            uri: Some(uri),
            what: EXTERNAL,
            at,
        });
    }

    /// `pulldata('id', …)` calls in an expression cell: each loads `id.csv`.
    pub(super) fn pulldata_instances(&mut self, text: &str, at: &CellRef) {
        let mut rest = text;
        while let Some(start) = rest.find("pulldata") {
            let after = rest[start + "pulldata".len()..].trim_start();
            rest = &rest[start + "pulldata".len()..];
            let Some(args) = after.strip_prefix('(') else {
                continue;
            };
            let Some((first, _)) = args.split_once(',') else {
                continue;
            };
            let id = first.replace(['\'', '"'], "").trim().to_owned();
            if !id.is_empty() {
                self.instances.push(InstanceSource {
                    uri: Some(format!("jr://file-csv/{id}.csv")),
                    id,
                    what: "pulldata()",
                    at: at.clone(),
                });
            }
        }
    }

    /// A select from `file` (`cities.csv`, `places.xml`): the instance named after the file.
    pub(super) fn file_instance(&mut self, file: &str, at: &CellRef) {
        let Some((stem, extension)) = file.rsplit_once('.') else {
            return;
        };
        let scheme = match extension.to_lowercase().as_str() {
            "xml" | "geojson" => "file".to_owned(),
            other => format!("file-{other}"),
        };
        self.instances.push(InstanceSource {
            id: stem.to_owned(),
            uri: Some(format!("jr://{scheme}/{file}")),
            what: "select from a file",
            at: at.clone(),
        });
    }

    /// A choice list a select shows (not through `search()`, which reads a file instead).
    pub(super) fn choice_list_instance(&mut self, list: &str, at: &CellRef) {
        self.instances.push(InstanceSource {
            id: list.to_owned(),
            uri: None,
            what: "choice list",
            at: at.clone(),
        });
    }

    /// Every instance id stands for one source (run once the whole survey is read).
    pub(super) fn check_instance_ids(&mut self) {
        let mut sources = std::mem::take(&mut self.instances);
        if let Some(at) = self.last_saved_at.clone() {
            sources.push(InstanceSource {
                id: "__last-saved".to_owned(),
                uri: Some("jr://instance/last-saved".to_owned()),
                what: "${last-saved#…}",
                at,
            });
        }
        // Choice lists come last, as pyxform adds them.
        sources.sort_by_key(|s| s.uri.is_none());
        let mut seen: HashMap<&str, &InstanceSource> = HashMap::new();
        let mut clashes = Vec::new();
        for source in &sources {
            match seen.get(source.id.as_str()) {
                // Two external instances of one name are reported as such, once.
                Some(first)
                    if first.uri != source.uri
                        && !(first.what == EXTERNAL && source.what == EXTERNAL) =>
                {
                    clashes.push((
                        source.at.clone(),
                        format!(
                            "ODK would load the instance '{}' from two sources: the {} at {} ({}) \
                         and the {} here ({}); rename one",
                            source.id,
                            first.what,
                            first.at,
                            first.uri.as_deref().unwrap_or("the choices sheet"),
                            source.what,
                            source.uri.as_deref().unwrap_or("the choices sheet"),
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    seen.insert(&source.id, source);
                }
            }
        }
        for (at, message) in clashes {
            self.error(Some(at), "duplicate-instance", message);
        }
    }
}
