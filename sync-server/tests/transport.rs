//! The server on a real socket: HTTPS with a PEM certificate, clear errors for bad
//! certificate files, the header-read and TLS-handshake time limits, the connection cap,
//! the request limits (requests at once, time per request), and graceful shutdown on a
//! signal with requests in flight (in-process and on the `voices-server` binary with
//! SIGTERM).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tower::ServiceExt;
use voices_server::http::load::RequestLimits;
use voices_server::serve::{self, tls::TlsError, ServeError, ServeOptions, TlsFiles};
use voices_server::{app, AppState};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// A self-signed certificate for `voices.test`: (certificate PEM, key PEM, DER).
fn self_signed() -> (String, String, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["voices.test".into()]).unwrap();
    (
        certified.cert.pem(),
        certified.signing_key.serialize_pem(),
        certified.cert.der().to_vec(),
    )
}

async fn state() -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        voices_server::store::sqlite::SqliteStore::open(&dir.path().join("v.sqlite3")).unwrap(),
    );
    (AppState::new(store), dir)
}

/// Serve in-process until the returned sender fires; the address and the task.
async fn start(
    options: ServeOptions,
    state: AppState,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
    Option<serve::tls::CertificateInfo>,
) {
    let bound = serve::bind(options).await.unwrap();
    let (address, certificate) = (bound.address, bound.certificate.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(app(state), async {
        let _ = stopped.await;
    }));
    (address, stop, task, certificate)
}

async fn json(response: axum::response::Response) -> serde_json::Value {
    use http_body_util::BodyExt;
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[tokio::test]
async fn https_serves_with_the_certificate_and_reports_its_fingerprint() {
    let files = Files::new();
    let (cert, key, der) = self_signed();
    let options = ServeOptions {
        tls: Some(TlsFiles {
            cert: files.write("cert.pem", &cert),
            key: files.write("key.pem", &key),
        }),
        ..ServeOptions::new(loopback())
    };
    let (state, _db) = state().await;
    let (address, stop, task, certificate) = start(options, state).await;
    let certificate = certificate.expect("a TLS server reports its certificate");
    assert_eq!(certificate.sha256, voices_server::auth::sha256_hex(&der));
    assert!(certificate.self_signed);

    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).unwrap()])
        .resolve("voices.test", address)
        .build()
        .unwrap();
    let url = format!("https://voices.test:{}/health", address.port());
    let answer = client.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "ok");

    // A client that does not trust the certificate gets no answer, and plain HTTP on the
    // TLS port gets none either.
    let untrusting = reqwest::Client::builder()
        .resolve("voices.test", address)
        .build()
        .unwrap();
    assert!(untrusting.get(&url).send().await.is_err());
    let plain = reqwest::Client::new()
        .get(format!("http://{address}/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));

    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn a_certificate_signed_by_an_authority_is_not_self_signed() {
    let files = Files::new();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test CA");
    let ca_key = KeyPair::generate().unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["voices.test".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "voices.test");
    let leaf = params.signed_by(&key, &issuer).unwrap();
    let path = files.write("leaf.pem", &leaf.pem());
    let info = serve::tls::certificate_info(&path).unwrap();
    assert!(!info.self_signed);
    assert_eq!(info.sha256, voices_server::auth::sha256_hex(leaf.der()));
    // The whole identity loads too.
    let identity = serve::tls::load(&path, &files.write("key.pem", &key.serialize_pem()));
    assert!(identity.is_ok());
}

fn tls_error(cert: &Path, key: &Path) -> String {
    match serve::tls::load(cert, key) {
        Ok(_) => panic!("{} and {} loaded", cert.display(), key.display()),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn bad_certificate_files_are_refused_with_what_and_where() {
    let files = Files::new();
    let (cert, key, _) = self_signed();
    let (other_cert, _, _) = self_signed();
    let cert_path = files.write("cert.pem", &cert);
    let key_path = files.write("key.pem", &key);
    let missing = files.dir.path().join("missing.pem");

    let e = tls_error(&missing, &key_path);
    assert!(
        e.contains("certificate file") && e.contains("missing.pem"),
        "{e}"
    );
    let e = tls_error(&files.write("empty.pem", "not pem at all\n"), &key_path);
    assert!(
        e.contains("BEGIN CERTIFICATE") && e.contains("empty.pem"),
        "{e}"
    );
    let e = tls_error(&cert_path, &cert_path);
    assert!(
        e.contains("private key file") && e.contains("cert.pem"),
        "{e}"
    );
    let e = tls_error(&files.write("other.pem", &other_cert), &key_path);
    assert!(e.contains("cannot be used together"), "{e}");

    // `bind` refuses before listening.
    let refused = serve::bind(ServeOptions {
        tls: Some(TlsFiles {
            cert: missing,
            key: key_path,
        }),
        ..ServeOptions::new(loopback())
    })
    .await;
    assert!(matches!(
        refused,
        Err(ServeError::Tls(TlsError::Certificate { .. }))
    ));
}

/// Read until the peer closes (or `limit` passes); what was read and how long it took.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("the server kept the connection open for {limit:?}"),
        }
    }
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_client_slow_to_send_headers_or_finish_the_handshake_is_cut_off() {
    let (state, _db) = state().await;
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        ..ServeOptions::new(loopback())
    };
    let (address, stop, task, _) = start(options, state.clone()).await;
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, took) = read_until_closed(&mut slow, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    stop.send(()).unwrap();
    task.await.unwrap();

    let files = Files::new();
    let (cert, key, _) = self_signed();
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        tls: Some(TlsFiles {
            cert: files.write("cert.pem", &cert),
            key: files.write("key.pem", &key),
        }),
        ..ServeOptions::new(loopback())
    };
    let (address, stop, task, _) = start(options, state).await;
    let mut silent = TcpStream::connect(address).await.unwrap();
    let (_, took) = read_until_closed(&mut silent, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let (state, _db) = state().await;
    let options = ServeOptions {
        max_connections: 1,
        ..ServeOptions::new(loopback())
    };
    let (address, stop, task, _) = start(options, state).await;
    let mut first = TcpStream::connect(address).await.unwrap();
    first
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let n = first.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
    // `first` stays open (keep-alive): the only slot is taken.
    let client = reqwest::Client::new();
    let url = format!("http://{address}/health");
    let waiting = client
        .get(&url)
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(waiting.is_err(), "a second connection was served");
    drop(first);
    let served = client
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    stop.send(()).unwrap();
    task.await.unwrap();
}

type Chunk = Result<Vec<u8>, std::io::Error>;

/// A request body fed through a channel: it ends when the sender is dropped.
struct Chunks(tokio::sync::mpsc::Receiver<Chunk>);

impl futures_core::Stream for Chunks {
    type Item = Chunk;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

/// A login request whose body does not finish while the sender is kept.
fn stalled_login() -> (Request<Body>, tokio::sync::mpsc::Sender<Chunk>) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(1);
    let request = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(Chunks(rx)))
        .unwrap();
    (request, tx)
}

#[tokio::test]
async fn requests_beyond_the_limit_get_busy_and_slow_requests_time_out() {
    let (state, _db) = state().await;
    let state = state.with_request_limits(RequestLimits::new(Duration::from_secs(60), 1));
    let router = app(state.clone());
    let (stalled, _feed) = stalled_login();
    let holder = tokio::spawn(router.clone().oneshot(stalled));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let refused = router
        .clone()
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "waited for a turn first"
    );
    let body = json(refused).await;
    assert_eq!(body["code"], "busy", "{body}");
    holder.abort();
    let _ = holder.await;
    let served = router
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK, "the turn came back");

    let router = app(state.with_request_limits(RequestLimits::new(Duration::from_secs(1), 8)));
    let (stalled, _feed) = stalled_login();
    let started = Instant::now();
    let timed_out = router.oneshot(stalled).await.unwrap();
    assert_eq!(timed_out.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(5));
    let body = json(timed_out).await;
    assert_eq!(body["code"], "request_timeout", "{body}");
}

const LOGIN_BODY: &str = r#"{"user":"nobody","password":"not the password"}"#;

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_and_takes_no_new_ones() {
    let (state, _db) = state().await;
    let (address, stop, task, _) = start(ServeOptions::new(loopback()), state).await;
    let mut in_flight = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        LOGIN_BODY.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight
        .write_all(&LOGIN_BODY.as_bytes()[..10])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        TcpStream::connect(address).await.is_err(),
        "a new connection was accepted during shutdown"
    );
    assert!(!task.is_finished(), "shutdown did not wait for the request");
    in_flight
        .write_all(&LOGIN_BODY.as_bytes()[10..])
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut in_flight, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("bad_credentials"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("serve returned after the request finished")
        .unwrap();
}

#[tokio::test]
async fn the_binary_stops_gracefully_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = data.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_voices-server"))
        .arg("--data-dir")
        .arg(data.path().join("db"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut in_flight = loop {
        if let Ok(stream) = TcpStream::connect(address).await {
            break stream;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let head = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        LOGIN_BODY.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight
        .write_all(&LOGIN_BODY.as_bytes()[..10])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );
    in_flight
        .write_all(&LOGIN_BODY.as_bytes()[10..])
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut in_flight, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "exit {status}: {text}");
    assert!(text.contains("SIGTERM received"), "{text}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `/metrics` needs an admin on the API's port; `--metrics-listen` serves it without
/// credentials on a loopback address only, and stops with the server.
#[tokio::test]
async fn metrics_listen_serves_the_counters_on_loopback_only() {
    let data = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_voices-server"))
        .arg("--data-dir")
        .arg(data.path().join("db"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--metrics-listen", "0.0.0.0:9470"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("only a loopback address"), "{error}");

    let (port, metrics_port) = (free_port(), free_port());
    let log = data.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_voices-server"))
        .arg("--data-dir")
        .arg(data.path().join("db"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let scraped = loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await
        {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the metrics listener did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("voices_http_requests_total"), "{text}");
    let on_api = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status(), StatusCode::UNAUTHORIZED);
    // The metrics listener serves nothing else.
    let other = http
        .get(format!("http://127.0.0.1:{metrics_port}/api/v1/info"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "exit {status}: {}",
        std::fs::read_to_string(&log).unwrap()
    );
}
