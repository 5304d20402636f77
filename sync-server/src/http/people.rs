//! People, for admins: `GET/POST /users`, `PATCH /users/{name}` (disable, new password,
//! display name) and project membership `PUT/DELETE /projects/{p}/members/{name}`.

use super::extract::Path;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Admin;
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::auth;
use crate::store::{Role, User, UserChanges};

fn user_json(u: &User) -> Value {
    json!({
        "name": u.name,
        "display_name": u.display_name,
        "admin": u.role == Role::Admin,
        "disabled": u.disabled,
        "memberships": u.memberships,
    })
}

fn unknown_user(name: &str) -> ApiError {
    ApiError::not_found("unknown_user", format!("no user `{name}`"))
}

/// A password an admin sets: the one password rule ([`auth::check_new_password`], as
/// for the CLI and `PUT /password`), then hashed in a password turn, so Argon2 runs at
/// most once per core here too.
async fn hash_new_password(state: &AppState, password: String) -> ApiResult<String> {
    auth::check_new_password(&password)?;
    let turn = state.passwords.turn().await?;
    blocking(move || {
        let _turn = turn;
        auth::hash_password(&password)
    })
    .await
}

pub(super) async fn list(State(state): State<AppState>, _: Admin) -> ApiResult<Json<Value>> {
    let store = state.store.clone();
    let users = blocking(move || store.list_users()).await?;
    Ok(Json(Value::Array(users.iter().map(user_json).collect())))
}

#[derive(Deserialize)]
pub(super) struct NewUser {
    name: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    admin: bool,
}

pub(super) async fn add(
    State(state): State<AppState>,
    _: Admin,
    body: Body,
) -> ApiResult<Response> {
    let request: NewUser = json_body(&state, body).await?;
    let name_ok = (1..=64).contains(&request.name.len())
        && request
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c));
    if !name_ok {
        return Err(ApiError::bad_request(
            "bad_name",
            "a user name is 1 to 64 of A-Z a-z 0-9 _ . @ -",
        ));
    }
    let password_hash = hash_new_password(&state, request.password).await?;
    // Admins are admins everywhere; anyone else acts by their role in each membership.
    let role = if request.admin {
        Role::Admin
    } else {
        Role::Coordinator
    };
    let store = state.store.clone();
    let changes = UserChanges {
        display_name: request
            .display_name
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()),
        ..UserChanges::default()
    };
    let name = request.name;
    let user = blocking(move || {
        let now = crate::now_text();
        store.add_user(&name, role, &password_hash, &now)?;
        store.update_user(&name, &changes, &now)
    })
    .await?
    .ok_or_else(|| ApiError::internal("the new user vanished"))?;
    Ok((StatusCode::CREATED, Json(user_json(&user))).into_response())
}

#[derive(Deserialize)]
pub(super) struct UserPatch {
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Admin,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request: UserPatch = json_body(&state, body).await?;
    let password_hash = match request.password {
        None => None,
        Some(password) => Some(hash_new_password(&state, password).await?),
    };
    let changes = UserChanges {
        disabled: request.disabled,
        password_hash,
        display_name: request.display_name.map(|d| d.trim().to_owned()),
    };
    let store = state.store.clone();
    let n = name.clone();
    let user = blocking(move || store.update_user(&n, &changes, &crate::now_text())).await?;
    user.map(|u| Json(user_json(&u)))
        .ok_or_else(|| unknown_user(&name))
}

#[derive(Deserialize)]
pub(super) struct MemberRole {
    role: String,
}

pub(super) async fn set_member(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    _: Admin,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request: MemberRole = json_body(&state, body).await?;
    let role = match Role::parse(request.role.trim()) {
        Some(r @ (Role::Coordinator | Role::Designer)) => r,
        _ => {
            return Err(ApiError::bad_request(
                "bad_role",
                "a member's role is coordinator or designer (admins are admins everywhere)",
            ))
        }
    };
    let store = state.store.clone();
    let (p, n) = (project.clone(), name.clone());
    let missing = blocking(move || {
        if store.find_user(&n)?.is_none() {
            return Ok::<_, crate::Error>(Some(unknown_user(&n)));
        }
        if !store.project_exists(&p)? {
            return Ok(Some(ApiError::not_found(
                "unknown_project",
                format!("there is no project `{p}`"),
            )));
        }
        store.set_membership(&n, &p, role)?;
        Ok(None)
    })
    .await?;
    match missing {
        Some(error) => Err(error),
        None => Ok(Json(json!({"project": project, "role": role.as_str()}))),
    }
}

pub(super) async fn remove_member(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    _: Admin,
) -> ApiResult<StatusCode> {
    let store = state.store.clone();
    let (p, n) = (project.clone(), name.clone());
    if blocking(move || store.remove_membership(&n, &p)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "not_member",
            format!("`{name}` is not a member of project `{project}`"),
        ))
    }
}
