//! Where ODK would put each entity of the `entities` sheet, as pyxform decides it
//! (`pyxform/entities/entities_parsing.py`, 4.5.0): an entity lives in the group or
//! repeat its `save_to` questions and referenced questions allow, and a form whose
//! references pull one entity into two repeats, or two entities into one container, is
//! refused. Voices does not use entities, but a workbook ODK would refuse is reported
//! here so it is not taken into Voices as if it worked elsewhere.

use std::collections::HashMap;

use super::Importer;
use crate::diag::CellRef;

/// The kind of a container in a [`ContainerPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Survey,
    Group,
    Repeat,
}

/// The survey and the groups and repeats around a row, outermost first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ContainerPath(Vec<(String, Kind)>);

impl ContainerPath {
    fn root() -> ContainerPath {
        ContainerPath(vec![("survey".to_owned(), Kind::Survey)])
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn prefix(&self, n: usize) -> ContainerPath {
        ContainerPath(self.0[..n.min(self.0.len())].to_vec())
    }

    /// The path to the nearest repeat (or the survey) at or above the end of this one.
    fn scope_boundary(&self) -> ContainerPath {
        match self.0.iter().rposition(|(_, k)| *k != Kind::Group) {
            Some(i) => self.prefix(i + 1),
            None => ContainerPath::root(),
        }
    }

    /// Repeats on the path (the survey not counted).
    fn repeat_count(&self) -> usize {
        self.0
            .iter()
            .skip(1)
            .filter(|(_, k)| *k == Kind::Repeat)
            .count()
    }

    /// Groups between the end of the path and its scope boundary.
    fn groups_below_boundary(&self) -> usize {
        self.0
            .iter()
            .rev()
            .take_while(|(_, k)| *k == Kind::Group)
            .count()
    }

    fn shown(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        format!("/{}", names.join("/"))
    }
}

/// A declared entity: its list name, its row and the questions its columns refer to.
pub(super) struct Declaration {
    pub(super) name: String,
    pub(super) at: CellRef,
    pub(super) references: Vec<String>,
}

/// A `save_to` (with its property) or a question an entity column refers to.
struct Reference {
    path: ContainerPath,
    at: CellRef,
    save_to: bool,
}

/// Where an entity asks to go.
struct Request {
    scope: ContainerPath,
    requested: ContainerPath,
    dataset: String,
    at: CellRef,
    lineages: Vec<ContainerPath>,
}

/// A refusal: the cell and what is wrong.
type Refusal = (CellRef, String);

impl Importer<'_> {
    /// The groups and repeats open at the current row.
    pub(super) fn container_path(&self) -> ContainerPath {
        let mut path = ContainerPath::root();
        for ((_, name), repeat) in self.parents.iter().zip(&self.parent_repeats) {
            let kind = if *repeat { Kind::Repeat } else { Kind::Group };
            path.0.push((name.clone(), kind));
        }
        path
    }

    /// Check that every entity can be placed as pyxform places it. `saves` are the valid
    /// `save_to` cells: (entity, cell, path).
    pub(super) fn check_entity_scopes(
        &mut self,
        declarations: &[Declaration],
        saves: &[(String, CellRef, ContainerPath)],
    ) {
        if let Err((at, message)) =
            allocate(declarations, &self.entity_references(declarations, saves))
        {
            self.error(Some(at), "bad-entities", message);
        }
    }

    /// Each entity's references in survey row order (a row's save_to before its name),
    /// entities in the order of their first reference.
    fn entity_references(
        &self,
        declarations: &[Declaration],
        saves: &[(String, CellRef, ContainerPath)],
    ) -> Vec<(String, Vec<Reference>)> {
        let mut events: Vec<(u32, u8, String, Reference)> = Vec::new();
        for (entity, at, path) in saves {
            let row = at.row.unwrap_or(0);
            events.push((
                row,
                0,
                entity.clone(),
                Reference {
                    path: path.clone(),
                    at: at.clone(),
                    save_to: true,
                },
            ));
        }
        for (name, at, path) in &self.declared_paths {
            let row = at.row.unwrap_or(0);
            for d in declarations.iter().filter(|d| d.references.contains(name)) {
                events.push((
                    row,
                    1,
                    d.name.clone(),
                    Reference {
                        path: path.clone(),
                        at: at.clone(),
                        save_to: false,
                    },
                ));
            }
        }
        events.sort_by_key(|(row, order, _, _)| (*row, *order));
        let mut by_entity: Vec<(String, Vec<Reference>)> = Vec::new();
        for (_, _, entity, reference) in events {
            match by_entity.iter_mut().find(|(e, _)| *e == entity) {
                Some((_, list)) => list.push(reference),
                None => by_entity.push((entity, vec![reference])),
            }
        }
        by_entity
    }
}

/// pyxform's `EntityReferences.get_allocation_request`.
fn request(declaration: &Declaration, references: &[Reference]) -> Result<Request, Refusal> {
    let mut deepest_scope: Option<(ContainerPath, usize, &Reference)> = None;
    let mut deepest_container: Option<(&Reference, usize)> = None;
    let mut deepest_save: Option<(&Reference, usize)> = None;
    let mut lineages: Vec<ContainerPath> = Vec::new();
    let mut boundaries = Vec::new();
    for r in references {
        let below = r.path.groups_below_boundary();
        let boundary = r.path.scope_boundary();
        let depth = boundary.repeat_count();
        if deepest_scope.as_ref().is_none_or(|(_, d, _)| depth > *d) {
            if deepest_scope.as_ref().map(|(b, _, _)| b) != Some(&boundary) {
                deepest_container = Some((r, below));
                if r.save_to {
                    deepest_save = Some((r, below));
                }
            }
            deepest_scope = Some((boundary.clone(), depth, r));
        }
        let same_scope = deepest_scope
            .as_ref()
            .is_some_and(|(b, _, _)| *b == boundary);
        if deepest_container.is_none_or(|(_, n)| same_scope && below > n) {
            deepest_container = Some((r, below));
        }
        if r.save_to {
            if !lineages.contains(&r.path) {
                lineages.push(r.path.clone());
            }
            if deepest_save.is_none_or(|(_, n)| same_scope && below > n) {
                deepest_save = Some((r, below));
            }
        }
        boundaries.push((r, boundary));
    }
    let (scope, _, scope_ref) = deepest_scope.expect("an entity with references");
    let mut requested = match (deepest_save, deepest_container) {
        (Some((r, _)), _) | (None, Some((r, _))) => r.path.clone(),
        (None, None) => ContainerPath::root(),
    };
    if let Some(first) = lineages.first() {
        let min_len = lineages.iter().map(ContainerPath::len).min().unwrap_or(0);
        let mut common = first.prefix(min_len);
        if lineages.len() > 1 {
            for i in 0..min_len {
                // As pyxform: a difference at i shortens the common path to i and the
                // search goes on (a later difference shortens it again).
                if lineages.iter().any(|l| l.0[i] != first.0[i]) {
                    common = first.prefix(i);
                }
            }
            let save_boundary =
                deepest_save.map_or_else(ContainerPath::root, |(r, _)| r.path.scope_boundary());
            let key = |p: &ContainerPath| (p.repeat_count(), p.groups_below_boundary());
            requested = if key(&common) > key(&save_boundary) {
                common
            } else {
                save_boundary
            };
        } else {
            requested = common;
        }
    }
    let requested_boundary = requested.scope_boundary();
    for (r, boundary) in &boundaries {
        if scope.prefix(boundary.len()) != *boundary || scope.len() < boundary.len() {
            let message = if r.save_to {
                format!(
                    "entity '{}' is saved to from {} and from {}: its save_to questions must be in one repeat (or none)",
                    declaration.name,
                    scope_ref.path.shown(),
                    r.path.shown()
                )
            } else {
                format!(
                    "entity '{}' refers to questions in {} and in {}, which are not in one repeat (or none)",
                    declaration.name,
                    scope_ref.path.shown(),
                    r.path.shown()
                )
            };
            let at = if r.save_to {
                r.at.clone()
            } else {
                declaration.at.clone()
            };
            return Err((at, message));
        }
        if r.save_to && requested_boundary != *boundary {
            return Err((
                r.at.clone(),
                format!(
                    "entity '{}' belongs in {}, but this save_to is in {}",
                    declaration.name,
                    requested.shown(),
                    r.path.shown()
                ),
            ));
        }
    }
    Ok(Request {
        scope,
        requested,
        dataset: declaration.name.clone(),
        at: declaration.at.clone(),
        lineages,
    })
}

/// pyxform's `allocate_entities_to_containers`: each entity gets a container of its own.
fn allocate(
    declarations: &[Declaration],
    references: &[(String, Vec<Reference>)],
) -> Result<(), Refusal> {
    let mut scopes: Vec<(ContainerPath, Vec<Request>)> = Vec::new();
    let mut add = |req: Request| match scopes.iter_mut().find(|(s, _)| *s == req.scope) {
        Some((_, list)) => list.push(req),
        None => scopes.push((req.scope.clone(), vec![req])),
    };
    for (entity, refs) in references {
        if let Some(declaration) = declarations.iter().find(|d| d.name == *entity) {
            add(request(declaration, refs)?);
        }
    }
    for d in declarations {
        if !references.iter().any(|(e, _)| *e == d.name) {
            add(Request {
                scope: ContainerPath::root(),
                requested: ContainerPath::root(),
                dataset: d.name.clone(),
                at: d.at.clone(),
                lineages: Vec::new(),
            });
        }
    }
    if let [(scope, requests)] = scopes.as_slice() {
        if *scope == ContainerPath::root() && requests.len() == 1 {
            return Ok(());
        }
    }
    let mut allocations: HashMap<ContainerPath, String> = HashMap::new();
    let mut reserved: HashMap<ContainerPath, String> = HashMap::new();
    for (scope, mut requests) in scopes {
        let limit = scope.len() - 1;
        requests.sort_by_key(|r| r.at.row);
        for req in requests {
            let mut conflict: Option<String> = None;
            for depth in (limit + 1..=req.requested.len()).rev() {
                let current = req.requested.prefix(depth);
                conflict = allocations
                    .get(&current)
                    .or_else(|| reserved.get(&current))
                    .cloned();
                if conflict.is_some() {
                    // As pyxform: only the first save_to lineage's reservation counts.
                    if let Some(c) = req.lineages.first().and_then(|l| reserved.get(l)) {
                        conflict = Some(c.clone());
                        break;
                    }
                    continue;
                }
                allocations.insert(current.clone(), req.dataset.clone());
                reserved.insert(current.clone(), req.dataset.clone());
                for lineage in &req.lineages {
                    for i in (current.len()..=lineage.len()).rev() {
                        reserved.insert(lineage.prefix(i), req.dataset.clone());
                    }
                }
                break;
            }
            if let Some(other) = conflict {
                let other_at = declarations
                    .iter()
                    .find(|d| d.name == other)
                    .map_or_else(String::new, |d| format!(" (at {})", d.at));
                return Err((
                    req.at.clone(),
                    format!(
                        "entity '{}' has no group or repeat of its own in {}: entity '{other}'{other_at} takes it; \
                         move a question of one of them into a group",
                        req.dataset,
                        scope.shown()
                    ),
                ));
            }
        }
    }
    Ok(())
}
