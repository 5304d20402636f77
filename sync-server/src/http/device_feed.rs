//! `GET /projects/{p}/device/feed?after=CURSOR&limit=N&version=V`: a device pulls back
//! the responses it started (review states and comments, coordinators' edits, and from
//! version 2 their withdrawals), page by page from its cursor. Devices only; another
//! device's responses never appear.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use voices_core::sync::protocol::{DeviceFeedPage, DEVICE_FEED_VERSIONS};

use super::auth::{Authorized, OwnResponses};
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::{blocking, parse_cursor, AppState};
use crate::metrics::Metrics;
use crate::review::{self, DEFAULT_FEED_PAGE};
use crate::store::Principal;

#[derive(Debug, Deserialize)]
pub(super) struct FeedQuery {
    after: Option<String>,
    limit: Option<usize>,
    /// The feed version the device reads; 1 when not given (an app from before 2).
    version: Option<u32>,
}

pub(super) async fn pull(
    State(state): State<AppState>,
    Query(query): Query<FeedQuery>,
    caller: Authorized<OwnResponses>,
) -> ApiResult<Json<DeviceFeedPage>> {
    let after = parse_cursor(query.after.as_deref())?;
    let version = query.version.unwrap_or(1);
    if !DEVICE_FEED_VERSIONS.contains(&version) {
        return Err(ApiError::bad_request(
            "unsupported_feed_version",
            format!(
                "device feed version {version} does not exist; this server sends versions {DEVICE_FEED_VERSIONS:?}"
            ),
        ));
    }
    let limit = query.limit.unwrap_or(DEFAULT_FEED_PAGE);
    let Principal::Device(device) = &caller.principal else {
        return Err(ApiError::internal(
            "the device feed reached without a device",
        ));
    };
    let (store, device) = (state.store.clone(), device.id.clone());
    let page = blocking(move || {
        review::device_page(
            store.as_ref(),
            &caller.project,
            &device,
            after,
            limit,
            version,
        )
    })
    .await?;
    Metrics::add(&state.metrics.pulls, 1);
    Ok(Json(page))
}
