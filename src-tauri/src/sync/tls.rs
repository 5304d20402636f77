//! Which servers the app sends to, and how it trusts them. A device carries responses,
//! its token and sometimes pii, so it speaks plain `http://` only to its own machine
//! (loopback: a server on the same laptop, the tests); everywhere else `https://`.
//! A provisioning code may name the server's self-signed certificate by its SHA-256:
//! that server is then trusted by exactly that certificate (rustls checks the handshake
//! signature with it; authorities, host names and dates do not matter), and any other
//! certificate is refused. Without a fingerprint the public authorities decide, as in a
//! browser.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Why a server address is refused: the message the UI shows.
pub fn refusal(url: &reqwest::Url) -> Option<String> {
    match url.scheme() {
        "https" => None,
        "http" if is_loopback(url) => None,
        "http" => Some(format!(
            "the server address {url} is plain http://, which would send this device's token and answers unencrypted; \
             the server must use https:// (see docs/deploy.md), or be on this device (127.0.0.1, ::1, localhost)"
        )),
        other => Some(format!(
            "server address `{url}` must start with https:// (not {other}://)"
        )),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    match literal.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => host.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    }
}

/// The proxy a plain `http://` server (on this machine, see [`refusal`]) is reached
/// through: the one in the settings (`explicit`), else `HTTP_PROXY` or `ALL_PROXY` from
/// the environment (`env`; `true` with it, so that `NO_PROXY` still applies), and only
/// when that proxy is on this machine too. Anywhere else it would receive the token and
/// the answers unencrypted; `None`: connect directly.
pub fn proxy_for_plain_http(
    explicit: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<(String, bool)> {
    let (proxy, from_env) = match explicit.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => (p.to_owned(), false),
        None => {
            let first = |names: [&str; 2]| {
                names
                    .into_iter()
                    .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
            };
            // In a CGI program `HTTP_PROXY` is a request header, as curl and reqwest hold.
            let http = env("REQUEST_METHOD")
                .is_none()
                .then(|| first(["HTTP_PROXY", "http_proxy"]))
                .flatten();
            (http.or_else(|| first(["ALL_PROXY", "all_proxy"]))?, true)
        }
    };
    let proxy = proxy.trim().to_owned();
    // A proxy given as `host:port` is an http:// one (as reqwest reads it).
    let url = reqwest::Url::parse(&proxy)
        .ok()
        .filter(|u| u.host_str().is_some())
        .or_else(|| reqwest::Url::parse(&format!("http://{proxy}")).ok())?;
    is_loopback(&url).then_some((proxy, from_env))
}

/// A fingerprint as given in a provisioning code: 64 hex digits, `:` separators allowed.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    let bytes = hex_bytes(&digits)
        .filter(|b| b.len() == 32)
        .ok_or_else(|| {
            format!("the certificate fingerprint `{text}` is not a SHA-256 (64 hexadecimal digits)")
        })?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    Ok(out)
}

fn hex_bytes(digits: &str) -> Option<Vec<u8>> {
    if digits.len() % 2 != 0 || !digits.is_ascii() {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

/// A TLS client configuration that accepts exactly the certificate with this SHA-256.
pub fn pinned_config(sha256: [u8; 32]) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(Pinned {
        sha256,
        provider: provider.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Trust exactly one certificate. The handshake signatures are still verified (with
/// the provider's algorithms), so only the holder of that certificate's key passes.
#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(NotPinned)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

struct NotPinned;

const NOT_PINNED: &str = "the server's certificate is not the one named in the provisioning code (link the device again with a new code if the server's certificate was replaced)";

impl std::fmt::Display for NotPinned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(NOT_PINNED)
    }
}

/// rustls shows a custom certificate error with `{:?}`, and that text reaches the UI.
impl std::fmt::Debug for NotPinned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(NOT_PINNED)
    }
}

impl std::error::Error for NotPinned {}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        refusal(&reqwest::Url::parse(url).unwrap()).is_some()
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "http://127.0.0.1:8470",
            "http://127.9.3.1",
            "http://localhost:8470",
            "http://LOCALHOST./",
            "http://[::1]:8470",
            "http://[::ffff:127.0.0.1]/",
            "https://10.0.0.2:8443",
            "https://voices.example.org",
        ] {
            assert!(!refused(ok), "{ok} was refused");
        }
        for bad in [
            "http://10.0.0.2:8470",
            "http://192.168.1.4",
            "http://voices.example.org",
            "http://localhost.example.org",
            "http://128.0.0.1",
            "http://[::2]",
            "ftp://127.0.0.1",
        ] {
            assert!(refused(bad), "{bad} was accepted");
        }
        let message = refusal(&reqwest::Url::parse("http://10.0.0.2:8470").unwrap()).unwrap();
        assert!(message.contains("https://"), "{message}");
    }

    #[test]
    fn plain_http_goes_through_a_proxy_only_on_this_machine() {
        let no_env = |_: &str| None;
        let local = proxy_for_plain_http(Some(" http://127.0.0.1:3128 "), no_env);
        assert_eq!(local, Some(("http://127.0.0.1:3128".to_owned(), false)));
        assert_eq!(
            proxy_for_plain_http(Some("localhost:3128"), no_env),
            Some(("localhost:3128".to_owned(), false))
        );
        for elsewhere in [
            "http://proxy.example.org:3128",
            "http://10.0.0.1:3128",
            "proxy:3128",
            "http://127.0.0.1.example.org",
        ] {
            assert_eq!(
                proxy_for_plain_http(Some(elsewhere), no_env),
                None,
                "{elsewhere}"
            );
        }

        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            proxy_for_plain_http(None, env(&[("HTTP_PROXY", "http://[::1]:8080")])),
            Some(("http://[::1]:8080".to_owned(), true))
        );
        assert_eq!(
            proxy_for_plain_http(None, env(&[("http_proxy", "http://corp-proxy:3128")])),
            None
        );
        assert_eq!(
            proxy_for_plain_http(None, env(&[("all_proxy", "http://127.0.0.1:1")])),
            Some(("http://127.0.0.1:1".to_owned(), true))
        );
        // The setting wins over the environment, whatever the environment names.
        assert_eq!(
            proxy_for_plain_http(
                Some("http://proxy.example.org"),
                env(&[("HTTP_PROXY", "http://127.0.0.1:1")])
            ),
            None
        );
        assert_eq!(
            proxy_for_plain_http(
                None,
                env(&[
                    ("REQUEST_METHOD", "GET"),
                    ("HTTP_PROXY", "http://127.0.0.1:1")
                ])
            ),
            None
        );
        assert_eq!(proxy_for_plain_http(None, no_env), None);
    }

    #[test]
    fn fingerprints_are_64_hex_digits_with_optional_colons() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_fingerprint(&hex).unwrap(), [0xab; 32]);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&colons).unwrap(), [0xab; 32]);
        assert!(parse_fingerprint("abcd").is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
        assert!(parse_fingerprint(&"é".repeat(32)).is_err());
    }
}
