//! The HTTP API (`/api/v1`, see docs/protocol.md), `/health` and `/metrics`.
//!
//! Errors are RFC 9457 Problem Details with a machine-readable `code`, following axum's
//! `examples/error-handling`: handlers return `Result<_, ApiError>` and `ApiError`
//! implements `IntoResponse`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use voices_core::form::Form;
use voices_core::sync::protocol::{
    AckStatus, DeviceCredentials, FormVersionSummary, KnownRequest, KnownResponse, Limits,
    LoginRequest, Problem, ProvisionRequest, PullPage, PulledResponse, RecordAck, ReviewState,
    ServerInfo, SessionToken, UploadAck, DICTIONARY_HEADER, NDJSON, PROTOCOL_HEADER,
    PROTOCOL_VERSION,
};
use voices_core::sync::Revision;

use crate::auth;
use crate::body::{self, BodyError};
use crate::metrics::Metrics;
use crate::store::{
    AttachmentStatus, ChunkOutcome, FormVersion, IncomingRevision, Principal, Published, Role,
    Store, StoredResponse, Uploader,
};
use crate::validate::FormCatalog;

/// How long tokens live.
pub const DEVICE_TOKEN_DAYS: i64 = 90;
pub const SESSION_TOKEN_HOURS: i64 = 12;

/// Everything the handlers share. Nothing in it is state that another server process
/// on the same database would need to see.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub catalog: Arc<FormCatalog>,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    /// Whether zstd (and zstd with form dictionaries) is offered and accepted; without it
    /// uploads are gzip or plain (`serve --no-zstd`).
    pub zstd: bool,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            catalog: Arc::new(FormCatalog::new(store.clone())),
            store,
            limits: default_limits(),
            metrics: Arc::new(Metrics::default()),
            zstd: true,
        }
    }

    /// The same server offering only gzip (and plain) bodies, not zstd.
    pub fn without_zstd(self) -> AppState {
        AppState {
            zstd: false,
            ..self
        }
    }
}

pub fn default_limits() -> Limits {
    Limits {
        max_body_bytes: 16 << 20,
        max_decompressed_bytes: 64 << 20,
        max_batch_records: 10_000,
        max_chunk_bytes: 4 << 20,
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub limit: Option<u64>,
    /// Seconds the client should wait before trying again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            limit: None,
            retry_after: None,
        }
    }

    fn too_large(code: &'static str, detail: String, limit: u64) -> ApiError {
        ApiError {
            limit: Some(limit),
            ..ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, detail)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("https://voices.invalid/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            code: self.code.to_owned(),
            detail: self.detail,
            limit: self.limit,
        };
        let mut response = (self.status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> ApiError {
        match e {
            crate::Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            crate::Error::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
            crate::Error::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", m),
            crate::Error::Busy(m) => {
                tracing::warn!(reason = %m, "busy: asked the client to retry");
                ApiError {
                    retry_after: Some(BUSY_RETRY_AFTER_SECS),
                    ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", m)
                }
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage_error",
                    "the server could not read or write its database; nothing was lost on the client, try again",
                )
            }
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// `Retry-After` of a 503 when the database has no free connection: long enough for the
/// queue ahead to drain, short enough that a device syncs again soon.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Run blocking store work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the request failed inside the server",
            ))
        }
    }
}

/// The router, ready to serve.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/info", get(info))
        .route("/provision", post(provision))
        .route("/login", post(login))
        .route(
            "/projects/{project}/forms",
            get(list_forms).post(publish_form),
        )
        .route(
            "/projects/{project}/forms/{form}/versions/{version}",
            get(download_form),
        )
        .route("/projects/{project}/revisions", post(upload))
        .route("/projects/{project}/revisions/known", post(known))
        .route("/projects/{project}/responses", get(pull))
        .route("/projects/{project}/responses/{id}", get(get_response))
        .route("/projects/{project}/responses/{id}/review", put(review))
        .route("/projects/{project}/forms/{form}/export", get(export))
        .route(
            "/projects/{project}/attachments/{sha256}",
            put(put_attachment).get(get_attachment),
        )
        .route(
            "/projects/{project}/attachments/{sha256}/status",
            get(attachment_status),
        )
        .layer(middleware::from_fn(negotiate));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .fallback(crate::console_assets::serve)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Refuse clients that ask for a protocol version this server does not speak.
async fn negotiate(request: Request, next: Next) -> Response {
    if let Some(asked) = request.headers().get(PROTOCOL_HEADER) {
        let speaks = asked
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .is_some_and(|v| v == PROTOCOL_VERSION);
        if !speaks {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_protocol",
                format!(
                    "this server speaks protocol version {PROTOCOL_VERSION}; see GET /api/v1/info"
                ),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// Log each request (method, path, status, time) and count it.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    Metrics::add(&state.metrics.http_requests, 1);
    if status.as_u16() >= 400 {
        Metrics::add(&state.metrics.http_errors, 1);
    }
    tracing::info!(
        %method,
        %path,
        status = status.as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

async fn info(State(state): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_versions: vec![PROTOCOL_VERSION],
        capabilities: [
            ("ndjson", true),
            ("zstd", state.zstd),
            ("gzip", true),
            ("zstd-form-dictionary", state.zstd),
            ("attachments", true),
            ("export", true),
        ]
        .into_iter()
        .filter(|(_, offered)| *offered)
        .map(|(name, _)| name.to_owned())
        .collect(),
        limits: state.limits.clone(),
    })
}

// ---------------------------------------------------------------- authentication

async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send `Authorization: Bearer TOKEN` (a device token from provisioning or a session from /api/v1/login)",
            )
        })?;
    let hash = auth::secret_hash(token);
    let store = state.store.clone();
    let found = blocking(move || store.find_token(&hash)).await?;
    let info = found
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown token"))?;
    if info.revoked_at.is_some() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_revoked",
            "this token was revoked; provision the device again or log in again",
        ));
    }
    if info.expires_at <= crate::now_text() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            format!(
                "this token expired at {}; provision the device again or log in again",
                info.expires_at
            ),
        ));
    }
    if let Principal::Device(d) = &info.principal {
        if d.revoked_at.is_some() {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_revoked",
                "this device was revoked",
            ));
        }
    }
    Ok(info.principal)
}

/// What a request wants to do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// List and download forms.
    Forms,
    /// Upload revisions (devices; coordinators for their edits and resolutions).
    Upload,
    /// Publish form versions.
    Publish,
    /// Read responses, review, export.
    Coordinate,
}

async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    project: &str,
    need: Need,
) -> ApiResult<Principal> {
    let principal = authenticate(state, headers).await?;
    let forbidden = |detail: String| ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail);
    match &principal {
        Principal::Device(d) => {
            if d.project != project {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "wrong_project",
                    format!(
                        "this device belongs to project `{}`, not `{project}`",
                        d.project
                    ),
                ));
            }
            if !matches!(need, Need::Forms | Need::Upload) {
                return Err(forbidden("devices can only fetch forms and upload".into()));
            }
        }
        Principal::User(u) => {
            if u.role != Role::Admin && !u.projects.iter().any(|p| p == project) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "wrong_project",
                    format!("user `{}` is not a member of project `{project}`", u.name),
                ));
            }
            let allowed = match need {
                Need::Forms => true,
                Need::Publish => matches!(u.role, Role::Admin | Role::Designer),
                Need::Upload | Need::Coordinate => {
                    matches!(u.role, Role::Admin | Role::Coordinator)
                }
            };
            if !allowed {
                return Err(forbidden(format!(
                    "a {} cannot do this; it needs {}",
                    u.role.as_str(),
                    match need {
                        Need::Publish => "a designer or admin",
                        _ => "a coordinator or admin",
                    }
                )));
            }
        }
    }
    let store = state.store.clone();
    let p = project.to_owned();
    if !blocking(move || store.project_exists(&p)).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_project",
            format!("there is no project `{project}`"),
        ));
    }
    Ok(principal)
}

/// Read a whole (uncompressed) request body within the body limit; a body cut off in
/// transit is refused, since these requests are small and simply retried.
async fn small_body(state: &AppState, body: Body) -> ApiResult<Vec<u8>> {
    let received = body::read_capped(body, state.limits.max_body_bytes)
        .await
        .map_err(body_error)?;
    if received.truncated {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "truncated_body",
            "the request body was cut off; send it again",
        ));
    }
    Ok(received.bytes)
}

fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the request body is not the expected JSON: {e}"),
        )
    })
}

async fn provision(
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Json<DeviceCredentials>> {
    let body = small_body(&state, body).await?;
    let request: ProvisionRequest = json_body(&body)?;
    let code = voices_core::sync::protocol::ProvisioningCode::from_text(&request.code)
        .map(|c| c.code)
        .unwrap_or(request.code);
    let token = auth::random_secret("vt_")?;
    let token_hash = auth::secret_hash(&token);
    let expires_at = crate::time_from_now(chrono::Duration::days(DEVICE_TOKEN_DAYS));
    let store = state.store.clone();
    let code_hash = auth::secret_hash(code.trim());
    let expires = expires_at.clone();
    let device = blocking(move || {
        store.redeem_code(&code_hash, &token_hash, &expires, &crate::now_text())
    })
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "this provisioning code is unknown, already used, expired or its device was revoked; ask for a new one (`voices-server device add`)",
        )
    })?;
    tracing::info!(device = %device.id, project = %device.project, "device provisioned");
    Ok(Json(DeviceCredentials {
        project: device.project,
        device_id: device.id,
        enumerator: device.enumerator,
        token,
        expires_at,
    }))
}

async fn login(State(state): State<AppState>, body: Body) -> ApiResult<Json<SessionToken>> {
    let body = small_body(&state, body).await?;
    let request: LoginRequest = json_body(&body)?;
    let store = state.store.clone();
    let user_name = request.user.clone();
    let user = blocking(move || store.find_user(&user_name)).await?;
    let password = request.password;
    let verified = match user {
        Some(user) => {
            let hash = user.password_hash.clone();
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .unwrap_or(false);
            ok.then_some(user)
        }
        None => None,
    };
    let user = verified.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "unknown user or wrong password",
        )
    })?;
    let token = auth::random_secret("vs_")?;
    let hash = auth::secret_hash(&token);
    let expires_at = crate::time_from_now(chrono::Duration::hours(SESSION_TOKEN_HOURS));
    let store = state.store.clone();
    let (name, expires) = (user.name.clone(), expires_at.clone());
    blocking(move || {
        store.add_token(
            &hash,
            &crate::store::TokenSubject::User(name),
            &expires,
            &crate::now_text(),
        )
    })
    .await?;
    Ok(Json(SessionToken {
        token,
        expires_at,
        role: user.role.as_str().to_owned(),
    }))
}

// ---------------------------------------------------------------- forms

async fn list_forms(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<FormVersionSummary>>> {
    authorize(&state, &headers, &project, Need::Forms).await?;
    let store = state.store.clone();
    Ok(Json(blocking(move || store.list_forms(&project)).await?))
}

async fn download_form(
    State(state): State<AppState>,
    Path((project, form, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&state, &headers, &project, Need::Forms).await?;
    let store = state.store.clone();
    let (f, v) = (form.clone(), version.clone());
    let found = blocking(move || store.get_form(&project, &f, &v)).await?;
    let found = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
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

/// Check a form document with the engine's checker; every error, with its line, column
/// and JSON pointer, or the parsed form.
pub fn check_form(document: &str) -> Result<Form, String> {
    let report = voices_core::check::check_source(document);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    match report.form {
        Some(form) if errors.is_empty() => Ok(form),
        _ => Err(format!("the form is not valid:\n{}", errors.join("\n"))),
    }
}

/// Publish a checked form version in a project (shared by the API and the CLI).
pub fn publish(
    store: &dyn Store,
    project: &str,
    document: &str,
    by: &str,
) -> Result<(Form, Published), ApiError> {
    let form = check_form(document)
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", m))?;
    let version = FormVersion {
        project: project.to_owned(),
        form: form.id.clone(),
        version: form.version.clone(),
        title: form
            .title
            .get(&form.default_language, &form.default_language)
            .to_owned(),
        sha256: auth::sha256_hex(document.as_bytes()),
        document: document.to_owned(),
        published_at: crate::now_text(),
        published_by: by.to_owned(),
    };
    let published = store.publish_form(&version).map_err(|e| match e {
        crate::Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "version_exists", m),
        other => other.into(),
    })?;
    Ok((form, published))
}

async fn publish_form(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let principal = authorize(&state, &headers, &project, Need::Publish).await?;
    let body = small_body(&state, body).await?;
    let document = String::from_utf8(body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            "the form is not UTF-8 text",
        )
    })?;
    let by = match principal {
        Principal::User(u) => u.name,
        Principal::Device(d) => d.id,
    };
    let store = state.store.clone();
    let result =
        tokio::task::spawn_blocking(move || publish(store.as_ref(), &project, &document, &by))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "publishing failed",
                )
            })?;
    let (form, published) = result?;
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

// ---------------------------------------------------------------- upload

fn content_type_is(headers: &HeaderMap, wanted: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted))
}

async fn upload(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadAck>> {
    let principal = authorize(&state, &headers, &project, Need::Upload).await?;
    let uploader = match &principal {
        Principal::Device(d) => Uploader {
            id: d.id.clone(),
            enumerator: d.enumerator.clone(),
        },
        Principal::User(u) => Uploader {
            id: format!("user:{}", u.name),
            enumerator: u.name.clone(),
        },
    };
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
    let ack = tokio::task::spawn_blocking(move || -> ApiResult<UploadAck> {
        let (data, decode_truncated) = body::decompress(
            received.bytes,
            encoding.as_deref(),
            dictionary.as_deref().map(str::as_bytes),
            limits.max_decompressed_bytes,
        )
        .map_err(body_error)?;
        let truncated = sent_truncated || decode_truncated;
        ingest_lines(
            store.as_ref(),
            catalog.as_ref(),
            &project,
            &uploader,
            &data,
            truncated,
            &limits,
        )
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the upload failed inside the server",
        )
    })??;
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
            Some(f) => Ok(store.get_form(&project, &f.form, &f.version)?),
            None => Ok(None),
        }
    })
    .await?;
    found.map(|f| f.document).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_dictionary",
            format!(
                "`{DICTIONARY_HEADER}` names no form version of this project (SHA-256 `{}`); send without it",
                sha.chars().take(64).collect::<String>()
            ),
        )
    })
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge { limit } => ApiError::too_large(
            "payload_too_large",
            format!("the body is larger than {limit} bytes; send smaller batches"),
            limit,
        ),
        BodyError::DecompressedTooLarge { limit } => ApiError::too_large(
            "decompressed_too_large",
            format!("the body decompresses to more than {limit} bytes; send smaller batches"),
            limit,
        ),
        BodyError::UnsupportedEncoding(enc) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("content encoding `{enc}` is not supported; use zstd, gzip or none"),
        ),
    }
}

/// One line of an upload, decoded.
enum Line {
    /// Not a revision this uploader may send: its ack.
    Refused(RecordAck),
    Revision(Box<IncomingRevision>),
}

/// Decode line `n` (0-based) of an upload: UTF-8, a revision, sent by its actor; then its
/// canonical JSON and hash.
fn decode_line(n: usize, line: &[u8], uploader: &Uploader) -> ApiResult<Line> {
    let rejected = |code: &str, reason: String| {
        Line::Refused(RecordAck {
            id: format!("line {}", n + 1),
            status: AckStatus::Rejected,
            code: Some(code.to_owned()),
            reasons: vec![reason],
        })
    };
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => {
            return Ok(rejected(
                "invalid_utf8",
                format!(
                    "line {} is not UTF-8 text (bad byte at offset {})",
                    n + 1,
                    e.valid_up_to()
                ),
            ))
        }
    };
    let revision: Revision = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return Ok(rejected(
                "bad_json",
                format!("line {} is not a revision: {e}", n + 1),
            ))
        }
    };
    if revision.actor != uploader.id {
        return Ok(Line::Refused(RecordAck {
            id: revision.id.clone(),
            status: AckStatus::Rejected,
            code: Some("wrong_actor".into()),
            reasons: vec![format!(
                "the revision says actor `{}` but was sent by `{}`; each device uploads its own edits",
                revision.actor, uploader.id
            )],
        }));
    }
    // Canonical JSON: the same revision always hashes the same, however it was spelled.
    let body = serde_json::to_string(&revision).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            e.to_string(),
        )
    })?;
    let sha256 = auth::sha256_hex(body.as_bytes());
    Ok(Line::Revision(Box::new(IncomingRevision {
        revision,
        body,
        sha256,
    })))
}

/// Decode an NDJSON batch and ingest it. Lines that are not revisions are rejected on
/// their own; the rest go to the store in one transaction.
pub fn ingest_lines(
    store: &dyn Store,
    validator: &dyn crate::store::Validator,
    project: &str,
    uploader: &Uploader,
    data: &[u8],
    truncated: bool,
    limits: &Limits,
) -> ApiResult<UploadAck> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // After a cut the last piece is a partial line: drop it, the client sends it again.
    // A complete body may end with or without a final newline.
    if truncated || lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let records = lines.iter().filter(|l| !l.trim_ascii().is_empty()).count() as u64;
    if records > limits.max_batch_records {
        return Err(ApiError::too_large(
            "too_many_records",
            format!(
                "the batch has {records} records; the limit is {} per batch",
                limits.max_batch_records
            ),
            limits.max_batch_records,
        ));
    }
    let numbered: Vec<(usize, &[u8])> = lines
        .iter()
        .enumerate()
        .map(|(n, line)| (n, line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    // Lines decode and hash independently: spread over the cores.
    let decoded = crate::par_map(&numbered, |&(n, line)| decode_line(n, line, uploader));
    let mut slots: Vec<Option<RecordAck>> = Vec::with_capacity(records as usize);
    let mut batch = Vec::with_capacity(records as usize);
    for line in decoded {
        match line? {
            Line::Refused(ack) => slots.push(Some(ack)),
            Line::Revision(incoming) => {
                slots.push(None);
                batch.push(*incoming);
            }
        }
    }
    let mut versions: Vec<(&str, &str)> = batch
        .iter()
        .map(|i| (i.revision.form.as_str(), i.revision.version.as_str()))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    validator.prepare(project, &versions);
    let stored = store.ingest(project, uploader, &batch, validator, &crate::now_text())?;
    let mut stored = stored.into_iter();
    let mut ack = UploadAck {
        incomplete: truncated,
        ..UploadAck::default()
    };
    for slot in slots {
        let record = match slot {
            Some(r) => r,
            None => stored.next().ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "missing acknowledgement",
                )
            })?,
        };
        match record.status {
            AckStatus::Accepted => ack.accepted += 1,
            AckStatus::Duplicate => ack.duplicate += 1,
            AckStatus::Quarantined => ack.quarantined += 1,
            AckStatus::Rejected => ack.rejected += 1,
        }
        ack.records.push(record);
    }
    Ok(ack)
}

async fn known(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<KnownResponse>> {
    authorize(&state, &headers, &project, Need::Upload).await?;
    let body = small_body(&state, body).await?;
    let request: KnownRequest = json_body(&body)?;
    if request.ids.len() as u64 > state.limits.max_batch_records {
        return Err(ApiError::too_large(
            "too_many_records",
            format!(
                "ask about at most {} ids at once",
                state.limits.max_batch_records
            ),
            state.limits.max_batch_records,
        ));
    }
    let store = state.store.clone();
    let known = blocking(move || store.known_revisions(&project, &request.ids)).await?;
    Ok(Json(KnownResponse { known }))
}

// ---------------------------------------------------------------- coordinator

#[derive(Debug, Deserialize)]
struct PullQuery {
    after: Option<String>,
    limit: Option<usize>,
}

pub const MAX_PAGE: usize = 1_000;

fn parse_cursor(text: Option<&str>) -> ApiResult<i64> {
    match text.map(str::trim) {
        None | Some("") => Ok(0),
        Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_cursor",
                format!(
                    "`{}` is not a cursor from this server",
                    t.chars().take(40).collect::<String>()
                ),
            )
        }),
    }
}

pub fn pulled(row: StoredResponse) -> PulledResponse {
    PulledResponse {
        cursor: row.feed_seq.to_string(),
        status: row.state.status(),
        conflicts: row.state.conflicts(),
        context: row.state.context(),
        revisions: row.state.revision_count() as u64,
        response: row.state.to_response(),
        device: row.device,
        enumerator: row.enumerator,
        received_at: row.received_at,
        updated_at: row.updated_at,
        review_state: row.review_state,
        quarantine: row.quarantine,
    }
}

async fn pull(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(query): Query<PullQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<PullPage>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let after = parse_cursor(query.after.as_deref())?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let store = state.store.clone();
    // One extra row tells whether more is waiting.
    let mut rows = blocking(move || store.pull(&project, after, limit + 1)).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows
        .last()
        .map(|r| r.feed_seq.to_string())
        .unwrap_or_else(|| after.to_string());
    Metrics::add(&state.metrics.pulls, 1);
    Ok(Json(PullPage {
        items: rows.into_iter().map(pulled).collect(),
        next,
        more,
    }))
}

async fn get_response(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<PulledResponse>> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let store = state.store.clone();
    let rid = id.clone();
    let row = blocking(move || store.get_response(&project, &rid)).await?;
    row.map(|r| Json(pulled(r))).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_response",
            format!("no response `{id}` in this project"),
        )
    })
}

#[derive(Debug, Deserialize)]
struct ReviewRequest {
    state: ReviewState,
}

async fn review(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let body = small_body(&state, body).await?;
    let request: ReviewRequest = json_body(&body)?;
    let store = state.store.clone();
    let rid = id.clone();
    let found =
        blocking(move || store.set_review_state(&project, &rid, request.state, &crate::now_text()))
            .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_response",
            format!("no response `{id}` in this project"),
        ))
    }
}

// ---------------------------------------------------------------- export

#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
    since: Option<String>,
    #[serde(default)]
    pii: bool,
    #[serde(default)]
    labels: bool,
}

/// A `Write` that hands 64 KiB chunks to the response body as they are produced, so an
/// export streams with flat memory; a client that goes away stops the export.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 64 * 1024;

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(Self::CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The receiving end of a [`ChannelWriter`] as a body stream.
struct ChunkStream(tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>);

impl futures_core::Stream for ChunkStream {
    type Item = Result<Vec<u8>, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

async fn export(
    State(state): State<AppState>,
    Path((project, form)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // Coordinators and admins read responses, so they may ask for `pii` fields.
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let format = match query.format.as_deref() {
        None => crate::export::Format::Csv,
        Some(f) => crate::export::Format::parse(f).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_format",
                format!("export format `{f}` is not one of csv, json, geojson"),
            )
        })?,
    };
    let options = crate::export::Options {
        project,
        form,
        format,
        since: parse_cursor(query.since.as_deref())?,
        include_pii: query.pii,
        labels: query.labels,
    };
    // Refuse an unknown form before the answer starts streaming.
    let store = state.store.clone();
    let (p, f) = (options.project.clone(), options.form.clone());
    blocking(move || crate::export::latest_form(store.as_ref(), &p, &f).map(|_| ())).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let store = state.store.clone();
    let filename = format!("{}.{}", options.form, format.extension());
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(ChannelWriter::CHUNK),
        };
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
        ],
        Body::from_stream(ChunkStream(rx)),
    )
        .into_response())
}

// ---------------------------------------------------------------- attachments

fn check_sha256(text: &str) -> ApiResult<String> {
    let lower = text.to_ascii_lowercase();
    if lower.len() == 64 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(lower)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_hash",
            "an attachment is addressed by the SHA-256 of its content: 64 hex digits",
        ))
    }
}

fn unknown_attachment(sha256: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_attachment",
        format!("no attachment {sha256} in this project; upload it from offset 0"),
    )
}

async fn attachment_status(
    State(state): State<AppState>,
    Path((project, sha256)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<AttachmentStatus>> {
    authorize(&state, &headers, &project, Need::Upload).await?;
    let sha256 = check_sha256(&sha256)?;
    let store = state.store.clone();
    let sha = sha256.clone();
    blocking(move || store.attachment_status(&project, &sha))
        .await?
        .map(Json)
        .ok_or_else(|| unknown_attachment(&sha256))
}

#[derive(Debug, Deserialize)]
struct ChunkQuery {
    offset: u64,
    size: u64,
}

/// Store one chunk. A chunk cut off in transit keeps the bytes that arrived, so a link
/// that drops every megabyte still moves the upload forward; the client asks the status
/// and continues from `received`. When every byte is in, the content is hashed and the
/// attachment is complete — or discarded if it does not match its address.
async fn put_attachment(
    State(state): State<AppState>,
    Path((project, sha256)): Path<(String, String)>,
    Query(query): Query<ChunkQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<AttachmentStatus>> {
    authorize(&state, &headers, &project, Need::Upload).await?;
    let sha256 = check_sha256(&sha256)?;
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
    let (p, sha) = (project.clone(), sha256.clone());
    let outcome = blocking(move || {
        store.put_attachment_chunk(
            &p,
            &sha,
            query.size,
            query.offset,
            &received.bytes,
            &crate::now_text(),
        )
    })
    .await?;
    let status = match outcome {
        ChunkOutcome::Stored(status) => status,
        ChunkOutcome::OffsetMismatch(status) if status.complete => return Ok(Json(status)),
        ChunkOutcome::OffsetMismatch(status) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "offset_mismatch",
                format!(
                    "this attachment has {} of {} bytes; send the chunk starting at byte {}",
                    status.received, status.size, status.received
                ),
            ))
        }
    };
    if status.received < status.size {
        return Ok(Json(status));
    }
    let store = state.store.clone();
    let verified = blocking(move || {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut at = 0;
        while at < status.size {
            let chunk = store.read_attachment(&project, &sha256, at, 4 << 20)?;
            if chunk.is_empty() {
                break;
            }
            at += chunk.len() as u64;
            hasher.update(&chunk);
        }
        if hex::encode(hasher.finalize()) == sha256 && at == status.size {
            store.complete_attachment(&project, &sha256, &crate::now_text())?;
            Ok(Some(AttachmentStatus {
                complete: true,
                ..status
            }))
        } else {
            store.discard_attachment(&project, &sha256)?;
            Ok(None)
        }
    })
    .await?;
    verified.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hash_mismatch",
            "the bytes received do not have the SHA-256 they were sent under; they were discarded, send the file again",
        )
    })
}

async fn get_attachment(
    State(state): State<AppState>,
    Path((project, sha256)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&state, &headers, &project, Need::Coordinate).await?;
    let sha256 = check_sha256(&sha256)?;
    let store = state.store.clone();
    let (p, sha) = (project.clone(), sha256.clone());
    let status = blocking(move || store.attachment_status(&p, &sha))
        .await?
        .filter(|s| s.complete)
        .ok_or_else(|| unknown_attachment(&sha256))?;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut at = 0;
        while at < status.size {
            match store.read_attachment(&project, &sha256, at, 1 << 20) {
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
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, status.size.to_string()),
        ],
        Body::from_stream(ChunkStream(rx)),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_a_503_with_retry_after() {
        let response =
            ApiError::from(crate::Error::Busy("all connections in use".into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(BUSY_RETRY_AFTER_SECS))
        );
        let other = ApiError::from(crate::Error::Backend("down".into())).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(other.headers().get(header::RETRY_AFTER).is_none());
    }
}
