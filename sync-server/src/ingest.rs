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
    #[error("the batch has {records} records; the limit is {limit} per batch")]
    TooManyRecords { records: u64, limit: u64 },
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
fn decode_line(n: usize, line: &[u8], uploader: &Uploader) -> Result<Line, IngestError> {
    let rejected = |code: &str, reason: String| {
        Line::Refused(RecordAck {
            id: format!("line {}", n + 1),
            status: AckStatus::Rejected,
            code: Some(code.to_owned()),
            reasons: vec![reason],
        })
    };
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
                format!("line {} is not a revision: {e}", n + 1),
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

/// Split an NDJSON batch into lines and decode each on its own (blank lines skipped, a
/// UTF-8 byte order mark before the first line ignored), in line order; nothing is stored. `truncated`: the body was cut off in transit, so its
/// last piece is a partial line and is left out.
pub fn decode_batch(
    uploader: &Uploader,
    data: &[u8],
    truncated: bool,
    limits: &Limits,
) -> Result<Vec<Line>, IngestError> {
    // A byte order mark some editors and Windows tools put before UTF-8 text: not part
    // of the first line.
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // After a cut the last piece is a partial line: drop it, the client sends it again.
    // A complete body may end with or without a final newline.
    if truncated || lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let records = lines.iter().filter(|l| !l.trim_ascii().is_empty()).count() as u64;
    if records > limits.max_batch_records {
        return Err(IngestError::TooManyRecords {
            records,
            limit: limits.max_batch_records,
        });
    }
    let numbered: Vec<(usize, &[u8])> = lines
        .iter()
        .enumerate()
        .map(|(n, line)| (n, line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    // Lines decode and hash independently: spread over the cores.
    crate::par_map(&numbered, |&(n, line)| decode_line(n, line, uploader))
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
