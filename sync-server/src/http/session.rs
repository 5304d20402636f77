//! Browser sessions for the console: a session token in an `HttpOnly; SameSite=Strict`
//! cookie, and a CSRF token the page sends back in `X-CSRF-Token` on every request that
//! changes something. Scripts keep bearer tokens, which need no CSRF token: a browser
//! never attaches an `Authorization` header by itself.
//!
//! The CSRF token is derived from the session token (SHA-256 under a fixed label), so
//! nothing more is stored, and a page that cannot read the cookie (no script can: it is
//! HttpOnly) cannot compute it; another site cannot read it from our pages either.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::accounts::{self, client_address};
use super::auth::Person;
use super::body::{content_type_is, credentials_body};
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::accounts::SESSION_TOKEN_HOURS;
use crate::auth;
use crate::serve::Connection;
use crate::store::{Role, User};

/// The session cookie's name.
pub const COOKIE: &str = "voices_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The bearer token of a request, or its session cookie.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    bearer(headers).or_else(|| session_cookie(headers))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The CSRF token of a session token.
pub fn csrf_token(session: &str) -> String {
    let digest = Sha256::digest(format!("voices-csrf\0{session}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Refuse cookie-authenticated requests that change something without the session's
/// CSRF token. Bearer-token requests and safe methods pass.
pub(super) async fn csrf(request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    if unsafe_method && bearer(headers).is_none() {
        if let Some(session) = session_cookie(headers) {
            let given = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            // Compare digests, so the time taken says nothing about the expected value.
            let matches = Sha256::digest(given.trim().as_bytes())
                == Sha256::digest(csrf_token(&session).as_bytes());
            if !matches {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "this request changes something and came with the session cookie but without the session's X-CSRF-Token header (get it from GET /api/v1/session)",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// Whether the browser reached us over TLS (ours, or a proxy's that says so).
fn over_tls(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    uri.scheme_str() == Some("https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn cookie_header(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("voices_session=; Max-Age=0"))
}

/// The session body: who, in which projects with which role, the CSRF token.
fn session_body(user: &User, token: &str, expires_at: &str) -> Value {
    json!({
        "user": {
            "name": user.name,
            "display_name": user.display_name,
            "admin": user.role == Role::Admin,
        },
        "memberships": user.memberships,
        "csrf": csrf_token(token),
        "expires_at": expires_at,
    })
}

#[derive(Deserialize)]
struct SignIn {
    user: String,
    password: String,
}

/// `POST /session`: sign in (throttled like `/login`), set the cookie.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    connection: Option<Extension<Connection>>,
    request: Request,
) -> ApiResult<Response> {
    let (parts, body): (_, Body) = request.into_parts();
    if !content_type_is(&parts.headers, "application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send {\"user\", \"password\"} as application/json",
        ));
    }
    let SignIn { user, password } = credentials_body(body).await?;
    let address = client_address(&state, connection.map(|c| c.0), &parts.headers);
    let user = accounts::sign_in(&state, address, user, password).await?;
    let store = state.store.clone();
    let signed_in = user.clone();
    let session =
        blocking(move || crate::accounts::open_session(store.as_ref(), &signed_in)).await?;
    tracing::info!(user = %user.name, "signed in");
    let secure = over_tls(&parts.headers, &parts.uri);
    let token = session.token;
    let mut response = Json(session_body(&user, &token, &session.expires_at)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie_header(&token, SESSION_TOKEN_HOURS * 3600, secure),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /session`: who is signed in, and the CSRF token again (after a page reload).
pub(super) async fn current(
    State(state): State<AppState>,
    Person(user): Person,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = credential(&headers).unwrap_or_default();
    let store = state.store.clone();
    let hash = auth::secret_hash(&token);
    let expires_at = blocking(move || store.find_token(&hash))
        .await?
        .map(|t| t.expires_at)
        .unwrap_or_default();
    let mut response = Json(session_body(&user, &token, &expires_at)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `DELETE /session`: revoke the session (or bearer token) and clear the cookie.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    _: Person,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let token = credential(&headers).unwrap_or_default();
    let secure = over_tls(&headers, &uri);
    let store = state.store.clone();
    let hash = auth::secret_hash(&token);
    blocking(move || store.revoke_token(&hash, &crate::now_text())).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie_header("", 0, secure));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_bearer_comes_first() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; voices_session=vs_abc ; lang=ar"),
        );
        assert_eq!(credential(&headers).as_deref(), Some("vs_abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer vt_x"),
        );
        assert_eq!(credential(&headers).as_deref(), Some("vt_x"));
        let mut empty = HeaderMap::new();
        empty.insert(header::COOKIE, HeaderValue::from_static("voices_session="));
        assert_eq!(credential(&empty), None);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_cookies_carry_the_attributes() {
        assert_ne!(csrf_token("vs_a"), csrf_token("vs_b"));
        assert_eq!(csrf_token("vs_a"), csrf_token("vs_a"));
        let cookie = cookie_header("vs_a", 60, true);
        assert_eq!(
            cookie.to_str().unwrap(),
            "voices_session=vs_a; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure"
        );
    }
}
