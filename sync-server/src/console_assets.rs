//! The coordinator console (`console/`, a Svelte single-page app) served at `/`.
//!
//! With the cargo feature `console` the built files of `console/dist` are embedded in the
//! binary (rust-embed), so a server is one file with nothing fetched at run time; without
//! it, `/` says how to build a server that has the console. Every path that is not the API,
//! `/health` or `/metrics` and is not a file of the build gets `index.html`, so the
//! console's own addresses (`/p/kisumu/responses`) survive a reload. Pages carry a strict
//! Content-Security-Policy: scripts, styles, fonts and data only from this server, no
//! inline scripts or styles, no framing.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

/// The console's Content-Security-Policy. `blob:` images are the device QR codes the page
/// makes from the server's SVG; nothing else comes from anywhere but this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Files Vite names by their content hash: they never change, so browsers keep them.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// index.html names the current hashed files: always asked again (answered 304 when same).
const REVALIDATE: &str = "no-cache";

/// Paths that belong to the server, not the console: an unknown one there is a 404 in
/// the API's own error format, never the console's page.
fn is_server_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path == "/health"
        || path == "/metrics"
        || path.starts_with("/metrics/")
}

/// The router's fallback: a console file, the console's page, or the API's 404.
pub async fn serve(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if is_server_path(&path) {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no endpoint {path}; see docs/protocol.md and docs/console.md"),
        )
        .into_response();
    }
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let mut response = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{path} is a page of the console; only GET reads it"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let mut response = page(&path, request.headers());
    if method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    secure(response.headers_mut());
    response
}

/// Headers on every console answer.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

#[cfg(feature = "console")]
mod embedded {
    #[derive(rust_embed::Embed)]
    #[folder = "../console/dist/"]
    pub struct Console;
}

/// A file of the build, or index.html for the console's own addresses.
#[cfg(feature = "console")]
fn page(path: &str, request_headers: &HeaderMap) -> Response {
    use embedded::Console;
    use rust_embed::Embed;

    let name = path.trim_start_matches('/');
    let (file, cache) = match (name.is_empty(), Console::get(name)) {
        (false, Some(file)) => {
            let hashed = name.starts_with("assets/");
            (file, if hashed { IMMUTABLE } else { REVALIDATE })
        }
        // A missing file (a stale hashed name after an upgrade) is a 404, not the page:
        // a script tag must never receive HTML.
        (false, None) if looks_like_file(name) => {
            return (StatusCode::NOT_FOUND, "not a file of the console").into_response()
        }
        _ => match Console::get("index.html") {
            Some(file) => (file, REVALIDATE),
            None => return not_built(),
        },
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|asked| asked.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type(file.metadata.mimetype())) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    response
}

/// The media type to send: text (HTML, CSS, JavaScript, JSON, SVG) says it is UTF-8.
#[cfg(feature = "console")]
fn content_type(guessed: &str) -> String {
    let textual = guessed.starts_with("text/")
        || guessed.ends_with("javascript")
        || guessed.ends_with("json")
        || guessed.ends_with("svg+xml");
    if textual && !guessed.contains("charset") {
        format!("{guessed}; charset=utf-8")
    } else {
        guessed.to_owned()
    }
}

/// Without the `console` feature every page says how to get one.
#[cfg(not(feature = "console"))]
fn page(_path: &str, _request_headers: &HeaderMap) -> Response {
    not_built()
}

fn not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This voices-server was built without the coordinator console. Build the console \
         (cd console && npm ci && npm run build), then the server with \
         `cargo build --features voices-server/console`; `make run` does both.\n",
    )
        .into_response()
}

/// A path under `assets/` or ending in a static file's extension names a file, not a page
/// (a project or form id may contain a dot, so not every dot means a file).
#[cfg(feature = "console")]
fn looks_like_file(name: &str) -> bool {
    const STATIC: [&str; 10] = [
        "js", "css", "woff", "woff2", "json", "png", "svg", "ico", "map", "txt",
    ];
    name.starts_with("assets/")
        || name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| STATIC.contains(&ext))
}

#[cfg(test)]
mod tests {
    use super::is_server_path;

    #[test]
    fn the_api_health_and_metrics_are_never_console_pages() {
        for p in ["/api", "/api/v1/nothing", "/health", "/metrics"] {
            assert!(is_server_path(p), "{p}");
        }
        for p in ["/", "/p/kisumu/responses", "/apiary", "/people", "/healthy"] {
            assert!(!is_server_path(p), "{p}");
        }
    }
}
