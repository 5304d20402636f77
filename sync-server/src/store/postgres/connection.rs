//! Connecting to PostgreSQL (TLS, the schema brought up to date, the pool) and running
//! a transaction again after a deadlock, a serialization failure or a lost race; the
//! driver's errors in PostgreSQL's own words.

use std::time::Duration;

use postgres::error::SqlState;
use postgres::Client;
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::projection::IndexCache;
use super::{migrations, tls, PostgresStore};
use crate::{Backend, Error, Result};

/// How often a transaction that PostgreSQL aborted for a deadlock or a serialization
/// failure (or that lost a revision-id race) is tried again before giving up.
const ATTEMPTS: usize = 8;

/// Connections per server process unless the URL's caller asks otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// How long a request waits for a pooled connection before the answer is 503.
pub const POOL_WAIT: Duration = Duration::from_secs(5);

pub(super) type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// Why one attempt at a transaction failed.
pub(super) enum Fail {
    Db(postgres::Error),
    /// Lost a race that a fresh attempt resolves.
    Retry,
    Other(Error),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Fail {
        Fail::Db(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Other(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Fail {
        Fail::Other(Error::Json(e))
    }
}

pub(super) type Attempt<T> = std::result::Result<T, Fail>;

/// PostgreSQL's own words where there are some (`source` holds the server's message or
/// the I/O error; the top-level text alone is often just "db error").
fn describe(e: &postgres::Error) -> String {
    let text = e.to_string();
    match std::error::Error::source(e) {
        Some(source) if !text.contains(&source.to_string()) => format!("{text}: {source}"),
        _ => text,
    }
}

/// A driver error in PostgreSQL's own words: the SQLSTATE, message and detail of an
/// error the server reported, or the connection's failure.
#[derive(Debug)]
struct PostgresError(postgres::Error);

impl std::fmt::Display for PostgresError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_db_error() {
            Some(db) => write!(
                f,
                "{}: {}{}",
                db.code().code(),
                db.message(),
                db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            None => f.write_str(&describe(&self.0)),
        }
    }
}

impl std::error::Error for PostgresError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
        Error::Backend {
            backend: Backend::Postgres,
            source: Box::new(PostgresError(e)),
        }
    }
}

impl From<Fail> for Error {
    fn from(fail: Fail) -> Error {
        match fail {
            Fail::Db(e) => e.into(),
            Fail::Other(e) => e,
            Fail::Retry => Error::backend(
                Backend::Postgres,
                "gave up after repeated races with concurrent writers",
            ),
        }
    }
}

fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(&SqlState::T_R_DEADLOCK_DETECTED) | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
    )
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host:port/db?…`) with the default pool size and
    /// bring the schema up to date. `sslmode` and `sslrootcert` in the URL choose TLS
    /// (see [`tls`]).
    pub fn open(url: &str) -> Result<PostgresStore> {
        PostgresStore::open_with_pool_size(url, DEFAULT_POOL_SIZE)
    }

    pub fn open_with_pool_size(url: &str, pool_size: u32) -> Result<PostgresStore> {
        PostgresStore::open_with_pool(url, pool_size, POOL_WAIT)
    }

    /// `pool_wait`: how long a request waits for a free connection before it is told
    /// the server is busy (`Error::Busy`, a 503 with `Retry-After`).
    pub fn open_with_pool(url: &str, pool_size: u32, pool_wait: Duration) -> Result<PostgresStore> {
        let mut connection = tls::connection(url)?;
        if connection.config.get_connect_timeout().is_none() {
            connection.config.connect_timeout(Duration::from_secs(10));
        }
        // One direct connection first: an unreachable server, a wrong password or a
        // refused certificate fails now with the reason, not after the pool's timeout.
        let fail = |e: postgres::Error, connection: &tls::Connection| {
            let hint = tls::certificate_hint(&e, connection)
                .map(|h| format!(": {h}"))
                .unwrap_or_default();
            Error::backend(
                Backend::Postgres,
                format!("cannot connect: {}{hint}", describe(&e)),
            )
        };
        let mut first = match connection.config.connect(connection.tls.clone()) {
            Ok(client) => client,
            // `prefer` with no CA named (the default): a server whose certificate the
            // system's CAs cannot verify (Debian's PostgreSQL ships a self-signed one) is
            // used without TLS, as libpq's `prefer` would on a failed handshake, rather
            // than with a certificate nobody checked; loudly, so it can be fixed.
            Err(e)
                if connection.falls_back_to_plain()
                    && tls::certificate_hint(&e, &connection).is_some() =>
            {
                tracing::warn!(
                    "PostgreSQL offered TLS with a certificate the system's CAs do not verify ({}); \
                     connecting without TLS (sslmode=prefer). To encrypt, name its CA: \
                     ?sslmode=verify-full&sslrootcert=/path/to/ca.pem; to silence this, sslmode=disable",
                    describe(&e)
                );
                connection
                    .config
                    .ssl_mode(postgres::config::SslMode::Disable);
                connection
                    .config
                    .connect(connection.tls.clone())
                    .map_err(|e| fail(e, &connection))?
            }
            Err(e) => return Err(fail(e, &connection)),
        };
        migrations::migrate(&mut first).map_err(|fail| match fail {
            Fail::Retry => Error::backend(
                Backend::Postgres,
                "migrating the schema raced another server",
            ),
            other => other.into(),
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            // Under a burst (64 devices each sending 500 records) requests queue here
            // while earlier batches commit. Past `pool_wait` the client is told to come
            // back later (503, Retry-After) rather than held for minutes.
            .connection_timeout(pool_wait)
            .build_unchecked(PostgresConnectionManager::new(
                connection.config,
                connection.tls,
            ));
        Ok(PostgresStore {
            pool,
            indexes: IndexCache::default(),
        })
    }

    /// Run `f` on a pooled connection, again after retryable failures.
    pub(super) fn run<T>(&self, mut f: impl FnMut(&mut Client) -> Attempt<T>) -> Result<T> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| {
                Error::Busy(format!(
                    "the server is busy: all {} database connections stayed in use ({e}); try again shortly",
                    self.pool.max_size()
                ))
            })?;
        let mut attempt = 1;
        loop {
            match f(&mut conn) {
                Ok(value) => return Ok(value),
                Err(fail @ Fail::Other(_)) => return Err(fail.into()),
                Err(Fail::Db(e)) if !(retryable(&e) && attempt < ATTEMPTS) => return Err(e.into()),
                Err(fail @ Fail::Retry) if attempt >= ATTEMPTS => return Err(fail.into()),
                Err(_) => {
                    // Back off a little, more each time, so racing writers spread out.
                    std::thread::sleep(Duration::from_millis(2 << attempt));
                    attempt += 1;
                }
            }
        }
    }
}
