//! Teams (docs/console.md, Teams): `GET /projects/{p}/teams` (admins and coordinators; a
//! coordinator limited to teams lists only theirs), and for admins: a team added,
//! renamed or deleted (`POST /teams`, `PATCH`/`DELETE /teams/{team}`), a device put in
//! a team or taken out (`PUT`/`DELETE /teams/{team}/devices/{device}`), and a member
//! limited to teams or the limit lifted (`PUT /members/{name}/teams`).

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Admin, Authorized, Coordinate};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::extract::Path;
use super::{blocking, AppState};
use crate::audit;
use crate::store::access::AuditAction;
use crate::store::{teams, Principal, Role, Scope, Team, TeamChange};

fn unknown_team(team: &str) -> ApiError {
    ApiError::not_found(
        "unknown_team",
        format!(
            "no team `{}` in this project",
            team.chars().take(40).collect::<String>()
        ),
    )
}

fn unknown_project(project: &str) -> ApiError {
    ApiError::not_found(
        "unknown_project",
        format!("there is no project `{project}`"),
    )
}

/// A team id from the path; one that is not a number names no team.
fn team_id(text: &str) -> ApiResult<i64> {
    text.trim().parse().map_err(|_| unknown_team(text))
}

fn team_name(text: &str) -> ApiResult<String> {
    teams::team_name(text).map_err(|e| ApiError::bad_request("bad_team_name", e.to_string()))
}

fn name_taken(e: crate::Error) -> ApiError {
    match e {
        crate::Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "team_exists", m),
        other => other.into(),
    }
}

fn change_error(change: TeamChange, team: &str, other: &str) -> Option<ApiError> {
    match change {
        TeamChange::Done => None,
        TeamChange::UnknownTeam => Some(unknown_team(team)),
        TeamChange::UnknownDevice => Some(ApiError::not_found(
            "unknown_device",
            format!("no device `{other}` in this project"),
        )),
        TeamChange::NotMember => Some(ApiError::not_found(
            "not_member",
            format!("`{other}` is not a member of this project"),
        )),
    }
}

/// Refuse a project that does not exist (an admin's routes name any project).
async fn project_exists(state: &AppState, project: &str) -> ApiResult<()> {
    let (store, p) = (state.store.clone(), project.to_owned());
    if blocking(move || store.project_exists(&p)).await? {
        Ok(())
    } else {
        Err(unknown_project(project))
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Vec<Team>>> {
    let store = state.store.clone();
    let scope = caller.scope();
    let limits: Vec<i64> = match &caller.principal {
        Principal::User(u) => u
            .memberships
            .iter()
            .filter(|m| m.project == caller.project)
            .flat_map(|m| m.teams.iter().flatten().map(|t| t.id))
            .collect(),
        Principal::Device(_) => Vec::new(),
    };
    let all = blocking(move || store.teams(&caller.project)).await?;
    Ok(Json(match scope {
        Scope::Project => all,
        Scope::TeamsOf(_) => all.into_iter().filter(|t| limits.contains(&t.id)).collect(),
    }))
}

#[derive(Deserialize)]
pub(super) struct TeamBody {
    name: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Admin(admin): Admin,
    body: Body,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let request: TeamBody = json_body(&state, body).await?;
    let name = team_name(&request.name)?;
    project_exists(&state, &project).await?;
    let store = state.store.clone();
    let team = blocking(move || {
        let team = store
            .add_team(&project, &name, &crate::now_text())
            .map_err(name_taken)?;
        let target = team.id.to_string();
        audit::record(
            store.as_ref(),
            &admin.name,
            AuditAction::AddTeam,
            Some(&project),
            Some(&target),
            format!("name={name}"),
            true,
        )?;
        Ok::<_, ApiError>(team)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(team)))
}

pub(super) async fn rename(
    State(state): State<AppState>,
    Path((project, team)): Path<(String, String)>,
    Admin(admin): Admin,
    body: Body,
) -> ApiResult<Json<Team>> {
    let request: TeamBody = json_body(&state, body).await?;
    let name = team_name(&request.name)?;
    project_exists(&state, &project).await?;
    let id = team_id(&team)?;
    let store = state.store.clone();
    let renamed = blocking(move || {
        if !store.rename_team(&project, id, &name).map_err(name_taken)? {
            return Ok::<_, ApiError>(None);
        }
        audit::record(
            store.as_ref(),
            &admin.name,
            AuditAction::RenameTeam,
            Some(&project),
            Some(&id.to_string()),
            format!("name={name}"),
            true,
        )?;
        Ok(store.teams(&project)?.into_iter().find(|t| t.id == id))
    })
    .await?;
    renamed.map(Json).ok_or_else(|| unknown_team(&team))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((project, team)): Path<(String, String)>,
    Admin(admin): Admin,
) -> ApiResult<StatusCode> {
    project_exists(&state, &project).await?;
    let id = team_id(&team)?;
    let store = state.store.clone();
    let deleted = blocking(move || {
        if !store.delete_team(&project, id)? {
            return Ok::<_, crate::Error>(false);
        }
        let target = id.to_string();
        audit::record(
            store.as_ref(),
            &admin.name,
            AuditAction::DeleteTeam,
            Some(&project),
            Some(&target),
            "",
            true,
        )?;
        Ok(true)
    })
    .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_team(&team))
    }
}

async fn set_device(
    state: &AppState,
    admin: String,
    project: String,
    team: String,
    device: String,
    member: bool,
) -> ApiResult<StatusCode> {
    project_exists(state, &project).await?;
    let id = team_id(&team)?;
    let store = state.store.clone();
    let d = device.clone();
    let change = blocking(move || {
        let change = store.set_team_device(&project, id, &d, member)?;
        if change == TeamChange::Done {
            let detail = format!("{} {d}", if member { "added" } else { "removed" });
            audit::record(
                store.as_ref(),
                &admin,
                AuditAction::TeamDevice,
                Some(&project),
                Some(&id.to_string()),
                detail,
                true,
            )?;
        }
        Ok::<_, crate::Error>(change)
    })
    .await?;
    match change_error(change, &team, &device) {
        None => Ok(StatusCode::NO_CONTENT),
        Some(e) => Err(e),
    }
}

pub(super) async fn add_device(
    State(state): State<AppState>,
    Path((project, team, device)): Path<(String, String, String)>,
    Admin(admin): Admin,
) -> ApiResult<StatusCode> {
    set_device(&state, admin.name, project, team, device, true).await
}

pub(super) async fn remove_device(
    State(state): State<AppState>,
    Path((project, team, device)): Path<(String, String, String)>,
    Admin(admin): Admin,
) -> ApiResult<StatusCode> {
    set_device(&state, admin.name, project, team, device, false).await
}

#[derive(Deserialize)]
pub(super) struct Limit {
    /// Team ids; `null` lifts the limit.
    teams: Option<Vec<i64>>,
}

pub(super) async fn limit_member(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    Admin(admin): Admin,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request: Limit = json_body(&state, body).await?;
    if request.teams.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::bad_request(
            "no_teams",
            "limit a member to at least one team; `null` lifts the limit (to stop them reading, remove them from the project)",
        ));
    }
    project_exists(&state, &project).await?;
    let store = state.store.clone();
    let (p, n) = (project.clone(), name.clone());
    let outcome = blocking(move || {
        let Some(user) = store.find_user(&n)? else {
            return Ok::<_, crate::Error>(Err(TeamChange::NotMember));
        };
        if user.role == Role::Admin {
            return Ok(Ok(None));
        }
        let change = store.limit_member(&n, &p, request.teams.as_deref())?;
        if change != TeamChange::Done {
            return Ok(Err(change));
        }
        audit::record(
            store.as_ref(),
            &admin.name,
            AuditAction::LimitTeams,
            Some(&p),
            Some(&n),
            teams::limit_detail(request.teams.as_deref()),
            true,
        )?;
        let limited = store.find_user(&n)?.and_then(|u| {
            u.memberships
                .into_iter()
                .find(|m| m.project == p)
                .map(|m| m.teams)
        });
        Ok(Ok(Some(limited.flatten())))
    })
    .await?;
    match outcome {
        Ok(Some(teams)) => Ok(Json(json!({"project": project, "teams": teams}))),
        Ok(None) => Err(ApiError::bad_request(
            "admin_unlimited",
            format!("`{name}` is an admin, and admins read every response"),
        )),
        Err(change) => Err(change_error(change, "", &name)
            .unwrap_or_else(|| ApiError::internal("a limit neither done nor refused"))),
    }
}
