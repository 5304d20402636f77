//! Sending revisions: batches of one form version (its server document as the zstd
//! dictionary), asking the server what it kept after an interrupted upload, holding
//! back responses whose files cannot be sent, and committing every acknowledgement
//! before the next batch.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use voices_core::sync::protocol::{AckStatus, ServerInfo};

use super::client::{BodyEncoding, Client, ClientError};
use super::run::SyncSummary;
use super::status::{FormProgress, SyncProgress};
use super::{client_error, Syncer};
use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::{RevisionAck, RevisionRow};

/// Revisions per upload batch (also bounded by the server's published limits).
pub const BATCH_RECORDS: usize = 100;

impl Syncer {
    pub(super) async fn upload_all(
        &self,
        client: &Client,
        info: &ServerInfo,
        destination: &str,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let all_due = self.store.with(|s| s.unacknowledged_revisions(u32::MAX))?;
        let mut progress = self.progress_for(&all_due);
        for file in self.attachments_due(&all_due, destination)? {
            progress.bytes_total += file.size;
        }
        self.update(|l| l.progress = Some(progress));
        self.emit_status(true);
        // zstd when the server offers it, else gzip (an older or proxied server), else none.
        let encoding = BodyEncoding::offered(&info.capabilities);
        let use_dictionaries = encoding == BodyEncoding::Zstd
            && info
                .capabilities
                .iter()
                .any(|c| c == "zstd-form-dictionary");
        // Form versions whose dictionary the server did not know: sent without one.
        let mut no_dictionary: HashSet<(String, String)> = HashSet::new();
        let wanted = match lock(&self.options).batch_records {
            0 => BATCH_RECORDS,
            n => n,
        };
        let mut batch_records = wanted
            .min(info.limits.max_batch_records.max(1) as usize)
            .max(1);
        // Revisions sent before without an answer (the connection broke, or the app was
        // killed mid-upload): ask the server what it kept before resending.
        let mut uncertain: HashSet<String> = all_due
            .iter()
            .filter(|r| r.attempts > 0)
            .map(|r| r.id.clone())
            .collect();
        let mut rounds_without_progress = 0;
        // Responses held back in this run because a file they need cannot be sent (missing
        // or damaged here, or refused by the server): the rest of the queue goes on.
        let mut blocked: Vec<String> = Vec::new();
        loop {
            // One form version per batch, so its document can serve as the dictionary.
            let window = self.store.with(|s| {
                s.unacknowledged_revisions_except(
                    (batch_records as u32).saturating_mul(8),
                    &blocked,
                )
            })?;
            let Some(first) = window.first() else {
                return Ok(());
            };
            let version = form_of(&first.body);
            let mut batch: Vec<RevisionRow> = window
                .into_iter()
                .filter(|r| form_of(&r.body) == version)
                .take(batch_records)
                .collect();
            let (sent_files, unusable) = self
                .upload_attachments(client, &batch, destination, info)
                .await?;
            summary.attachments_sent += sent_files;
            if !unusable.is_empty() {
                let mut held: Vec<(String, String)> = Vec::new();
                for r in &batch {
                    if held.iter().any(|(response, _)| *response == r.response_id) {
                        continue;
                    }
                    let files = self.store.with(|s| s.attachment_files(&r.response_id))?;
                    if let Some((_, why)) = unusable
                        .iter()
                        .find(|(sha, _)| files.iter().any(|(f, _)| f == sha))
                    {
                        held.push((r.response_id.clone(), why.clone()));
                    }
                }
                for (response, why) in &held {
                    // Every revision of the response waits, also those beyond this batch.
                    let waiting: Vec<&RevisionRow> = all_due
                        .iter()
                        .filter(|r| r.response_id == *response)
                        .collect();
                    let ids: Vec<String> = waiting.iter().map(|r| r.id.clone()).collect();
                    self.store
                        .with(|s| s.note_send_failure(&ids, why, &now()))?;
                    summary.held_back += waiting.len() as u32;
                    self.count_held_back(&waiting);
                    blocked.push(response.clone());
                }
                for (_, why) in unusable {
                    if !summary.problems.contains(&why) {
                        summary.problems.push(why);
                    }
                }
                batch.retain(|r| !blocked.contains(&r.response_id));
                if batch.is_empty() {
                    continue;
                }
            }
            let ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
            let responses: Vec<String> = batch.iter().map(|r| r.response_id.clone()).collect();
            if ids.iter().any(|id| uncertain.contains(id)) {
                let known: HashSet<String> = client
                    .known(ids.clone())
                    .await
                    .map_err(client_error)?
                    .into_iter()
                    .collect();
                if !known.is_empty() {
                    let acks: Vec<RevisionAck> = known
                        .iter()
                        .map(|id| RevisionAck {
                            revision_id: id.clone(),
                            ack: AckStatus::Duplicate,
                            code: None,
                            reasons: Vec::new(),
                        })
                        .collect();
                    self.store.with(|s| s.apply_acks(&acks, &now()))?;
                    let done: Vec<&RevisionRow> =
                        batch.iter().filter(|r| known.contains(&r.id)).collect();
                    self.count_done(&done);
                    summary.duplicate += known.len() as u32;
                    batch.retain(|r| !known.contains(&r.id));
                    if batch.is_empty() {
                        continue;
                    }
                }
            }
            let mut body = Vec::new();
            for r in &batch {
                body.extend_from_slice(r.body.as_bytes());
                body.push(b'\n');
            }
            let dictionary = if use_dictionaries && !no_dictionary.contains(&version) {
                self.store
                    .with(|s| s.server_form_document(&version.0, &version.1))?
            } else {
                None
            };
            let body = encoding
                .compress(body, dictionary.as_ref().map(|(_, d)| d.as_bytes()))
                .map_err(|e| Error::Corrupt(format!("compressing a batch: {e}")))?;
            let dictionary_sha = dictionary.as_ref().map(|(sha, _)| sha.as_str());
            if body.len() as u64 > info.limits.max_body_bytes && batch.len() > 1 {
                batch_records = (batch.len() / 2).max(1);
                continue;
            }
            let sent_ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
            self.store.with(|s| {
                s.count_attempt(&sent_ids)?;
                s.mark_sending(&responses, true, &now())
            })?;
            self.emit_status(true);
            let body_len = body.len() as u64;
            let ack = match client.upload(body, encoding, dictionary_sha).await {
                Ok(ack) => {
                    summary.bytes_sent += body_len;
                    ack
                }
                Err(ClientError::Refused { code, .. }) if code == "unknown_dictionary" => {
                    self.store
                        .with(|s| s.mark_sending(&responses, false, &now()))?;
                    no_dictionary.insert(version.clone());
                    continue;
                }
                Err(ClientError::Refused { status: 413, .. }) if batch.len() > 1 => {
                    self.store
                        .with(|s| s.mark_sending(&responses, false, &now()))?;
                    batch_records = (batch.len() / 2).max(1);
                    continue;
                }
                Err(e) => {
                    let e = client_error(e);
                    // The server may have kept part of it: ask before resending.
                    uncertain.extend(sent_ids.iter().cloned());
                    self.store
                        .with(|s| s.note_send_failure(&sent_ids, &e.to_string(), &now()))?;
                    return Err(e);
                }
            };
            let by_id: HashSet<&str> = sent_ids.iter().map(String::as_str).collect();
            let acks: Vec<RevisionAck> = ack
                .records
                .iter()
                .filter(|r| by_id.contains(r.id.as_str()))
                .map(|r| RevisionAck {
                    revision_id: r.id.clone(),
                    ack: r.status,
                    code: r.code.clone(),
                    reasons: r.reasons.clone(),
                })
                .collect();
            for a in &acks {
                match a.ack {
                    AckStatus::Accepted => summary.accepted += 1,
                    AckStatus::Duplicate => summary.duplicate += 1,
                    AckStatus::Quarantined => summary.quarantined += 1,
                    AckStatus::Rejected => summary.rejected += 1,
                }
            }
            self.store.with(|s| {
                s.apply_acks(&acks, &now())?;
                s.mark_sending(&responses, false, &now())
            })?;
            let acked: HashSet<&str> = acks.iter().map(|a| a.revision_id.as_str()).collect();
            let done: Vec<&RevisionRow> = batch
                .iter()
                .filter(|r| acked.contains(r.id.as_str()))
                .collect();
            self.count_done(&done);
            if acks.len() < batch.len() {
                // Cut off (`incomplete`) or lines the server could not read: find out
                // what it kept before sending the rest again.
                uncertain.extend(sent_ids.iter().cloned());
                rounds_without_progress += usize::from(acks.is_empty());
                if rounds_without_progress >= 3 {
                    return Err(Error::ServerRefused(format!(
                        "the server did not acknowledge {} revisions after 3 tries",
                        batch.len() - acks.len()
                    )));
                }
            } else {
                rounds_without_progress = 0;
            }
        }
    }

    fn progress_for(&self, due: &[RevisionRow]) -> SyncProgress {
        let mut per: BTreeMap<(String, String), FormProgress> = BTreeMap::new();
        for r in due {
            let (form, version) = form_of(&r.body);
            let entry = per
                .entry((form.clone(), version.clone()))
                .or_insert_with(|| FormProgress {
                    title: self.forms.title(&form, &version),
                    form_id: form,
                    version,
                    ..FormProgress::default()
                });
            entry.records_total += 1;
            entry.bytes_total += r.body.len() as u64;
        }
        let per_form: Vec<FormProgress> = per.into_values().collect();
        SyncProgress {
            records_done: 0,
            records_total: per_form.iter().map(|f| f.records_total).sum(),
            bytes_done: 0,
            bytes_total: per_form.iter().map(|f| f.bytes_total).sum(),
            per_form,
        }
    }

    fn count_done(&self, rows: &[&RevisionRow]) {
        self.update(|l| {
            if let Some(p) = l.progress.as_mut() {
                for r in rows {
                    let (form, version) = form_of(&r.body);
                    p.records_done += 1;
                    p.bytes_done += r.body.len() as u64;
                    if let Some(f) = p
                        .per_form
                        .iter_mut()
                        .find(|f| f.form_id == form && f.version == version)
                    {
                        f.records_done += 1;
                        f.bytes_done += r.body.len() as u64;
                    }
                }
            }
        });
        self.emit_status(false);
    }

    /// Revisions held back for the rest of this run leave the progress totals, so the
    /// progress still reaches its end.
    fn count_held_back(&self, rows: &[&RevisionRow]) {
        self.update(|l| {
            if let Some(p) = l.progress.as_mut() {
                for r in rows {
                    let (form, version) = form_of(&r.body);
                    let bytes = r.body.len() as u64;
                    p.records_total = p.records_total.saturating_sub(1);
                    p.bytes_total = p.bytes_total.saturating_sub(bytes);
                    if let Some(f) = p
                        .per_form
                        .iter_mut()
                        .find(|f| f.form_id == form && f.version == version)
                    {
                        f.records_total = f.records_total.saturating_sub(1);
                        f.bytes_total = f.bytes_total.saturating_sub(bytes);
                    }
                }
            }
        });
        self.emit_status(false);
    }
}

/// `(form, version)` of a stored revision body.
fn form_of(body: &str) -> (String, String) {
    #[derive(Deserialize)]
    struct Head {
        form: String,
        version: String,
    }
    serde_json::from_str::<Head>(body)
        .map(|h| (h.form, h.version))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_body_names_its_form_version() {
        assert_eq!(
            form_of(r#"{"id":"x","form":"f","version":"2","set":{}}"#),
            ("f".to_owned(), "2".to_owned())
        );
        assert_eq!(form_of("not json"), (String::new(), String::new()));
    }
}
