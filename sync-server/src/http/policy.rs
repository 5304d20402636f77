//! `GET /projects/{p}/device-policy` (the project's devices and members: what the app
//! does with its data: idle lock, retention) and `PUT` (coordinators and admins).

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use voices_core::sync::protocol::DevicePolicy;

use super::auth::{Authorized, Coordinate, ReadForms};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};

fn no_project(project: &str) -> ApiError {
    ApiError::not_found(
        "unknown_project",
        format!("there is no project `{project}`"),
    )
}

pub(super) async fn get(
    State(state): State<AppState>,
    caller: Authorized<ReadForms>,
) -> ApiResult<Json<DevicePolicy>> {
    let store = state.store.clone();
    let p = caller.project.clone();
    let policy = blocking(move || store.device_policy(&p)).await?;
    policy.map(Json).ok_or_else(|| no_project(&caller.project))
}

pub(super) async fn set(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<DevicePolicy>> {
    let policy: DevicePolicy = json_body(&state, body).await?;
    policy
        .check()
        .map_err(|detail| ApiError::bad_request("bad_policy", detail))?;
    let store = state.store.clone();
    let p = caller.project.clone();
    if !blocking(move || store.set_device_policy(&p, &policy)).await? {
        return Err(no_project(&caller.project));
    }
    Ok(Json(policy))
}
