//! Accounts on PostgreSQL: users and their memberships, devices and their one-time
//! codes, tokens (a session or a device's) and what revokes them.

use postgres::Client;

use super::super::shared::{self, TokenRow};
use super::super::{Device, Role, TokenInfo, User, UserChanges};
use super::connection::Attempt;
use super::rows::{load_device, load_user, project_exists, user_row, USER_COLUMNS};

pub(super) fn add_user(
    c: &mut Client,
    name: &str,
    role: Role,
    password_hash: &str,
    now: &str,
) -> Attempt<()> {
    let n = c.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&name, &role.as_str(), &password_hash, &now],
    )?;
    if n == 0 {
        return Err(shared::user_exists(name).into());
    }
    Ok(())
}

pub(super) fn add_membership(c: &mut Client, user: &str, project: &str) -> Attempt<()> {
    let mut tx = c.transaction()?;
    if tx
        .query_opt("SELECT 1 FROM users WHERE name = $1", &[&user])?
        .is_none()
    {
        return Err(shared::no_user(user).into());
    }
    if !project_exists(&mut tx, project)? {
        return Err(shared::no_project(project).into());
    }
    tx.execute(
        "INSERT INTO memberships (user_name, project) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&user, &project],
    )?;
    tx.commit()?;
    Ok(())
}

pub(super) fn remove_membership(c: &mut Client, user: &str, project: &str) -> Attempt<bool> {
    let mut tx = c.transaction()?;
    // A member added again starts unlimited, as any new member.
    tx.execute(
        "DELETE FROM membership_teams WHERE user_name = $1 AND project = $2",
        &[&user, &project],
    )?;
    let removed = tx.execute(
        "DELETE FROM memberships WHERE user_name = $1 AND project = $2",
        &[&user, &project],
    )? > 0;
    tx.commit()?;
    Ok(removed)
}

pub(super) fn set_password(
    c: &mut Client,
    user: &str,
    password_hash: &str,
    now: &str,
) -> Attempt<bool> {
    let mut tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE users SET password_hash = $2 WHERE name = $1",
        &[&user, &password_hash],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL",
        &[&user, &now],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn revoke_user_tokens(c: &mut Client, user: &str, now: &str) -> Attempt<u64> {
    Ok(c.execute(
        "UPDATE tokens SET revoked_at = $2
         WHERE user_name = $1 AND revoked_at IS NULL AND expires_at > $2",
        &[&user, &now],
    )?)
}

pub(super) fn add_labelled_device(
    c: &mut Client,
    device: &Device,
    label: Option<&str>,
    code_hash: &str,
    code_expires_at: &str,
    now: &str,
) -> Attempt<()> {
    let mut tx = c.transaction()?;
    if !project_exists(&mut tx, &device.project)? {
        return Err(shared::no_project(&device.project).into());
    }
    let n = tx.execute(
        "INSERT INTO devices (id, project, enumerator, code_hash, code_expires_at, created_at, label)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        &[
            &device.id,
            &device.project,
            &device.enumerator,
            &code_hash,
            &code_expires_at,
            &now,
            &label,
        ],
    )?;
    if n == 0 {
        return Err(shared::device_exists(&device.id).into());
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn redeem_code(
    c: &mut Client,
    code_hash: &str,
    token_hash: &str,
    token_expires_at: &str,
    now: &str,
) -> Attempt<Option<Device>> {
    let mut tx = c.transaction()?;
    // One use only: clearing the code in the same statement that finds it means
    // two servers redeeming the same code at once cannot both succeed.
    let Some(row) = tx.query_opt(
        "UPDATE devices SET code_hash = NULL, code_expires_at = NULL
         WHERE code_hash = $1 AND code_expires_at > $2 AND revoked_at IS NULL
         RETURNING id",
        &[&code_hash, &now],
    )?
    else {
        return Ok(None);
    };
    let id: String = row.try_get(0)?;
    tx.execute(
        "INSERT INTO tokens (hash, device_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        &[&token_hash, &id, &token_expires_at, &now],
    )?;
    let device = load_device(&mut tx, &id)?;
    tx.commit()?;
    Ok(device)
}

pub(super) fn revoke_device(c: &mut Client, device_id: &str, now: &str) -> Attempt<bool> {
    let mut tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2), code_hash = NULL WHERE id = $1",
        &[&device_id, &now],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE device_id = $1",
        &[&device_id, &now],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn revoke_device_with_wipe(c: &mut Client, device_id: &str, now: &str) -> Attempt<bool> {
    let mut tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2), code_hash = NULL,
            wipe_requested_at = COALESCE(wipe_requested_at, $2) WHERE id = $1",
        &[&device_id, &now],
    )?;
    tx.execute(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE device_id = $1",
        &[&device_id, &now],
    )?;
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn revoke_token(c: &mut Client, token_hash: &str, now: &str) -> Attempt<bool> {
    Ok(c.execute(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE hash = $1",
        &[&token_hash, &now],
    )? > 0)
}

pub(super) fn find_token(c: &mut Client, token_hash: &str) -> Attempt<Option<TokenInfo>> {
    let Some(row) = c.query_opt(
        "SELECT user_name, device_id, expires_at, revoked_at FROM tokens WHERE hash = $1",
        &[&token_hash],
    )?
    else {
        return Ok(None);
    };
    let row = TokenRow {
        user: row.try_get(0)?,
        device: row.try_get(1)?,
        expires_at: row.try_get(2)?,
        revoked_at: row.try_get(3)?,
    };
    row.principal(c, load_user, load_device)
}

pub(super) fn list_users(c: &mut Client) -> Attempt<Vec<User>> {
    let rows = c.query(
        &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
        &[],
    )?;
    rows.iter().map(|row| user_row(c, row)).collect()
}

pub(super) fn update_user(
    c: &mut Client,
    name: &str,
    changes: &UserChanges,
    now: &str,
) -> Attempt<Option<User>> {
    let mut tx = c.transaction()?;
    if tx
        .query_opt("SELECT 1 FROM users WHERE name = $1 FOR UPDATE", &[&name])?
        .is_none()
    {
        return Ok(None);
    }
    if let Some(display) = &changes.display_name {
        tx.execute(
            "UPDATE users SET display_name = $2 WHERE name = $1",
            &[&name, display],
        )?;
    }
    if let Some(hash) = &changes.password_hash {
        tx.execute(
            "UPDATE users SET password_hash = $2 WHERE name = $1",
            &[&name, hash],
        )?;
    }
    if let Some(disabled) = changes.disabled {
        tx.execute(
            "UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) END
             WHERE name = $1",
            &[&name, &disabled, &now],
        )?;
    }
    if changes.password_hash.is_some() || changes.disabled == Some(true) {
        tx.execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE user_name = $1",
            &[&name, &now],
        )?;
    }
    let user = load_user(&mut tx, name)?;
    tx.commit()?;
    Ok(user)
}

pub(super) fn set_membership(c: &mut Client, user: &str, project: &str, role: Role) -> Attempt<()> {
    let mut tx = c.transaction()?;
    if tx
        .query_opt("SELECT 1 FROM users WHERE name = $1", &[&user])?
        .is_none()
    {
        return Err(shared::no_user(user).into());
    }
    if !project_exists(&mut tx, project)? {
        return Err(shared::no_project(project).into());
    }
    tx.execute(
        "INSERT INTO memberships (user_name, project, role) VALUES ($1, $2, $3)
         ON CONFLICT (user_name, project) DO UPDATE SET role = excluded.role",
        &[&user, &project, &role.as_str()],
    )?;
    tx.commit()?;
    Ok(())
}
