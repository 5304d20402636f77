//! Enumerator profiles and neutral presentation: `GET /projects/{p}/device/profile` (a
//! device reads its enumerator's profile and the project's neutral name at each sync),
//! `PUT /projects/{p}/devices/{id}/profile` (coordinators set a device's profile), and
//! `GET/PUT /projects/{p}/presentation` (the project's neutral name).

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use voices_core::matching::EnumeratorProfile;
use voices_core::sync::protocol::{DeviceProfile, Presentation};

use super::auth::{Authorized, Coordinate, OwnResponses};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::extract::Path;
use super::{blocking, AppState};
use crate::store::Principal;

fn no_project(project: &str) -> ApiError {
    ApiError::not_found(
        "unknown_project",
        format!("there is no project `{project}`"),
    )
}

/// `GET /projects/{p}/device/profile`: the calling device's profile and the neutral name.
pub(super) async fn device_profile(
    State(state): State<AppState>,
    caller: Authorized<OwnResponses>,
) -> ApiResult<Json<DeviceProfile>> {
    let Principal::Device(device) = &caller.principal else {
        return Err(ApiError::internal(
            "the device profile reached without a device",
        ));
    };
    let (store, device, project) = (state.store.clone(), device.id.clone(), caller.project);
    let (enumerator, presentation) = blocking(move || {
        Ok::<_, crate::Error>((
            store.device_profile(Some(&project), &device)?,
            store.presentation(&project)?,
        ))
    })
    .await?;
    Ok(Json(DeviceProfile {
        enumerator: enumerator.unwrap_or_default(),
        neutral_name: presentation.and_then(|p| p.neutral_name),
    }))
}

/// `PUT /projects/{p}/devices/{id}/profile`: replace a device's enumerator profile.
pub(super) async fn set_device_profile(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<EnumeratorProfile>> {
    let profile: EnumeratorProfile = json_body(&state, body).await?;
    let profile = profile
        .normalized()
        .map_err(|detail| ApiError::bad_request("bad_profile", detail))?;
    let store = state.store.clone();
    let scope = caller.scope();
    let (did, saved) = (id.clone(), profile.clone());
    let found = blocking(move || {
        // Only a device of the project the path names (and of the caller's teams).
        if !store
            .list_devices_in(&caller.project, &scope)?
            .iter()
            .any(|d| d.id == did)
        {
            return Ok::<_, crate::Error>(false);
        }
        store.set_device_profile(Some(&caller.project), &did, &saved)
    })
    .await?;
    if !found {
        return Err(ApiError::not_found(
            "unknown_device",
            format!("there is no device `{id}` in this project"),
        ));
    }
    Ok(Json(profile))
}

/// `GET /projects/{p}/presentation`.
pub(super) async fn get_presentation(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Presentation>> {
    let store = state.store.clone();
    let p = caller.project.clone();
    let presentation = blocking(move || store.presentation(&p)).await?;
    presentation
        .map(Json)
        .ok_or_else(|| no_project(&caller.project))
}

/// `PUT /projects/{p}/presentation`: devices take it at their next sync.
pub(super) async fn set_presentation(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<Presentation>> {
    let presentation: Presentation = json_body(&state, body).await?;
    let presentation = presentation
        .normalized()
        .map_err(|detail| ApiError::bad_request("bad_presentation", detail))?;
    let store = state.store.clone();
    let (p, saved) = (caller.project.clone(), presentation.clone());
    if !blocking(move || store.set_presentation(&p, &saved)).await? {
        return Err(no_project(&caller.project));
    }
    Ok(Json(presentation))
}
