//! PostgreSQL over TLS. The test starts a PostgreSQL of its own (the binaries that
//! `scripts/with-postgres.sh` found, `VOICES_TEST_PG_BINDIR`) with `ssl = on`, a server
//! certificate for `localhost` signed by a CA made here, and `hostssl` as the only way in
//! over TCP, so a store that opens has spoken TLS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use voices_server::store::postgres::PostgresStore;
use voices_server::store::Store;

/// The unprivileged account `scripts/with-postgres.sh` runs PostgreSQL as under root.
const PG_USER: &str = "voices-pg";

fn output(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

struct TlsServer {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    port: u16,
    as_root: bool,
}

impl TlsServer {
    fn pg(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        if self.as_root {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", PG_USER, "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A file the server reads: owned by its account, private if it is the key.
    fn write_for_server(&self, name: &str, contents: &str, mode: u32) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        if self.as_root {
            std::os::unix::fs::chown(&path, Some(pg_uid()), None).unwrap();
        }
        path
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://voices@{host}:{}/postgres?{query}", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn pg_uid() -> u32 {
    output(Command::new("id").args(["-u", PG_USER]))
        .parse()
        .unwrap()
}

/// A CA: its PEM certificate and the issuer that signs with it.
fn make_ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

fn start(ca: &Issuer<'static, KeyPair>) -> TlsServer {
    start_with_hba(ca, Hba::TlsOnly)
}

/// Who may connect over TCP.
enum Hba {
    TlsOnly,
    TlsOrPlain,
}

fn start_with_hba(ca: &Issuer<'static, KeyPair>, hba: Hba) -> TlsServer {
    let bindir = match std::env::var("VOICES_TEST_PG_BINDIR") {
        Ok(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
        _ => panic!(
            "VOICES_TEST_PG_BINDIR is not set: this test starts its own PostgreSQL with TLS from the \
             binaries scripts/with-postgres.sh finds. Run `scripts/with-postgres.sh cargo test -p voices-server` \
             (or `make test`)"
        ),
    };
    let as_root = output(Command::new("id").arg("-u")) == "0";
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if as_root {
        std::os::unix::fs::chown(dir.path(), Some(pg_uid()), None).unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = TlsServer {
        dir,
        bindir,
        port,
        as_root,
    };

    output(server.pg("initdb").arg("-D").arg(server.data()).args([
        "-U",
        "voices",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    ]));
    // TlsOnly: TCP only with TLS, so a store that connects has spoken TLS.
    let tcp = match hba {
        Hba::TlsOnly => "hostssl",
        Hba::TlsOrPlain => "host",
    };
    std::fs::write(
        server.data().join("pg_hba.conf"),
        format!(
            "local all all trust\n{tcp} all all 127.0.0.1/32 trust\n{tcp} all all ::1/128 trust\n"
        ),
    )
    .unwrap();

    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, ca).unwrap();
    let cert_file = server.write_for_server("server.crt", &cert.pem(), 0o644);
    let key_file = server.write_for_server("server.key", &key.serialize_pem(), 0o600);

    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {dir} -c fsync=off -c ssl=on \
         -c ssl_cert_file={cert} -c ssl_key_file={key}",
        dir = server.dir.path().display(),
        cert = cert_file.display(),
        key = key_file.display(),
    );
    let log = server.dir.path().join("log");
    let started = server
        .pg("pg_ctl")
        .arg("-D")
        .arg(server.data())
        .arg("-l")
        .arg(&log)
        .args(["-w", "-o", &options, "start"])
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "PostgreSQL with ssl = on did not start: {}\n{}",
        String::from_utf8_lossy(&started.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    server
}

fn open(url: &str) -> Result<PostgresStore, String> {
    PostgresStore::open_with_pool_size(url, 2).map_err(|e| e.to_string())
}

fn write_ca(dir: &Path, name: &str, pem: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

#[test]
fn verify_full_with_the_servers_ca_connects_and_a_wrong_ca_is_refused_clearly() {
    let (ca_pem, ca) = make_ca("Voices test CA");
    let (other_pem, _) = make_ca("Some other CA");
    let server = start(&ca);
    let files = tempfile::tempdir().unwrap();
    let right = write_ca(files.path(), "ca.pem", &ca_pem);
    let wrong = write_ca(files.path(), "other-ca.pem", &other_pem);

    // The server's CA, host name checked: connects, migrates, stores.
    let store = open(&server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={right}"),
    ))
    .unwrap_or_else(|e| panic!("verify-full with the right CA failed: {e}"));
    store
        .add_project("p1", "Over TLS", "2026-11-26T04:00:00.000Z")
        .unwrap();
    assert!(store.project_exists("p1").unwrap());
    // `require` verifies the same way.
    open(&server.url("localhost", &format!("sslmode=require&sslrootcert={right}")))
        .unwrap_or_else(|e| panic!("require with the right CA failed: {e}"));

    // Another CA: refused, saying why and what to set.
    let e = open(&server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={wrong}"),
    ))
    .err()
    .expect("a certificate from another CA was accepted");
    assert!(
        e.contains("not signed by the CA in sslrootcert") && e.contains("UnknownIssuer"),
        "unclear error for a wrong CA: {e}"
    );
    // `prefer` verifies too once the server offers TLS: no unchecked certificate.
    let e = open(&server.url("localhost", &format!("sslmode=prefer&sslrootcert={wrong}")))
        .err()
        .expect("prefer accepted a certificate from another CA");
    assert!(e.contains("not signed by"), "{e}");

    // The right CA but a host name the certificate does not list.
    let e = open(&server.url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={right}"),
    ))
    .err()
    .expect("a certificate for another host name was accepted");
    assert!(e.contains("does not name the host"), "{e}");

    // Without TLS the server (hostssl only) lets nobody in: the successes above were TLS.
    let e = open(&server.url("localhost", "sslmode=disable"))
        .err()
        .expect("a plain connection got in");
    assert!(e.contains("no encryption") || e.contains("pg_hba"), "{e}");
}

#[test]
fn by_default_a_certificate_no_system_ca_verifies_means_a_plain_connection_not_a_failure() {
    // Debian's PostgreSQL has `ssl = on` with a self-signed certificate: a URL without
    // sslmode (libpq's `prefer`) must keep working, without trusting that certificate.
    let (ca_pem, ca) = make_ca("Voices test CA");
    let server = start_with_hba(&ca, Hba::TlsOrPlain);
    let store = open(&server.url("localhost", "application_name=voices"))
        .unwrap_or_else(|e| panic!("the default sslmode did not fall back to plain TCP: {e}"));
    store
        .add_project("p1", "Plain", "2026-11-26T04:00:00.000Z")
        .unwrap();
    assert!(store.project_exists("p1").unwrap());
    // It really went without TLS: the session has no TLS in pg_stat_ssl.
    let mut client = postgres::Client::connect(
        &format!(
            "host=127.0.0.1 port={} user=voices dbname=postgres sslmode=disable",
            server.port
        ),
        postgres::NoTls,
    )
    .unwrap();
    let plain_sessions: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'voices' AND NOT s.ssl",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(plain_sessions >= 1, "no plain session of the store");
    // Naming a CA makes the check binding: the wrong one is refused, not bypassed.
    let (other_pem, _) = make_ca("Some other CA");
    let files = tempfile::tempdir().unwrap();
    let wrong = write_ca(files.path(), "other-ca.pem", &other_pem);
    let e = open(&server.url("localhost", &format!("sslrootcert={wrong}")))
        .err()
        .expect("a named CA that does not match was bypassed");
    assert!(e.contains("not signed by"), "{e}");
    // And with the right CA it is TLS.
    let right = write_ca(files.path(), "ca.pem", &ca_pem);
    let tls_store = open(&server.url(
        "localhost",
        &format!("sslrootcert={right}&application_name=voices-tls"),
    ))
    .unwrap_or_else(|e| panic!("the right CA under prefer failed: {e}"));
    assert!(tls_store.project_exists("p1").unwrap());
    let tls_sessions: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'voices-tls' AND s.ssl",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(tls_sessions >= 1, "no TLS session with the right CA");
}
