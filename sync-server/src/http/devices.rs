//! The project's devices in the console: `GET /devices` (last contact, app version,
//! pending count), `POST /devices` (a new device: its one-time code and QR code) and
//! `DELETE /devices/{id}` (revoke; `?wipe=true`: the app erases its data on its next
//! call). Each device's contact is recorded as it comes.

use super::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use voices_core::sync::protocol::ProvisioningCode;

use super::auth::{Authorized, Coordinate};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::accounts;
use crate::store::access::AuditAction;
use crate::store::Principal;

/// Headers the app sends: its version and how many responses wait in its outbox.
pub const APP_VERSION_HEADER: &str = "voices-app-version";
pub const PENDING_HEADER: &str = "voices-pending";

/// Days a code made in the console stays valid unless asked otherwise.
pub const CODE_VALID_DAYS: i64 = 7;

/// Record a device's contact in the background: the request does not wait for the write.
pub(super) fn record_contact(state: &AppState, device: &str, headers: &HeaderMap) {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().chars().take(64).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    let app_version = text(APP_VERSION_HEADER);
    let pending = text(PENDING_HEADER).and_then(|p| p.parse::<i64>().ok().filter(|n| *n >= 0));
    let store = state.store.clone();
    let device = device.to_owned();
    tokio::task::spawn_blocking(move || {
        let now = crate::now_text();
        if let Err(e) = store.touch_device(&device, &now, app_version.as_deref(), pending) {
            tracing::warn!(error = %e, %device, "could not record the device's contact");
        }
    });
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    let store = state.store.clone();
    let scope = caller.scope();
    let devices = blocking(move || store.list_devices_in(&caller.project, &scope)).await?;
    Ok(Json(Value::Array(
        devices
            .into_iter()
            .map(|d| {
                json!({
                    "id": d.id, "label": d.label, "enumerator": d.enumerator,
                    "created_at": d.created_at, "last_seen": d.last_seen,
                    "app_version": d.app_version, "pending": d.pending,
                    "revoked_at": d.revoked_at,
                    "wipe_requested_at": d.wipe_requested_at,
                    "profile": d.profile,
                })
            })
            .collect(),
    )))
}

#[derive(Deserialize)]
pub(super) struct NewDevice {
    enumerator: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    valid_days: Option<i64>,
    /// The team the device joins (a coordinator limited to teams must name one of theirs,
    /// or they could not see the device they add).
    #[serde(default)]
    team: Option<i64>,
}

/// The address devices reach this server at: `serve --public-url`, else the one the
/// browser used (its `Host`, behind a TLS proxy `https`).
fn server_url(state: &AppState, headers: &HeaderMap, uri: &axum::http::Uri) -> ApiResult<String> {
    if let Some(url) = &state.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .ok_or_else(|| {
            ApiError::bad_request(
                "no_host",
                "the request names no usable Host; start the server with --public-url",
            )
        })?;
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

pub(super) async fn add(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body,
) -> ApiResult<Response> {
    let request: NewDevice = json_body(&state, body).await?;
    let enumerator = request.enumerator.trim().to_owned();
    if enumerator.is_empty() || enumerator.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "bad_enumerator",
            "name the enumerator (1 to 100 characters)",
        ));
    }
    let label = request
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(ApiError::bad_request(
            "bad_label",
            "a label has at most 100 characters",
        ));
    }
    let days = request.valid_days.unwrap_or(CODE_VALID_DAYS);
    if !(1..=90).contains(&days) {
        return Err(ApiError::bad_request(
            "bad_valid_days",
            "a code is valid for 1 to 90 days",
        ));
    }
    if let Some(needed) = team_needed(&caller, request.team) {
        return Err(needed);
    }
    let team = request.team;
    let server = server_url(&state, &headers, &uri)?;
    let pinned = state.pinned_certificate.clone();
    let store = state.store.clone();
    let project = caller.project.clone();
    let (registered, text, svg) = blocking(move || {
        if let Some(team) = team {
            if !store.teams(&project)?.iter().any(|t| t.id == team) {
                return Ok(Err(ApiError::not_found(
                    "unknown_team",
                    format!("no team `{team}` in this project"),
                )));
            }
        }
        let registered = accounts::register_labelled_device(
            store.as_ref(),
            &project,
            &enumerator,
            None,
            label.as_deref(),
            days,
        )?;
        if let Some(team) = team {
            store.set_team_device(&project, team, &registered.device.id, true)?;
        }
        let text = ProvisioningCode {
            server,
            project,
            code: registered.code.clone(),
            certificate_sha256: pinned,
        }
        .to_text();
        let svg = accounts::qr_svg(&text)?;
        let device = Some(registered.device.id.as_str());
        caller.audit(store.as_ref(), AuditAction::AddDevice, device, "")?;
        Ok::<_, crate::Error>(Ok((registered, text, svg)))
    })
    .await??;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": registered.device.id,
            "code": text,
            "qr_svg": svg,
            "expires_at": registered.code_expires_at,
        })),
    )
        .into_response())
}

/// Why a device cannot be added to `team` by this caller, if it cannot: a coordinator
/// limited to teams adds devices to one of their teams only.
fn team_needed(caller: &Authorized<Coordinate>, team: Option<i64>) -> Option<ApiError> {
    let Principal::User(user) = &caller.principal else {
        return None;
    };
    let limits = user
        .memberships
        .iter()
        .find(|m| m.project == caller.project)
        .and_then(|m| m.teams.as_ref())?;
    if user.role == crate::store::Role::Admin {
        return None;
    }
    match team {
        Some(team) if limits.iter().any(|t| t.id == team) => None,
        _ => Some(ApiError::bad_request(
            "team_required",
            "you are limited to teams: name one of yours (`team`) for the new device",
        )),
    }
}

#[derive(Deserialize)]
pub(super) struct RevokeQuery {
    /// `?wipe=true`: the app erases its data on its next call (unsent responses too).
    #[serde(default)]
    wipe: bool,
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<RevokeQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<StatusCode> {
    let store = state.store.clone();
    let scope = caller.scope();
    let did = id.clone();
    let revoked = blocking(move || {
        // Only a device of the project the path names (and of the caller's teams).
        if !store
            .list_devices_in(&caller.project, &scope)?
            .iter()
            .any(|d| d.id == did)
        {
            return Ok::<_, crate::Error>(false);
        }
        let revoked = if query.wipe {
            store.revoke_device_with_wipe(&did, &crate::now_text())?
        } else {
            store.revoke_device(&did, &crate::now_text())?
        };
        if revoked {
            let detail = if query.wipe { "wipe" } else { "" };
            caller.audit(
                store.as_ref(),
                AuditAction::RevokeDevice,
                Some(&did),
                detail,
            )?;
        }
        Ok(revoked)
    })
    .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "unknown_device",
            format!("no device `{id}` in this project"),
        ))
    }
}
