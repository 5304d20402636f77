//! `GET /projects/{p}/referrals` (the project's devices and members: the latest referral
//! directory, which the app keeps for referral steps offline) and `PUT` (coordinators
//! and admins: publish the next version).

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::auth::{Authorized, Coordinate, ReadForms};
use super::body::small_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::referrals::{self, Refused};
use crate::store::Published;

pub(super) async fn get(
    State(state): State<AppState>,
    caller: Authorized<ReadForms>,
) -> ApiResult<Json<Value>> {
    let store = state.store.clone();
    let p = caller.project.clone();
    let Some(found) = blocking(move || store.directory(&p)).await? else {
        return Err(ApiError::not_found(
            "no_directory",
            format!("project `{}` has no referral directory yet", caller.project),
        ));
    };
    let mut body: Value = serde_json::from_str(&found.document)
        .map_err(|e| ApiError::internal(format!("a stored directory does not read: {e}")))?;
    body["version"] = json!(found.version);
    body["published_at"] = json!(found.published_at);
    Ok(Json(body))
}

pub(super) async fn set(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let bytes = small_body(&state, body).await?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("bad_directory", "the body is not UTF-8 text"))?;
    let store = state.store.clone();
    let by = caller.name();
    let p = caller.project.clone();
    let done = blocking(move || referrals::publish(store.as_ref(), &p, &text, &by)).await?;
    match done {
        Ok((published, how)) => Ok((
            match how {
                Published::New => StatusCode::CREATED,
                Published::AlreadyIdentical => StatusCode::OK,
            },
            Json(json!({"version": published.version, "published_at": published.published_at})),
        )),
        Err(Refused::UnknownProject) => Err(ApiError::not_found(
            "unknown_project",
            format!("there is no project `{}`", caller.project),
        )),
        Err(Refused::Invalid(problems)) => {
            Err(ApiError::bad_request("bad_directory", problems.join("; ")))
        }
    }
}
