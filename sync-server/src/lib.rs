//! The Voices sync server: accounts and projects, form versions, exactly-once ingest of
//! response revisions with the merge from `voices_core::sync`, and coordinator pull.
//!
//! Layers, each using only those below it: [`http`] (the router, `app(state)`, used by
//! `voices-server serve` and by the tests in-process) parses requests and shapes answers;
//! the domain modules ([`ingest`], [`publish`], [`responses`], [`export`],
//! [`accounts`], [`attachments`], [`validate`]) hold the rules, and the CLI and the
//! benchmarks call them directly; storage sits behind [`store::Store`].

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod console;
pub mod export;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod metrics;
pub mod publish;
pub mod referrals;
pub mod responses;
pub mod review;
pub mod sample;
pub mod serve;
pub mod store;
pub mod throttle;
pub mod validate;
pub mod withdraw;

pub use http::{app, metrics_app, AppState};

/// A database backend, as named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// Errors of the server's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed: which one, and its own words (each backend converts its
    /// driver's errors, `From<rusqlite::Error>` and `From<postgres::Error>`).
    #[error("{backend} error: {source}")]
    Backend {
        backend: Backend,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
    /// A new password that breaks the password rule (`auth::check_new_password`).
    #[error("{0}")]
    WeakPassword(String),
    #[error("database schema: {0}")]
    Schema(String),
    #[error("a lock was poisoned by a panic in another thread")]
    Poisoned,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A database failure described in words, not by a driver's error.
    pub fn backend(backend: Backend, message: impl Into<String>) -> Error {
        Error::Backend {
            backend,
            source: message.into().into(),
        }
    }
}

/// Items below which `par_map` stays on the calling thread (threads cost more than they
/// save on small batches).
const PARALLEL_FROM: usize = 64;

/// `items.iter().map(f).collect()`, spread over the machine's cores for large inputs,
/// results in order. Ingest uses it so that even one device's batch uses every core.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    /// Threads `par_map` has running now, across all callers.
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // When other uploads already keep the cores busy, more threads only add switching.
    if threads < 2 || items.len() < PARALLEL_FROM || RUNNING.load(Ordering::Relaxed) >= threads {
        return items.iter().map(f).collect();
    }
    RUNNING.fetch_add(threads, Ordering::Relaxed);
    struct Release(usize);
    impl Drop for Release {
        fn drop(&mut self) {
            RUNNING.fetch_sub(self.0, Ordering::Relaxed);
        }
    }
    let _release = Release(threads);
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut parts: Vec<_> = items
            .chunks(chunk)
            .skip(1)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        // The first chunk on this thread, while the others run.
        let mut out: Vec<R> = items[..chunk.min(items.len())].iter().map(f).collect();
        out.reserve(items.len() - out.len());
        for part in parts.drain(..) {
            match part.join() {
                Ok(results) => out.extend(results),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn par_map_keeps_order_for_small_and_large_inputs() {
        for n in [0, 1, 63, 64, 65, 1000, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = super::par_map(&items, |i| i * 2);
            assert_eq!(
                doubled,
                items.iter().map(|i| i * 2).collect::<Vec<_>>(),
                "n = {n}"
            );
        }
    }
}
