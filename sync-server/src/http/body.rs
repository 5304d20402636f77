//! Request bodies: read with a size cap, decompressed (zstd or gzip) with a cap on the
//! decompressed size, so neither a huge body nor a compression bomb can exhaust memory.
//! A body cut off in transit keeps what arrived: the upload handler takes every complete
//! line of it.

use std::io::Read;

use axum::body::Body;
use axum::http::StatusCode;
use http_body_util::BodyExt;

use super::error::{ApiError, ApiResult};
use super::AppState;

/// What arrived of a request body.
#[derive(Debug)]
pub struct Received {
    pub bytes: Vec<u8>,
    /// The connection failed before the body was complete.
    pub truncated: bool,
}

/// Why a body was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// More than `limit` bytes as sent.
    TooLarge {
        limit: u64,
    },
    /// More than `limit` bytes once decompressed.
    DecompressedTooLarge {
        limit: u64,
    },
    UnsupportedEncoding(String),
    /// The body does not start as its `Content-Encoding` says (not a truncation: the
    /// very first bytes are wrong).
    NotEncoded(&'static str),
}

/// The first bytes of a zstd frame (RFC 8878) and of a gzip member (RFC 1952).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` can be the start of a stream with `magic`: a body cut off before its
/// first bytes all arrived still can (it is then a truncated upload, not a wrong one).
fn starts_as(bytes: &[u8], magic: &[u8]) -> bool {
    let n = bytes.len().min(magic.len());
    bytes[..n] == magic[..n]
}

/// Read the body, refusing it as soon as it passes `limit` bytes.
pub async fn read_capped(body: Body, limit: u64) -> Result<Received, BodyError> {
    let mut body = body;
    let mut bytes = Vec::new();
    loop {
        match body.frame().await {
            None => {
                return Ok(Received {
                    bytes,
                    truncated: false,
                })
            }
            Some(Err(_)) => {
                return Ok(Received {
                    bytes,
                    truncated: true,
                })
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if (bytes.len() + data.len()) as u64 > limit {
                        return Err(BodyError::TooLarge { limit });
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
}

/// Decompress per `Content-Encoding`. Returns the data and whether the compressed stream
/// ended early (a truncated or damaged body); what decompressed before that is kept.
///
/// A zstd body may be compressed with a dictionary (the bytes of a published form
/// version, see docs/protocol.md): field and choice names then cost almost nothing.
pub fn decompress(
    bytes: Vec<u8>,
    encoding: Option<&str>,
    dictionary: Option<&[u8]>,
    limit: u64,
) -> Result<(Vec<u8>, bool), BodyError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => {
            if bytes.len() as u64 > limit {
                return Err(BodyError::DecompressedTooLarge { limit });
            }
            Ok((bytes, false))
        }
        Some("zstd") => {
            if !starts_as(&bytes, &ZSTD_MAGIC) {
                return Err(BodyError::NotEncoded("zstd"));
            }
            // An empty dictionary is no dictionary, so one constructor serves both cases.
            let decoder = zstd::stream::read::Decoder::with_dictionary(
                std::io::BufReader::new(&bytes[..]),
                dictionary.unwrap_or_default(),
            );
            match decoder {
                Ok(decoder) => read_limited(decoder, limit),
                Err(_) => Ok((Vec::new(), true)),
            }
        }
        Some("gzip") | Some("x-gzip") => {
            if !starts_as(&bytes, &GZIP_MAGIC) {
                return Err(BodyError::NotEncoded("gzip"));
            }
            read_limited(flate2::read::GzDecoder::new(&bytes[..]), limit)
        }
        Some(other) => Err(BodyError::UnsupportedEncoding(
            other.chars().take(40).collect(),
        )),
    }
}

fn read_limited(reader: impl Read, limit: u64) -> Result<(Vec<u8>, bool), BodyError> {
    let mut out = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it".
    let result = reader.take(limit + 1).read_to_end(&mut out);
    if out.len() as u64 > limit {
        return Err(BodyError::DecompressedTooLarge { limit });
    }
    Ok((out, result.is_err()))
}

/// A refused body as an error answer.
pub(super) fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge { limit } => ApiError::too_large(
            "payload_too_large",
            format!("the body is larger than {limit} bytes; send smaller batches"),
            limit,
        ),
        BodyError::DecompressedTooLarge { limit } => ApiError::too_large(
            "decompressed_too_large",
            format!("the body decompresses to more than {limit} bytes; send smaller batches"),
            limit,
        ),
        BodyError::UnsupportedEncoding(enc) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("content encoding `{enc}` is not supported; use zstd, gzip or none"),
        ),
        BodyError::NotEncoded(enc) => ApiError::bad_request(
            "bad_encoding",
            format!("the body is declared `Content-Encoding: {enc}` but does not start as {enc} data does"),
        ),
    }
}

/// Read a whole (uncompressed) request body within the body limit; a body cut off in
/// transit is refused, since these requests are small and simply retried.
pub(super) async fn small_body(state: &AppState, body: Body) -> ApiResult<Vec<u8>> {
    body_within(body, state.limits.max_body_bytes).await
}

/// Bodies of `/provision` and `/login` (a code, a name and a password) are tiny; anyone
/// may send them, so they are read only this far.
pub const CREDENTIALS_BODY_LIMIT: u64 = 4 << 10;

/// A whole (uncompressed) request body of at most `limit` bytes.
pub(super) async fn body_within(body: Body, limit: u64) -> ApiResult<Vec<u8>> {
    let received = read_capped(body, limit).await.map_err(body_error)?;
    if received.truncated {
        return Err(ApiError::bad_request(
            "truncated_body",
            "the request body was cut off; send it again",
        ));
    }
    Ok(received.bytes)
}

/// A small JSON request body.
pub(super) async fn json_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: Body,
) -> ApiResult<T> {
    parse_json(&small_body(state, body).await?)
}

/// A credentials JSON body (at most [`CREDENTIALS_BODY_LIMIT`] bytes).
pub(super) async fn credentials_body<T: serde::de::DeserializeOwned>(body: Body) -> ApiResult<T> {
    parse_json(&body_within(body, CREDENTIALS_BODY_LIMIT).await?)
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("the request body is not the expected JSON: {e}"),
        )
    })
}

/// Whether the request's `Content-Type` is `wanted` (parameters such as `charset` aside).
pub(super) fn content_type_is(headers: &axum::http::HeaderMap, wanted: &str) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn zstd_bomb_is_stopped_at_the_limit() {
        let zeros = vec![0u8; 50 << 20];
        let bomb = zstd::encode_all(&zeros[..], 19).unwrap();
        assert!(bomb.len() < 10_000, "bomb is {} bytes", bomb.len());
        let err = decompress(bomb, Some("zstd"), None, 1 << 20).unwrap_err();
        assert_eq!(err, BodyError::DecompressedTooLarge { limit: 1 << 20 });
    }

    #[test]
    fn gzip_bomb_is_stopped_at_the_limit() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'a'; 20 << 20]).unwrap();
        let bomb = enc.finish().unwrap();
        let err = decompress(bomb, Some("gzip"), None, 1 << 20).unwrap_err();
        assert_eq!(err, BodyError::DecompressedTooLarge { limit: 1 << 20 });
    }

    #[test]
    fn truncated_stream_keeps_the_prefix_and_says_so() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let packed = zstd::encode_all(&text[..], 3).unwrap();
        let cut = packed[..packed.len() / 2].to_vec();
        let (out, truncated) = decompress(cut, Some("zstd"), None, 10 << 20).unwrap();
        assert!(truncated);
        assert!(text.starts_with(&out));
    }

    #[test]
    fn zstd_with_a_dictionary_round_trips() {
        let dict = b"household_survey member_name member_relation resp_age".repeat(4);
        let text = b"{\"/member[1]/member_name\":\"Grace\"}\n".repeat(3);
        let packed = zstd::bulk::Compressor::with_dictionary(3, &dict)
            .unwrap()
            .compress(&text)
            .unwrap();
        let (out, truncated) = decompress(packed, Some("zstd"), Some(&dict), 1 << 20).unwrap();
        assert_eq!((out, truncated), (text, false));
    }

    /// A body that is not what `Content-Encoding` says is refused as such, not read as
    /// an upload cut off before its first line (the app would resend it forever).
    #[test]
    fn a_body_not_in_its_declared_encoding_is_refused() {
        let text = b"{\"id\":\"r1\"}\n".to_vec();
        for encoding in ["zstd", "gzip"] {
            assert_eq!(
                decompress(text.clone(), Some(encoding), None, 1 << 20).unwrap_err(),
                BodyError::NotEncoded(encoding)
            );
        }
        // Cut off inside the magic number: still a truncated upload.
        let packed = zstd::encode_all(&text[..], 3).unwrap();
        assert_eq!(
            decompress(packed[..2].to_vec(), Some("zstd"), None, 1 << 20).unwrap(),
            (Vec::new(), true)
        );
    }

    #[test]
    fn unknown_encoding_is_refused() {
        assert_eq!(
            decompress(vec![1, 2], Some("br"), None, 10).unwrap_err(),
            BodyError::UnsupportedEncoding("br".into())
        );
    }
}
