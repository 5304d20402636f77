//! The HTTP API (`/api/v1`, see docs/protocol.md), `/health`, `/metrics` and the
//! coordinator console's pages at `/` (`console_assets`): the router,
//! its middleware (protocol negotiation, request log and counters) and the state the
//! handlers share. Each resource's handlers live in a module of their own; they parse
//! the request, call the domain code and shape the answer, nothing more.

mod accounts;
mod attachments;
mod audit;
mod auth;
pub mod body;
mod console_assets;
mod dashboard;
mod device_feed;
mod devices;
mod error;
mod export;
mod extract;
mod files;
mod forms;
mod keys;
pub mod load;
mod people;
mod policy;
mod profile;
mod projects;
mod referrals;
mod responses;
mod revisions;
mod session;
mod stream;
mod table;
mod teams;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::{Json, Router};
use voices_core::sync::protocol::{Limits, ServerInfo, PROTOCOL_HEADER, PROTOCOL_VERSION};

pub use error::{ApiError, ApiResult, BUSY_RETRY_AFTER_SECS};

use crate::metrics::Metrics;
use crate::store::projection::IndexCache;
use crate::store::Store;
use crate::validate::FormCatalog;

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
    /// Requests at once and time per request (`serve --max-requests`, `--request-timeout`).
    pub requests: Arc<load::RequestLimits>,
    /// Password checks, at most one per core at once.
    pub passwords: Arc<crate::auth::Passwords>,
    /// Failed sign-ins by name and by client address.
    pub logins: Arc<crate::throttle::LoginThrottle>,
    /// Clients are known by the last `X-Forwarded-For` address (`serve --behind-proxy`),
    /// not by the connection's peer, which is the proxy.
    pub behind_proxy: bool,
    /// SHA-256 of the server's own self-signed TLS certificate: provisioning codes the
    /// server makes carry it so that devices pin it (`None` without TLS or with a
    /// certificate from an authority).
    pub pinned_certificate: Option<String>,
    /// The address devices reach this server at (`serve --public-url`), for the
    /// provisioning codes the console makes; without it, the address the browser used.
    pub public_url: Option<String>,
    /// Form indexes (pii flags, fields) for the console's answers.
    pub indexes: Arc<IndexCache>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            catalog: Arc::new(FormCatalog::new(store.clone())),
            store,
            limits: default_limits(),
            metrics: Arc::new(Metrics::default()),
            zstd: true,
            requests: Arc::new(load::RequestLimits::default()),
            passwords: Arc::new(crate::auth::Passwords::default()),
            logins: Arc::new(crate::throttle::LoginThrottle::default()),
            behind_proxy: false,
            pinned_certificate: None,
            public_url: None,
            indexes: Arc::default(),
        }
    }

    /// The same server naming itself `url` in the provisioning codes it makes.
    pub fn with_public_url(self, url: Option<String>) -> AppState {
        AppState {
            public_url: url,
            ..self
        }
    }

    /// The same server with other request limits.
    pub fn with_request_limits(self, limits: load::RequestLimits) -> AppState {
        AppState {
            requests: Arc::new(limits),
            ..self
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
        max_line_bytes: voices_core::sync::protocol::DEFAULT_MAX_LINE_BYTES,
        max_attachment_bytes: voices_core::sync::protocol::DEFAULT_MAX_ATTACHMENT_BYTES,
    }
}

/// Run blocking store work off the async runtime.
async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::internal("the request failed inside the server"))
        }
    }
}

/// Every endpoint of `/api/v1` as (method, path, handler). The router is built from
/// this list alone, so [`endpoints`] names every route there is, and the authorization
/// matrix (`tests/authorization.rs`) fails when an endpoint has no row there.
fn api_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/info", get(info)),
        (Method::POST, "/provision", post(accounts::provision)),
        (Method::POST, "/login", post(accounts::login)),
        (Method::PUT, "/password", put(accounts::change_password)),
        (Method::GET, "/projects/{project}/forms", get(forms::list)),
        (
            Method::POST,
            "/projects/{project}/forms",
            post(forms::publish),
        ),
        (
            Method::POST,
            "/projects/{project}/forms/convert",
            post(forms::convert),
        ),
        (
            Method::GET,
            "/projects/{project}/forms/{form}/versions/{version}",
            get(forms::download),
        ),
        (
            Method::POST,
            "/projects/{project}/revisions",
            post(revisions::upload),
        ),
        (
            Method::POST,
            "/projects/{project}/revisions/known",
            post(revisions::known),
        ),
        (
            Method::GET,
            "/projects/{project}/responses",
            get(responses::pull),
        ),
        (
            Method::GET,
            "/projects/{project}/responses/{id}",
            get(responses::one),
        ),
        (
            Method::PUT,
            "/projects/{project}/responses/{id}/review",
            put(responses::review),
        ),
        (
            Method::GET,
            "/projects/{project}/responses/{id}/resubmission",
            get(responses::resubmission),
        ),
        (
            Method::GET,
            "/projects/{project}/device/feed",
            get(device_feed::pull),
        ),
        (
            Method::GET,
            "/projects/{project}/forms/{form}/export",
            get(export::export),
        ),
        (
            Method::PUT,
            "/projects/{project}/attachments/{sha256}",
            put(attachments::put_chunk),
        ),
        (
            Method::GET,
            "/projects/{project}/attachments/{sha256}",
            get(attachments::download),
        ),
        (
            Method::GET,
            "/projects/{project}/attachments/{sha256}/status",
            get(attachments::status),
        ),
        // The coordinator console (docs/console.md).
        (Method::POST, "/session", post(session::sign_in)),
        (Method::GET, "/session", get(session::current)),
        (Method::DELETE, "/session", delete(session::sign_out)),
        (Method::GET, "/projects", get(projects::list)),
        (
            Method::GET,
            "/projects/{project}/overview",
            get(projects::overview),
        ),
        (Method::GET, "/projects/{project}/table", get(table::page)),
        (
            Method::GET,
            "/projects/{project}/forms/{form}/fields",
            get(forms::fields),
        ),
        (
            Method::GET,
            "/projects/{project}/forms/{form}/dashboard",
            get(dashboard::dashboard),
        ),
        (
            Method::GET,
            "/projects/{project}/forms/{form}/points",
            get(dashboard::points),
        ),
        (
            Method::GET,
            "/projects/{project}/responses/{id}/history",
            get(responses::history),
        ),
        (
            Method::GET,
            "/projects/{project}/responses/{id}/files/{name}",
            get(files::file),
        ),
        (
            Method::POST,
            "/projects/{project}/responses/{id}/resolve",
            post(responses::resolve),
        ),
        (
            Method::POST,
            "/projects/{project}/responses/{id}/withdraw",
            post(responses::withdraw),
        ),
        (
            Method::POST,
            "/projects/{project}/reviews",
            post(responses::bulk_review),
        ),
        (
            Method::GET,
            "/projects/{project}/devices",
            get(devices::list),
        ),
        (
            Method::POST,
            "/projects/{project}/devices",
            post(devices::add),
        ),
        (
            Method::DELETE,
            "/projects/{project}/devices/{id}",
            delete(devices::revoke),
        ),
        (
            Method::GET,
            "/projects/{project}/device/profile",
            get(profile::device_profile),
        ),
        (
            Method::PUT,
            "/projects/{project}/devices/{id}/profile",
            put(profile::set_device_profile),
        ),
        (
            Method::GET,
            "/projects/{project}/presentation",
            get(profile::get_presentation),
        ),
        (
            Method::PUT,
            "/projects/{project}/presentation",
            put(profile::set_presentation),
        ),
        (
            Method::GET,
            "/projects/{project}/device-policy",
            get(policy::get),
        ),
        (
            Method::PUT,
            "/projects/{project}/device-policy",
            put(policy::set),
        ),
        (
            Method::GET,
            "/projects/{project}/referrals",
            get(referrals::get),
        ),
        (
            Method::PUT,
            "/projects/{project}/referrals",
            put(referrals::set),
        ),
        (
            Method::GET,
            "/projects/{project}/withdrawal-policy",
            get(policy::get_withdrawal),
        ),
        (
            Method::PUT,
            "/projects/{project}/withdrawal-policy",
            put(policy::set_withdrawal),
        ),
        (Method::GET, "/users", get(people::list)),
        (Method::POST, "/users", post(people::add)),
        (Method::PATCH, "/users/{name}", patch(people::update)),
        (
            Method::PUT,
            "/projects/{project}/members/{name}",
            put(people::set_member),
        ),
        (
            Method::DELETE,
            "/projects/{project}/members/{name}",
            delete(people::remove_member),
        ),
        // Sealed answers' keys, the pii grant and the access audit (admins).
        (Method::GET, "/projects/{project}/keys", get(keys::list)),
        (Method::POST, "/projects/{project}/keys", post(keys::add)),
        (
            Method::POST,
            "/projects/{project}/sealed-opened",
            post(keys::opened),
        ),
        (
            Method::DELETE,
            "/projects/{project}/keys/{recipient}",
            delete(keys::retire),
        ),
        (
            Method::PUT,
            "/projects/{project}/members/{name}/pii",
            put(keys::grant_pii),
        ),
        (Method::GET, "/audit", get(audit::list)),
        (
            Method::PUT,
            "/projects/{project}/members/{name}/teams",
            put(teams::limit_member),
        ),
        (Method::GET, "/projects/{project}/teams", get(teams::list)),
        (Method::POST, "/projects/{project}/teams", post(teams::add)),
        (
            Method::PATCH,
            "/projects/{project}/teams/{team}",
            patch(teams::rename),
        ),
        (
            Method::DELETE,
            "/projects/{project}/teams/{team}",
            delete(teams::delete),
        ),
        (
            Method::PUT,
            "/projects/{project}/teams/{team}/devices/{device}",
            put(teams::add_device),
        ),
        (
            Method::DELETE,
            "/projects/{project}/teams/{team}/devices/{device}",
            delete(teams::remove_device),
        ),
    ]
}

/// Endpoints outside `/api/v1` (no protocol negotiation).
fn root_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/health", get(|| async { "ok" })),
        (Method::GET, "/metrics", get(metrics)),
    ]
}

/// The API's prefix.
pub const API_PREFIX: &str = "/api/v1";

/// Every endpoint the router serves: method and full path (with `{parameters}`).
pub fn endpoints() -> Vec<(Method, String)> {
    root_routes()
        .into_iter()
        .map(|(method, path, _)| (method, path.to_owned()))
        .chain(
            api_routes()
                .into_iter()
                .map(|(method, path, _)| (method, format!("{API_PREFIX}{path}"))),
        )
        .collect()
}

/// The router, ready to serve.
pub fn app(state: AppState) -> Router {
    // Routes on one path merge their methods (axum refuses a method twice).
    let api = api_routes()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        .layer(middleware::from_fn(session::csrf))
        .layer(middleware::from_fn(negotiate));
    root_routes()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        .nest(API_PREFIX, api)
        .fallback(console_assets::serve)
        .layer(middleware::from_fn_with_state(state.clone(), load::limit))
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
            return ApiError::bad_request(
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

/// `/metrics` on the API's port: the counters are the whole server's (every project),
/// so only an admin reads them here. A Prometheus scraper without a session uses the
/// loopback listener of `serve --metrics-listen` instead ([`metrics_app`]).
async fn metrics(_: auth::Admin, State(state): State<AppState>) -> impl IntoResponse {
    metrics_text(State(state)).await
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// The router of `serve --metrics-listen`: `/metrics` alone, without credentials, for a
/// scraper on the same host. The binary accepts only a loopback address for it
/// (docs/deploy.md), so the counters never leave the machine unauthenticated.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(state)
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
            ("device-feed", true),
        ]
        .into_iter()
        .filter(|(_, offered)| *offered)
        .map(|(name, _)| name.to_owned())
        .collect(),
        limits: state.limits.clone(),
    })
}

/// `text` as a pull cursor (a feed position): empty or absent is the start.
fn parse_cursor(text: Option<&str>) -> ApiResult<i64> {
    match text.map(str::trim) {
        None | Some("") => Ok(0),
        Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(
                "bad_cursor",
                format!(
                    "`{}` is not a cursor from this server",
                    t.chars().take(40).collect::<String>()
                ),
            )
        }),
    }
}
