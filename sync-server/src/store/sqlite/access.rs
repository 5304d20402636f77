//! SQLite: the project's recipient keys, the pii grant and the access audit (see
//! `store::access`).

use rusqlite::{params, Connection};

use crate::store::access::{AuditEntry, AuditQuery, AuditRecord, ProjectKey};
use crate::Result;

/// `false` when the project already has this recipient (current or retired).
pub(super) fn add_key(c: &Connection, project: &str, key: &ProjectKey) -> Result<bool> {
    let n = c.execute(
        "INSERT INTO project_keys (project, recipient, label, added_by, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        params![
            project,
            key.recipient,
            key.label,
            key.added_by,
            key.added_at
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn keys(c: &Connection, project: &str) -> Result<Vec<ProjectKey>> {
    let mut stmt = c.prepare_cached(
        "SELECT recipient, label, added_by, added_at, retired_at FROM project_keys
         WHERE project = ?1 ORDER BY added_at, recipient",
    )?;
    let rows = stmt.query_map([project], |r| {
        Ok(ProjectKey {
            recipient: r.get(0)?,
            label: r.get(1)?,
            added_by: r.get(2)?,
            added_at: r.get(3)?,
            retired_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// `false` when the project has no such current key.
pub(super) fn retire_key(
    c: &Connection,
    project: &str,
    recipient: &str,
    now: &str,
) -> Result<bool> {
    let n = c.execute(
        "UPDATE project_keys SET retired_at = ?3
         WHERE project = ?1 AND recipient = ?2 AND retired_at IS NULL",
        params![project, recipient, now],
    )?;
    Ok(n == 1)
}

/// `false` when the user is not a member of the project.
pub(super) fn set_pii_grant(
    c: &Connection,
    user: &str,
    project: &str,
    allowed: bool,
) -> Result<bool> {
    let n = c.execute(
        "UPDATE memberships SET read_pii = ?3 WHERE user_name = ?1 AND project = ?2",
        params![user, project, allowed],
    )?;
    Ok(n == 1)
}

pub(super) fn append_audit(c: &Connection, record: &AuditRecord) -> Result<()> {
    c.execute(
        "INSERT INTO audit_log (at, actor, action, project, target, detail, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            record.at,
            record.actor,
            record.action.as_str(),
            record.project,
            record.target,
            record.detail,
            record.outcome()
        ],
    )?;
    Ok(())
}

pub(super) fn audit(c: &Connection, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, at, actor, action, project, target, detail, outcome FROM audit_log
         WHERE id > ?1 AND (?2 IS NULL OR project = ?2) AND (?3 IS NULL OR actor = ?3)
           AND (?4 IS NULL OR action = ?4) AND (?5 IS NULL OR at >= ?5)
           AND (?6 IS NULL OR at < ?6)
         ORDER BY id LIMIT ?7",
    )?;
    let rows = stmt.query_map(
        params![
            q.after,
            q.project,
            q.actor,
            q.action.map(|a| a.as_str()),
            q.since,
            q.until,
            q.limit as i64
        ],
        |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                project: r.get(4)?,
                target: r.get(5)?,
                detail: r.get(6)?,
                outcome: r.get(7)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
