//! `POST /provision` (a device's one-time code for its token) and `POST /login` (a
//! person's session).

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use voices_core::sync::protocol::{
    DeviceCredentials, LoginRequest, ProvisionRequest, SessionToken,
};

use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};

pub(super) async fn provision(
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Json<DeviceCredentials>> {
    let request: ProvisionRequest = json_body(&state, body).await?;
    let store = state.store.clone();
    blocking(move || crate::accounts::provision(store.as_ref(), &request.code))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_code",
                "this provisioning code is unknown, already used, expired or its device was revoked; ask for a new one (`voices-server device add`)",
            )
        })
}

pub(super) async fn login(
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Json<SessionToken>> {
    let request: LoginRequest = json_body(&state, body).await?;
    let store = state.store.clone();
    blocking(move || crate::accounts::login(store.as_ref(), &request.user, &request.password))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "unknown user or wrong password",
            )
        })
}
