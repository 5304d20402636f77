//! The Voices sync server: accounts and projects, form versions, exactly-once ingest of
//! response revisions with the merge from `voices_core::sync`, and coordinator pull.
//!
//! `app(state)` builds the HTTP router (used by `voices-server serve` and by the tests
//! in-process); storage sits behind [`store::Store`].

pub mod api;
pub mod auth;
pub mod body;
pub mod export;
pub mod metrics;
pub mod sample;
pub mod store;
pub mod validate;

pub use api::{app, AppState};

/// Errors of the server's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database backend error: {0}")]
    Backend(String),
    /// Every database connection is in use: answered with 503 and `Retry-After`, so
    /// clients back off instead of piling up behind the pool.
    #[error("{0}")]
    Busy(String),
    #[error("stored data could not be read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database schema: {0}")]
    Schema(String),
    #[error("a lock was poisoned by a panic in another thread")]
    Poisoned,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The server clock as stored text: RFC 3339 UTC with milliseconds, which sorts as text.
pub fn now_text() -> String {
    time_text(chrono::Utc::now())
}

pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `now_text()` moved by `delta`.
pub fn time_from_now(delta: chrono::Duration) -> String {
    time_text(chrono::Utc::now() + delta)
}
