//! Sending attached files before the revisions that need them, in chunks, resuming
//! where the server stands.

use sha2::{Digest, Sha256};
use voices_core::sync::protocol::{AttachmentStatus, ServerInfo};

use super::client::{Client, ClientError};
use super::{client_error, Syncer};
use crate::env::now;
use crate::error::{Error, Result};
use crate::store::RevisionRow;

/// Largest attachment chunk sent, below the server's `max_chunk_bytes`.
const CHUNK_BYTES: u64 = 1 << 20;

/// A file some of the revisions to send need, and the responses it is not confirmed for.
pub(super) struct FileDue {
    pub sha256: String,
    pub size: u64,
    pub responses: Vec<String>,
}

impl Syncer {
    /// The attachments of these revisions' responses the server has not confirmed for
    /// them (each file once, with the responses that wait for it).
    pub(super) fn attachments_due(
        &self,
        due: &[RevisionRow],
        destination: &str,
    ) -> Result<Vec<FileDue>> {
        let responses: std::collections::BTreeSet<&str> =
            due.iter().map(|r| r.response_id.as_str()).collect();
        self.store.with(|s| {
            let mut out: Vec<FileDue> = Vec::new();
            for response in responses {
                for (sha, size) in s.attachment_files(response)? {
                    if s.attachment_uploaded(response, &sha, destination)? {
                        continue;
                    }
                    match out.iter_mut().find(|f| f.sha256 == sha) {
                        Some(f) => f.responses.push(response.to_owned()),
                        None => out.push(FileDue {
                            sha256: sha,
                            size,
                            responses: vec![response.to_owned()],
                        }),
                    }
                }
            }
            Ok(out)
        })
    }

    /// Upload (resuming where the server stands) every file these revisions need,
    /// before the revisions themselves: how many were completed, and the files that
    /// cannot be sent from this device `(sha256, why)` (missing or damaged on disk). A
    /// file the server already holds complete costs one status request.
    pub(super) async fn upload_attachments(
        &self,
        client: &Client,
        batch: &[RevisionRow],
        destination: &str,
        info: &ServerInfo,
    ) -> Result<(u32, Vec<(String, String)>)> {
        let chunk_limit = CHUNK_BYTES.min(info.limits.max_chunk_bytes.max(1));
        let mut completed = 0;
        let mut unusable = Vec::new();
        for FileDue {
            sha256: sha,
            size,
            responses,
        } in self.attachments_due(batch, destination)?
        {
            let short = &sha[..sha.len().min(12)];
            let problem = match self.files.read(&sha) {
                Ok(b) if b.len() as u64 == size && sha256_hex(&b) == sha => Ok(b),
                // Changed on disk (its seal no longer opens) or sealed wrong content.
                Ok(_) | Err(Error::Corrupt(_)) => Err(format!(
                    "an attached file ({short}) is damaged on this device: its content no longer matches"
                )),
                Err(e) => Err(format!(
                    "an attached file ({short}) cannot be read on this device ({e})"
                )),
            };
            let bytes = match problem {
                Ok(bytes) => bytes,
                Err(problem) => {
                    unusable.push((
                        sha.clone(),
                        format!("{problem}; the responses that use it wait"),
                    ));
                    continue;
                }
            };
            match self.send_file(client, &sha, &bytes, chunk_limit).await {
                Ok(()) => {
                    self.store.with(|s| {
                        for response in &responses {
                            s.mark_attachment_uploaded(response, &sha, destination, &now())?;
                        }
                        Ok(())
                    })?;
                    completed += 1;
                }
                // The server refused this file (its bytes arrived damaged, a chunk too
                // large…): only the responses that use it wait; the rest goes on.
                Err(ClientError::Refused {
                    status,
                    code,
                    detail,
                    ..
                }) if !matches!(status, 401 | 403) => {
                    unusable.push((sha.clone(), refused_file_reason(short, &code, &detail)));
                }
                Err(e) => return Err(client_error(e)),
            }
        }
        Ok((completed, unusable))
    }

    /// Send one file's bytes in chunks from where the server stands until the server
    /// says it is complete.
    async fn send_file(
        &self,
        client: &Client,
        sha: &str,
        bytes: &[u8],
        chunk_limit: u64,
    ) -> std::result::Result<(), ClientError> {
        let size = bytes.len() as u64;
        let mut next = standing(client.attachment_status(sha).await?.as_ref(), size);
        let (mut mismatches, mut asked) = (0, 0);
        loop {
            let received = match next {
                Next::Done => return Ok(()),
                Next::Ask if asked < 3 => {
                    asked += 1;
                    next = standing(client.attachment_status(sha).await?.as_ref(), size);
                    continue;
                }
                Next::Ask => return Err(ClientError::Refused {
                    status: 409,
                    code: "not_complete".into(),
                    detail:
                        "the server holds every byte of the file but does not say it is complete"
                            .into(),
                    limit: None,
                }),
                Next::SendFrom(at) => at,
            };
            let end = (received + chunk_limit).min(size);
            let chunk = bytes[received as usize..end as usize].to_vec();
            let sent = end - received;
            match client.put_chunk(sha, received, size, chunk).await {
                Ok(status) => {
                    self.update(|l| {
                        if let Some(p) = l.progress.as_mut() {
                            p.bytes_done += sent;
                        }
                    });
                    self.emit_status(false);
                    next = standing(Some(&status), size);
                }
                Err(ClientError::Refused { code, .. })
                    if code == "offset_mismatch" && mismatches < 3 =>
                {
                    mismatches += 1;
                    next = standing(client.attachment_status(sha).await?.as_ref(), size);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// What to do next with a file of `size` bytes, by the server's status of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The server says it is complete: uploaded.
    Done,
    /// Send the bytes from this offset.
    SendFrom(u64),
    /// Every byte is there but the server does not say complete (a server that completed
    /// files in a second step, cut off between them): not uploaded. Asking the status
    /// again completes it (or discards it, to be sent again).
    Ask,
}

fn standing(status: Option<&AttachmentStatus>, size: u64) -> Next {
    match status {
        Some(s) if s.complete => Next::Done,
        // Another size is an earlier wrong claim of this hash: starting from 0 with the
        // real size replaces it.
        Some(s) if s.size != size => Next::SendFrom(0),
        // An empty file still needs its one empty chunk to be complete.
        Some(s) if s.received >= size && size > 0 => Next::Ask,
        Some(s) => Next::SendFrom(s.received.min(size)),
        None => Next::SendFrom(0),
    }
}

/// Why the responses using a file the server refused wait, for the outbox's "Why".
fn refused_file_reason(short: &str, code: &str, detail: &str) -> String {
    let what = if code == "hash_mismatch" {
        "the bytes that arrived did not match the file's SHA-256 (damaged on the way; the file on this device is intact)".to_owned()
    } else {
        detail.to_owned()
    };
    format!(
        "the server refused an attached file ({short}): {what} ({code}); the responses that use it wait and it is sent again at the next sync"
    )
}

/// SHA-256 of `bytes`, lowercase hex (how files and form documents are addressed).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(size: u64, received: u64, complete: bool) -> AttachmentStatus {
        AttachmentStatus {
            sha256: "ab".repeat(32),
            size,
            received,
            complete,
        }
    }

    #[test]
    fn a_file_counts_as_uploaded_only_when_the_server_says_complete() {
        assert_eq!(standing(Some(&status(100, 100, true)), 100), Next::Done);
        // Every byte there is not enough.
        assert_eq!(standing(Some(&status(100, 100, false)), 100), Next::Ask);
        assert_eq!(
            standing(Some(&status(100, 40, false)), 100),
            Next::SendFrom(40)
        );
        assert_eq!(standing(None, 100), Next::SendFrom(0));
        // An empty file sends its empty chunk.
        assert_eq!(standing(None, 0), Next::SendFrom(0));
        assert_eq!(standing(Some(&status(0, 0, false)), 0), Next::SendFrom(0));
    }

    #[test]
    fn a_claim_of_another_size_is_started_again_from_zero() {
        assert_eq!(
            standing(Some(&status(5_000, 400, false)), 100),
            Next::SendFrom(0)
        );
    }
}
