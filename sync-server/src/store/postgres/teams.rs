//! PostgreSQL: teams, their devices, coordinators limited to them (see `store::teams`),
//! and the condition the reads of responses add for a limited coordinator.

use postgres::GenericClient;

use super::connection::Attempt;
use crate::store::teams::{scope_condition, Team, TeamChange, TeamRef};
use crate::store::Scope;
use crate::Error;

/// The condition that the row's device (`column`) is seen by the user in placeholder
/// `user` (`NULL`: the whole project) of the project in `$1`.
pub(super) fn seen(column: &str, user: &str) -> String {
    format!(
        "({user}::TEXT IS NULL OR {})",
        scope_condition(column, "$1", user)
    )
}

/// Which of `ids` the scope sees in the project, in order.
pub(super) fn visible(
    c: &mut impl GenericClient,
    project: &str,
    scope: &Scope,
    ids: &[String],
) -> Attempt<Vec<bool>> {
    let user = scope.limited_to();
    let found: std::collections::HashSet<String> = c
        .query(
            &format!(
                "SELECT id FROM responses WHERE project = $1 AND id = ANY($2) AND {}",
                seen("device", "$3")
            ),
            &[&project, &ids, &user],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(ids.iter().map(|id| found.contains(id)).collect())
}

/// The teams a member is limited to, by name.
pub(super) fn limits_of(
    c: &mut impl GenericClient,
    user: &str,
    project: &str,
) -> Attempt<Vec<TeamRef>> {
    c.query(
        "SELECT t.id, t.name FROM membership_teams mt JOIN teams t ON t.id = mt.team_id
         WHERE mt.user_name = $1 AND mt.project = $2 ORDER BY t.name",
        &[&user, &project],
    )?
    .iter()
    .map(|r| {
        Ok(TeamRef {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
        })
    })
    .collect()
}

fn strings(c: &mut impl GenericClient, sql: &str, team: i64) -> Attempt<Vec<String>> {
    c.query(sql, &[&team])?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

pub(super) fn list(c: &mut impl GenericClient, project: &str) -> Attempt<Vec<Team>> {
    let rows = c.query(
        "SELECT id, name, created_at FROM teams WHERE project = $1 ORDER BY name, id",
        &[&project],
    )?;
    let mut teams = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get(0)?;
        teams.push(Team {
            devices: strings(
                c,
                "SELECT device FROM team_devices WHERE team_id = $1 ORDER BY device",
                id,
            )?,
            coordinators: strings(
                c,
                "SELECT user_name FROM membership_teams WHERE team_id = $1 ORDER BY user_name",
                id,
            )?,
            id,
            name: r.try_get(1)?,
            created_at: r.try_get(2)?,
        });
    }
    Ok(teams)
}

fn name_taken(name: &str) -> Error {
    Error::Conflict(format!("this project already has a team named `{name}`"))
}

pub(super) fn add(c: &mut postgres::Client, project: &str, name: &str, now: &str) -> Attempt<Team> {
    // The unique constraint decides between two servers adding the same name at once.
    let row = c.query_opt(
        "INSERT INTO teams (project, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (project, name) DO NOTHING RETURNING id",
        &[&project, &name, &now],
    )?;
    let Some(row) = row else {
        return Err(name_taken(name).into());
    };
    Ok(Team {
        id: row.try_get(0)?,
        name: name.to_owned(),
        created_at: now.to_owned(),
        devices: Vec::new(),
        coordinators: Vec::new(),
    })
}

pub(super) fn rename(
    c: &mut postgres::Client,
    project: &str,
    team: i64,
    name: &str,
) -> Attempt<bool> {
    let mut tx = c.transaction()?;
    let taken = tx
        .query_opt(
            "SELECT 1 FROM teams WHERE project = $1 AND name = $2 AND id <> $3",
            &[&project, &name, &team],
        )?
        .is_some();
    if taken {
        return Err(name_taken(name).into());
    }
    let n = tx.execute(
        "UPDATE teams SET name = $3 WHERE project = $1 AND id = $2",
        &[&project, &team, &name],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

pub(super) fn delete(c: &mut postgres::Client, project: &str, team: i64) -> Attempt<bool> {
    let mut tx = c.transaction()?;
    let owned = tx
        .query_opt(
            "SELECT 1 FROM teams WHERE project = $1 AND id = $2 FOR UPDATE",
            &[&project, &team],
        )?
        .is_some();
    if !owned {
        return Ok(false);
    }
    tx.execute("DELETE FROM membership_teams WHERE team_id = $1", &[&team])?;
    tx.execute("DELETE FROM team_devices WHERE team_id = $1", &[&team])?;
    tx.execute("DELETE FROM teams WHERE id = $1", &[&team])?;
    tx.commit()?;
    Ok(true)
}

fn team_exists(c: &mut impl GenericClient, project: &str, team: i64) -> Attempt<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM teams WHERE project = $1 AND id = $2 FOR SHARE",
        &[&project, &team],
    )?
    .is_some())
}

pub(super) fn set_device(
    c: &mut postgres::Client,
    project: &str,
    team: i64,
    device: &str,
    member: bool,
) -> Attempt<TeamChange> {
    let mut tx = c.transaction()?;
    if !team_exists(&mut tx, project, team)? {
        return Ok(TeamChange::UnknownTeam);
    }
    let known = tx
        .query_opt(
            "SELECT 1 FROM devices WHERE project = $1 AND id = $2",
            &[&project, &device],
        )?
        .is_some();
    if !known {
        return Ok(TeamChange::UnknownDevice);
    }
    if member {
        tx.execute(
            "INSERT INTO team_devices (team_id, device) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&team, &device],
        )?;
    } else {
        tx.execute(
            "DELETE FROM team_devices WHERE team_id = $1 AND device = $2",
            &[&team, &device],
        )?;
    }
    tx.commit()?;
    Ok(TeamChange::Done)
}

pub(super) fn limit_member(
    c: &mut postgres::Client,
    user: &str,
    project: &str,
    teams: Option<&[i64]>,
) -> Attempt<TeamChange> {
    let mut tx = c.transaction()?;
    let member = tx
        .query_opt(
            "SELECT 1 FROM memberships WHERE user_name = $1 AND project = $2 FOR UPDATE",
            &[&user, &project],
        )?
        .is_some();
    if !member {
        return Ok(TeamChange::NotMember);
    }
    for team in teams.unwrap_or_default() {
        if !team_exists(&mut tx, project, *team)? {
            return Ok(TeamChange::UnknownTeam);
        }
    }
    tx.execute(
        "DELETE FROM membership_teams WHERE user_name = $1 AND project = $2",
        &[&user, &project],
    )?;
    for team in teams.unwrap_or_default() {
        tx.execute(
            "INSERT INTO membership_teams (user_name, project, team_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&user, &project, team],
        )?;
    }
    tx.execute(
        "UPDATE memberships SET teams_only = $3 WHERE user_name = $1 AND project = $2",
        &[&user, &project, &teams.is_some()],
    )?;
    tx.commit()?;
    Ok(TeamChange::Done)
}
