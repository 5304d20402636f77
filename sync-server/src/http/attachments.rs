//! Attachments by content address: `GET /attachments/{sha256}/status`, `PUT
//! /attachments/{sha256}?offset=N&size=TOTAL` (one chunk, resumable) and `GET
//! /attachments/{sha256}` (the file, for coordinators).

use super::extract::{Path, Query};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::auth::{Authorized, Coordinate, Upload};
use super::body::{self, body_error, BodyError};
use super::error::{ApiError, ApiResult};
use super::{blocking, stream, AppState};
use crate::attachments;
use crate::store::access::AuditAction;
use crate::store::{AttachmentStatus, ChunkOutcome, Scope};

fn address(text: &str) -> ApiResult<String> {
    attachments::address(text).ok_or_else(|| {
        ApiError::bad_request(
            "bad_hash",
            "an attachment is addressed by the SHA-256 of its content: 64 hex digits",
        )
    })
}

fn unknown_attachment(sha256: &str) -> ApiError {
    ApiError::not_found(
        "unknown_attachment",
        format!("no attachment {sha256} in this project; upload it from offset 0"),
    )
}

pub(super) async fn status(
    State(state): State<AppState>,
    Path((_, sha256)): Path<(String, String)>,
    caller: Authorized<Upload>,
) -> ApiResult<Json<AttachmentStatus>> {
    let sha256 = address(&sha256)?;
    let store = state.store.clone();
    let sha = sha256.clone();
    blocking(move || {
        let status = store.attachment_status(&caller.project, &sha)?;
        recover(store.as_ref(), &caller.project, status)
    })
    .await?
    .map(Json)
    .ok_or_else(|| unknown_attachment(&sha256))
}

/// A file an earlier version left with every byte but not complete (its completion was
/// a second step, and the connection could drop between them) is verified now: complete,
/// or discarded (`None`) to be sent again.
fn recover(
    store: &dyn crate::store::Store,
    project: &str,
    status: Option<AttachmentStatus>,
) -> crate::Result<Option<AttachmentStatus>> {
    match status {
        Some(s) if !s.complete && s.received == s.size => attachments::verify(store, project, s),
        other => Ok(other),
    }
}

fn hash_mismatch() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "hash_mismatch",
        "the bytes received do not have the SHA-256 they were sent under; they were discarded, send the file again",
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct ChunkQuery {
    offset: u64,
    size: u64,
}

/// Store one chunk. A chunk cut off in transit keeps the bytes that arrived, so a link
/// that drops every megabyte still moves the upload forward; the client asks the status
/// and continues from `received`. The chunk bringing the last byte is checked against the
/// hash in the same transaction that stores it: the file is complete, or discarded
/// (`422 hash_mismatch`). A declared size above `max_attachment_bytes` is refused first.
pub(super) async fn put_chunk(
    State(state): State<AppState>,
    Path((_, sha256)): Path<(String, String)>,
    Query(query): Query<ChunkQuery>,
    caller: Authorized<Upload>,
    body: Body,
) -> ApiResult<Json<AttachmentStatus>> {
    let sha256 = address(&sha256)?;
    let project = caller.project;
    let largest = state.limits.max_attachment_bytes;
    if query.size > largest {
        return Err(ApiError::too_large(
            "attachment_too_large",
            format!(
                "this server takes attachments of at most {largest} bytes; this one is declared as {} bytes",
                query.size
            ),
            largest,
        ));
    }
    let limit = state.limits.max_chunk_bytes;
    let received = body::read_capped(body, limit).await.map_err(|e| match e {
        BodyError::TooLarge { limit } => ApiError::too_large(
            "chunk_too_large",
            format!("send attachments in chunks of at most {limit} bytes"),
            limit,
        ),
        other => body_error(other),
    })?;
    let store = state.store.clone();
    let outcome = blocking(move || {
        let outcome = store.put_attachment_chunk(
            &project,
            &sha256,
            query.size,
            query.offset,
            &received.bytes,
            &crate::now_text(),
        )?;
        // A file left with every byte but not complete by an earlier version is
        // completed (or discarded) now, whatever this chunk was.
        Ok::<_, crate::Error>(match outcome {
            ChunkOutcome::OffsetMismatch(status) => {
                match recover(store.as_ref(), &project, Some(status))? {
                    Some(status) => ChunkOutcome::OffsetMismatch(status),
                    None => ChunkOutcome::Discarded,
                }
            }
            other => other,
        })
    })
    .await?;
    // The chunk with the last byte completed the file in the same step (or discarded
    // it): a stored chunk's status is final.
    match outcome {
        ChunkOutcome::Stored(status) => Ok(Json(status)),
        ChunkOutcome::OffsetMismatch(status) if status.complete => Ok(Json(status)),
        ChunkOutcome::OffsetMismatch(status) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!(
                "this attachment has {} of {} bytes; send the chunk starting at byte {}",
                status.received, status.size, status.received
            ),
        )),
        ChunkOutcome::Discarded => Err(hash_mismatch()),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct DownloadQuery {
    /// The response whose revisions name the file (`files`): a coordinator limited to
    /// teams reads a file only through a response of their teams.
    #[serde(default)]
    response: Option<String>,
}

pub(super) async fn download(
    State(state): State<AppState>,
    Path((_, sha256)): Path<(String, String)>,
    Query(query): Query<DownloadQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Response> {
    let sha256 = address(&sha256)?;
    let scope = caller.scope();
    let project = caller.project.clone();
    let store = state.store.clone();
    let sha = sha256.clone();
    let status = blocking(move || {
        if scope != Scope::Project {
            // Answered as a missing file unless a response the caller sees names it.
            let Some(id) = query.response else {
                return Ok(None);
            };
            if store
                .get_response_in(&caller.project, &scope, &id)?
                .is_none()
                || !crate::console::files::response_names(
                    store.as_ref(),
                    &caller.project,
                    &id,
                    &sha,
                )?
            {
                return Ok(None);
            }
        }
        let status = store
            .attachment_status(&caller.project, &sha)?
            .filter(|s| s.complete);
        // A photo or a recording is a respondent's data: every download is in the audit.
        if status.is_some() {
            let target = format!("attachment:{sha}");
            caller.audit(store.as_ref(), AuditAction::ReadResponse, Some(&target), "")?;
        }
        Ok::<_, crate::Error>(status)
    })
    .await?
    .ok_or_else(|| unknown_attachment(&sha256))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, status.size.to_string()),
        ],
        send(&state, project, sha256, status.size),
    )
        .into_response())
}

/// The stored bytes of a complete file, read a megabyte at a time as the client takes them.
pub(super) fn send(state: &AppState, project: String, sha256: String, size: u64) -> Body {
    let (tx, body) = stream::channel(2);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut at = 0;
        while at < size {
            match store.read_attachment(&project, &sha256, at, attachments::READ_BYTES) {
                Ok(chunk) if !chunk.is_empty() => {
                    at += chunk.len() as u64;
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Ok(_) => return,
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            }
        }
    });
    body
}
