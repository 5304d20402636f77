//! How the app trusts servers, against a real `voices-server` serving HTTPS with a
//! self-signed certificate on loopback: a client pinned to the certificate's SHA-256
//! talks to it, a client pinned to another certificate and an unpinned one (public
//! authorities only) are refused, and plain `http://` to another machine is refused
//! before anything is sent. And the whole way: a device linked with a code that carries
//! the fingerprint keeps it and syncs over the pinned connection.

use std::sync::Arc;

use voices_app::sync::client::{Client, ClientError, ClientOptions};
use voices_core::sync::protocol::ProvisioningCode;
use voices_server::serve::{self, ServeOptions, TlsFiles};
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;
use voices_server::{app, AppState};

struct Server {
    url: String,
    sha256: String,
    store: Arc<SqliteStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn https_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("v.sqlite3")).unwrap());
    let bound = serve::bind(ServeOptions {
        tls: Some(TlsFiles { cert, key }),
        ..ServeOptions::new("127.0.0.1:0".parse().unwrap())
    })
    .await
    .unwrap();
    let certificate = bound.certificate.clone().unwrap();
    assert!(certificate.self_signed);
    let url = format!("https://127.0.0.1:{}", bound.address.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(bound.serve(app(AppState::new(store.clone())), async {
        let _ = stopped.await;
    }));
    Server {
        url,
        sha256: certificate.sha256,
        store,
        stop: Some(stop),
        _dir: dir,
    }
}

#[tokio::test]
async fn a_pinned_self_signed_server_is_trusted_and_nothing_else_is() {
    let server = https_server().await;
    let options = ClientOptions::default();

    let pinned = Client::pinned(&server.url, Some(&server.sha256), &options).unwrap();
    let info = pinned.info().await.unwrap();
    assert!(info.protocol_versions.contains(&1));

    let other = "ab".repeat(32);
    let wrong = Client::pinned(&server.url, Some(&other), &options).unwrap();
    match wrong.info().await {
        Err(ClientError::Offline(message)) => assert!(
            message.contains("not the one named in the provisioning code"),
            "{message}"
        ),
        other => panic!("a server with another certificate was trusted: {other:?}"),
    }

    let unpinned = Client::new(&server.url, &options).unwrap();
    assert!(
        unpinned.info().await.is_err(),
        "a self-signed certificate was trusted without a pin"
    );

    let damaged = Client::pinned(&server.url, Some("not a fingerprint"), &options);
    assert!(matches!(damaged, Err(ClientError::Setup(m)) if m.contains("SHA-256")));
}

#[test]
fn plain_http_is_refused_except_to_this_machine() {
    let options = ClientOptions::default();
    match Client::new("http://10.0.0.2:8470", &options) {
        Err(ClientError::Setup(message)) => assert!(message.contains("https://"), "{message}"),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("http:// to another machine was accepted"),
    }
    assert!(Client::new("http://127.0.0.1:8470", &options).is_ok());
    assert!(Client::new("http://[::1]:8470", &options).is_ok());
    assert!(Client::new("http://localhost:8470", &options).is_ok());
}

#[tokio::test]
async fn a_device_linked_with_a_pinning_code_keeps_the_pin_and_syncs() {
    let server = https_server().await;
    let store = server.store.clone();
    let registered = tokio::task::spawn_blocking(move || {
        store
            .add_project("p1", "Project one", &voices_server::now_text())
            .unwrap();
        voices_server::accounts::register_device(store.as_ref(), "p1", "Achieng", None, 1).unwrap()
    })
    .await
    .unwrap();
    let code = ProvisioningCode {
        server: server.url.clone(),
        project: "p1".into(),
        code: registered.code,
        certificate_sha256: Some(server.sha256.clone()),
    }
    .to_text();
    let dir = tempfile::tempdir().unwrap();
    let voices =
        voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    let link = voices.sync().provision_device(&code).await.unwrap();
    assert_eq!(link.project, "p1");
    let stored = voices.with_store(|s| s.link()).unwrap().unwrap();
    assert_eq!(
        stored.certificate_sha256.as_deref(),
        Some(server.sha256.as_str())
    );
    let summary = voices.sync().sync_once().await.unwrap();
    assert!(summary.problems.is_empty(), "{summary:?}");
}

/// A loopback listener that answers every request with `answer` and counts the
/// connections it accepted.
async fn canned(answer: String) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let (elsewhere, reached) = canned(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
            .into(),
    )
    .await;
    // Another host name and port, and a 307 that would send the upload's body again.
    for (status, target) in [
        (
            "307 Temporary Redirect",
            format!("http://localhost:{elsewhere}/api/v1/projects/p1/revisions"),
        ),
        (
            "308 Permanent Redirect",
            format!("http://127.0.0.1:{elsewhere}/api/v1/projects/p1/revisions"),
        ),
        ("302 Found", format!("http://localhost:{elsewhere}/portal")),
    ] {
        let (port, _) = canned(format!(
            "HTTP/1.1 {status}\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ))
        .await;
        let client = Client::new(
            &format!("http://127.0.0.1:{port}"),
            &ClientOptions::default(),
        )
        .unwrap()
        .authenticated("vt_secret", "p1");
        let body = b"{\"answers\":\"pii\"}\n".to_vec();
        match client
            .upload(body, voices_app::sync::client::BodyEncoding::Identity, None)
            .await
        {
            Err(ClientError::Offline(message)) => {
                assert!(
                    message.contains("redirect") && message.contains(&target),
                    "{message}"
                )
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(
            reached.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "{status} was followed to {target}"
        );
    }
}

#[tokio::test]
async fn a_server_on_this_machine_is_reached_without_a_proxy_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("v.sqlite3")).unwrap());
    let bound = serve::bind(ServeOptions::new("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}", bound.address.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(bound.serve(app(AppState::new(store)), async {
        let _ = stopped.await;
    }));
    // A proxy on another machine would get the token and answers in the clear (and
    // could not reach this machine's loopback): it is not used; `.invalid` never
    // resolves, so going through it would fail.
    let options = ClientOptions {
        proxy: Some("http://proxy.invalid:3128".into()),
        ..ClientOptions::default()
    };
    let client = Client::new(&url, &options).unwrap();
    let info = client.info().await.unwrap();
    assert!(info.protocol_versions.contains(&1));
    let _ = stop.send(());
}
