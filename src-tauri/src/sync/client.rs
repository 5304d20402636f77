//! The HTTP side of sync: `/api/v1` of `voices-server` through reqwest (rustls).
//!
//! Every request names the protocol version; every answer that is not a success is read
//! as Problem Details so the device can tell "offline" (try later) from "refused" (the
//! server said no, with a code and a reason).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use serde::de::DeserializeOwned;

use super::tls;
use voices_core::sync::protocol::{
    AttachmentStatus, DeviceCredentials, DeviceFeedPage, DevicePolicy, DeviceProfile,
    FormVersionSummary, KnownRequest, KnownResponse, Problem, ProvisionRequest, ServerInfo,
    UploadAck, DICTIONARY_HEADER, NDJSON, PROTOCOL_HEADER, PROTOCOL_VERSION,
};

/// Why a request did not give the answer asked for.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the exchange broke off (try again later).
    #[error("{0}")]
    Offline(String),
    /// The server answered with an error.
    #[error("the server refused: {detail} ({code}, HTTP {status})")]
    Refused {
        status: u16,
        code: String,
        detail: String,
        limit: Option<u64>,
    },
    /// The client could not be set up (bad server address or proxy).
    #[error("{0}")]
    Setup(String),
}

pub type ClientResult<T> = std::result::Result<T, ClientError>;

/// How to reach a server.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// An explicit proxy URL (`http://proxy:3128`); `None` uses `HTTP(S)_PROXY` if set.
    pub proxy: Option<String>,
    /// Open a new connection for every request (no keep-alive). For field support on
    /// middleboxes that break reused connections, and for the fault tests' proxy.
    pub fresh_connections: bool,
    /// Revisions per upload batch; 0 for the default ([`super::BATCH_RECORDS`]).
    /// Smaller batches lose less to a link that drops often.
    pub batch_records: usize,
}

/// How an upload body is compressed (its `Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    Zstd,
    Gzip,
    Identity,
}

impl BodyEncoding {
    /// The best encoding the server lists in `/info`: zstd, else gzip, else none.
    pub fn offered(capabilities: &[String]) -> BodyEncoding {
        let listed = |name: &str| capabilities.iter().any(|c| c == name);
        if listed("zstd") {
            BodyEncoding::Zstd
        } else if listed("gzip") {
            BodyEncoding::Gzip
        } else {
            BodyEncoding::Identity
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            BodyEncoding::Zstd => Some("zstd"),
            BodyEncoding::Gzip => Some("gzip"),
            BodyEncoding::Identity => None,
        }
    }

    /// Compress an NDJSON body; `dictionary` (a form version's document) only with zstd.
    pub fn compress(self, body: Vec<u8>, dictionary: Option<&[u8]>) -> std::io::Result<Vec<u8>> {
        match (self, dictionary) {
            (BodyEncoding::Zstd, Some(dictionary)) => {
                zstd::bulk::Compressor::with_dictionary(3, dictionary)?.compress(&body)
            }
            (BodyEncoding::Zstd, None) => zstd::encode_all(body.as_slice(), 3),
            (BodyEncoding::Gzip, _) => {
                use std::io::Write as _;
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(&body)?;
                encoder.finish()
            }
            (BodyEncoding::Identity, _) => Ok(body),
        }
    }
}

/// A connection to one server, optionally authenticated as a device of one project.
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    project: String,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A whole request, upload included: generous for slow links, but never forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

fn offline(base: &str, e: &reqwest::Error) -> ClientError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection broke off"
    };
    // The error chain holds the cause (refused, DNS, TLS) without any answer content.
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        ClientError::Offline(format!("{base}: {what}"))
    } else {
        ClientError::Offline(format!("{base}: {what} ({cause})"))
    }
}

impl Client {
    pub fn new(server_url: &str, options: &ClientOptions) -> ClientResult<Client> {
        Client::pinned(server_url, None, options)
    }

    /// A client for a server that is trusted by exactly the certificate with SHA-256
    /// `certificate_sha256` (hex) when given, else by the public authorities.
    pub fn pinned(
        server_url: &str,
        certificate_sha256: Option<&str>,
        options: &ClientOptions,
    ) -> ClientResult<Client> {
        let base = server_url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| ClientError::Setup(format!("server address `{base}`: {e}")))?;
        if let Some(refusal) = tls::refusal(&parsed) {
            return Err(ClientError::Setup(refusal));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            PROTOCOL_HEADER,
            HeaderValue::from_str(&PROTOCOL_VERSION.to_string())
                .map_err(|e| ClientError::Setup(e.to_string()))?,
        );
        // No redirects: a Voices server never answers with one, and following them
        // would carry requests (a 307 or 308 re-sends an upload's body) to whatever
        // address a middlebox names, `http://` and other hosts included. A redirect
        // reads as "not reaching the server" ([`Client::send`]).
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("voices-app/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT);
        let explicit = options.proxy.as_deref().filter(|p| !p.trim().is_empty());
        if parsed.scheme() == "http" {
            // Plain http:// reaches only this machine (tls::refusal): a proxy on this
            // machine may relay it, any other would read the token and the answers
            // (and could not reach this machine's loopback anyway), so it is bypassed.
            builder = match tls::proxy_for_plain_http(explicit, |name| std::env::var(name).ok()) {
                Some((proxy, from_env)) => {
                    let mut proxy = reqwest::Proxy::http(&proxy)
                        .map_err(|e| ClientError::Setup(format!("proxy `{proxy}`: {e}")))?;
                    if from_env {
                        proxy = proxy.no_proxy(reqwest::NoProxy::from_env());
                    }
                    builder.proxy(proxy)
                }
                None => builder.no_proxy(),
            };
        } else if let Some(proxy) = explicit {
            let proxy = reqwest::Proxy::all(proxy.trim())
                .map_err(|e| ClientError::Setup(format!("proxy `{proxy}`: {e}")))?;
            builder = builder.proxy(proxy);
        }
        if options.fresh_connections {
            builder = builder.pool_max_idle_per_host(0);
        }
        if let Some(pin) = certificate_sha256 {
            let config = tls::parse_fingerprint(pin)
                .and_then(tls::pinned_config)
                .map_err(ClientError::Setup)?;
            builder = builder.tls_backend_preconfigured(config);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Setup(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            token: None,
            project: String::new(),
        })
    }

    /// Act as the device holding `token` in `project`.
    pub fn authenticated(mut self, token: &str, project: &str) -> Client {
        self.token = Some(token.to_owned());
        self.project = project.to_owned();
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn project_url(&self, path: &str) -> String {
        self.url(&format!("/projects/{}{path}", self.project))
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let r = self.http.request(method, url);
        match &self.token {
            Some(t) => r.header(AUTHORIZATION, format!("Bearer {t}")),
            None => r,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> ClientResult<reqwest::Response> {
        let response = request.send().await.map_err(|e| offline(&self.base, &e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            // Not followed (see `pinned`): a captive portal or a wrong address, so the
            // server was not reached; tried again later like a lost connection.
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(|l| l.chars().take(200).collect::<String>())
                .unwrap_or_default();
            return Err(ClientError::Offline(format!(
                "{}: HTTP {status} redirect to `{location}`, not followed (a Voices server never redirects: \
                 a network sign-in page, or a wrong server address?)",
                self.base
            )));
        }
        let text = response.text().await.unwrap_or_default();
        let problem = serde_json::from_str::<Problem>(&text).ok();
        if status >= 500 || status == 429 || status == 408 {
            // A proxy, an overloaded or restarting server: not a judgement on what was
            // sent, so it is retried like a lost connection.
            let detail = problem.map(|p| format!(": {} ({})", p.detail, p.code));
            return Err(ClientError::Offline(format!(
                "{}: HTTP {status} from the server{}",
                self.base,
                detail.unwrap_or_default()
            )));
        }
        Err(match problem {
            Some(p) => ClientError::Refused {
                status,
                code: p.code,
                detail: p.detail,
                limit: p.limit,
            },
            None => ClientError::Refused {
                status,
                code: format!("http_{status}"),
                detail: text.chars().take(200).collect(),
                limit: None,
            },
        })
    }

    async fn json<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> ClientResult<T> {
        let response = self.send(request).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| offline(&self.base, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ClientError::Offline(format!(
                "{}: the answer was not understood ({e}); is this a Voices server?",
                self.base
            ))
        })
    }

    pub async fn info(&self) -> ClientResult<ServerInfo> {
        self.json(self.request(reqwest::Method::GET, self.url("/info")))
            .await
    }

    /// Exchange a provisioning code's text for this device's credentials.
    pub async fn provision(&self, code_text: &str) -> ClientResult<DeviceCredentials> {
        let body = ProvisionRequest {
            code: code_text.to_owned(),
        };
        self.json(
            self.request(reqwest::Method::POST, self.url("/provision"))
                .json(&body),
        )
        .await
    }

    /// One page of the device feed: this device's responses changed after `after`.
    /// One page of the device feed in `version` (a server from before version 2 answers
    /// version 1: the caller checks the page).
    pub async fn device_feed(
        &self,
        after: &str,
        limit: usize,
        version: u32,
    ) -> ClientResult<DeviceFeedPage> {
        // Cursors are the server's decimal positions; anything else starts from the top.
        let after = if after.bytes().all(|b| b.is_ascii_digit()) && !after.is_empty() {
            after
        } else {
            "0"
        };
        let request = self.request(
            reqwest::Method::GET,
            self.project_url(&format!(
                "/device/feed?after={after}&limit={limit}&version={version}"
            )),
        );
        self.json(request).await
    }

    pub async fn forms(&self) -> ClientResult<Vec<FormVersionSummary>> {
        self.json(self.request(reqwest::Method::GET, self.project_url("/forms")))
            .await
    }

    /// A form version's document, as published.
    pub async fn form_document(&self, form: &str, version: &str) -> ClientResult<String> {
        let response = self
            .send(self.request(
                reqwest::Method::GET,
                self.project_url(&format!("/forms/{form}/versions/{version}")),
            ))
            .await?;
        response.text().await.map_err(|e| offline(&self.base, &e))
    }

    /// Where an attachment upload stands on the server (`None`: nothing received yet).
    pub async fn attachment_status(&self, sha256: &str) -> ClientResult<Option<AttachmentStatus>> {
        let request = self.request(
            reqwest::Method::GET,
            self.project_url(&format!("/attachments/{sha256}/status")),
        );
        match self.json(request).await {
            Ok(status) => Ok(Some(status)),
            Err(ClientError::Refused { code, .. }) if code == "unknown_attachment" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Send bytes of an attachment starting at `offset` of `size`.
    pub async fn put_chunk(
        &self,
        sha256: &str,
        offset: u64,
        size: u64,
        bytes: Vec<u8>,
    ) -> ClientResult<AttachmentStatus> {
        let request = self
            .request(
                reqwest::Method::PUT,
                self.project_url(&format!(
                    "/attachments/{sha256}?offset={offset}&size={size}"
                )),
            )
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.json(request).await
    }

    /// Upload one batch: `body` is NDJSON compressed with `encoding`
    /// ([`BodyEncoding::compress`]), with the form document of SHA-256 `dictionary` as
    /// zstd dictionary when given.
    pub async fn upload(
        &self,
        body: Vec<u8>,
        encoding: BodyEncoding,
        dictionary: Option<&str>,
    ) -> ClientResult<UploadAck> {
        let mut request = self
            .request(reqwest::Method::POST, self.project_url("/revisions"))
            .header(CONTENT_TYPE, NDJSON);
        if let Some(name) = encoding.header() {
            request = request.header(CONTENT_ENCODING, name);
        }
        if let (BodyEncoding::Zstd, Some(sha)) = (encoding, dictionary) {
            request = request.header(DICTIONARY_HEADER, sha);
        }
        self.json(request.body(body)).await
    }

    /// What the project asks of its devices; `None` from a server older than the
    /// policy (it answers the path `404`).
    pub async fn device_policy(&self) -> ClientResult<Option<DevicePolicy>> {
        let request = self.request(reqwest::Method::GET, self.project_url("/device-policy"));
        match self.json(request).await {
            Ok(policy) => Ok(Some(policy)),
            Err(ClientError::Refused {
                status: 404, code, ..
            }) if code != "unknown_project" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The device's enumerator profile and the project's neutral name; `None` from a
    /// server older than profiles (it answers the path `404`).
    pub async fn device_profile(&self) -> ClientResult<Option<DeviceProfile>> {
        let request = self.request(reqwest::Method::GET, self.project_url("/device/profile"));
        match self.json(request).await {
            Ok(profile) => Ok(Some(profile)),
            Err(ClientError::Refused {
                status: 404, code, ..
            }) if code != "unknown_project" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The project's referral directory as published (its services, `version` and
    /// `published_at`); `None` when the project has none (`404 no_directory`) or the
    /// server is older than directories.
    pub async fn referrals(&self) -> ClientResult<Option<serde_json::Value>> {
        let request = self.request(reqwest::Method::GET, self.project_url("/referrals"));
        match self.json(request).await {
            Ok(body) => Ok(Some(body)),
            Err(ClientError::Refused {
                status: 404, code, ..
            }) if code != "unknown_project" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Which of these revision ids the server already holds.
    pub async fn known(&self, ids: Vec<String>) -> ClientResult<Vec<String>> {
        let answer: KnownResponse = self
            .json(
                self.request(reqwest::Method::POST, self.project_url("/revisions/known"))
                    .json(&KnownRequest { ids }),
            )
            .await?;
        Ok(answer.known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn listed(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_best_encoding_the_server_lists_is_used() {
        assert_eq!(
            BodyEncoding::offered(&listed(&["ndjson", "zstd", "gzip"])),
            BodyEncoding::Zstd
        );
        assert_eq!(
            BodyEncoding::offered(&listed(&["ndjson", "gzip"])),
            BodyEncoding::Gzip
        );
        assert_eq!(
            BodyEncoding::offered(&listed(&["ndjson"])),
            BodyEncoding::Identity
        );
    }

    #[test]
    fn each_encoding_gives_back_the_body() {
        let body = b"{\"id\":\"a\"}\n".repeat(200);
        let gzip = BodyEncoding::Gzip.compress(body.clone(), None).unwrap();
        assert!(gzip.len() < body.len() / 4, "{} bytes", gzip.len());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        // A dictionary is a zstd matter only: gzip ignores it.
        assert_eq!(
            BodyEncoding::Gzip
                .compress(body.clone(), Some(b"dict"))
                .unwrap(),
            gzip
        );
        let zstd = BodyEncoding::Zstd.compress(body.clone(), None).unwrap();
        assert_eq!(zstd::decode_all(&zstd[..]).unwrap(), body);
        assert_eq!(
            BodyEncoding::Identity.compress(body.clone(), None).unwrap(),
            body
        );
    }
}
