//! `GET /forms/{form}/dashboard` (counts over time, by enumerator and per choice
//! question by sex, age band and disability, small cells suppressed) and `GET
//! /forms/{form}/points` (the map's points, coarsened).

use std::collections::HashMap;

use super::extract::{Path, Query};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::auth::{Authorized, Coordinate};
use super::error::{ApiError, ApiResult};
use super::table::boolean;
use super::{blocking, AppState};
use crate::console::{dashboard, fields};
use crate::store::access::AuditAction;
use crate::store::projection::FormIndex;

/// Decimals of a map point without the pii permission (2: about 1 km) and at most with it.
pub const COARSE_PRECISION: u32 = 2;
pub const FINEST_PRECISION: u32 = 6;

fn unknown_form(form: &str) -> ApiError {
    ApiError::not_found(
        "unknown_form",
        format!("form `{form}` (or that version) is not published in this project"),
    )
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Path((_, form)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    let version = params
        .get("version")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let store = state.store.clone();
    let scope = caller.scope();
    let f = form.clone();
    let found = blocking(move || {
        let Some((document, _)) =
            fields::form_version(store.as_ref(), &caller.project, &f, version.as_deref())?
        else {
            return Ok::<_, crate::Error>(None);
        };
        let counts = store.dashboard_counts_in(&caller.project, &scope, &f, version.as_deref())?;
        Ok(Some(dashboard::dashboard(
            &document,
            &FormIndex::new(&document),
            &counts,
        )))
    })
    .await?;
    found.map(Json).ok_or_else(|| unknown_form(&form))
}

pub(super) async fn points(
    State(state): State<AppState>,
    Path((_, form)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Response> {
    let pii = boolean(&params, "pii", false)?;
    caller.check_pii(pii)?;
    let most = if pii {
        FINEST_PRECISION
    } else {
        COARSE_PRECISION
    };
    let precision = match params.get("precision") {
        None => COARSE_PRECISION,
        Some(p) => p
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p <= most)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!(
                        "`precision` is 0 to {most} decimals{}",
                        if pii {
                            ""
                        } else {
                            " without pii=true (finer points locate a household)"
                        }
                    ),
                )
            })?,
    };
    let store = state.store.clone();
    let scope = caller.scope();
    let f = form.clone();
    let cells = blocking(move || {
        if fields::form_version(store.as_ref(), &caller.project, &f, None)?.is_none() {
            return Ok::<_, crate::Error>(None);
        }
        // Points finer than a kilometre locate households: reading them is a pii read.
        if pii {
            let detail = format!("points pii=true precision={precision}");
            caller.audit(store.as_ref(), AuditAction::ReadResponse, Some(&f), detail)?;
        }
        Ok(Some(store.map_cells_in(
            &caller.project,
            &scope,
            &f,
            precision,
        )?))
    })
    .await?
    .ok_or_else(|| unknown_form(&form))?;
    let features: Vec<Value> = cells
        .iter()
        .map(|c| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {"count": c.count},
            })
        })
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response())
}
