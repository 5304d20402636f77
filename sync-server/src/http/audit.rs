//! The access audit, for admins: `GET /audit?project&actor&action&since&until&after&limit`,
//! oldest first, a page at a time (`next` is the `after` of the next page).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::audit;
use crate::store::access::{AuditAction, AuditQuery};

pub(super) async fn list(
    State(state): State<AppState>,
    _: Admin,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query = parse(&params)?;
    let store = state.store.clone();
    let page = blocking(move || audit::page(store.as_ref(), &query)).await?;
    Ok(Json(json!(page)))
}

fn parse(params: &HashMap<String, String>) -> ApiResult<AuditQuery> {
    let text = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    let number = |name: &str, default: u64| -> ApiResult<u64> {
        match params.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request(
                    "bad_query",
                    format!("`{name}` must be a whole number, not `{v}`"),
                )
            }),
        }
    };
    let action = match text("action") {
        None => None,
        Some(name) => Some(AuditAction::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            ApiError::bad_request(
                "bad_query",
                format!("`action` is one of {}, not `{name}`", known.join(", ")),
            )
        })?),
    };
    Ok(AuditQuery {
        project: text("project"),
        actor: text("actor"),
        action,
        since: text("since"),
        until: text("until"),
        after: number("after", 0)? as i64,
        limit: (number("limit", audit::DEFAULT_PAGE as u64)? as usize).clamp(1, audit::MAX_PAGE),
    })
}
