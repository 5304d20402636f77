//! `GET /projects` (the caller's projects with their role in each) and `GET
//! /projects/{p}/overview` (what came in, what waits, which devices went quiet).

use std::collections::HashMap;

use super::extract::Query;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use voices_core::response::InterviewOutcome;

use super::auth::{Authorized, Coordinate, Person};
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};

pub(super) async fn list(
    State(state): State<AppState>,
    Person(user): Person,
) -> ApiResult<Json<Value>> {
    let store = state.store.clone();
    let all = blocking(move || store.list_projects()).await?;
    Ok(Json(Value::Array(
        all.into_iter()
            .filter_map(|(id, title)| {
                user.role_in(&id)
                    .map(|role| json!({"id": id, "name": title, "role": role.as_str()}))
            })
            .collect(),
    )))
}

pub(super) async fn overview(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Json<Value>> {
    let unseen_days: i64 = match params.get("unseen_days") {
        None => 7,
        Some(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    "`unseen_days` is a number of days from 1 to 365",
                )
            })?,
    };
    let now = chrono::Utc::now();
    let today = now.format("%Y-%m-%d").to_string();
    let week_start = (now - chrono::Duration::days(6))
        .format("%Y-%m-%d")
        .to_string();
    let unseen_before = crate::time_text(now - chrono::Duration::days(unseen_days));
    let store = state.store.clone();
    let scope = caller.scope();
    let p = caller.project;
    let (o, forms, devices) = blocking(move || {
        Ok::<_, crate::Error>((
            store.overview_in(&p, &scope, &today, &week_start)?,
            store.list_forms(&p)?,
            store.list_devices_in(&p, &scope)?,
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
        .filter(|d| {
            d.last_seen
                .as_deref()
                .is_none_or(|seen| seen < unseen_before.as_str())
        })
        .map(|d| {
            json!({"id": d.id, "label": d.label, "enumerator": d.enumerator, "last_seen": d.last_seen})
        })
        .collect();
    Ok(Json(json!({
        "responses_today": o.today,
        "responses_week": o.week,
        "total": o.total,
        "by_form": o.by_form.iter()
            .map(|(f, n)| json!({"form": f, "title": title_of(f), "count": n}))
            .collect::<Vec<_>>(),
        "by_enumerator": o.by_enumerator.iter()
            .map(|(e, n)| json!({"enumerator": e, "count": n}))
            .collect::<Vec<_>>(),
        "pending_review": o.pending_review,
        "quarantined": o.quarantined,
        "conflicts": o.conflicts,
        "by_outcome": o.by_outcome.iter()
            .map(|(outcome, n)| json!({
                "outcome": outcome,
                "code": InterviewOutcome::from_name(outcome).map(InterviewOutcome::code),
                "count": n,
            }))
            .collect::<Vec<_>>(),
        "devices_unseen": unseen,
    })))
}
