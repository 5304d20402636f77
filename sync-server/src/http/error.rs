//! Error answers: RFC 9457 Problem Details with a machine-readable `code`, following
//! axum's `examples/error-handling`: handlers return `ApiResult<_>` and [`ApiError`]
//! implements `IntoResponse`. Domain errors become answers here, and only here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use voices_core::sync::protocol::Problem;

use crate::ingest::IngestError;
use crate::publish::PublishError;

/// `Retry-After` of a 503 when the database has no free connection: long enough for the
/// queue ahead to drain, short enough that a device syncs again soon.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub limit: Option<u64>,
    /// Seconds the client should wait before trying again (`Retry-After`).
    pub retry_after: Option<u64>,
    /// Where a refused form is wrong (`findings` of the problem), for a page to list.
    pub findings: Vec<crate::publish::Finding>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            limit: None,
            retry_after: None,
            findings: Vec::new(),
        }
    }

    pub fn too_large(code: &'static str, detail: String, limit: u64) -> ApiError {
        ApiError {
            limit: Some(limit),
            ..ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, detail)
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// A failure inside the server that says nothing about the request.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", detail)
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
            findings: self.findings,
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
            crate::Error::NotFound(m) => ApiError::not_found("not_found", m),
            crate::Error::Invalid(m) => ApiError::bad_request("invalid", m),
            crate::Error::WeakPassword(m) => ApiError::bad_request("weak_password", m),
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

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> ApiError {
        match e {
            PublishError::InvalidForm { message, findings } => ApiError {
                findings,
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", message)
            },
            PublishError::VersionExists(m) => {
                ApiError::new(StatusCode::CONFLICT, "version_exists", m)
            }
            PublishError::Store(e) => e.into(),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        match e {
            IngestError::TooManyRecords { limit, .. } => {
                ApiError::too_large("too_many_records", e.to_string(), limit)
            }
            IngestError::TooManyLines { limit, .. } => {
                ApiError::too_large("too_many_lines", e.to_string(), limit)
            }
            IngestError::Internal(m) => ApiError::internal(m),
            IngestError::Store(e) => e.into(),
        }
    }
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
        let other =
            ApiError::from(crate::Error::backend(crate::Backend::Postgres, "down")).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(other.headers().get(header::RETRY_AFTER).is_none());
    }
}
