//! The ingest pipeline from an upload's bytes to its acks: split the NDJSON batch into
//! lines, decode and check each line on its own (UTF-8, a revision, sent by its actor),
//! hash its canonical JSON, and hand the revisions to the store in one transaction.
//! The HTTP upload, the benchmarks and the tests call [`ingest_lines`] alike.

use voices_core::sync::protocol::{AckStatus, Limits, RecordAck, UploadAck};
use voices_core::sync::Revision;

use crate::auth;
use crate::store::{IncomingRevision, Store, Uploader, Validator};

/// Why a whole batch was refused (a line that is not a revision only refuses itself).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the batch has more than {limit} records; send at most {limit} per batch")]
    TooManyRecords { limit: u64 },
    /// Blank lines count: a body of newlines must not cost a slice per line.
    #[error("the batch has more than {limit} lines (blank lines included), the last one read starting at byte {offset}; send one revision per line and at most {records} per batch", records = .limit / 2)]
    TooManyLines { limit: u64, offset: u64 },
    /// A failure inside the server that says nothing about the batch.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// One line of an upload, decoded.
#[derive(Debug)]
pub enum Line {
    /// Not a revision this uploader may send: its ack.
    Refused(RecordAck),
    Revision(Box<IncomingRevision>),
}

/// Decode line `n` (0-based) of an upload: UTF-8, a revision, sent by its actor; then its
/// canonical JSON and hash.
fn decode_line(
    n: usize,
    line: &[u8],
    uploader: &Uploader,
    max_line_bytes: u64,
) -> Result<Line, IngestError> {
    let rejected = |code: &str, reason: String| {
        Line::Refused(RecordAck {
            id: format!("line {}", n + 1),
            status: AckStatus::Rejected,
            code: Some(code.to_owned()),
            reasons: vec![reason],
        })
    };
    if line.len() as u64 > max_line_bytes {
        return Ok(rejected(
            "line_too_long",
            format!(
                "line {} is {} bytes; the limit is {max_line_bytes} bytes per line (one revision per line)",
                n + 1,
                line.len()
            ),
        ));
    }
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => {
            return Ok(rejected(
                "invalid_utf8",
                format!(
                    "line {} is not UTF-8 text (bad byte at offset {})",
                    n + 1,
                    e.valid_up_to()
                ),
            ))
        }
    };
    let revision: Revision = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return Ok(rejected(
                "bad_json",
                format!("line {} is not a revision: {}", n + 1, without_values(&e)),
            ))
        }
    };
    if revision.actor != uploader.id {
        return Ok(Line::Refused(RecordAck {
            id: revision.id.clone(),
            status: AckStatus::Rejected,
            code: Some("wrong_actor".into()),
            reasons: vec![format!(
                "the revision says actor `{}` but was sent by `{}`; each device uploads its own edits",
                revision.actor, uploader.id
            )],
        }));
    }
    // Canonical JSON: the same revision always hashes the same, however it was spelled.
    let body =
        serde_json::to_string(&revision).map_err(|e| IngestError::Internal(e.to_string()))?;
    let sha256 = auth::sha256_hex(body.as_bytes());
    Ok(Line::Revision(Box::new(IncomingRevision {
        revision,
        body,
        sha256,
    })))
}

/// The parser's message without the values it quotes (`invalid type: string "Achieng",
/// expected u64` becomes `invalid type: string, expected u64`): a reason is kept and shown
/// to people who may not see the answers, so it names what and where, never a value.
fn without_values(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let quoting = ["invalid type: ", "invalid value: ", "unknown variant "];
    let Some(prefix) = quoting.iter().find(|p| message.starts_with(*p)) else {
        return message;
    };
    let (what, rest) = match message.find(", expected") {
        Some(at) => message.split_at(at),
        // No `expected` part: keep only the words before any quoted value.
        None => match message.find(" at line ") {
            Some(at) => message.split_at(at),
            None => (message.as_str(), ""),
        },
    };
    let kind = what[prefix.len()..]
        .split(['"', '`', '\''])
        .next()
        .unwrap_or_default()
        .trim();
    if kind.is_empty() {
        format!("{}{rest}", prefix.trim_end())
    } else {
        format!("{prefix}{kind}{rest}")
    }
}

/// The non-blank lines of a batch with their (0-based) numbers, refusing the batch as
/// soon as it passes `max_batch_records` records or twice as many lines (so neither a
/// million records nor a body of newlines is split whole into slices first). After a cut
/// (`truncated`) the last piece is a partial line and is dropped: the client sends it
/// again. A complete body may end with or without a final newline.
fn split_lines<'d>(
    data: &'d [u8],
    truncated: bool,
    limits: &Limits,
) -> Result<Vec<(usize, &'d [u8])>, IngestError> {
    let max_lines = limits.max_batch_records.saturating_mul(2);
    let mut numbered = Vec::new();
    let mut pieces = data.split(|&b| b == b'\n').enumerate().peekable();
    let mut offset = 0u64;
    while let Some((n, piece)) = pieces.next() {
        let last = pieces.peek().is_none();
        if last && (truncated || piece.is_empty()) {
            break;
        }
        if n as u64 >= max_lines {
            return Err(IngestError::TooManyLines {
                limit: max_lines,
                offset,
            });
        }
        let line = piece.trim_ascii();
        if !line.is_empty() {
            if numbered.len() as u64 >= limits.max_batch_records {
                return Err(IngestError::TooManyRecords {
                    limit: limits.max_batch_records,
                });
            }
            numbered.push((n, line));
        }
        offset += piece.len() as u64 + 1;
    }
    Ok(numbered)
}

/// Split an NDJSON batch into lines and decode each on its own (blank lines skipped, a
/// UTF-8 byte order mark before the first line ignored), in line order; nothing is
/// stored. `truncated`: the body was cut off in transit, so its last piece is a partial
/// line and is left out.
pub fn decode_batch(
    uploader: &Uploader,
    data: &[u8],
    truncated: bool,
    limits: &Limits,
) -> Result<Vec<Line>, IngestError> {
    // A byte order mark some editors and Windows tools put before UTF-8 text: not part
    // of the first line.
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let numbered = split_lines(data, truncated, limits)?;
    // Lines decode and hash independently: spread over the cores.
    crate::par_map(&numbered, |&(n, line)| {
        decode_line(n, line, uploader, limits.max_line_bytes)
    })
    .into_iter()
    .collect()
}

/// Decode an NDJSON batch and ingest it. Lines that are not revisions are rejected on
/// their own; the rest go to the store in one transaction. `truncated`: the body was cut
/// off in transit, so its last piece is a partial line.
pub fn ingest_lines(
    store: &dyn Store,
    validator: &dyn Validator,
    project: &str,
    uploader: &Uploader,
    data: &[u8],
    truncated: bool,
    limits: &Limits,
) -> Result<UploadAck, IngestError> {
    let decoded = decode_batch(uploader, data, truncated, limits)?;
    let mut slots: Vec<Option<RecordAck>> = Vec::with_capacity(decoded.len());
    let mut batch = Vec::with_capacity(decoded.len());
    for line in decoded {
        match line {
            Line::Refused(ack) => slots.push(Some(ack)),
            Line::Revision(incoming) => {
                slots.push(None);
                batch.push(*incoming);
            }
        }
    }
    let mut versions: Vec<(&str, &str)> = batch
        .iter()
        .map(|i| (i.revision.form.as_str(), i.revision.version.as_str()))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    validator.prepare(project, &versions);
    let stored = store.ingest(project, uploader, &batch, validator, &crate::now_text())?;
    let mut stored = stored.into_iter();
    let mut ack = UploadAck {
        incomplete: truncated,
        ..UploadAck::default()
    };
    for slot in slots {
        let record = match slot {
            Some(r) => r,
            None => stored
                .next()
                .ok_or_else(|| IngestError::Internal("missing acknowledgement".into()))?,
        };
        match record.status {
            AckStatus::Accepted => ack.accepted += 1,
            AckStatus::Duplicate => ack.duplicate += 1,
            AckStatus::Quarantined => ack.quarantined += 1,
            AckStatus::Rejected => ack.rejected += 1,
        }
        ack.records.push(record);
    }
    Ok(ack)
}
