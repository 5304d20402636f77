//! Serving the router on a socket: plain HTTP/1.1 or TLS (rustls), with the protections
//! that belong to connections rather than requests — a time limit on reading a request's
//! headers (and the TLS handshake), a cap on open connections, and a graceful shutdown on
//! SIGINT or SIGTERM that stops accepting, lets requests in flight finish (up to a
//! grace period) and then returns. Request-level limits (time per request, requests at
//! once) are router layers (`http::load`), so the in-process tests see them too.
//!
//! Nothing here can leave data half written: every store write is one transaction, and
//! blocking store work still running at the deadline finishes before the runtime exits.

pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the server listens.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS instead of HTTP.
    pub tls: Option<TlsFiles>,
    /// Time a client has to send a request's headers (and, on TLS, to finish the
    /// handshake); an idle keep-alive connection is closed after it too.
    pub header_read_timeout: Duration,
    /// Connections open at once; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight before closing their connections.
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Defaults of `voices-server serve` (docs/deploy.md explains them).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

impl ServeOptions {
    pub fn new(listen: SocketAddr) -> ServeOptions {
        ServeOptions {
            listen,
            tls: None,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// What a handler can learn about the connection a request came on (an extension on
/// every request served by [`serve`]; absent in in-process tests).
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    pub peer: SocketAddr,
    /// Whether the request came over this server's own TLS.
    pub tls: bool,
}

/// A listening server: its address (useful with port 0) and the TLS certificate's
/// fingerprint when it serves HTTPS.
pub struct Bound {
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    options: ServeOptions,
    pub address: SocketAddr,
    pub certificate: Option<tls::CertificateInfo>,
}

/// Bind the socket and load the TLS files, so that a bad address or file is an error
/// before anything is served.
pub async fn bind(options: ServeOptions) -> Result<Bound, ServeError> {
    let (acceptor, certificate) = match &options.tls {
        Some(files) => {
            let identity = tls::load(&files.cert, &files.key)?;
            (
                Some(tokio_rustls::TlsAcceptor::from(identity.config)),
                Some(identity.certificate),
            )
        }
        None => (None, None),
    };
    let listener =
        TcpListener::bind(options.listen)
            .await
            .map_err(|source| ServeError::Listen {
                address: options.listen,
                source,
            })?;
    let address = listener.local_addr().map_err(|source| ServeError::Listen {
        address: options.listen,
        source,
    })?;
    Ok(Bound {
        listener,
        acceptor,
        options,
        address,
        certificate,
    })
}

impl Bound {
    /// Serve `router` until `shutdown` completes, then shut down gracefully.
    pub async fn serve(self, router: Router, shutdown: impl Future<Output = ()>) {
        let Bound {
            listener,
            acceptor,
            options,
            ..
        } = self;
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_read_timeout);
        let builder = Arc::new(builder);
        tokio::pin!(shutdown);
        loop {
            // A free slot first, so that a full server leaves new clients in the
            // kernel's queue instead of holding a socket it will not serve.
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot,
                () = &mut shutdown => break,
            };
            let Ok(slot) = slot else { break };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let connection = Connection {
                peer,
                tls: acceptor.is_some(),
            };
            let service =
                router
                    .clone()
                    .map_request(move |mut request: axum::http::Request<Incoming>| {
                        request.extensions_mut().insert(connection);
                        request.extensions_mut().insert(ConnectInfo(peer));
                        request
                    });
            let service = TowerToHyperService::new(service);
            let watcher = graceful.watcher();
            let builder = builder.clone();
            let acceptor = acceptor.clone();
            let handshake_timeout = options.header_read_timeout;
            tokio::spawn(async move {
                let _slot = slot;
                match acceptor {
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        finish(watcher.watch(conn).await, peer);
                    }
                    Some(acceptor) => {
                        let Some(stream) =
                            handshake(acceptor, stream, handshake_timeout, peer).await
                        else {
                            return;
                        };
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        finish(watcher.watch(conn).await, peer);
                    }
                }
            });
        }
        drop(listener);
        tracing::info!(
            connections = graceful.count(),
            "shutting down: no new connections; waiting for requests in flight"
        );
        if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                grace_seconds = options.shutdown_grace.as_secs(),
                "requests still running after the grace period; closing their connections"
            );
        }
    }
}

async fn handshake(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    timeout: Duration,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

fn finish(result: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(e) = result {
        // Clients that hang up or time out are routine; nothing to alarm anyone about.
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what service managers and container
/// runtimes send).
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Threads the server's runtime runs blocking work on (store calls, password hashing) at
/// most. Beyond them, blocking calls wait in the runtime's queue instead of each getting a
/// thread of its own: a thread parked on the database (the writer, a planning slot, a
/// pooled connection) still keeps its stack and its allocator's cache, and with the 256
/// requests at once the server admits, that was 250 to 340 threads and most of the soak
/// campaign's peak RSS (docs/performance.md). The database does no more work at once
/// than its connections allow (16 for PostgreSQL, 9 for SQLite).
pub const MAX_BLOCKING_THREADS: usize = 32;

/// The runtime `voices-server serve` runs on: tokio's multi-threaded one with at most
/// [`MAX_BLOCKING_THREADS`] blocking threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn blocking_work_beyond_the_cap_waits_for_a_thread() {
        let runtime = runtime().unwrap();
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        runtime.block_on(async {
            let tasks: Vec<_> = (0..4 * MAX_BLOCKING_THREADS)
                .map(|_| {
                    let (now, most) = (now.clone(), most.clone());
                    tokio::task::spawn_blocking(move || {
                        let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(at_once, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let most = most.load(Ordering::SeqCst);
        assert!(
            most <= MAX_BLOCKING_THREADS,
            "{most} blocking calls at once"
        );
        assert!(most > 1, "{most}");
    }
}
