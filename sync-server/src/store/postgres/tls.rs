//! TLS to PostgreSQL, chosen by libpq's parameters in the database URL:
//!
//! - `sslmode=disable`: plain TCP.
//! - `sslmode=prefer` (the default, as in libpq): TLS when the server offers it, plain TCP
//!   only when the server has TLS switched off.
//! - `sslmode=require` / `sslmode=verify-full`: TLS or no connection.
//! - `sslrootcert=PATH`: trust the CA certificate(s) in this PEM file (a private CA)
//!   instead of the system's CA certificates (`sslrootcert=system`, the default).
//!
//! Whenever TLS is used the server's certificate chain and host name are verified, also
//! under `prefer` and `require`, where libpq accepts any certificate: a certificate that
//! is not checked protects against no attacker who can sit in the path, and a response
//! store of sensitive interviews should not pretend otherwise. `verify-ca` (chain but not
//! host name) is refused with a pointer to `verify-full`. Under `prefer` with no
//! `sslrootcert`, a certificate the system's CAs do not verify (Debian's PostgreSQL comes
//! with a self-signed one) means a plain connection with a warning, as libpq's `prefer`
//! falls back after a failed handshake; naming a CA makes the check binding.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use postgres::config::SslMode as ClientSslMode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Error, Result};

/// The `sslmode` values the server honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode> {
        match text {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            "verify-ca" => Err(Error::Invalid(
                "bad PostgreSQL URL: sslmode=verify-ca (certificate chain without the host name) \
                 is not supported; use sslmode=verify-full"
                    .into(),
            )),
            "allow" => Err(Error::Invalid(
                "bad PostgreSQL URL: sslmode=allow is not supported; use prefer, require or verify-full"
                    .into(),
            )),
            other => Err(Error::Invalid(format!(
                "bad PostgreSQL URL: unknown sslmode `{other}` (disable, prefer, require or verify-full)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    System,
    File(PathBuf),
}

/// A database URL taken apart: the client configuration and how to secure it.
pub struct Connection {
    pub config: postgres::Config,
    pub mode: SslMode,
    pub roots: Roots,
    pub tls: MakeRustlsConnect,
}

impl Connection {
    /// `prefer` (the default) without a CA file: when the server's certificate cannot be
    /// verified against the system's CAs, connect without TLS instead of failing.
    pub fn falls_back_to_plain(&self) -> bool {
        self.mode == SslMode::Prefer && self.roots == Roots::System
    }
}

/// Parse `url` (`postgres://…?sslmode=…&sslrootcert=…`, or libpq's `key=value` form with
/// values without spaces or quotes) and build the TLS connector it asks for.
pub fn connection(url: &str) -> Result<Connection> {
    let (rest, mode, roots) = take_tls_parameters(url)?;
    let mut config = postgres::Config::from_str(&rest)
        .map_err(|e| Error::Invalid(format!("bad PostgreSQL URL: {e}")))?;
    config.ssl_mode(match mode {
        SslMode::Disable => ClientSslMode::Disable,
        SslMode::Prefer => ClientSslMode::Prefer,
        SslMode::Require | SslMode::VerifyFull => ClientSslMode::Require,
    });
    let trusted = match mode {
        // Never used: nothing to load (and no failure over a missing CA file).
        SslMode::Disable => RootCertStore::empty(),
        _ => load_roots(&roots, mode)?,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::backend(crate::Backend::Postgres, format!("TLS: {e}")))?
        .with_root_certificates(trusted)
        .with_no_client_auth();
    Ok(Connection {
        config,
        mode,
        roots,
        tls: MakeRustlsConnect::new(client),
    })
}

/// Remove `sslmode` and `sslrootcert` from `url` (the client library knows neither
/// `verify-full` nor `sslrootcert`) and return what is left with their values.
fn take_tls_parameters(url: &str) -> Result<(String, SslMode, Roots)> {
    let mut mode = None;
    let mut roots = None;
    let mut take = |key: &str, value: String| -> Result<bool> {
        match key {
            "sslmode" => mode = Some(SslMode::parse(&value)?),
            "sslrootcert" => {
                roots =
                    Some(match value.as_str() {
                        "" => return Err(Error::Invalid(
                            "bad PostgreSQL URL: sslrootcert is empty (a PEM file, or `system`)"
                                .into(),
                        )),
                        "system" => Roots::System,
                        path => Roots::File(PathBuf::from(path)),
                    })
            }
            _ => return Ok(false),
        }
        Ok(true)
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    let value = percent_decode_str(value).decode_utf8().map_err(|_| {
                        Error::Invalid(format!(
                            "bad PostgreSQL URL: the value of `{key}` is not UTF-8 once decoded"
                        ))
                    })?;
                    if !take(key, value.into_owned())? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            match token.split_once('=') {
                Some((key, value)) if matches!(key, "sslmode" | "sslrootcert") => {
                    if value.starts_with('\'') {
                        return Err(Error::Invalid(format!(
                            "bad PostgreSQL connection string: write `{key}` without quotes, or use a postgres:// URL"
                        )));
                    }
                    take(key, value.to_owned())?;
                }
                _ => kept.push(token),
            }
        }
        kept.join(" ")
    };
    Ok((
        rest,
        mode.unwrap_or(SslMode::Prefer),
        roots.unwrap_or(Roots::System),
    ))
}

fn load_roots(roots: &Roots, mode: SslMode) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certs = read_pem_certificates(path)?;
            let (added, ignored) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::Invalid(format!(
                    "sslrootcert {}: none of its {ignored} certificate(s) can be used as a CA",
                    path.display()
                )));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() && matches!(mode, SslMode::Require | SslMode::VerifyFull) {
                let why = found
                    .errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(Error::Invalid(format!(
                    "sslmode={}: no system CA certificates were found ({}); install the system's CA \
                     certificates or name the server's CA with sslrootcert=/path/to/ca.pem in the database URL",
                    mode.as_str(),
                    if why.is_empty() { "none installed" } else { &why }
                )));
            }
        }
    }
    Ok(store)
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let text = fs::read(path).map_err(|e| {
        Error::Invalid(format!(
            "sslrootcert {}: cannot read the CA file: {e}",
            path.display()
        ))
    })?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Invalid(format!(
                "sslrootcert {}: not a PEM certificate file: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Invalid(format!(
            "sslrootcert {}: holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
            path.display()
        )));
    }
    Ok(certs)
}

/// A hint for a connection that failed in the TLS handshake over the server's
/// certificate, saying what to change; `None` for other failures.
pub fn certificate_hint(e: &postgres::Error, connection: &Connection) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        let rustls_error = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(reason)) = rustls_error {
            use rustls::CertificateError as C;
            let (trusted, remedy) = match &connection.roots {
                Roots::System => (
                    "the system's CA certificates".to_owned(),
                    "for a private CA set sslrootcert=/path/to/ca.pem in the database URL",
                ),
                Roots::File(path) => (
                    format!("the CA in sslrootcert {}", path.display()),
                    "make sslrootcert name the CA that signed the server's certificate",
                ),
            };
            return Some(match reason {
                C::UnknownIssuer | C::BadSignature => format!(
                    "the PostgreSQL server's certificate is not signed by {trusted} (sslmode={}); \
                     {remedy}",
                    connection.mode.as_str()
                ),
                C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                    "the PostgreSQL server's certificate does not name the host in the database URL \
                     (sslmode={}); connect by a name the certificate lists",
                    connection.mode.as_str()
                ),
                _ => format!(
                    "the PostgreSQL server's certificate was refused (sslmode={}, trusting {trusted})",
                    connection.mode.as_str()
                ),
            });
        }
        source = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, SslMode, Roots) {
        take_tls_parameters(url).unwrap()
    }

    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        assert_eq!(
            parts("postgres://u@db:5432/voices"),
            (
                "postgres://u@db:5432/voices".into(),
                SslMode::Prefer,
                Roots::System
            )
        );
        assert_eq!(
            parts("postgres://u@db/voices?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem&connect_timeout=3"),
            (
                "postgres://u@db/voices?connect_timeout=3".into(),
                SslMode::VerifyFull,
                Roots::File("/etc/ca x.pem".into())
            )
        );
        assert_eq!(
            parts("postgresql://u@db/voices?sslmode=require&sslrootcert=system"),
            (
                "postgresql://u@db/voices".into(),
                SslMode::Require,
                Roots::System
            )
        );
        assert_eq!(
            parts("host=db user=u sslmode=disable dbname=voices"),
            (
                "host=db user=u dbname=voices".into(),
                SslMode::Disable,
                Roots::System
            )
        );
    }

    #[test]
    fn unsupported_or_unknown_modes_say_what_to_use() {
        for (url, expected) in [
            ("postgres://u@db/v?sslmode=verify-ca", "verify-full"),
            ("postgres://u@db/v?sslmode=allow", "not supported"),
            ("postgres://u@db/v?sslmode=on", "unknown sslmode `on`"),
            ("postgres://u@db/v?sslrootcert=", "sslrootcert is empty"),
        ] {
            let Err(e) = take_tls_parameters(url) else {
                panic!("{url} was accepted");
            };
            assert!(e.to_string().contains(expected), "{url}: {e}");
        }
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let Err(e) = connection(&format!(
            "postgres://u@db/v?sslmode=verify-full&sslrootcert={}",
            missing.display()
        )) else {
            panic!("a missing CA file was accepted");
        };
        assert!(e.to_string().contains("cannot read the CA file"), "{e}");
        let empty = dir.path().join("empty.pem");
        fs::write(&empty, "not a certificate\n").unwrap();
        let Err(e) = connection(&format!(
            "postgres://u@db/v?sslmode=verify-full&sslrootcert={}",
            empty.display()
        )) else {
            panic!("a CA file without certificates was accepted");
        };
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
        // With TLS off the CA file is never read.
        connection(&format!(
            "postgres://u@db/v?sslmode=disable&sslrootcert={}",
            missing.display()
        ))
        .unwrap();
    }
}
