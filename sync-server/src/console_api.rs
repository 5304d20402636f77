//! The console's endpoints (docs/console.md, section "API"): projects, overview, the
//! responses table, history, bulk review, conflict resolution, dashboard, map, form
//! fields, devices and people. Each handler checks who may call it, asks the store and
//! shapes the answer with `console::*`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use voices_core::sync::protocol::{ProvisioningCode, ReviewState};
use voices_core::Form;

use crate::api::{
    authenticate, authorize, blocking, json_body, small_body, ApiError, ApiResult, AppState, Need,
};
use crate::auth;
use crate::console::{dashboard, history, mask, resolve};
use crate::store::console::{parse_review, review_wire, time_bound, Cursor, Flag, Sort, TableQuery};
use crate::store::projection::{search_words, FormIndex};
use crate::store::{Device, Principal, Role, User, UserChanges, Validator};
use crate::{session, Error};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/session",
            post(session::sign_in)
                .get(session::current)
                .delete(session::sign_out),
        )
        .route("/projects", get(projects))
        .route("/projects/{project}/overview", get(overview))
        .route("/projects/{project}/table", get(table))
        .route("/projects/{project}/forms/{form}/fields", get(fields))
        .route(
            "/projects/{project}/forms/{form}/dashboard",
            get(form_dashboard),
        )
        .route("/projects/{project}/forms/{form}/points", get(points))
        .route(
            "/projects/{project}/responses/{id}/history",
            get(response_history),
        )
        .route(
            "/projects/{project}/responses/{id}/resolve",
            post(resolve_conflict),
        )
        .route("/projects/{project}/reviews", post(bulk_review))
        .route("/projects/{project}/devices", get(devices).post(add_device))
        .route("/projects/{project}/devices/{id}", delete(revoke_device))
        .route("/users", get(users).post(add_user))
        .route("/users/{name}", patch(update_user))
        .route(
            "/projects/{project}/members/{name}",
            put(set_member).delete(remove_member),
        )
}

type Params = Query<HashMap<String, String>>;

fn bad_query(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", detail)
}

fn not_found(code: &'static str, detail: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, code, detail)
}

/// `true` for `pii=true`; anything but `true`/`false` is refused.
fn boolean(params: &HashMap<String, String>, name: &str, default: bool) -> ApiResult<bool> {
    match params.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(bad_query(format!(
            "`{name}` is true or false, not `{other}`"
        ))),
    }
}

fn user_of(principal: &Principal) -> &str {
    match principal {
        Principal::User(u) => &u.name,
        Principal::Device(d) => &d.id,
    }
}

/// A signed-in person (not a device).
async fn person(state: &AppState, headers: &HeaderMap) -> ApiResult<User> {
    match authenticate(state, headers).await? {
        Principal::User(u) => Ok(u),
        Principal::Device(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "devices cannot use the console",
        )),
    }
}

async fn admin(state: &AppState, headers: &HeaderMap) -> ApiResult<User> {
    let user = person(state, headers).await?;
    if user.role != Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only an admin manages people",
        ));
    }
    Ok(user)
}

/// Record a device's contact in the background (the request does not wait for it).
pub(crate) fn record_contact(state: &AppState, device: &str, headers: &HeaderMap) {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().chars().take(64).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    let app_version = text("voices-app-version");
    let pending = text("voices-pending").and_then(|p| p.parse::<i64>().ok().filter(|n| *n >= 0));
    let store = state.store.clone();
    let device = device.to_owned();
    tokio::task::spawn_blocking(move || {
        if let Err(e) =
            store.touch_device(&device, &crate::now_text(), app_version.as_deref(), pending)
        {
            tracing::warn!(error = %e, %device, "could not record the device's contact");
        }
    });
}

/// The form index of a version (`None` when it is not published).
async fn index_of(
    state: &AppState,
    project: &str,
    form: &str,
    version: &str,
) -> ApiResult<Option<Arc<FormIndex>>> {
    let store = state.store.clone();
    let indexes = state.indexes.clone();
    let (p, f, v) = (project.to_owned(), form.to_owned(), version.to_owned());
    blocking(move || {
        indexes.get(&p, &f, &v, || {
            Ok(store.get_form(&p, &f, &v)?.map(|f| f.document))
        })
    })
    .await
}

/// The form document of a version, or of the newest published one.
async fn form_version(
    state: &AppState,
    project: &str,
    form: &str,
    version: Option<&str>,
) -> ApiResult<(Form, String)> {
    let store = state.store.clone();
    let (p, f, v) = (
        project.to_owned(),
        form.to_owned(),
        version.map(str::to_owned),
    );
    let found = blocking(move || {
        let version = match v {
            Some(v) => v,
            None => match store
                .list_forms(&p)?
                .into_iter()
                .filter(|s| s.form == f)
                .max_by(|a, b| a.published_at.cmp(&b.published_at))
            {
                Some(latest) => latest.version,
                None => return Ok(None),
            },
        };
        Ok(store
            .get_form(&p, &f, &version)?
            .map(|stored| (stored.document, version)))
    })
    .await?;
    let (document, version) = found.ok_or_else(|| {
        not_found(
            "unknown_form",
            format!(
                "form `{form}`{} is not published in this project",
                version
                    .map(|v| format!(" version `{v}`"))
                    .unwrap_or_default()
            ),
        )
    })?;
    let form = Form::from_json(&document)
        .map_err(|e| ApiError::from(Error::Invalid(format!("stored form does not parse: {e}"))))?;
    Ok((form, version))
}

// ---------------------------------------------------------------- projects and overview

async fn projects(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let user = person(&state, &headers).await?;
    let store = state.store.clone();
    let all = blocking(move || store.list_projects()).await?;
    let listed: Vec<Value> = all
        .into_iter()
        .filter_map(|(id, title)| {
            user.role_in(&id)
                .map(|role| json!({"id": id, "name": title, "role": role.as_str()}))
        })
        .collect();
    Ok(Json(Value::Array(listed)))
}

async fn overview(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let unseen_days: i64 = match params.get("unseen_days") {
        None => 7,
        Some(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| bad_query("`unseen_days` is a number of days from 1 to 365"))?,
    };
    let now = chrono::Utc::now();
    let today = now.format("%Y-%m-%d").to_string();
    let week_start = (now - chrono::Duration::days(6))
        .format("%Y-%m-%d")
        .to_string();
    let unseen_before = crate::time_text(now - chrono::Duration::days(unseen_days));
    let store = state.store.clone();
    let p = project.clone();
    let (o, forms, devices) = blocking(move || {
        Ok((
            store.overview(&p, &today, &week_start)?,
            store.list_forms(&p)?,
            store.list_devices(&p)?,
        ))
    })
    .await?;
    let title_of = |form: &str| {
        forms
            .iter()
            .filter(|f| f.form == form)
            .max_by(|a, b| a.published_at.cmp(&b.published_at))
            .map(|f| f.title.clone())
            .unwrap_or_default()
    };
    let unseen: Vec<Value> = devices
        .iter()
        .filter(|d| d.revoked_at.is_none())
        .filter(|d| d.last_seen.as_deref().is_none_or(|seen| seen < unseen_before.as_str()))
        .map(|d| json!({"id": d.id, "label": d.label, "enumerator": d.enumerator, "last_seen": d.last_seen}))
        .collect();
    Ok(Json(json!({
        "responses_today": o.today,
        "responses_week": o.week,
        "total": o.total,
        "by_form": o.by_form.iter().map(|(f, n)| json!({"form": f, "title": title_of(f), "count": n})).collect::<Vec<_>>(),
        "by_enumerator": o.by_enumerator.iter().map(|(e, n)| json!({"enumerator": e, "count": n})).collect::<Vec<_>>(),
        "pending_review": o.pending_review,
        "quarantined": o.quarantined,
        "conflicts": o.conflicts,
        "devices_unseen": unseen,
    })))
}

// ---------------------------------------------------------------- the responses table

pub const MAX_TABLE_PAGE: usize = 500;

/// A table query from the request's parameters; every bad one is named.
pub fn table_query(params: &HashMap<String, String>) -> ApiResult<TableQuery> {
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
            bad_query(format!("`sort` is received_at, updated_at, enumerator, device, review or status, not `{s}`"))
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
    let after = match text("after") {
        None => None,
        Some(a) => Some(Cursor::decode(&a, sort, descending).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
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
        limit,
        count: boolean(params, "total", true)?,
    })
}

async fn table(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let query = table_query(&params)?;
    let store = state.store.clone();
    let indexes = state.indexes.clone();
    let p = project.clone();
    let page = blocking(move || {
        let page = store.table(&p, &query)?;
        let mut rows = Vec::with_capacity(page.rows.len());
        for row in &page.rows {
            let index = indexes.get(&p, &row.form, &row.version, || {
                Ok(store
                    .get_form(&p, &row.form, &row.version)?
                    .map(|f| f.document))
            })?;
            let state = crate::store::decode_state(&row.state)?;
            let mut answers = serde_json::Map::new();
            for key in state.registers.keys().filter(|k| k.starts_with('/')) {
                if let Some(text) = state.current(key).and_then(mask::register_text) {
                    answers.insert(
                        key.clone(),
                        mask::flat_value(index.as_deref(), key, text, query.pii),
                    );
                }
            }
            rows.push(json!({
                "id": row.id,
                "form": row.form,
                "version": row.version,
                "enumerator": row.enumerator,
                "device": row.device,
                "received_at": row.received_at,
                "updated_at": row.updated_at,
                "status": if row.status.is_empty() { Value::Null } else { json!(row.status) },
                "review": review_wire(&row.review),
                "conflicts": row.conflicts,
                "quarantined": row.quarantined,
                "answers": answers,
            }));
        }
        let next = if page.more {
            page.rows
                .last()
                .map(|r| r.cursor(query.sort, query.descending).encode())
        } else {
            None
        };
        Ok(json!({"total": page.total, "rows": rows, "next": next}))
    })
    .await?;
    Ok(Json(page))
}

// ---------------------------------------------------------------- forms

async fn fields(
    State(state): State<AppState>,
    Path((project, form)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    authorize(&state, &headers, &project, Need::Member).await?;
    let (form, _) = form_version(
        &state,
        &project,
        &form,
        params.get("version").map(String::as_str),
    )
    .await?;
    let index = FormIndex::new(&form);
    let lang = &form.default_language;
    let columns: Vec<Value> = index
        .fields_in_order(&form)
        .into_iter()
        .filter(|f| !matches!(f.kind, voices_core::form::FieldType::Note))
        .map(|f| {
            let choices = f.choices.as_ref().and_then(|list| form.choices.get(list)).map(|list| {
                list.iter()
                    .map(|c| json!({"name": c.name, "label": dashboard::text_map(Some(&c.label), lang)}))
                    .collect::<Vec<_>>()
            });
            json!({
                "path": f.path,
                "name": f.name,
                "type": f.kind.as_str(),
                "label": dashboard::text_map(f.label.as_ref(), lang),
                "group": f.group,
                "repeat": f.repeat,
                "pii": f.pii,
                "sensitive": f.sensitive,
                "disaggregation": f.disaggregation.map(|d| d.as_str()),
                "choices": choices,
            })
        })
        .collect();
    Ok(Json(Value::Array(columns)))
}

async fn form_dashboard(
    State(state): State<AppState>,
    Path((project, form_id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let version = params
        .get("version")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let (form, _) = form_version(&state, &project, &form_id, version.as_deref()).await?;
    let store = state.store.clone();
    let counts =
        blocking(move || store.dashboard_counts(&project, &form_id, version.as_deref())).await?;
    let index = FormIndex::new(&form);
    Ok(Json(dashboard::dashboard(&form, &index, &counts)))
}

/// Most decimals of a map point without the pii permission (2 ≈ 1 km) and with it.
pub const COARSE_PRECISION: u32 = 2;
pub const FINEST_PRECISION: u32 = 6;

async fn points(
    State(state): State<AppState>,
    Path((project, form)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let pii = boolean(&params, "pii", false)?;
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
                bad_query(format!(
                    "`precision` is 0 to {most} decimals{}",
                    if pii {
                        ""
                    } else {
                        " without pii=true (finer points locate a household)"
                    }
                ))
            })?,
    };
    form_version(&state, &project, &form, None).await?;
    let store = state.store.clone();
    let cells = blocking(move || store.map_cells(&project, &form, precision)).await?;
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

// ---------------------------------------------------------------- a response

/// The pull item of a response with pii masked unless asked, and its last review comment.
pub async fn response_json(
    state: &AppState,
    project: &str,
    id: &str,
    pii: bool,
) -> ApiResult<Value> {
    let store = state.store.clone();
    let (p, rid) = (project.to_owned(), id.to_owned());
    let found = blocking(move || {
        let Some(row) = store.get_response(&p, &rid)? else {
            return Ok(None);
        };
        let comment = store.reviews_of(&p, &rid)?.pop().and_then(|r| r.comment);
        Ok(Some((crate::api::pulled(row), comment)))
    })
    .await?;
    let (item, comment) = found.ok_or_else(|| {
        not_found(
            "unknown_response",
            format!("no response `{id}` in this project"),
        )
    })?;
    let index = index_of(
        state,
        project,
        &item.response.form_id,
        &item.response.form_version,
    )
    .await?;
    let mut json = mask::pulled_json(&item, index.as_deref(), pii);
    json["review_comment"] = json!(comment);
    Ok(json)
}

async fn response_history(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let pii = boolean(&params, "pii", false)?;
    let store = state.store.clone();
    let (p, rid) = (project.clone(), id.clone());
    let found = blocking(move || {
        let Some(row) = store.get_response(&p, &rid)? else {
            return Ok(None);
        };
        Ok(Some((
            row.state.form.clone(),
            row.state.form_version().unwrap_or_default().to_owned(),
            store.revisions_of(&p, &rid)?,
            store.reviews_of(&p, &rid)?,
        )))
    })
    .await?;
    let (form, version, bodies, reviews) = found.ok_or_else(|| {
        not_found(
            "unknown_response",
            format!("no response `{id}` in this project"),
        )
    })?;
    let index = index_of(&state, &project, &form, &version).await?;
    Ok(Json(Value::Array(history::history(
        &bodies,
        &reviews,
        index.as_deref(),
        pii,
    ))))
}

/// Longest review comment kept.
pub const MAX_COMMENT: usize = 2_000;
/// Most responses one bulk review sets.
pub const MAX_BULK: usize = 1_000;

#[derive(Deserialize)]
struct BulkReview {
    ids: Vec<String>,
    state: ReviewState,
    #[serde(default)]
    comment: Option<String>,
}

pub fn check_comment(comment: Option<&str>) -> ApiResult<Option<String>> {
    match comment.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > MAX_COMMENT => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "comment_too_long",
            format!("a review comment has at most {MAX_COMMENT} characters"),
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

async fn bulk_review(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let principal = authorize(&state, &headers, &project, Need::Coordinate).await?;
    let body = small_body(&state, body).await?;
    let request: BulkReview = json_body(&body)?;
    if request.ids.is_empty() || request.ids.len() > MAX_BULK {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_ids",
            format!("review 1 to {MAX_BULK} responses at once"),
        ));
    }
    let comment = check_comment(request.comment.as_deref())?;
    let by = user_of(&principal).to_owned();
    let store = state.store.clone();
    let ids = request.ids.clone();
    let found = blocking(move || {
        store.review(
            &project,
            &ids,
            request.state,
            comment.as_deref(),
            &by,
            &crate::now_text(),
        )
    })
    .await?;
    let results: Vec<Value> = request
        .ids
        .iter()
        .zip(found)
        .map(|(id, ok)| {
            if ok {
                json!({"id": id, "ok": true})
            } else {
                json!({"id": id, "ok": false, "code": "unknown_response"})
            }
        })
        .collect();
    Ok(Json(json!({"results": results})))
}

#[derive(Deserialize)]
struct Resolve {
    path: String,
    value: Option<String>,
}

async fn resolve_conflict(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let principal = authorize(&state, &headers, &project, Need::Coordinate).await?;
    let body = small_body(&state, body).await?;
    let request: Resolve = json_body(&body)?;
    let user = user_of(&principal).to_owned();
    let store = state.store.clone();
    let catalog = state.catalog.clone();
    let (p, rid) = (project.clone(), id.clone());
    let outcome = blocking(move || {
        let Some(row) = store.get_response(&p, &rid)? else {
            return Ok(Err(not_found(
                "unknown_response",
                format!("no response `{rid}` in this project"),
            )));
        };
        let revision_id = uuid::Uuid::from_bytes(random_bytes()?).to_string();
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let revision = match resolve::resolution(
            &row.state,
            &user,
            &request.path,
            request.value,
            now_ms,
            revision_id,
        ) {
            Ok(r) => r,
            Err(resolve::ResolveError::BadPath(m)) => {
                return Ok(Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_path", m)))
            }
            Err(e @ resolve::ResolveError::NoConflict(_)) => {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "no_conflict",
                    e.to_string(),
                )))
            }
        };
        let body = serde_json::to_string(&revision)?;
        let incoming = crate::store::IncomingRevision {
            sha256: auth::sha256_hex(body.as_bytes()),
            body,
            revision,
        };
        let uploader = crate::store::Uploader {
            id: format!("{}{user}", history::COORDINATOR_ACTOR_PREFIX),
            enumerator: user.clone(),
        };
        catalog.prepare(
            &p,
            &[(
                incoming.revision.form.as_str(),
                incoming.revision.version.as_str(),
            )],
        );
        let acks = store.ingest(
            &p,
            &uploader,
            std::slice::from_ref(&incoming),
            catalog.as_ref(),
            &crate::now_text(),
        )?;
        Ok(Ok(acks))
    })
    .await?;
    let acks = outcome?;
    if let Some(ack) = acks
        .first()
        .filter(|a| a.status == voices_core::sync::protocol::AckStatus::Rejected)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "resolution_refused",
            ack.reasons.join("; "),
        ));
    }
    Ok(Json(response_json(&state, &project, &id, false).await?))
}

fn random_bytes() -> crate::Result<[u8; 16]> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("the system random source failed: {e}")))?;
    // A version 4 (random) UUID.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(bytes)
}

// ---------------------------------------------------------------- devices

async fn devices(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let store = state.store.clone();
    let list = blocking(move || store.list_devices(&project)).await?;
    Ok(Json(Value::Array(
        list.into_iter()
            .map(|d| {
                json!({
                    "id": d.id, "label": d.label, "enumerator": d.enumerator,
                    "created_at": d.created_at, "last_seen": d.last_seen,
                    "app_version": d.app_version, "pending": d.pending, "revoked_at": d.revoked_at,
                })
            })
            .collect(),
    )))
}

#[derive(Deserialize)]
struct NewDevice {
    enumerator: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    valid_days: Option<i64>,
}

/// Days a provisioning code made in the console stays valid unless asked otherwise.
pub const CODE_VALID_DAYS: i64 = 7;

/// The address devices reach this server at: `serve --public-url`, else the one the
/// browser used.
fn server_url(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = &state.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .ok_or_else(|| {
            bad_query("the request names no Host; start the server with --public-url")
        })?;
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

async fn add_device(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let body = small_body(&state, body).await?;
    let request: NewDevice = json_body(&body)?;
    let enumerator = request.enumerator.trim().to_owned();
    if enumerator.is_empty() || enumerator.chars().count() > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_enumerator",
            "name the enumerator (1 to 100 characters)",
        ));
    }
    let label = request
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_label",
            "a label has at most 100 characters",
        ));
    }
    let days = request.valid_days.unwrap_or(CODE_VALID_DAYS);
    if !(1..=90).contains(&days) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_valid_days",
            "a code is valid for 1 to 90 days",
        ));
    }
    let server = server_url(&state, &headers)?;
    let id: String = auth::random_secret("dev_")?.chars().take(16).collect();
    let code = auth::random_secret("")?;
    let expires_at = crate::time_from_now(chrono::Duration::days(days));
    let device = Device {
        id: id.clone(),
        project: project.clone(),
        enumerator,
        revoked_at: None,
    };
    let store = state.store.clone();
    let (code_hash, expires) = (auth::secret_hash(&code), expires_at.clone());
    blocking(move || {
        store.add_labelled_device(
            &device,
            label.as_deref(),
            &code_hash,
            &expires,
            &crate::now_text(),
        )
    })
    .await?;
    let text = ProvisioningCode {
        server,
        project,
        code,
    }
    .to_text();
    let qr = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| {
            ApiError::from(Error::Invalid(format!(
                "the code does not fit a QR code: {e}"
            )))
        })?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "code": text, "qr_svg": qr, "expires_at": expires_at})),
    )
        .into_response())
}

async fn revoke_device(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let store = state.store.clone();
    let did = id.clone();
    let revoked = blocking(move || {
        // Only a device of this project: the path names the project.
        if !store.list_devices(&project)?.iter().any(|d| d.id == did) {
            return Ok(false);
        }
        store.revoke_device(&did, &crate::now_text())
    })
    .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(
            "unknown_device",
            format!("no device `{id}` in this project"),
        ))
    }
}

// ---------------------------------------------------------------- people

fn user_json(u: &User) -> Value {
    json!({
        "name": u.name,
        "display_name": u.display_name,
        "admin": u.role == Role::Admin,
        "disabled": u.disabled,
        "memberships": u.memberships,
    })
}

async fn users(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let store = state.store.clone();
    let list = blocking(move || store.list_users()).await?;
    Ok(Json(Value::Array(list.iter().map(user_json).collect())))
}

/// Fewest characters of a password set here.
pub const MIN_PASSWORD: usize = 10;

fn check_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "weak_password",
            format!("a password has at least {MIN_PASSWORD} characters"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_name",
            "a user name is 1 to 64 of A-Z a-z 0-9 _ . @ -",
        ))
    }
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    admin: bool,
}

async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    admin(&state, &headers).await?;
    let body = small_body(&state, body).await?;
    let request: NewUser = json_body(&body)?;
    check_name(&request.name)?;
    check_password(&request.password)?;
    let password = request.password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "hashing failed",
            )
        })??;
    let store = state.store.clone();
    let role = if request.admin {
        Role::Admin
    } else {
        Role::Coordinator
    };
    let name = request.name.clone();
    let display = request
        .display_name
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    let user = blocking(move || {
        let now = crate::now_text();
        store.add_user(&name, role, &hash, &now)?;
        let changes = UserChanges {
            display_name: display,
            ..UserChanges::default()
        };
        store.update_user(&name, &changes, &now)
    })
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the new user vanished",
        )
    })?;
    Ok((StatusCode::CREATED, Json(user_json(&user))).into_response())
}

#[derive(Deserialize)]
struct UserPatch {
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let body = small_body(&state, body).await?;
    let request: UserPatch = json_body(&body)?;
    let password_hash = match request.password {
        None => None,
        Some(password) => {
            check_password(&password)?;
            Some(
                tokio::task::spawn_blocking(move || auth::hash_password(&password))
                    .await
                    .map_err(|_| {
                        ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "internal_error",
                            "hashing failed",
                        )
                    })??,
            )
        }
    };
    let changes = UserChanges {
        disabled: request.disabled,
        password_hash,
        display_name: request.display_name.map(|d| d.trim().to_owned()),
    };
    let store = state.store.clone();
    let n = name.clone();
    let user = blocking(move || store.update_user(&n, &changes, &crate::now_text())).await?;
    user.map(|u| Json(user_json(&u)))
        .ok_or_else(|| not_found("unknown_user", format!("no user `{name}`")))
}

#[derive(Deserialize)]
struct MemberRole {
    role: String,
}

async fn set_member(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let body = small_body(&state, body).await?;
    let request: MemberRole = json_body(&body)?;
    let role = match Role::parse(request.role.trim()) {
        Some(r @ (Role::Coordinator | Role::Designer)) => r,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_role",
                "a member's role is coordinator or designer (admins are admins everywhere)",
            ))
        }
    };
    let store = state.store.clone();
    let (p, n) = (project.clone(), name.clone());
    blocking(move || {
        if store.find_user(&n)?.is_none() {
            return Err(Error::NotFound(format!("no user `{n}`")));
        }
        if !store.project_exists(&p)? {
            return Err(Error::NotFound(format!("no project `{p}`")));
        }
        store.set_membership(&n, &p, role)
    })
    .await
    .map_err(|e| match e.code {
        "not_found" if e.detail.starts_with("no user") => not_found("unknown_user", e.detail),
        "not_found" => not_found("unknown_project", e.detail),
        _ => e,
    })?;
    Ok(Json(json!({"project": project, "role": role.as_str()})))
}

async fn remove_member(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    admin(&state, &headers).await?;
    let store = state.store.clone();
    let (p, n) = (project.clone(), name.clone());
    if blocking(move || store.remove_membership(&n, &p)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(
            "not_member",
            format!("`{name}` is not a member of project `{project}`"),
        ))
    }
}
