//! SQLite: teams, their devices, coordinators limited to them (see `store::teams`), and
//! the condition the reads of responses add for a limited coordinator.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::teams::{scope_condition, Team, TeamChange, TeamRef};
use crate::store::Scope;
use crate::{Error, Result};

/// The condition that the row's device (`column`) is seen by the user in placeholder
/// `user` (`NULL`: the whole project) of the project in `?1`.
pub(super) fn seen(column: &str, user: &str) -> String {
    format!(
        "({user} IS NULL OR {})",
        scope_condition(column, "?1", user)
    )
}

/// Which of `ids` the scope sees in the project, in order.
pub(super) fn visible(
    c: &Connection,
    project: &str,
    scope: &Scope,
    ids: &[String],
) -> Result<Vec<bool>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT 1 FROM responses WHERE project = ?1 AND id = ?2 AND {}",
        seen("device", "?3")
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let found = stmt
            .query_row(params![project, id, scope.limited_to()], |_| Ok(()))
            .optional()?;
        out.push(found.is_some());
    }
    Ok(out)
}

/// The teams a member is limited to, by name.
pub(super) fn limits_of(c: &Connection, user: &str, project: &str) -> Result<Vec<TeamRef>> {
    let mut stmt = c.prepare_cached(
        "SELECT t.id, t.name FROM membership_teams mt JOIN teams t ON t.id = mt.team_id
         WHERE mt.user_name = ?1 AND mt.project = ?2 ORDER BY t.name",
    )?;
    let rows = stmt.query_map(params![user, project], |r| {
        Ok(TeamRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn strings(c: &Connection, sql: &str, team: i64) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map([team], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn with_members(c: &Connection, id: i64, name: String, created_at: String) -> Result<Team> {
    Ok(Team {
        devices: strings(
            c,
            "SELECT device FROM team_devices WHERE team_id = ?1 ORDER BY device",
            id,
        )?,
        coordinators: strings(
            c,
            "SELECT user_name FROM membership_teams WHERE team_id = ?1 ORDER BY user_name",
            id,
        )?,
        id,
        name,
        created_at,
    })
}

pub(super) fn list(c: &Connection, project: &str) -> Result<Vec<Team>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, name, created_at FROM teams WHERE project = ?1 ORDER BY name, id",
    )?;
    let rows = stmt
        .query_map([project], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<(i64, String, String)>>>()?;
    rows.into_iter()
        .map(|(id, name, created_at)| with_members(c, id, name, created_at))
        .collect()
}

fn name_taken(name: &str) -> Error {
    Error::Conflict(format!("this project already has a team named `{name}`"))
}

fn has_name(c: &Connection, project: &str, name: &str, other_than: i64) -> Result<bool> {
    Ok(c.query_row(
        "SELECT 1 FROM teams WHERE project = ?1 AND name = ?2 AND id <> ?3",
        params![project, name, other_than],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

pub(super) fn add(c: &mut Connection, project: &str, name: &str, now: &str) -> Result<Team> {
    let tx = c.transaction()?;
    if has_name(&tx, project, name, 0)? {
        return Err(name_taken(name));
    }
    tx.execute(
        "INSERT INTO teams (project, name, created_at) VALUES (?1, ?2, ?3)",
        params![project, name, now],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(Team {
        id,
        name: name.to_owned(),
        created_at: now.to_owned(),
        devices: Vec::new(),
        coordinators: Vec::new(),
    })
}

pub(super) fn rename(c: &mut Connection, project: &str, team: i64, name: &str) -> Result<bool> {
    let tx = c.transaction()?;
    if has_name(&tx, project, name, team)? {
        return Err(name_taken(name));
    }
    let n = tx.execute(
        "UPDATE teams SET name = ?3 WHERE project = ?1 AND id = ?2",
        params![project, team, name],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

pub(super) fn delete(c: &mut Connection, project: &str, team: i64) -> Result<bool> {
    let tx = c.transaction()?;
    // The limits and members go explicitly (not only by cascade), so the rule holds
    // whatever the connection's foreign-key setting.
    tx.execute(
        "DELETE FROM membership_teams WHERE team_id = ?2
             AND EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND project = ?1)",
        params![project, team],
    )?;
    tx.execute(
        "DELETE FROM team_devices WHERE team_id = ?2
             AND EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND project = ?1)",
        params![project, team],
    )?;
    let n = tx.execute(
        "DELETE FROM teams WHERE project = ?1 AND id = ?2",
        params![project, team],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

fn team_exists(c: &Connection, project: &str, team: i64) -> Result<bool> {
    Ok(c.query_row(
        "SELECT 1 FROM teams WHERE project = ?1 AND id = ?2",
        params![project, team],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

pub(super) fn set_device(
    c: &mut Connection,
    project: &str,
    team: i64,
    device: &str,
    member: bool,
) -> Result<TeamChange> {
    let tx = c.transaction()?;
    if !team_exists(&tx, project, team)? {
        return Ok(TeamChange::UnknownTeam);
    }
    let known = tx
        .query_row(
            "SELECT 1 FROM devices WHERE project = ?1 AND id = ?2",
            params![project, device],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !known {
        return Ok(TeamChange::UnknownDevice);
    }
    if member {
        tx.execute(
            "INSERT INTO team_devices (team_id, device) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![team, device],
        )?;
    } else {
        tx.execute(
            "DELETE FROM team_devices WHERE team_id = ?1 AND device = ?2",
            params![team, device],
        )?;
    }
    tx.commit()?;
    Ok(TeamChange::Done)
}

pub(super) fn limit_member(
    c: &mut Connection,
    user: &str,
    project: &str,
    teams: Option<&[i64]>,
) -> Result<TeamChange> {
    let tx = c.transaction()?;
    let member = tx
        .query_row(
            "SELECT 1 FROM memberships WHERE user_name = ?1 AND project = ?2",
            params![user, project],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !member {
        return Ok(TeamChange::NotMember);
    }
    for team in teams.unwrap_or_default() {
        if !team_exists(&tx, project, *team)? {
            return Ok(TeamChange::UnknownTeam);
        }
    }
    tx.execute(
        "DELETE FROM membership_teams WHERE user_name = ?1 AND project = ?2",
        params![user, project],
    )?;
    for team in teams.unwrap_or_default() {
        tx.execute(
            "INSERT INTO membership_teams (user_name, project, team_id) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![user, project, team],
        )?;
    }
    tx.execute(
        "UPDATE memberships SET teams_only = ?3 WHERE user_name = ?1 AND project = ?2",
        params![user, project, teams.is_some()],
    )?;
    tx.commit()?;
    Ok(TeamChange::Done)
}
