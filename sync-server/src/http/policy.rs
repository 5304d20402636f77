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

/// How long the project keeps withdrawn responses before their answers are purged.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WithdrawalPolicy {
    keep_days: u32,
}

/// `GET /projects/{p}/withdrawal-policy`.
pub(super) async fn get_withdrawal(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<WithdrawalPolicy>> {
    let store = state.store.clone();
    let p = caller.project.clone();
    let days = blocking(move || store.withdrawn_keep_days(&p)).await?;
    days.map(|keep_days| Json(WithdrawalPolicy { keep_days }))
        .ok_or_else(|| no_project(&caller.project))
}

/// `PUT /projects/{p}/withdrawal-policy`: responses withdrawn longer ago are purged at once.
pub(super) async fn set_withdrawal(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<WithdrawalPolicy>> {
    let policy: WithdrawalPolicy = json_body(&state, body).await?;
    let store = state.store.clone();
    let p = caller.project.clone();
    if !blocking(move || crate::withdraw::set_keep_days(store.as_ref(), &p, policy.keep_days))
        .await?
    {
        return Err(no_project(&caller.project));
    }
    Ok(Json(policy))
}
