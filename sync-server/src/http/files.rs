//! `GET /responses/{id}/files/{name}`: a file a response's answer names, for the console
//! (a picture previewed on the response's page, or downloaded), under the same rules as
//! the response itself: the teams, the pii grant, withdrawal (`console::files`).

use super::extract::{Path, Query};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::attachments::send;
use super::auth::{Authorized, Coordinate};
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::attachments::READ_BYTES;
use crate::console::files::{self, Missing};
use crate::store::access::AuditAction;

#[derive(Debug, Deserialize)]
pub(super) struct FileQuery {
    #[serde(default)]
    pii: bool,
    /// Save it (`Content-Disposition: attachment`) rather than show it.
    #[serde(default)]
    download: bool,
}

pub(super) async fn file(
    State(state): State<AppState>,
    Path((_, id, name)): Path<(String, String, String)>,
    Query(query): Query<FileQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Response> {
    caller.sees(&state, &id).await?;
    caller.check_pii(query.pii)?;
    let (store, indexes) = (state.store.clone(), state.indexes.clone());
    let project = caller.project.clone();
    let (rid, fname) = (id.clone(), name.clone());
    let found = blocking(move || {
        let found = files::find(
            store.as_ref(),
            &indexes,
            &caller.project,
            &rid,
            &fname,
            query.pii,
        )?;
        let head = match &found {
            Ok(f) => {
                // A respondent's photo: every read is in the access audit.
                let detail = format!("file {} pii={}", f.sha256, query.pii);
                caller.audit(
                    store.as_ref(),
                    AuditAction::ReadResponse,
                    Some(&rid),
                    detail,
                )?;
                store.read_attachment(&caller.project, &f.sha256, 0, 16.min(READ_BYTES))?
            }
            Err(_) => Vec::new(),
        };
        Ok::<_, crate::Error>(found.map(|f| (f, files::picture_type(&head))))
    })
    .await?;
    let (found, picture) = found.map_err(|missing| match missing {
        Missing::Response => ApiError::not_found(
            "unknown_response",
            format!("no response `{id}` in this project"),
        ),
        Missing::Answer => ApiError::not_found(
            "unknown_file",
            format!(
                "no answer of response `{id}` you may read names the file `{name}` (a pii or sensitive question's file needs pii=true)"
            ),
        ),
        Missing::Bytes => ApiError::not_found(
            "file_not_uploaded",
            format!("the file `{name}` of response `{id}` has not been uploaded whole yet"),
        ),
    })?;
    // Only pictures a browser shows safely are shown; anything else is saved, never
    // rendered on the console's origin.
    let (media_type, disposition) = match picture {
        Some(kind) if !query.download => (kind, "inline"),
        Some(kind) => (kind, "attachment"),
        None => ("application/octet-stream", "attachment"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (header::CONTENT_LENGTH, found.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{}", percent(&name)),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        send(&state, project, found.sha256, found.size),
    )
        .into_response())
}

/// `name` for `filename*=` (RFC 5987): unreserved bytes as they are, the rest `%XX`.
fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
