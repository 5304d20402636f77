//! The access audit: who signed in (or failed to), read a response, searched, exported
//! (with or without pii), reviewed, edited, added or revoked devices and changed keys.
//! Written in an append-only table (triggers refuse changes on both backends), read by
//! admins (`voices-server audit`, `GET /api/v1/audit`). Records never hold answers.

use serde::Serialize;

use crate::store::access::{AuditAction, AuditEntry, AuditQuery, AuditRecord};
use crate::store::Store;
use crate::Result;

/// Records per page unless asked, and at most.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1_000;

/// One page of the audit.
#[derive(Debug, Serialize)]
pub struct Page {
    pub entries: Vec<AuditEntry>,
    /// The `after` of the next page (the last id here, or the query's own).
    pub next: i64,
    /// Whether the next page may hold more.
    pub more: bool,
}

pub fn page(store: &dyn Store, query: &AuditQuery) -> Result<Page> {
    let entries = store.audit(query)?;
    Ok(Page {
        next: entries.last().map_or(query.after, |e| e.id),
        more: entries.len() == query.limit,
        entries,
    })
}

/// Append one record now.
pub fn record(
    store: &dyn Store,
    actor: &str,
    action: AuditAction,
    project: Option<&str>,
    target: Option<&str>,
    detail: impl Into<String>,
    ok: bool,
) -> Result<()> {
    store.append_audit(&AuditRecord {
        at: crate::now_text(),
        actor: actor.to_owned(),
        action,
        project: project.map(str::to_owned),
        target: target.map(str::to_owned),
        detail: detail.into(),
        ok,
    })
}
