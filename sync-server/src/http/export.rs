//! `GET /forms/{form}/export?format=csv|json|geojson&since=CURSOR&pii&labels`: a form's
//! responses, streamed as [`crate::export`] writes them, their number announced in
//! `X-Voices-Total`.

use super::extract::{Path, Query};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::{Authorized, Coordinate};
use super::error::{ApiError, ApiResult};
use super::stream::{self, ChannelWriter};
use super::{blocking, parse_cursor, AppState};
use crate::export::{Format, Options};
use crate::store::access::AuditAction;

/// The number of responses an export sends, so a page can show its progress.
pub const TOTAL_HEADER: &str = "x-voices-total";

#[derive(Debug, Deserialize)]
pub(super) struct ExportQuery {
    format: Option<String>,
    since: Option<String>,
    #[serde(default)]
    pii: bool,
    #[serde(default)]
    labels: bool,
}

/// Coordinators and admins export; `pii` fields only with the pii grant. Each export is
/// in the access audit, with or without pii.
pub(super) async fn export(
    State(state): State<AppState>,
    Path((_, form)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Response> {
    let format = match query.format.as_deref() {
        None => Format::Csv,
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::bad_request(
                "bad_format",
                format!("export format `{f}` is not one of csv, json, geojson"),
            )
        })?,
    };
    caller.check_pii(query.pii)?;
    let options = Options {
        project: caller.project.clone(),
        form,
        format,
        since: parse_cursor(query.since.as_deref())?,
        include_pii: query.pii,
        labels: query.labels,
    };
    // Refuse an unknown form before the answer starts streaming; count what it sends.
    let store = state.store.clone();
    let (p, f, since) = (options.project.clone(), options.form.clone(), options.since);
    let detail = format!(
        "format={} pii={} since={since}",
        format.extension(),
        options.include_pii
    );
    let total = blocking(move || {
        crate::export::latest_form(store.as_ref(), &p, &f)?;
        caller.audit(store.as_ref(), AuditAction::Export, Some(&f), detail)?;
        store.count_form(&p, &f, since)
    })
    .await?;
    let (tx, body) = stream::channel(4);
    let store = state.store.clone();
    let filename = format!("{}.{}", options.form, format.extension());
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter::new(tx.clone());
        let result = crate::export::export(store.as_ref(), &options, &mut writer).and_then(|n| {
            std::io::Write::flush(&mut writer)
                .map(|_| n)
                .map_err(Into::into)
        });
        match result {
            Ok(n) => tracing::info!(responses = n, form = %options.form, "export"),
            Err(e) => {
                tracing::error!(error = %e, "export failed");
                // Cut the body off so the client sees an incomplete download, not a short file.
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (
                header::HeaderName::from_static(TOTAL_HEADER),
                total.to_string(),
            ),
        ],
        body,
    )
        .into_response())
}
