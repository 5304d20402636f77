//! The server's TLS identity: a PEM certificate chain and private key loaded into a
//! rustls configuration, and the facts a provisioning code needs about the certificate
//! (its SHA-256 fingerprint, and whether it is self-signed so that devices must pin it).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate file {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("cannot read the TLS private key file {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the TLS certificate {cert} and key {key} cannot be used together: {reason}")]
    Mismatch {
        cert: String,
        key: String,
        reason: String,
    },
}

/// What devices need to know about the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the leaf certificate's DER encoding, lowercase hex.
    pub sha256: String,
    /// The leaf is its own issuer: no public authority vouches for it, so a device can
    /// only trust it by its fingerprint.
    pub self_signed: bool,
}

pub struct Identity {
    pub config: Arc<rustls::ServerConfig>,
    pub certificate: CertificateInfo,
}

/// Load a PEM certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1).
pub fn load(cert_path: &Path, key_path: &Path) -> Result<Identity, TlsError> {
    let chain = certificates(cert_path)?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Key {
        path: key_path.display().to_string(),
        reason: pem_reason(e, "PRIVATE KEY"),
    })?;
    let certificate = describe(&chain[0]);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| TlsError::Mismatch {
            cert: cert_path.display().to_string(),
            key: key_path.display().to_string(),
            reason: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Identity {
        config: Arc::new(config),
        certificate,
    })
}

/// The certificate facts of the first certificate in a PEM file (for `device add`).
pub fn certificate_info(cert_path: &Path) -> Result<CertificateInfo, TlsError> {
    Ok(describe(&certificates(cert_path)?[0]))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |reason: String| TlsError::Certificate {
        path: path.display().to_string(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(pem_reason(e, "CERTIFICATE")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(pem_reason(e, "CERTIFICATE")))?;
    if chain.is_empty() {
        return Err(error(
            "it holds no `-----BEGIN CERTIFICATE-----` block (a PEM file is expected)".into(),
        ));
    }
    Ok(chain)
}

fn pem_reason(e: rustls_pki_types::pem::Error, what: &str) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => {
            format!("it holds no `-----BEGIN {what}-----` block (a PEM file is expected)")
        }
        other => format!("it is not valid PEM ({other:?})"),
    }
}

fn describe(leaf: &CertificateDer<'_>) -> CertificateInfo {
    let self_signed = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map(|(_, cert)| cert.subject().as_raw() == cert.issuer().as_raw())
        // Unparseable here means rustls will refuse it anyway; pinning is the safe side.
        .unwrap_or(true);
    CertificateInfo {
        sha256: crate::auth::sha256_hex(leaf.as_ref()),
        self_signed,
    }
}
