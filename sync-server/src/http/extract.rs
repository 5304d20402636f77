//! `Path` and `Query` whose refusals are Problem Details with a `code`, like every other
//! error of the API (axum's own extractors answer a malformed query string or a path
//! that is not UTF-8 in plain text, which a client cannot branch on).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};

/// A refusal of axum's: `code` for the client's mistakes, an internal error otherwise
/// (a route that lacks the parameter its handler reads).
fn refused(rejection: impl IntoResponse + std::fmt::Display, code: &'static str) -> ApiError {
    let detail = rejection.to_string();
    if rejection.into_response().status().is_server_error() {
        ApiError::internal(detail)
    } else {
        ApiError::bad_request(code, detail)
    }
}

/// The route's parameters (`400 bad_path` for one that is not UTF-8 or not of its type).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|e| refused(e, "bad_path"))
    }
}

/// The query string (`400 bad_query` for a parameter that is not of its type).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|e| refused(e, "bad_query"))
    }
}
