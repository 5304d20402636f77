//! Revisions: `POST /revisions` (an NDJSON batch, maybe compressed, maybe with a form
//! version as zstd dictionary; one ack per line) and `POST /revisions/known` (which ids
//! the server holds, after a cut-off upload).

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use voices_core::sync::protocol::{
    KnownRequest, KnownResponse, UploadAck, DICTIONARY_HEADER, NDJSON,
};

use super::auth::{Authorized, Upload};
use super::body::{self, body_error, content_type_is, json_body, BodyError};
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::metrics::Metrics;
use crate::store::access::AuditAction;
use crate::store::Scope;

pub(super) async fn upload(
    State(state): State<AppState>,
    caller: Authorized<Upload>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadAck>> {
    let mut uploader = caller.uploader();
    let scope = caller.scope();
    if scope != Scope::Project {
        let (store, project) = (state.store.clone(), caller.project.clone());
        let devices = blocking(move || store.list_devices_in(&project, &scope)).await?;
        uploader.devices = Some(devices.into_iter().map(|d| d.id).collect());
    }
    let project = caller.project;
    if !content_type_is(&headers, NDJSON) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the batch as `{NDJSON}`: one revision as JSON per line"),
        ));
    }
    let limits = state.limits.clone();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes) {
        return Err(body_error(BodyError::TooLarge {
            limit: limits.max_body_bytes,
        }));
    }
    let received = body::read_capped(body, limits.max_body_bytes)
        .await
        .map_err(body_error)?;
    Metrics::add(&state.metrics.upload_batches, 1);
    Metrics::add(&state.metrics.upload_bytes, received.bytes.len() as u64);
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !state.zstd
        && encoding
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("zstd"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            "this server does not accept zstd (see the capabilities in /api/v1/info); use gzip or none",
        ));
    }
    let dictionary = match headers.get(DICTIONARY_HEADER) {
        None => None,
        Some(value) => {
            let sha = value
                .to_str()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            Some(form_dictionary(&state, &project, &sha).await?)
        }
    };
    let sent_truncated = received.truncated;
    let started = Instant::now();
    let store = state.store.clone();
    let catalog = state.catalog.clone();
    let ack = blocking(move || -> ApiResult<UploadAck> {
        let (data, decode_truncated) = body::decompress(
            received.bytes,
            encoding.as_deref(),
            dictionary.as_deref().map(str::as_bytes),
            limits.max_decompressed_bytes,
        )
        .map_err(body_error)?;
        let truncated = sent_truncated || decode_truncated;
        let ack = crate::ingest::ingest_lines(
            store.as_ref(),
            catalog.as_ref(),
            &project,
            &uploader,
            &data,
            truncated,
            &limits,
        )?;
        // A person's edits are in the access audit (a device's uploads are its work).
        if let Some(person) = uploader.id.strip_prefix("user:") {
            crate::audit::record(
                store.as_ref(),
                person,
                AuditAction::Edit,
                Some(&project),
                None,
                format!("upload accepted={} rejected={}", ack.accepted, ack.rejected),
                true,
            )?;
        }
        Ok(ack)
    })
    .await?;
    let m = &state.metrics;
    Metrics::add(&m.ingest_micros, started.elapsed().as_micros() as u64);
    Metrics::add(&m.revisions_accepted, ack.accepted);
    Metrics::add(&m.revisions_duplicate, ack.duplicate);
    Metrics::add(&m.revisions_quarantined, ack.quarantined);
    Metrics::add(&m.revisions_rejected, ack.rejected);
    tracing::info!(
        accepted = ack.accepted,
        duplicate = ack.duplicate,
        quarantined = ack.quarantined,
        rejected = ack.rejected,
        incomplete = ack.incomplete,
        "upload"
    );
    Ok(Json(ack))
}

/// The form document a zstd dictionary header names (by its SHA-256) in the project.
async fn form_dictionary(state: &AppState, project: &str, sha: &str) -> ApiResult<String> {
    let store = state.store.clone();
    let (project, wanted) = (project.to_owned(), sha.to_owned());
    let found = blocking(move || {
        let listed = store.list_forms(&project)?;
        match listed.into_iter().find(|f| f.sha256 == wanted) {
            Some(f) => store.get_form(&project, &f.form, &f.version),
            None => Ok(None),
        }
    })
    .await?;
    found.map(|f| f.document).ok_or_else(|| {
        ApiError::bad_request(
            "unknown_dictionary",
            format!(
                "`{DICTIONARY_HEADER}` names no form version of this project (SHA-256 `{}`); send without it",
                sha.chars().take(64).collect::<String>()
            ),
        )
    })
}

pub(super) async fn known(
    State(state): State<AppState>,
    caller: Authorized<Upload>,
    body: Body,
) -> ApiResult<Json<KnownResponse>> {
    let request: KnownRequest = json_body(&state, body).await?;
    let limit = state.limits.max_batch_records;
    if request.ids.len() as u64 > limit {
        return Err(ApiError::too_large(
            "too_many_records",
            format!("ask about at most {limit} ids at once"),
            limit,
        ));
    }
    let store = state.store.clone();
    let scope = caller.scope();
    let known =
        blocking(move || store.known_revisions_in(&caller.project, &scope, &request.ids)).await?;
    Ok(Json(KnownResponse { known }))
}
