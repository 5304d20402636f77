//! `POST /provision` (a device's one-time code for its token), `POST /login` (a
//! person's session) and `PUT /password` (a person's own new password). Anyone may call these, so their bodies are read only a few KiB
//! far, sign-ins are throttled per name and per client address (`crate::throttle`), and
//! password checks wait for a free core (`auth::Passwords`).

use std::net::IpAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use voices_core::sync::protocol::{
    DeviceCredentials, LoginRequest, ProvisionRequest, SessionToken,
};

use super::auth::Person;
use super::body::credentials_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::serve::Connection;
use crate::store::access::AuditAction;
use crate::store::User;

pub(super) async fn provision(
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Json<DeviceCredentials>> {
    let request: ProvisionRequest = credentials_body(body).await?;
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
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<SessionToken>> {
    let request: LoginRequest = credentials_body(body).await?;
    let address = client_address(&state, connection.map(|c| c.0), &headers);
    let user = sign_in(&state, address, request.user, request.password).await?;
    let store = state.store.clone();
    let session = blocking(move || crate::accounts::open_session(store.as_ref(), &user)).await?;
    Ok(Json(session))
}

/// The person with this name and password, within the throttle: `429` with
/// `Retry-After` while the name or the address is blocked, `503` when every core is
/// checking passwords, `401 bad_credentials` for an unknown name or a wrong password,
/// `401 account_disabled` for the right password of a disabled account.
pub(crate) async fn sign_in(
    state: &AppState,
    address: Option<IpAddr>,
    name: String,
    password: String,
) -> ApiResult<User> {
    if let Err(blocked) = state.logins.admit(&name, address, Instant::now()) {
        return Err(throttled(blocked, &name, address));
    }
    let turn = state.passwords.turn().await?;
    let (store, passwords, who) = (state.store.clone(), state.passwords.clone(), name.clone());
    let user = blocking(move || {
        let _turn = turn;
        let user =
            crate::accounts::verify_credentials(store.as_ref(), &passwords, &who, &password)?;
        // In the access audit: who signed in, and every failure with the name it tried.
        let signed_in = user.as_ref().filter(|u| !u.disabled);
        let address = address.map(|a| a.to_string()).unwrap_or_default();
        crate::audit::record(
            store.as_ref(),
            signed_in.map_or("-", |u| u.name.as_str()),
            if signed_in.is_some() {
                AuditAction::SignIn
            } else {
                AuditAction::SignInFailed
            },
            None,
            Some(&who.chars().take(100).collect::<String>()),
            format!("address={address}"),
            signed_in.is_some(),
        )?;
        Ok::<_, crate::Error>(user)
    })
    .await?;
    match user {
        Some(user) if user.disabled => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "account_disabled",
            "this account was disabled by an admin",
        )),
        Some(user) => {
            state.logins.succeeded(&name);
            Ok(user)
        }
        None => {
            state.logins.failed(&name, address, Instant::now());
            tracing::info!(user = %name, address = ?address, "sign-in failed");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "unknown user or wrong password",
            ))
        }
    }
}

fn throttled(blocked: crate::throttle::Blocked, name: &str, address: Option<IpAddr>) -> ApiError {
    let seconds = blocked.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    tracing::warn!(user = %name, address = ?address, seconds, "sign-in refused: throttled");
    ApiError {
        retry_after: Some(seconds),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed sign-ins for this name or from this address; try again in {seconds} s"
            ),
        )
    }
}

/// Whom a request comes from: the peer of the connection, or behind a proxy the
/// address the proxy appended last to `X-Forwarded-For` (`serve --behind-proxy`).
pub(crate) fn client_address(
    state: &AppState,
    connection: Option<Connection>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    if state.behind_proxy {
        // Only the last entry is the proxy's; earlier ones are whatever the client sent.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|a| a.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    connection.map(|c| c.peer.ip())
}

#[derive(serde::Deserialize)]
pub(super) struct PasswordChange {
    old_password: String,
    new_password: String,
}

/// `PUT /password`: a person changes their own password with the old one; every session
/// they hold ends (`204`; sign in again). A wrong old password counts as a failed
/// sign-in for the throttle.
pub(super) async fn change_password(
    State(state): State<AppState>,
    Person(user): Person,
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let request: PasswordChange = credentials_body(body).await?;
    let address = client_address(&state, connection.map(|c| c.0), &headers);
    if let Err(blocked) = state.logins.admit(&user.name, address, Instant::now()) {
        return Err(throttled(blocked, &user.name, address));
    }
    let turn = state.passwords.turn().await?;
    let (store, passwords, name) = (
        state.store.clone(),
        state.passwords.clone(),
        user.name.clone(),
    );
    let changed = blocking(move || {
        let _turn = turn;
        crate::accounts::change_password(
            store.as_ref(),
            &passwords,
            &name,
            &request.old_password,
            &request.new_password,
        )
    })
    .await?;
    if changed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        state.logins.failed(&user.name, address, Instant::now());
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "the old password is not right",
        ))
    }
}
