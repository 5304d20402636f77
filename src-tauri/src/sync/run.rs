//! One sync: forms down, revisions built, files and revisions up. One run at a time.

use std::collections::HashSet;
use std::time::Duration;

use voices_core::sync::protocol::PROTOCOL_VERSION;

use super::client::Client;
use super::status::{SyncPhase, SyncProgress};
use super::{client_error, revisions, sha256_hex, Syncer, LAST_SUCCESS_KEY};
use crate::env::now;
use crate::error::{Error, Result};
use crate::store::FormOfferRow;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub forms_installed: u32,
    pub revisions_built: u32,
    pub accepted: u32,
    pub duplicate: u32,
    pub quarantined: u32,
    pub rejected: u32,
    pub attachments_sent: u32,
    /// Responses the server said something new about (review, comments, coordinators'
    /// edits), merged into the device's copy.
    pub returned: u32,
    /// Responses whose respondent withdrew (the device feed said so): purged from the
    /// device and out of every list, their unsent edits refused.
    pub withdrawn: u32,
    /// Revisions still waiting for an answer after this sync (`held_back` included).
    pub still_due: u32,
    /// Revisions not sent in this sync because a file their response needs could not be
    /// sent (missing or damaged on the device, or refused by the server); `problems` says
    /// why. Everything else went on.
    pub held_back: u32,
    /// Upload bodies as sent (compressed), in bytes.
    pub bytes_sent: u64,
    /// Things to tell the user that did not stop the sync (a form version not installed).
    pub problems: Vec<String>,
    /// Responses removed from the device after this sync, their retention period over.
    pub purged: u32,
    /// The version of the project's referral directory the device holds after this sync
    /// (`None`: the project has none).
    pub directory_version: Option<u32>,
}

impl Syncer {
    /// Build revisions for what was finalized, when linked (called after finalizing).
    pub(crate) fn after_finalize(&self) {
        // Only once the device knows the project's keys (from a form list since the link):
        // otherwise the next sync builds them, after pulling the list.
        let built = self.store.with(|s| match s.link()? {
            Some(link) if super::seal::recipients_known(s)? => revisions::build_due(
                s,
                Some(self.files.as_ref()),
                &link.device_id,
                self.now_ms(),
                &now(),
            ),
            _ => Ok(0),
        });
        // A failure here is not lost work: the next sync builds what is due.
        if built.is_ok_and(|n| n > 0) {
            self.nudge();
            self.emit_status(true);
        }
    }

    /// Whether something waits to be sent.
    pub fn sync_due(&self) -> Result<bool> {
        self.store.with(|s| {
            Ok(!s.unacknowledged_revisions(1)?.is_empty()
                || (s.link()?.is_some() && !s.responses_to_build()?.is_empty()))
        })
    }

    /// One full sync: forms down, revisions and attachments up. One at a time.
    pub async fn sync_once(&self) -> Result<SyncSummary> {
        let _running = self.running.lock().await;
        self.update(|l| {
            l.phase = Some(SyncPhase::Syncing);
            l.next_attempt_at = None;
            l.progress = Some(SyncProgress::default());
        });
        self.emit_status(true);
        // Status (with progress) at least every 200 ms while the run goes on, also while
        // a request is on the wire.
        let run = self.sync_inner();
        tokio::pin!(run);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let result = loop {
            tokio::select! {
                result = &mut run => break result,
                _ = tick.tick() => self.emit_status(false),
            }
        };
        let now_text = now();
        self.store.with(|s| s.reset_sending()).ok();
        match &result {
            Ok(summary) => {
                if summary.still_due == 0 {
                    self.store
                        .with(|s| s.set_setting(LAST_SUCCESS_KEY, &now_text))
                        .ok();
                }
                let problems = (!summary.problems.is_empty()).then(|| summary.problems.join("; "));
                self.update(|l| {
                    l.phase = Some(SyncPhase::Idle);
                    l.last_error = problems;
                    l.last_error_kind = None;
                    l.still_waiting = None;
                    l.progress = None;
                });
            }
            Err(e) => {
                let message = e.to_string();
                let kind = e.kind();
                self.update(|l| {
                    l.phase = Some(SyncPhase::Waiting);
                    l.last_error = Some(message);
                    l.last_error_kind = Some(kind);
                    l.still_waiting = None;
                    l.progress = None;
                });
            }
        }
        self.emit_status(true);
        result
    }

    async fn sync_inner(&self) -> Result<SyncSummary> {
        let link = self.store.with(|s| s.link())?.ok_or_else(|| {
            Error::NotProvisioned("this device is not linked to a server yet".into())
        })?;
        let client = Client::pinned(
            &link.server_url,
            link.certificate_sha256.as_deref(),
            &self.client_options()?,
        )
        .map_err(client_error)?
        .authenticated(&link.token, &link.project);
        let info = client.info().await.map_err(client_error)?;
        if !info.protocol_versions.contains(&PROTOCOL_VERSION) {
            return Err(Error::ServerRefused(format!(
                "the server speaks sync protocol {:?}; this app speaks {PROTOCOL_VERSION}: update the app or the server",
                info.protocol_versions
            )));
        }
        let dictionaries = info
            .capabilities
            .iter()
            .any(|c| c == "zstd-form-dictionary");
        let mut summary = SyncSummary::default();
        // The project's policy first: the lock and retention follow it from this sync on.
        if let Some(policy) = client.device_policy().await.map_err(client_error)? {
            match policy.check() {
                Ok(()) => self.keep_policy(&policy)?,
                Err(e) => summary
                    .problems
                    .push(format!("the server's device policy was not applied: {e}")),
            }
        }
        // Who the enumerator is (matching rules read it) and the neutral name.
        if let Some(profile) = client.device_profile().await.map_err(client_error)? {
            match profile.enumerator.normalized() {
                Ok(enumerator) => {
                    self.keep_profile(&enumerator, profile.neutral_name.as_deref())?
                }
                Err(e) => summary
                    .problems
                    .push(format!("the server's enumerator profile was not kept: {e}")),
            }
        }
        summary.forms_installed = self
            .pull_forms(&client, dictionaries, &mut summary.problems)
            .await?;
        // With the forms, so a referral step lists today's services even offline later.
        summary.directory_version = self.pull_directory(&client, &mut summary.problems).await?;
        summary.revisions_built = self.store.with(|s| {
            s.reset_sending()?;
            revisions::build_due(
                s,
                Some(self.files.as_ref()),
                &link.device_id,
                self.now_ms(),
                &now(),
            )
        })?;
        let destination = format!("{}|{}", link.server_url, link.project);
        self.upload_all(&client, &info, &destination, &mut summary)
            .await?;
        // After the uploads, so every finalized edit is on the server first: an answer
        // both sides changed is then a conflict there too, never overwritten here.
        if info.capabilities.iter().any(|c| c == "device-feed") {
            (summary.returned, summary.withdrawn) =
                self.pull_feed(&client, &link.device_id).await?;
        }
        summary.still_due = self
            .store
            .with(|s| Ok(s.unacknowledged_revisions(u32::MAX)?.len() as u32))?;
        summary.purged = self.purge_acknowledged()? as u32;
        Ok(summary)
    }

    /// Download and install form versions the device does not have; how many. With
    /// `keep_documents`, also keep the server's bytes of every version on the device
    /// (verified against the listed SHA-256) to compress uploads with.
    async fn pull_forms(
        &self,
        client: &Client,
        keep_documents: bool,
        problems: &mut Vec<String>,
    ) -> Result<u32> {
        let listed = client.forms().await.map_err(client_error)?;
        // Every version lists the project's current recipients; none listed (no form
        // yet) keeps what the device had.
        if let Some(first) = listed.first() {
            let recipients = first.recipients.clone();
            self.store
                .with(|s| super::seal::save_recipients(s, &recipients))?;
        }
        let have: HashSet<(String, String)> = self
            .store
            .with(|s| s.form_versions())?
            .into_iter()
            .map(|r| (r.form_id, r.version))
            .collect();
        let mut installed = 0;
        for summary in listed {
            let on_device = have.contains(&(summary.form.clone(), summary.version.clone()));
            let kept = self
                .store
                .with(|s| s.server_form_document(&summary.form, &summary.version))?
                .is_some_and(|(sha, _)| sha == summary.sha256);
            if on_device && (kept || !keep_documents) {
                continue;
            }
            let document = client
                .form_document(&summary.form, &summary.version)
                .await
                .map_err(client_error)?;
            if keep_documents && sha256_hex(document.as_bytes()) == summary.sha256 {
                self.store.with(|s| {
                    s.put_server_form_document(
                        &summary.form,
                        &summary.version,
                        &summary.sha256,
                        &document,
                    )
                })?;
            }
            if on_device {
                continue;
            }
            // Checked by the engine like any form the user loads.
            let report = self.forms.import_text(
                &format!("{} {}", summary.form, summary.version),
                &document,
                "server",
            )?;
            if report.outcome == "added" {
                installed += 1;
                self.store.with(|s| {
                    s.add_form_offer(&FormOfferRow {
                        form_id: summary.form.clone(),
                        version: summary.version.clone(),
                        title: summary.title.clone(),
                        published_at: summary.published_at.clone(),
                    })
                })?;
            } else if report.outcome == "rejected" {
                let first = report
                    .diagnostics
                    .iter()
                    .find(|d| d.severity == "error")
                    .map(|d| d.message.clone())
                    .unwrap_or_default();
                problems.push(format!(
                    "form `{}` version `{}` from the server was not installed: {first}",
                    summary.form, summary.version
                ));
            }
        }
        Ok(installed)
    }

    pub fn acknowledge_form_versions(&self) -> Result<()> {
        self.store.with(|s| s.acknowledge_form_offers())?;
        self.emit_status(true);
        Ok(())
    }
}
