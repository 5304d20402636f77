//! PostgreSQL: the project's recipient keys, the pii grant and the access audit (see
//! `store::access`).

use postgres::GenericClient;

use super::Attempt;
use crate::store::access::{AuditEntry, AuditQuery, AuditRecord, ProjectKey};

/// `false` when the project already has this recipient (current or retired).
pub(super) fn add_key(
    c: &mut impl GenericClient,
    project: &str,
    key: &ProjectKey,
) -> Attempt<bool> {
    let n = c.execute(
        "INSERT INTO project_keys (project, recipient, label, added_by, added_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[
            &project,
            &key.recipient,
            &key.label,
            &key.added_by,
            &key.added_at,
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn keys(c: &mut impl GenericClient, project: &str) -> Attempt<Vec<ProjectKey>> {
    let rows = c.query(
        "SELECT recipient, label, added_by, added_at, retired_at FROM project_keys
         WHERE project = $1 ORDER BY added_at, recipient",
        &[&project],
    )?;
    let mut keys = Vec::with_capacity(rows.len());
    for r in rows {
        keys.push(ProjectKey {
            recipient: r.try_get(0)?,
            label: r.try_get(1)?,
            added_by: r.try_get(2)?,
            added_at: r.try_get(3)?,
            retired_at: r.try_get(4)?,
        });
    }
    Ok(keys)
}

/// `false` when the project has no such current key.
pub(super) fn retire_key(
    c: &mut impl GenericClient,
    project: &str,
    recipient: &str,
    now: &str,
) -> Attempt<bool> {
    let n = c.execute(
        "UPDATE project_keys SET retired_at = $3
         WHERE project = $1 AND recipient = $2 AND retired_at IS NULL",
        &[&project, &recipient, &now],
    )?;
    Ok(n == 1)
}

/// `false` when the user is not a member of the project.
pub(super) fn set_pii_grant(
    c: &mut impl GenericClient,
    user: &str,
    project: &str,
    allowed: bool,
) -> Attempt<bool> {
    let n = c.execute(
        "UPDATE memberships SET read_pii = $3 WHERE user_name = $1 AND project = $2",
        &[&user, &project, &allowed],
    )?;
    Ok(n == 1)
}

pub(super) fn append_audit(c: &mut impl GenericClient, record: &AuditRecord) -> Attempt<()> {
    c.execute(
        "INSERT INTO audit_log (at, actor, action, project, target, detail, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &record.at,
            &record.actor,
            &record.action.as_str(),
            &record.project,
            &record.target,
            &record.detail,
            &record.outcome(),
        ],
    )?;
    Ok(())
}

pub(super) fn audit(c: &mut impl GenericClient, q: &AuditQuery) -> Attempt<Vec<AuditEntry>> {
    let action = q.action.map(|a| a.as_str());
    let rows = c.query(
        "SELECT id, at, actor, action, project, target, detail, outcome FROM audit_log
         WHERE id > $1 AND ($2::text IS NULL OR project = $2) AND ($3::text IS NULL OR actor = $3)
           AND ($4::text IS NULL OR action = $4) AND ($5::text IS NULL OR at >= $5)
           AND ($6::text IS NULL OR at < $6)
         ORDER BY id LIMIT $7",
        &[
            &q.after,
            &q.project,
            &q.actor,
            &action,
            &q.since,
            &q.until,
            &(q.limit as i64),
        ],
    )?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        entries.push(AuditEntry {
            id: r.try_get(0)?,
            at: r.try_get(1)?,
            actor: r.try_get(2)?,
            action: r.try_get(3)?,
            project: r.try_get(4)?,
            target: r.try_get(5)?,
            detail: r.try_get(6)?,
            outcome: r.try_get(7)?,
        });
    }
    Ok(entries)
}
