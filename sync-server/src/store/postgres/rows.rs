//! Rows the store's modules share: a user with their memberships, a device, a stored
//! response.

use postgres::Row;

use super::super::shared::{self, ResponseRow};
use super::super::{Device, Membership, Role, StoredResponse, User};
use super::Attempt;

pub(super) const USER_COLUMNS: &str = "name, role, password_hash, display_name, disabled_at";

/// A user from a row of `USER_COLUMNS`, with memberships (one without a role of its own
/// has the user's role).
pub(super) fn user_row(c: &mut impl postgres::GenericClient, row: &Row) -> Attempt<User> {
    let name: String = row.try_get(0)?;
    let role = shared::role(row.try_get(1)?)?;
    let mut memberships = Vec::new();
    for r in c.query(
        "SELECT project, role, read_pii, teams_only FROM memberships WHERE user_name = $1 ORDER BY project",
        &[&name],
    )? {
        let own: Option<&str> = r.try_get(1)?;
        let project: String = r.try_get(0)?;
        let teams = match r.try_get::<_, bool>(3)? {
            true => Some(super::teams::limits_of(c, &name, &project)?),
            false => None,
        };
        memberships.push(Membership {
            project,
            role: own.and_then(Role::parse).unwrap_or(role),
            read_pii: r.try_get(2)?,
            teams,
        });
    }
    Ok(User {
        projects: memberships.iter().map(|m| m.project.clone()).collect(),
        memberships,
        name,
        role,
        password_hash: row.try_get(2)?,
        display_name: row.try_get(3)?,
        disabled: row.try_get::<_, Option<String>>(4)?.is_some(),
    })
}

pub(super) fn load_user(c: &mut impl postgres::GenericClient, name: &str) -> Attempt<Option<User>> {
    let Some(row) = c.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"),
        &[&name],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(user_row(c, &row)?))
}

pub(super) fn load_device(
    c: &mut impl postgres::GenericClient,
    id: &str,
) -> Attempt<Option<Device>> {
    let Some(row) = c.query_opt(
        "SELECT id, project, enumerator, revoked_at, wipe_requested_at FROM devices WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Device {
        id: row.try_get(0)?,
        project: row.try_get(1)?,
        enumerator: row.try_get(2)?,
        revoked_at: row.try_get(3)?,
        wipe_requested_at: row.try_get(4)?,
    }))
}

pub(super) fn project_exists(c: &mut impl postgres::GenericClient, id: &str) -> Attempt<bool> {
    Ok(c.query_opt("SELECT 1 FROM projects WHERE id = $1", &[&id])?
        .is_some())
}

pub(super) fn stored_response(row: &Row) -> Attempt<StoredResponse> {
    Ok(ResponseRow {
        feed_seq: row.try_get(0)?,
        state: row.try_get(1)?,
        device: row.try_get(2)?,
        enumerator: row.try_get(3)?,
        received_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
        review_state: row.try_get(6)?,
        quarantine: row.try_get(7)?,
    }
    .decode()?)
}
