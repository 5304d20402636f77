//! `GET /projects/{p}/table`: one page of the responses table, filtered, searched and
//! sorted in the database (see `store::console`), with a keyset cursor.

use std::collections::HashMap;

use super::extract::Query;
use axum::extract::State;
use axum::Json;
use serde_json::Value;

use super::auth::{Authorized, Coordinate};
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::store::access::AuditAction;
use crate::store::console::{parse_review, time_bound, Cursor, Flag, Sort, TableQuery, COUNT_CAP};
use crate::store::projection::search_words;
use crate::store::Scope;

/// Most rows in one page.
pub const MAX_TABLE_PAGE: usize = 500;

/// Largest row number a page may start at (far beyond any project's responses; it keeps
/// the number an integer in both databases).
pub const MAX_TABLE_OFFSET: u64 = 1_000_000_000;

fn bad_query(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("bad_query", detail)
}

/// `true`/`false` (absent: `default`); anything else is refused.
pub(super) fn boolean(
    params: &HashMap<String, String>,
    name: &str,
    default: bool,
) -> ApiResult<bool> {
    match params.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(bad_query(format!(
            "`{name}` is true or false, not `{other}`"
        ))),
    }
}

/// A table query from the request's parameters; every bad one is named.
pub(super) fn table_query(params: &HashMap<String, String>) -> ApiResult<TableQuery> {
    let text = |name: &str| {
        params
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let status = text("status");
    if let Some(s) = &status {
        if !matches!(s.as_str(), "draft" | "finalized") {
            return Err(bad_query(format!(
                "`status` is draft or finalized, not `{s}`"
            )));
        }
    }
    let review = match text("review") {
        None => None,
        Some(r) => Some(parse_review(&r).ok_or_else(|| {
            bad_query(format!(
                "`review` is received, has_issues, approved or rejected, not `{r}`"
            ))
        })?),
    };
    let flag = match text("flag").as_deref() {
        None => None,
        Some("conflict") => Some(Flag::Conflict),
        Some("quarantined") => Some(Flag::Quarantined),
        Some(f) => {
            return Err(bad_query(format!(
                "`flag` is conflict or quarantined, not `{f}`"
            )))
        }
    };
    let sort = match text("sort") {
        None => Sort::ReceivedAt,
        Some(s) => Sort::parse(&s).ok_or_else(|| {
            bad_query(format!(
                "`sort` is received_at, updated_at, enumerator, device, review or status, not `{s}`"
            ))
        })?,
    };
    let descending = match text("order").as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(o) => return Err(bad_query(format!("`order` is asc or desc, not `{o}`"))),
    };
    let limit = match text("limit") {
        None => 50,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_TABLE_PAGE).contains(n))
            .ok_or_else(|| bad_query(format!("`limit` is a number from 1 to {MAX_TABLE_PAGE}")))?,
    };
    let bound = |name: &str, end: bool| -> ApiResult<Option<String>> {
        text(name)
            .map(|t| time_bound(&t, end).map_err(|e| bad_query(format!("`{name}`: {e}"))))
            .transpose()
    };
    // A far jump (the scroll bar dragged down) starts at a row number instead of a cursor.
    let offset = match text("offset") {
        None => 0,
        Some(_) if text("after").is_some() => {
            return Err(bad_query(
                "give `after` (the next page) or `offset` (a row number), not both",
            ))
        }
        Some(o) => o
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_TABLE_OFFSET)
            .ok_or_else(|| {
                bad_query(format!("`offset` is a number from 0 to {MAX_TABLE_OFFSET}"))
            })?,
    };
    let after = match text("after") {
        None => None,
        Some(a) => Some(Cursor::decode(&a, sort, descending).ok_or_else(|| {
            ApiError::bad_request(
                "bad_cursor",
                "`after` is not a cursor of this sort and order; start again without it",
            )
        })?),
    };
    Ok(TableQuery {
        form: text("form"),
        version: text("version"),
        status,
        review,
        flag,
        enumerator: text("enumerator"),
        device: text("device"),
        from: bound("from", false)?,
        to: bound("to", true)?,
        words: text("q").map(|q| search_words(&q)).unwrap_or_default(),
        pii: boolean(params, "pii", false)?,
        sort,
        descending,
        after,
        offset,
        limit,
        count: boolean(params, "total", true)?,
        // A page's total is shown, not relied on: past the cap it says "more than".
        count_cap: Some(COUNT_CAP),
        // The caller's scope is set by the handler.
        scope: Scope::Project,
    })
}

pub(super) async fn page(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    let mut query = table_query(&params)?;
    query.scope = caller.scope();
    caller.check_pii(query.pii)?;
    let (store, indexes) = (state.store.clone(), state.indexes.clone());
    let page = blocking(move || {
        // A search (its words are never recorded: they may be a name) or a page with pii.
        if !query.words.is_empty() || query.pii {
            let detail = format!("words={} pii={}", query.words.len(), query.pii);
            let form = query.form.as_deref();
            caller.audit(store.as_ref(), AuditAction::Search, form, detail)?;
        }
        crate::console::table::page_json(store.as_ref(), &indexes, &caller.project, &query)
    })
    .await?;
    Ok(Json(page))
}
