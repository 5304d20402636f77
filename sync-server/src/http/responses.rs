//! The coordinator feed: `GET /responses?after=CURSOR&limit=N` (pages of merged
//! responses), `GET /responses/{id}` and `PUT /responses/{id}/review`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use voices_core::sync::protocol::{PullPage, PulledResponse, ReviewState};

use super::auth::{Authorized, Coordinate};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, parse_cursor, AppState};
use crate::metrics::Metrics;
use crate::responses::{self, DEFAULT_PAGE};

#[derive(Debug, Deserialize)]
pub(super) struct PullQuery {
    after: Option<String>,
    limit: Option<usize>,
}

fn unknown_response(id: &str) -> ApiError {
    ApiError::not_found(
        "unknown_response",
        format!("no response `{id}` in this project"),
    )
}

pub(super) async fn pull(
    State(state): State<AppState>,
    Query(query): Query<PullQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<PullPage>> {
    let after = parse_cursor(query.after.as_deref())?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    let store = state.store.clone();
    let page =
        blocking(move || responses::page(store.as_ref(), &caller.project, after, limit)).await?;
    Metrics::add(&state.metrics.pulls, 1);
    Ok(Json(page))
}

pub(super) async fn one(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<PulledResponse>> {
    let store = state.store.clone();
    let rid = id.clone();
    let row = blocking(move || store.get_response(&caller.project, &rid)).await?;
    row.map(|r| Json(responses::pulled(r)))
        .ok_or_else(|| unknown_response(&id))
}

#[derive(Debug, Deserialize)]
pub(super) struct ReviewRequest {
    state: ReviewState,
}

pub(super) async fn review(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<StatusCode> {
    let request: ReviewRequest = json_body(&state, body).await?;
    let store = state.store.clone();
    let rid = id.clone();
    let found =
        blocking(move || responses::review(store.as_ref(), &caller.project, &rid, request.state))
            .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_response(&id))
    }
}
