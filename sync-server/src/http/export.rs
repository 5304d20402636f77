//! `GET /forms/{form}/export?format=csv|json|geojson&since=CURSOR&pii&labels`: a form's
//! responses, streamed as [`crate::export`] writes them, their number announced in
//! `X-Voices-Total`. With any of the responses table's filters or its sort (`version`,
//! `status`, `review`, `flag`, `enumerator`, `device`, `from`, `to`, `q`, `sort`,
//! `order`), only the responses the table shows, in its order.

use std::collections::HashMap;

use super::extract::{Path, Query};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::auth::{Authorized, Coordinate};
use super::error::{ApiError, ApiResult};
use super::stream::{self, ChannelWriter};
use super::table::{boolean, table_query};
use super::{blocking, parse_cursor, AppState};
use crate::export::{Format, Options};
use crate::store::access::AuditAction;

/// The number of responses an export sends, so a page can show its progress.
pub const TOTAL_HEADER: &str = "x-voices-total";

/// The table's parameters that make an export one of the table's selection.
const TABLE_PARAMETERS: [&str; 11] = [
    "version",
    "status",
    "review",
    "flag",
    "enumerator",
    "device",
    "from",
    "to",
    "q",
    "sort",
    "order",
];

/// Coordinators and admins export; `pii` fields only with the pii grant. Each export is
/// in the access audit, with or without pii.
pub(super) async fn export(
    State(state): State<AppState>,
    Path((_, form)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    caller: Authorized<Coordinate>,
) -> ApiResult<Response> {
    let given = |name: &str| params.get(name).is_some_and(|v| !v.trim().is_empty());
    let filter = if TABLE_PARAMETERS.iter().any(|p| given(p)) {
        if given("since") {
            return Err(ApiError::bad_request(
                "bad_query",
                "`since` (what changed after a feed position) cannot be combined with the \
                 table's filters",
            ));
        }
        Some(table_query(&params)?)
    } else {
        None
    };
    let format = match params.get("format").map(|f| f.trim()) {
        None => Format::Csv,
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::bad_request(
                "bad_format",
                format!("export format `{f}` is not one of csv, json, geojson"),
            )
        })?,
    };
    let options = Options {
        scope: caller.scope(),
        project: caller.project.clone(),
        form,
        format,
        since: parse_cursor(params.get("since").map(String::as_str))?,
        include_pii: boolean(&params, "pii", false)?,
        labels: boolean(&params, "labels", false)?,
        filter,
    };
    caller.check_pii(options.include_pii)?;
    // Refuse an unknown form before the answer starts streaming; count what it sends.
    let store = state.store.clone();
    let counted = options.clone();
    // The table's filters are not recorded (search words may be a name), only that
    // there were some.
    let detail = format!(
        "format={} pii={} since={}{}",
        format.extension(),
        options.include_pii,
        options.since,
        if options.filter.is_some() {
            " filtered"
        } else {
            ""
        }
    );
    let total = blocking(move || {
        crate::export::latest_form(store.as_ref(), &counted.project, &counted.form)?;
        caller.audit(
            store.as_ref(),
            AuditAction::Export,
            Some(&counted.form),
            detail,
        )?;
        crate::export::count(store.as_ref(), &counted)
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
