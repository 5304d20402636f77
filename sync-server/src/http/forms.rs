//! Form versions: `GET /forms` (the project's published versions), `GET
//! /forms/{form}/versions/{version}` (a document as published), `POST /forms`
//! (publish), `POST /forms/convert` (a workbook as a form, not published: the
//! workbench's draft) and `GET /forms/{form}/fields` (a version's fields as table columns).

use super::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use voices_core::sync::protocol::FormVersionSummary;

use super::auth::{Authorized, Member, Publish, ReadForms};
use super::body::{content_type_is, small_body};
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::store::Published;

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Authorized<ReadForms>,
) -> ApiResult<Json<Vec<FormVersionSummary>>> {
    let store = state.store.clone();
    Ok(Json(
        blocking(move || {
            let mut forms = store.list_forms(&caller.project)?;
            let recipients = crate::keys::current(store.as_ref(), &caller.project)?;
            for form in &mut forms {
                form.recipients = recipients.clone();
            }
            Ok::<_, crate::Error>(forms)
        })
        .await?,
    ))
}

pub(super) async fn download(
    State(state): State<AppState>,
    Path((_, form, version)): Path<(String, String, String)>,
    caller: Authorized<ReadForms>,
) -> ApiResult<Response> {
    let store = state.store.clone();
    let (f, v) = (form.clone(), version.clone());
    let found = blocking(move || store.get_form(&caller.project, &f, &v)).await?;
    let found = found.ok_or_else(|| {
        ApiError::not_found(
            "unknown_form_version",
            format!("form `{form}` has no published version `{version}` in this project"),
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, format!("\"{}\"", found.sha256)),
        ],
        found.document,
    )
        .into_response())
}

/// Media types of XLSForm workbooks (`.xlsx`, `.xls`, `.ods`).
const WORKBOOK_TYPES: [&str; 3] = [
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
];

/// `POST /forms`: a form document (JSON), or an XLSForm workbook by its media type.
pub(super) async fn publish(
    State(state): State<AppState>,
    caller: Authorized<Publish>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let body = small_body(&state, body).await?;
    let workbook = WORKBOOK_TYPES.iter().any(|t| content_type_is(&headers, t));
    let document = if workbook {
        None
    } else {
        Some(
            String::from_utf8(body.clone())
                .map_err(|_| ApiError::bad_request("invalid_utf8", "the form is not UTF-8 text"))?,
        )
    };
    let by = caller.name();
    let store = state.store.clone();
    let (form, published) = blocking(move || match document {
        Some(document) => crate::publish::publish(store.as_ref(), &caller.project, &document, &by),
        None => crate::publish::publish_workbook(store.as_ref(), &caller.project, &body, &by),
    })
    .await?;
    let status = match published {
        Published::New => StatusCode::CREATED,
        Published::AlreadyIdentical => StatusCode::OK,
    };
    Ok((
        status,
        Json(serde_json::json!({"form": form.id, "version": form.version})),
    )
        .into_response())
}

/// `POST /forms/convert`: an XLSForm workbook converted to a form document, with the
/// importer's findings by sheet and cell, and nothing published.
pub(super) async fn convert(
    State(state): State<AppState>,
    _caller: Authorized<Publish>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<serde_json::Value>> {
    if !WORKBOOK_TYPES.iter().any(|t| content_type_is(&headers, t)) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "only XLSForm workbooks are converted (Content-Type {}); a JSON form is a draft as it is",
                WORKBOOK_TYPES.join(", ")
            ),
        ));
    }
    let body = small_body(&state, body).await?;
    let converted = blocking(move || crate::publish::convert_workbook(&body)).await?;
    Ok(Json(serde_json::json!({
        "form": converted.form,
        "findings": converted.findings,
    })))
}

/// `GET /forms/{form}/fields?version=V`: the columns of the responses table.
pub(super) async fn fields(
    State(state): State<AppState>,
    Path((_, form)): Path<(String, String)>,
    Query(query): Query<FieldsQuery>,
    caller: Authorized<Member>,
) -> ApiResult<Json<serde_json::Value>> {
    let store = state.store.clone();
    let f = form.clone();
    let found = blocking(move || {
        crate::console::fields::form_version(
            store.as_ref(),
            &caller.project,
            &f,
            query.version.as_deref().filter(|v| !v.trim().is_empty()),
        )
    })
    .await?;
    found
        .map(|(document, _)| Json(crate::console::fields::fields_json(&document)))
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_form",
                format!("form `{form}` (or that version) is not published in this project"),
            )
        })
}

#[derive(serde::Deserialize)]
pub(super) struct FieldsQuery {
    version: Option<String>,
}
