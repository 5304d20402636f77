//! Accounts on SQLite: users and their memberships, devices and their one-time codes,
//! tokens (a session or a device's) and what revokes them.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::super::shared::{self, TokenRow};
use super::super::{Device, Membership, Role, TokenInfo, User, UserChanges};
use super::{project_exists, teams};
use crate::{Error, Result};

/// A user's memberships; one without a role of its own has the user's role.
fn memberships_of(conn: &Connection, user: &str, role: Role) -> Result<Vec<Membership>> {
    let mut stmt = conn.prepare_cached(
        "SELECT project, role, read_pii, teams_only FROM memberships WHERE user_name = ?1
         ORDER BY project",
    )?;
    let rows = stmt.query_map([user], |r| {
        let own: Option<String> = r.get(1)?;
        Ok((
            r.get::<_, String>(0)?,
            own.as_deref().and_then(Role::parse).unwrap_or(role),
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut memberships = Vec::with_capacity(rows.len());
    for (project, role, read_pii, teams_only) in rows {
        let teams = match teams_only {
            true => Some(teams::limits_of(conn, user, &project)?),
            false => None,
        };
        memberships.push(Membership {
            project,
            role,
            read_pii,
            teams,
        });
    }
    Ok(memberships)
}

const USER_COLUMNS: &str = "name, role, password_hash, display_name, disabled_at";

fn user_row(conn: &Connection, r: &rusqlite::Row<'_>) -> Result<User> {
    let name: String = r.get(0)?;
    let role = shared::role(&r.get::<_, String>(1)?)?;
    let memberships = memberships_of(conn, &name, role)?;
    Ok(User {
        projects: memberships.iter().map(|m| m.project.clone()).collect(),
        memberships,
        name,
        role,
        password_hash: r.get(2)?,
        display_name: r.get(3)?,
        disabled: r.get::<_, Option<String>>(4)?.is_some(),
    })
}

pub(super) fn load_user(conn: &Connection, name: &str) -> Result<Option<User>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"))?;
    let mut rows = stmt.query([name])?;
    match rows.next()? {
        None => Ok(None),
        Some(r) => Ok(Some(user_row(conn, r)?)),
    }
}

pub(super) fn load_device(conn: &Connection, id: &str) -> Result<Option<Device>> {
    Ok(conn
        .query_row(
            "SELECT id, project, enumerator, revoked_at, wipe_requested_at FROM devices WHERE id = ?1",
            [id],
            |r| {
                Ok(Device {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    enumerator: r.get(2)?,
                    revoked_at: r.get(3)?,
                    wipe_requested_at: r.get(4)?,
                })
            },
        )
        .optional()?)
}

pub(super) fn add_user(
    c: &mut Connection,
    name: &str,
    role: Role,
    password_hash: &str,
    now: &str,
) -> Result<()> {
    let n = c.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        params![name, role.as_str(), password_hash, now],
    )?;
    if n == 0 {
        return Err(shared::user_exists(name));
    }
    Ok(())
}

pub(super) fn add_membership(c: &mut Connection, user: &str, project: &str) -> Result<()> {
    if load_user(c, user)?.is_none() {
        return Err(shared::no_user(user));
    }
    if !project_exists(c, project)? {
        return Err(shared::no_project(project));
    }
    c.execute(
        "INSERT INTO memberships (user_name, project) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![user, project],
    )?;
    Ok(())
}

pub(super) fn remove_membership(c: &mut Connection, user: &str, project: &str) -> Result<bool> {
    let tx = c.transaction()?;
    // A member added again starts unlimited, as any new member.
    tx.execute(
        "DELETE FROM membership_teams WHERE user_name = ?1 AND project = ?2",
        params![user, project],
    )?;
    let removed = tx.execute(
        "DELETE FROM memberships WHERE user_name = ?1 AND project = ?2",
        params![user, project],
    )? > 0;
    tx.commit()?;
    Ok(removed)
}

pub(super) fn set_password(
    c: &mut Connection,
    user: &str,
    password_hash: &str,
    now: &str,
) -> Result<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        params![user, password_hash],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE user_name = ?1 AND revoked_at IS NULL",
        params![user, now],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn revoke_user_tokens(c: &mut Connection, user: &str, now: &str) -> Result<u64> {
    Ok(c.execute(
        "UPDATE tokens SET revoked_at = ?2
         WHERE user_name = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        params![user, now],
    )? as u64)
}

pub(super) fn add_labelled_device(
    c: &mut Connection,
    device: &Device,
    label: Option<&str>,
    code_hash: &str,
    code_expires_at: &str,
    now: &str,
) -> Result<()> {
    if !project_exists(c, &device.project)? {
        return Err(shared::no_project(&device.project));
    }
    let n = c.execute(
        "INSERT INTO devices (id, project, enumerator, code_hash, code_expires_at, created_at, label)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        params![device.id, device.project, device.enumerator, code_hash, code_expires_at, now, label],
    )?;
    if n == 0 {
        return Err(shared::device_exists(&device.id));
    }
    Ok(())
}

pub(super) fn redeem_code(
    c: &mut Connection,
    code_hash: &str,
    token_hash: &str,
    token_expires_at: &str,
    now: &str,
) -> Result<Option<Device>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id: Option<String> = tx
        .query_row(
            "SELECT id FROM devices WHERE code_hash = ?1 AND code_expires_at > ?2 AND revoked_at IS NULL",
            params![code_hash, now],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    // One use only: the code is gone once redeemed.
    tx.execute(
        "UPDATE devices SET code_hash = NULL, code_expires_at = NULL WHERE id = ?1",
        [&id],
    )?;
    tx.execute(
        "INSERT INTO tokens (hash, device_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, id, token_expires_at, now],
    )?;
    let device = load_device(&tx, &id)?;
    tx.commit()?;
    Ok(device)
}

pub(super) fn revoke_device(c: &mut Connection, device_id: &str, now: &str) -> Result<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2), code_hash = NULL WHERE id = ?1",
        params![device_id, now],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE device_id = ?1",
        params![device_id, now],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn revoke_device_with_wipe(
    c: &mut Connection,
    device_id: &str,
    now: &str,
) -> Result<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2), code_hash = NULL,
            wipe_requested_at = COALESCE(wipe_requested_at, ?2) WHERE id = ?1",
        params![device_id, now],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE device_id = ?1",
        params![device_id, now],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn revoke_token(c: &mut Connection, token_hash: &str, now: &str) -> Result<bool> {
    Ok(c.execute(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE hash = ?1",
        params![token_hash, now],
    )? > 0)
}

pub(super) fn list_users(c: &Connection) -> Result<Vec<User>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let mut rows = stmt.query([])?;
    let mut users = Vec::new();
    while let Some(r) = rows.next()? {
        users.push(user_row(c, r)?);
    }
    Ok(users)
}

pub(super) fn update_user(
    c: &mut Connection,
    name: &str,
    changes: &UserChanges,
    now: &str,
) -> Result<Option<User>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if load_user(&tx, name)?.is_none() {
        return Ok(None);
    }
    if let Some(display) = &changes.display_name {
        tx.execute(
            "UPDATE users SET display_name = ?2 WHERE name = ?1",
            params![name, display],
        )?;
    }
    if let Some(hash) = &changes.password_hash {
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1",
            params![name, hash],
        )?;
    }
    if let Some(disabled) = changes.disabled {
        tx.execute(
            "UPDATE users SET disabled_at = CASE WHEN ?2 THEN COALESCE(disabled_at, ?3) END
             WHERE name = ?1",
            params![name, disabled, now],
        )?;
    }
    if changes.password_hash.is_some() || changes.disabled == Some(true) {
        tx.execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE user_name = ?1",
            params![name, now],
        )?;
    }
    let user = load_user(&tx, name)?;
    tx.commit()?;
    Ok(user)
}

pub(super) fn set_membership(
    c: &mut Connection,
    user: &str,
    project: &str,
    role: Role,
) -> Result<()> {
    if load_user(c, user)?.is_none() {
        return Err(Error::NotFound(format!("no user `{user}`")));
    }
    let exists = c
        .query_row(
            "SELECT 1 FROM projects WHERE id = ?1",
            [project],
            |_| Ok(()),
        )
        .optional()?;
    if exists.is_none() {
        return Err(Error::NotFound(format!("no project `{project}`")));
    }
    c.execute(
        "INSERT INTO memberships (user_name, project, role) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_name, project) DO UPDATE SET role = excluded.role",
        params![user, project, role.as_str()],
    )?;
    Ok(())
}
pub(super) fn find_token(c: &Connection, token_hash: &str) -> Result<Option<TokenInfo>> {
    let row = c
        .query_row(
            "SELECT user_name, device_id, expires_at, revoked_at FROM tokens WHERE hash = ?1",
            [token_hash],
            |r| {
                Ok(TokenRow {
                    user: r.get(0)?,
                    device: r.get(1)?,
                    expires_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                })
            },
        )
        .optional()?;
    match row {
        Some(row) => row.principal(&mut &*c, |c, u| load_user(c, u), |c, d| load_device(c, d)),
        None => Ok(None),
    }
}
