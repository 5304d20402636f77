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

use super::error::ApiError;

/// The console's Content-Security-Policy. `blob:` images are the device QR codes the page
/// makes from the server's SVG; nothing else comes from anywhere but this server.
/// `'wasm-unsafe-eval'` lets the workbench compile the core's WebAssembly module (a file
/// of this server); it allows no JavaScript `eval`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Files Vite names by their content hash: they never change, so browsers keep them.
#[cfg(feature = "console")]
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// index.html names the current hashed files: always asked again (answered 304 when same).
#[cfg(feature = "console")]
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
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::{is_server_path, serve};

    async fn get(path: &str, headers: &[(header::HeaderName, &str)]) -> axum::response::Response {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        Router::new()
            .fallback(serve)
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn text(response: axum::response::Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn the_api_health_and_metrics_are_never_console_pages() {
        for p in ["/api", "/api/v1/nothing", "/health", "/metrics"] {
            assert!(is_server_path(p), "{p}");
        }
        for p in ["/", "/p/kisumu/responses", "/apiary", "/people", "/healthy"] {
            assert!(!is_server_path(p), "{p}");
        }
    }

    #[tokio::test]
    async fn an_unknown_api_path_is_a_problem_not_the_page() {
        let response = get("/api/v1/no-such-thing", &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(text(response).await.contains("\"code\":\"not_found\""));
    }

    #[tokio::test]
    async fn pages_only_answer_get() {
        let response = Router::new()
            .fallback(serve)
            .oneshot(Request::post("/p/demo").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET, HEAD");
    }

    #[cfg(not(feature = "console"))]
    #[tokio::test]
    async fn without_the_console_feature_every_page_says_how_to_build_it() {
        let response = get("/p/demo/responses", &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(text(response)
            .await
            .contains("--features voices-server/console"));
    }

    #[cfg(feature = "console")]
    #[tokio::test]
    async fn the_console_page_answers_its_own_addresses_with_a_strict_policy() {
        for path in ["/", "/p/demo/responses", "/p/my.project", "/people"] {
            let response = get(path, &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let h = response.headers().clone();
            assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert_eq!(h[header::CACHE_CONTROL], "no-cache");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
            // Only WebAssembly compilation: no inline script or style, no JavaScript eval.
            let unsafe_sources: Vec<&str> = csp
                .split([' ', ';'])
                .filter(|source| source.contains("unsafe"))
                .collect();
            assert_eq!(unsafe_sources, ["'wasm-unsafe-eval'"], "{csp}");
            assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
            let page = text(response).await;
            assert!(page.contains("<div id=\"app\">"), "{path}");
            // The policy allows no inline script: the page only names its bundled files.
            assert!(!page.contains("<script>"));
        }
    }

    #[cfg(feature = "console")]
    #[tokio::test]
    async fn hashed_files_are_kept_for_good_and_the_page_is_revalidated() {
        let page = get("/", &[]).await;
        let etag = page.headers()[header::ETAG].to_str().unwrap().to_owned();
        let html = text(page).await;
        let script = html
            .split("src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("index.html names its script");
        let asset = get(script, &[]).await;
        assert_eq!(asset.status(), StatusCode::OK);
        assert_eq!(
            asset.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            asset.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let again = get("/", &[(header::IF_NONE_MATCH, etag.as_str())]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        // A hashed name from an older build is a 404, never the page posing as a script.
        let gone = get("/assets/index-00000000.js", &[]).await;
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    }
}
