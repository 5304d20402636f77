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
