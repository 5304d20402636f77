//! The coordinator feed: `GET /responses?after=CURSOR&limit=N` (pages of merged
//! responses), `GET /responses/{id}` (pii masked unless asked), its history, review
//! (`PUT /responses/{id}/review`, a send-back with comments among them; `POST /reviews`
//! for many), what changed since a send-back, and conflict resolution.

use super::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use voices_core::sync::protocol::{FieldComments, PullPage, ReviewState};

use super::auth::{Authorized, Coordinate};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, parse_cursor, AppState};
use crate::console::{self, resolve::ResolveError, response::Unresolved};
use crate::metrics::Metrics;
use crate::responses::{self, DEFAULT_PAGE};
use crate::review;
use crate::store::access::AuditAction;

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
    let scope = caller.scope();
    let page = blocking(move || {
        let page = responses::page(store.as_ref(), &caller.project, &scope, after, limit)?;
        // The pull carries every answer (sealed ones as ciphertext): each page is audited.
        let detail = format!("pull after={after} items={}", page.items.len());
        caller.audit(store.as_ref(), AuditAction::ReadResponse, None, detail)?;
        Ok::<_, crate::Error>(page)
    })
    .await?;
    Metrics::add(&state.metrics.pulls, 1);
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
pub(super) struct PiiQuery {
    #[serde(default)]
    pii: bool,
}

/// One response, pii answers masked unless `pii=true` is asked (as in exports).
pub(super) async fn one(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<PiiQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    caller.sees(&state, &id).await?;
    let (store, indexes) = (state.store.clone(), state.indexes.clone());
    caller.check_pii(query.pii)?;
    let rid = id.clone();
    let found = blocking(move || {
        let detail = format!("pii={}", query.pii);
        caller.audit(
            store.as_ref(),
            AuditAction::ReadResponse,
            Some(&rid),
            detail,
        )?;
        console::response::response_json(store.as_ref(), &indexes, &caller.project, &rid, query.pii)
    })
    .await?;
    found.map(Json).ok_or_else(|| unknown_response(&id))
}

/// Its revisions as per-field changes, and its review decisions.
pub(super) async fn history(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<PiiQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    caller.sees(&state, &id).await?;
    let (store, indexes) = (state.store.clone(), state.indexes.clone());
    caller.check_pii(query.pii)?;
    let rid = id.clone();
    let found = blocking(move || {
        let detail = format!("history pii={}", query.pii);
        caller.audit(
            store.as_ref(),
            AuditAction::ReadResponse,
            Some(&rid),
            detail,
        )?;
        console::response::history_json(store.as_ref(), &indexes, &caller.project, &rid, query.pii)
    })
    .await?;
    found.map(Json).ok_or_else(|| unknown_response(&id))
}

#[derive(Debug, Deserialize)]
pub(super) struct ReviewRequest {
    state: ReviewState,
    #[serde(default)]
    comment: Option<String>,
    /// Comments on single answers, by flat path (a send-back's).
    #[serde(default)]
    fields: FieldComments,
}

fn refused(e: review::Refused) -> ApiError {
    ApiError::bad_request(e.code(), e.to_string())
}

/// `PUT /responses/{id}/review`: one decision, a send-back with its comments among them.
pub(super) async fn review(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<StatusCode> {
    let request: ReviewRequest = json_body(&state, body).await?;
    let store = state.store.clone();
    let by = caller.name();
    let scope = caller.scope();
    let rid = id.clone();
    let found = blocking(move || {
        let asked = review::Request {
            state: request.state,
            comment: request.comment.as_deref(),
            fields: &request.fields,
        };
        let found = review::review(
            store.as_ref(),
            &caller.project,
            &scope,
            std::slice::from_ref(&rid),
            &asked,
            &by,
        )?;
        if found.is_ok() {
            let detail = format!("{:?}", request.state).to_lowercase();
            caller.audit(store.as_ref(), AuditAction::Review, Some(&rid), detail)?;
        }
        Ok::<_, crate::Error>(found)
    })
    .await?
    .map_err(refused)?;
    if found.first() == Some(&true) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_response(&id))
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct BulkReview {
    ids: Vec<String>,
    state: ReviewState,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /reviews`: one decision for many responses; a result per id, in order.
pub(super) async fn bulk_review(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request: BulkReview = json_body(&state, body).await?;
    let store = state.store.clone();
    let by = caller.name();
    let scope = caller.scope();
    let ids = request.ids.clone();
    let found = blocking(move || {
        let asked = review::Request {
            state: request.state,
            comment: request.comment.as_deref(),
            fields: &FieldComments::new(),
        };
        let found = review::review(store.as_ref(), &caller.project, &scope, &ids, &asked, &by)?;
        if found.is_ok() {
            let detail = format!("{:?} {} responses", request.state, ids.len()).to_lowercase();
            let target = ids.join(" ");
            caller.audit(store.as_ref(), AuditAction::Review, Some(&target), detail)?;
        }
        Ok::<_, crate::Error>(found)
    })
    .await?
    .map_err(refused)?;
    let results: Vec<Value> = request
        .ids
        .iter()
        .zip(found)
        .map(|(id, ok)| match ok {
            true => json!({"id": id, "ok": true}),
            false => json!({"id": id, "ok": false, "code": "unknown_response"}),
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

/// `GET /responses/{id}/resubmission`: what changed since the response was last sent
/// back, pii masked unless asked.
pub(super) async fn resubmission(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<PiiQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    caller.sees(&state, &id).await?;
    let (store, indexes) = (state.store.clone(), state.indexes.clone());
    let rid = id.clone();
    let found = blocking(move || {
        console::resubmission::since_sent_back(
            store.as_ref(),
            &indexes,
            &caller.project,
            &rid,
            query.pii,
        )
    })
    .await?;
    match found {
        Some(Some(json)) => Ok(Json(json)),
        Some(None) => Err(ApiError::not_found(
            "not_sent_back",
            format!("response `{id}` was never sent back"),
        )),
        None => Err(unknown_response(&id)),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Resolve {
    path: String,
    value: Option<String>,
}

/// `POST /responses/{id}/resolve`: the coordinator's value for a conflicted answer, as
/// an edit by the coordinator's own actor; the response as it is then.
pub(super) async fn resolve(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<Value>> {
    caller.sees(&state, &id).await?;
    let request: Resolve = json_body(&state, body).await?;
    let (store, catalog, indexes) = (
        state.store.clone(),
        state.catalog.clone(),
        state.indexes.clone(),
    );
    let user = caller.name();
    let rid = id.clone();
    let outcome = blocking(move || {
        let detail = format!("resolve {}", request.path);
        caller.audit(store.as_ref(), AuditAction::Edit, Some(&rid), detail)?;
        let project = &caller.project;
        let done = console::response::resolve_conflict(
            store.as_ref(),
            catalog.as_ref(),
            project,
            &rid,
            &user,
            &request.path,
            request.value,
        )?;
        match done {
            Ok(()) => Ok(Ok(console::response::response_json(
                store.as_ref(),
                &indexes,
                project,
                &rid,
                false,
            )?)),
            Err(e) => Ok::<_, crate::Error>(Err(e)),
        }
    })
    .await?;
    match outcome {
        Ok(Some(json)) => Ok(Json(json)),
        Ok(None) | Err(Unresolved::UnknownResponse) => Err(unknown_response(&id)),
        Err(Unresolved::Refused(e @ ResolveError::BadPath(_))) => {
            Err(ApiError::bad_request("bad_path", e.to_string()))
        }
        Err(Unresolved::Refused(e @ ResolveError::SealedValue(_))) => {
            Err(ApiError::bad_request("sealed_value", e.to_string()))
        }
        Err(Unresolved::Refused(e @ ResolveError::NoConflict(_))) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_conflict",
            e.to_string(),
        )),
        Err(Unresolved::Rejected(ack)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "resolution_refused",
            ack.reasons.join("; "),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WithdrawRequest {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /responses/{id}/withdraw`: its respondent withdrew. The withdrawal as recorded
/// (the first one, for a response already withdrawn).
pub(super) async fn withdraw(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<Json<crate::store::Withdrawal>> {
    caller.sees(&state, &id).await?;
    let request: WithdrawRequest = json_body(&state, body).await?;
    let store = state.store.clone();
    let by = caller.name();
    let rid = id.clone();
    let done = blocking(move || {
        crate::withdraw::withdraw(
            store.as_ref(),
            &caller.project,
            &rid,
            request.reason.as_deref(),
            &by,
        )
    })
    .await?;
    done.map(Json).ok_or_else(|| unknown_response(&id))
}
