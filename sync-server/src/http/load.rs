//! Back-pressure per request: at most so many requests are handled at once (the rest
//! wait briefly for a turn, then get `503 busy` with `Retry-After`), and a request that
//! takes longer than the request timeout to answer is cut off with `408`. Apps retry
//! both with back-off, so an overloaded server sheds load instead of queueing without
//! end. Limits on connections and header reading are in `crate::serve`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::{ApiError, BUSY_RETRY_AFTER_SECS};
use super::AppState;

/// Defaults of `voices-server serve` (docs/deploy.md explains them).
pub const DEFAULT_MAX_REQUESTS: usize = 256;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a request waits for a turn before it is refused as busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The request limits and the turns being handed out.
#[derive(Debug)]
pub struct RequestLimits {
    /// From the request's arrival to its answer's headers; a streamed answer (an export,
    /// a download) may take longer to send its body.
    pub timeout: Duration,
    pub max_in_flight: usize,
    turns: Arc<Semaphore>,
}

impl RequestLimits {
    pub fn new(timeout: Duration, max_in_flight: usize) -> RequestLimits {
        let max_in_flight = max_in_flight.max(1);
        RequestLimits {
            timeout,
            max_in_flight,
            turns: Arc::new(Semaphore::new(max_in_flight)),
        }
    }
}

impl Default for RequestLimits {
    fn default() -> RequestLimits {
        RequestLimits::new(DEFAULT_REQUEST_TIMEOUT, DEFAULT_MAX_REQUESTS)
    }
}

/// Middleware: a turn, then the request within the timeout.
pub(super) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.requests;
    let turn = match tokio::time::timeout(QUEUE_WAIT, limits.turns.clone().acquire_owned()).await {
        Ok(Ok(turn)) => turn,
        _ => {
            return ApiError {
                retry_after: Some(BUSY_RETRY_AFTER_SECS),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!(
                        "the server is handling {} requests already; try again shortly",
                        limits.max_in_flight
                    ),
                )
            }
            .into_response()
        }
    };
    let answer = tokio::time::timeout(limits.timeout, next.run(request)).await;
    drop(turn);
    match answer {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                seconds = limits.timeout.as_secs(),
                "request timed out; answered 408"
            );
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the request took longer than {} s (a slow upload or a busy server); send it again, or in smaller parts",
                    limits.timeout.as_secs()
                ),
            )
            .into_response()
        }
    }
}
