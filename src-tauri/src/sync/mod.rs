//! Sync with `voices-server`: provisioning, pulling form versions, building revisions,
//! uploading attachments and revisions with per-record acknowledgements, and the
//! automatic background loop with backoff.
//!
//! Invariants: the device never deletes anything because of a send result (rejected
//! revisions are kept and shown); a revision, once built, is never changed (retries send
//! the same bytes); every acknowledgement is committed before the next batch is sent.

pub mod backoff;
pub mod client;
pub mod revisions;
pub mod tls;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use voices_core::sync::protocol::{AckStatus, ProvisioningCode, ServerInfo, PROTOCOL_VERSION};
use voices_core::Environment;

use crate::env::{now, DeviceEnvironment};
use crate::error::{Error, Result};
use crate::store::{FormOfferRow, LinkRow, RevisionAck, RevisionRow};
use crate::voices::Voices;
use client::{BodyEncoding, Client, ClientError, ClientOptions};

/// Revisions per upload batch (also bounded by the server's published limits).
pub const BATCH_RECORDS: usize = 100;
/// Largest attachment chunk sent, below the server's `max_chunk_bytes`.
const CHUNK_BYTES: u64 = 1 << 20;

const AUTO_SYNC_KEY: &str = "sync.auto";
const PROXY_KEY: &str = "sync.proxy";
const LAST_SUCCESS_KEY: &str = "sync.last_success_at";

/// The server this device sends to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DeviceLink {
    pub server_url: String,
    pub project: String,
    pub device_id: String,
    pub enumerator: String,
    pub linked_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// No server link yet: provision the device first.
    NotLinked,
    /// Linked; nothing running.
    Idle,
    /// A sync is running (see `progress`).
    Syncing,
    /// The last attempt failed (offline or the server away): retrying at `next_attempt_at`.
    Waiting,
    /// The server refused in a way retrying will not fix (e.g. the device was revoked).
    Error,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct FormProgress {
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub records_done: u32,
    pub records_total: u32,
    #[ts(type = "number")]
    pub bytes_done: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct SyncProgress {
    pub records_done: u32,
    pub records_total: u32,
    #[ts(type = "number")]
    pub bytes_done: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
    pub per_form: Vec<FormProgress>,
}

/// Outbox entries per sync state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct OutboxCounts {
    pub pending: u32,
    pub sending: u32,
    pub sent: u32,
    pub quarantined: u32,
    pub rejected: u32,
    pub failed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FormVersionOffer {
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub published_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncStatus {
    pub link: Option<DeviceLink>,
    pub phase: SyncPhase,
    /// RFC 3339, when waiting.
    pub next_attempt_at: Option<String>,
    pub last_success_at: Option<String>,
    /// A message safe to show: never answer content.
    pub last_error: Option<String>,
    pub progress: Option<SyncProgress>,
    pub counts: OutboxCounts,
    pub auto_sync: bool,
    pub proxy: Option<String>,
    /// Form versions pulled during sync that the user has not been shown yet.
    pub new_form_versions: Vec<FormVersionOffer>,
}

/// Where one response stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordSyncState {
    /// Waiting to be sent.
    Pending,
    /// In the batch being sent now.
    Sending,
    /// The server holds every revision of it.
    Sent,
    /// The server holds it but flagged it for a coordinator: `reasons` say why.
    Quarantined,
    /// The server did not take a revision of it: `reasons` say why. Kept on the device;
    /// not sent again unchanged.
    Rejected,
    /// The last attempt failed before the server answered, or a file it needs could not
    /// be sent (`reasons` say why); it is retried.
    Failed,
}

impl RecordSyncState {
    fn parse(s: &str) -> RecordSyncState {
        match s {
            "sending" => RecordSyncState::Sending,
            "sent" => RecordSyncState::Sent,
            "quarantined" => RecordSyncState::Quarantined,
            "rejected" => RecordSyncState::Rejected,
            "failed" => RecordSyncState::Failed,
            _ => RecordSyncState::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OutboxEntry {
    pub response_id: String,
    pub form_id: String,
    pub form_version: String,
    pub form_title: String,
    /// The same neutral label the drafts list uses.
    pub label: String,
    pub state: RecordSyncState,
    /// Why it was quarantined or rejected, or the last send error.
    pub reasons: Vec<String>,
    pub attempts: u32,
    pub updated_at: String,
    pub revisions: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ProvisionRequest {
    /// The `voices1:…` text from `voices-server device add` (whitespace tolerated).
    pub code: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SyncSettingsRequest {
    pub auto_sync: bool,
    /// `http://host:port` of an HTTP(S) proxy; `null` uses `HTTPS_PROXY`/`HTTP_PROXY` if set.
    pub proxy: Option<String>,
}

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
}

type Emitter = Box<dyn Fn(SyncStatus) + Send + Sync>;

#[derive(Default)]
struct Live {
    phase: Option<SyncPhase>,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    progress: Option<SyncProgress>,
    last_emit: Option<Instant>,
}

/// The running state of sync, shared by the commands and the background loop.
#[derive(Default)]
pub struct SyncShared {
    live: Mutex<Live>,
    wake: tokio::sync::Notify,
    now_requested: AtomicBool,
    running: tokio::sync::Mutex<()>,
    emitter: Mutex<Option<Emitter>>,
    options: Mutex<ClientOptions>,
    clock_skew_ms: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SyncShared {
    /// Where `sync-status` events go (the app shell sets this to emit Tauri events).
    pub fn set_emitter(&self, emit: impl Fn(SyncStatus) + Send + Sync + 'static) {
        *lock(&self.emitter) = Some(Box::new(emit));
    }

    /// Connection options (tests and field support: fresh connections).
    pub fn set_client_options(&self, options: ClientOptions) {
        *lock(&self.options) = options;
    }

    /// Shift the clock that stamps revisions (HLC) by `skew`: reproduces a device whose
    /// clock is days off, which the server must not care about (tests, field support).
    pub fn set_clock_skew(&self, skew: chrono::Duration) {
        self.clock_skew_ms
            .store(skew.num_milliseconds(), Ordering::SeqCst);
    }

    /// The device clock in Unix milliseconds, as revisions are stamped with it.
    fn now_ms(&self) -> u64 {
        let skew = self.clock_skew_ms.load(Ordering::SeqCst);
        chrono::Utc::now()
            .timestamp_millis()
            .saturating_add(skew)
            .max(0) as u64
    }

    /// Something became due (a response was finalized): let the loop look.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Sync now, whatever the backoff says.
    pub fn request_now(&self) {
        self.now_requested.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn update(&self, f: impl FnOnce(&mut Live)) {
        f(&mut lock(&self.live));
    }
}

fn client_error(e: ClientError) -> Error {
    match e {
        ClientError::Offline(m) => Error::Offline(m),
        ClientError::Setup(m) => Error::InvalidInput(m),
        // The token expired (90 days), was revoked, or the server forgot the device.
        ClientError::Refused {
            status: 401,
            code,
            detail,
            ..
        } => Error::NotProvisioned(format!(
            "the server no longer accepts this device ({detail}, {code}): link it again with a new code"
        )),
        ClientError::Refused {
            status,
            code,
            detail,
            ..
        } => Error::ServerRefused(format!("{detail} ({code}, HTTP {status})")),
    }
}

fn to_link(row: &LinkRow) -> DeviceLink {
    DeviceLink {
        server_url: row.server_url.clone(),
        project: row.project.clone(),
        device_id: row.device_id.clone(),
        enumerator: row.enumerator.clone(),
        linked_at: row.linked_at.clone(),
    }
}

impl Voices {
    fn client_options(&self) -> Result<ClientOptions> {
        let mut options = lock(&self.sync().options).clone();
        if let Some(proxy) = self.with_store(|s| s.setting(PROXY_KEY))? {
            options.proxy = Some(proxy);
        }
        Ok(options)
    }

    /// The sync state as the UI shows it.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let (link, counts, offers, auto, proxy, last_success) = self.with_store(|s| {
            Ok((
                s.link()?,
                s.outbox_counts()?,
                s.unseen_form_offers()?,
                s.setting(AUTO_SYNC_KEY)?,
                s.setting(PROXY_KEY)?,
                s.setting(LAST_SUCCESS_KEY)?,
            ))
        })?;
        let mut c = OutboxCounts::default();
        for (state, n) in counts {
            match state.as_str() {
                "pending" => c.pending += n,
                "sending" => c.sending += n,
                "sent" => c.sent += n,
                "quarantined" => c.quarantined += n,
                "rejected" => c.rejected += n,
                "failed" => c.failed += n,
                _ => {}
            }
        }
        let live = lock(&self.sync().live);
        let phase = match (&link, live.phase) {
            (None, _) => SyncPhase::NotLinked,
            (Some(_), Some(p)) => p,
            (Some(_), None) => SyncPhase::Idle,
        };
        Ok(SyncStatus {
            link: link.as_ref().map(to_link),
            phase,
            next_attempt_at: live.next_attempt_at.clone(),
            last_success_at: last_success,
            last_error: live.last_error.clone(),
            progress: live.progress.clone(),
            counts: c,
            auto_sync: auto.as_deref() != Some("false"),
            proxy,
            new_form_versions: offers
                .into_iter()
                .map(|o| FormVersionOffer {
                    form_id: o.form_id,
                    version: o.version,
                    title: o.title,
                    published_at: o.published_at,
                })
                .collect(),
        })
    }

    /// Send the current status to the UI; while syncing at most every 200 ms unless `force`.
    fn emit_status(&self, force: bool) {
        {
            let mut live = lock(&self.sync().live);
            let recent = live
                .last_emit
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200));
            if recent && !force {
                return;
            }
            live.last_emit = Some(Instant::now());
        }
        if let Ok(status) = self.sync_status() {
            if let Some(emit) = lock(&self.sync().emitter).as_ref() {
                emit(status);
            }
        }
    }

    pub fn set_sync_settings(&self, auto_sync: bool, proxy: Option<&str>) -> Result<SyncStatus> {
        let proxy = proxy.map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = proxy {
            reqwest::Proxy::all(p).map_err(|e| Error::InvalidInput(format!("proxy `{p}`: {e}")))?;
        }
        self.with_store(|s| {
            s.set_setting(AUTO_SYNC_KEY, if auto_sync { "true" } else { "false" })?;
            match proxy {
                Some(p) => s.set_setting(PROXY_KEY, p),
                None => s.delete_setting(PROXY_KEY),
            }
        })?;
        self.sync().nudge();
        self.emit_status(true);
        self.sync_status()
    }

    pub fn acknowledge_form_versions(&self) -> Result<()> {
        self.with_store(|s| s.acknowledge_form_offers())?;
        self.emit_status(true);
        Ok(())
    }

    pub fn unlink_device(&self) -> Result<()> {
        self.with_store(|s| s.clear_link())?;
        self.sync().update(|l| *l = Live::default());
        self.emit_status(true);
        Ok(())
    }

    /// Link this device with the `voices1:…` code from `voices-server device add`.
    pub async fn provision_device(&self, code_text: &str) -> Result<DeviceLink> {
        let text = code_text.trim();
        let code = ProvisioningCode::from_text(text).map_err(Error::BadCode)?;
        let client = Client::new(&code.server, &self.client_options()?).map_err(client_error)?;
        let credentials = match client.provision(text).await {
            Ok(c) => c,
            Err(ClientError::Refused { code, detail, .. })
                if code == "invalid_code" || code == "bad_json" =>
            {
                return Err(Error::BadCode(detail))
            }
            Err(e) => return Err(client_error(e)),
        };
        let row = LinkRow {
            server_url: code.server.trim_end_matches('/').to_owned(),
            project: credentials.project,
            device_id: credentials.device_id,
            enumerator: credentials.enumerator,
            token: credentials.token,
            expires_at: credentials.expires_at,
            linked_at: now(),
        };
        self.with_store(|s| {
            s.set_link(&row)?;
            // Responses finalized before the link become revisions under the device id.
            revisions::build_due(s, &row.device_id, self.sync().now_ms(), &now())
        })?;
        self.sync().update(|l| *l = Live::default());
        self.sync().request_now();
        self.emit_status(true);
        Ok(to_link(&row))
    }

    /// Build revisions for what was finalized, when linked (called after finalizing).
    pub(crate) fn after_finalize(&self) {
        let built = self.with_store(|s| match s.link()? {
            Some(link) => revisions::build_due(s, &link.device_id, self.sync().now_ms(), &now()),
            None => Ok(0),
        });
        // A failure here is not lost work: the next sync builds what is due.
        if built.is_ok_and(|n| n > 0) {
            self.sync().nudge();
            self.emit_status(true);
        }
    }

    pub fn list_outbox(&self) -> Result<Vec<OutboxEntry>> {
        let rows = self.with_store(|s| s.outbox_entries())?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxEntry {
                form_title: self.form_title(&r.form_id, &r.form_version),
                label: crate::voices::neutral_label(&r.response_id),
                state: RecordSyncState::parse(&r.state),
                reasons: {
                    let mut reasons = match (r.reasons.is_empty(), r.last_error) {
                        (true, Some(e)) if r.state == "failed" => vec![e],
                        _ => r.reasons,
                    };
                    if r.superseded > 0 {
                        reasons.push(superseded_reason(r.superseded));
                    }
                    reasons
                },
                attempts: r.attempts,
                updated_at: r.updated_at,
                revisions: r.revisions,
                response_id: r.response_id,
                form_id: r.form_id,
                form_version: r.form_version,
            })
            .collect())
    }

    /// Whether something waits to be sent.
    pub fn sync_due(&self) -> Result<bool> {
        self.with_store(|s| {
            Ok(!s.unacknowledged_revisions(1)?.is_empty()
                || (s.link()?.is_some() && !s.responses_to_build()?.is_empty()))
        })
    }

    /// One full sync: forms down, revisions and attachments up. One at a time.
    pub async fn sync_once(&self) -> Result<SyncSummary> {
        let _running = self.sync().running.lock().await;
        self.sync().update(|l| {
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
        self.with_store(|s| s.reset_sending()).ok();
        match &result {
            Ok(summary) => {
                if summary.still_due == 0 {
                    self.with_store(|s| s.set_setting(LAST_SUCCESS_KEY, &now_text))
                        .ok();
                }
                let problems = (!summary.problems.is_empty()).then(|| summary.problems.join("; "));
                self.sync().update(|l| {
                    l.phase = Some(SyncPhase::Idle);
                    l.last_error = problems;
                    l.progress = None;
                });
            }
            Err(e) => {
                let message = e.to_string();
                self.sync().update(|l| {
                    l.phase = Some(SyncPhase::Waiting);
                    l.last_error = Some(message);
                    l.progress = None;
                });
            }
        }
        self.emit_status(true);
        result
    }

    async fn sync_inner(&self) -> Result<SyncSummary> {
        let link = self.with_store(|s| s.link())?.ok_or_else(|| {
            Error::NotProvisioned("this device is not linked to a server yet".into())
        })?;
        let client = Client::new(&link.server_url, &self.client_options()?)
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
        summary.forms_installed = self
            .pull_forms(&client, dictionaries, &mut summary.problems)
            .await?;
        summary.revisions_built = self.with_store(|s| {
            s.reset_sending()?;
            revisions::build_due(s, &link.device_id, self.sync().now_ms(), &now())
        })?;
        let destination = format!("{}|{}", link.server_url, link.project);
        self.upload_all(&client, &info, &destination, &mut summary)
            .await?;
        summary.still_due =
            self.with_store(|s| Ok(s.unacknowledged_revisions(u32::MAX)?.len() as u32))?;
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
        let have: HashSet<(String, String)> = self
            .with_store(|s| s.form_versions())?
            .into_iter()
            .map(|r| (r.form_id, r.version))
            .collect();
        let mut installed = 0;
        for summary in listed {
            let on_device = have.contains(&(summary.form.clone(), summary.version.clone()));
            let kept = self
                .with_store(|s| s.server_form_document(&summary.form, &summary.version))?
                .is_some_and(|(sha, _)| sha == summary.sha256);
            if on_device && (kept || !keep_documents) {
                continue;
            }
            let document = client
                .form_document(&summary.form, &summary.version)
                .await
                .map_err(client_error)?;
            if keep_documents && crate::voices::sha256_hex(document.as_bytes()) == summary.sha256 {
                self.with_store(|s| {
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
            let report = self.import_text(
                &format!("{} {}", summary.form, summary.version),
                &document,
                "server",
            )?;
            if report.outcome == "added" {
                installed += 1;
                self.with_store(|s| {
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

    fn progress_for(&self, due: &[RevisionRow]) -> SyncProgress {
        let mut per: BTreeMap<(String, String), FormProgress> = BTreeMap::new();
        for r in due {
            let (form, version) = form_of(&r.body);
            let entry = per
                .entry((form.clone(), version.clone()))
                .or_insert_with(|| FormProgress {
                    title: self.form_title(&form, &version),
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
        self.sync().update(|l| {
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
        self.sync().update(|l| {
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

    async fn upload_all(
        &self,
        client: &Client,
        info: &ServerInfo,
        destination: &str,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let all_due = self.with_store(|s| s.unacknowledged_revisions(u32::MAX))?;
        let mut progress = self.progress_for(&all_due);
        for (_, size) in self.attachments_due(&all_due, destination)? {
            progress.bytes_total += size;
        }
        self.sync().update(|l| l.progress = Some(progress));
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
        let wanted = match lock(&self.sync().options).batch_records {
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
            let window = self.with_store(|s| {
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
                    let files = self.with_store(|s| s.attachment_files(&r.response_id))?;
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
                    self.with_store(|s| s.note_send_failure(&ids, why, &now()))?;
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
                            ack: "duplicate".into(),
                            code: None,
                            reasons: Vec::new(),
                        })
                        .collect();
                    self.with_store(|s| s.apply_acks(&acks, &now()))?;
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
                self.with_store(|s| s.server_form_document(&version.0, &version.1))?
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
            self.with_store(|s| {
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
                    self.with_store(|s| s.mark_sending(&responses, false, &now()))?;
                    no_dictionary.insert(version.clone());
                    continue;
                }
                Err(ClientError::Refused { status: 413, .. }) if batch.len() > 1 => {
                    self.with_store(|s| s.mark_sending(&responses, false, &now()))?;
                    batch_records = (batch.len() / 2).max(1);
                    continue;
                }
                Err(e) => {
                    let e = client_error(e);
                    // The server may have kept part of it: ask before resending.
                    uncertain.extend(sent_ids.iter().cloned());
                    self.with_store(|s| s.note_send_failure(&sent_ids, &e.to_string(), &now()))?;
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
                    ack: match r.status {
                        AckStatus::Accepted => "accepted",
                        AckStatus::Duplicate => "duplicate",
                        AckStatus::Quarantined => "quarantined",
                        AckStatus::Rejected => "rejected",
                    }
                    .to_owned(),
                    code: r.code.clone(),
                    reasons: r.reasons.clone(),
                })
                .collect();
            for a in &acks {
                match a.ack.as_str() {
                    "accepted" => summary.accepted += 1,
                    "duplicate" => summary.duplicate += 1,
                    "quarantined" => summary.quarantined += 1,
                    _ => summary.rejected += 1,
                }
            }
            self.with_store(|s| {
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

    /// `(sha256, size)` of attachments of these revisions' responses not yet on the server.
    fn attachments_due(
        &self,
        due: &[RevisionRow],
        destination: &str,
    ) -> Result<Vec<(String, u64)>> {
        let responses: std::collections::BTreeSet<&str> =
            due.iter().map(|r| r.response_id.as_str()).collect();
        self.with_store(|s| {
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            for response in responses {
                for (sha, size) in s.attachment_files(response)? {
                    if seen.insert(sha.clone()) && !s.attachment_uploaded(&sha, destination)? {
                        out.push((sha, size));
                    }
                }
            }
            Ok(out)
        })
    }

    /// Upload (resuming where the server stands) every file these revisions need,
    /// before the revisions themselves: how many were completed, and the files that
    /// cannot be sent from this device `(sha256, why)` (missing or damaged on disk).
    async fn upload_attachments(
        &self,
        client: &Client,
        batch: &[RevisionRow],
        destination: &str,
        info: &ServerInfo,
    ) -> Result<(u32, Vec<(String, String)>)> {
        let chunk_limit = CHUNK_BYTES.min(info.limits.max_chunk_bytes.max(1));
        let mut completed = 0;
        let mut unusable = Vec::new();
        for (sha, size) in self.attachments_due(batch, destination)? {
            let path = self.attachment_file(&sha);
            let short = &sha[..sha.len().min(12)];
            let problem = match std::fs::read(&path) {
                Ok(b) if b.len() as u64 == size && crate::voices::sha256_hex(&b) == sha => Ok(b),
                Ok(_) => Err(format!(
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
                    self.with_store(|s| s.mark_attachment_uploaded(&sha, destination, &now()))?;
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

    /// Send one file's bytes in chunks from where the server stands until it is complete.
    async fn send_file(
        &self,
        client: &Client,
        sha: &str,
        bytes: &[u8],
        chunk_limit: u64,
    ) -> std::result::Result<(), ClientError> {
        let size = bytes.len() as u64;
        let received_on_server =
            |status: Option<voices_core::sync::protocol::AttachmentStatus>| match status {
                Some(s) if s.complete => size,
                Some(s) => s.received,
                None => 0,
            };
        let mut received = received_on_server(client.attachment_status(sha).await?);
        let mut mismatches = 0;
        while received < size {
            let end = (received + chunk_limit).min(size);
            let chunk = bytes[received as usize..end as usize].to_vec();
            let sent = end - received;
            match client.put_chunk(sha, received, size, chunk).await {
                Ok(status) => {
                    self.sync().update(|l| {
                        if let Some(p) = l.progress.as_mut() {
                            p.bytes_done += sent;
                        }
                    });
                    self.emit_status(false);
                    received = if status.complete {
                        size
                    } else {
                        status.received
                    };
                }
                Err(ClientError::Refused { code, .. })
                    if code == "offset_mismatch" && mismatches < 3 =>
                {
                    mismatches += 1;
                    received = received_on_server(client.attachment_status(sha).await?);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The automatic sync loop: runs when something is due or the periodic form check
    /// comes round, backs off (full jitter, capped) after failures, and sleeps otherwise.
    /// Never returns.
    pub async fn auto_sync_loop(&self) {
        let mut failures: u32 = 0;
        let mut retry_at: Option<Instant> = None;
        let mut last_check: Option<Instant> = None;
        loop {
            let now_requested = self.sync().now_requested.swap(false, Ordering::SeqCst);
            if now_requested {
                failures = 0;
                retry_at = None;
            }
            let linked = self.with_store(|s| s.link()).ok().flatten().is_some();
            let auto = self.sync_status().map(|s| s.auto_sync).unwrap_or(true);
            let backing_off = retry_at.is_some_and(|t| Instant::now() < t);
            let periodic = last_check.is_none_or(|t| t.elapsed() >= backoff::PERIODIC_CHECK);
            let due = self.sync_due().unwrap_or(false);
            let run = linked
                && (now_requested
                    || (auto && !backing_off && (due || periodic || retry_at.is_some())));
            if run {
                last_check = Some(Instant::now());
                match self.sync_once().await {
                    // Held-back responses wait for their file (the reason is shown); a
                    // quick retry would not help them, the periodic check tries again.
                    Ok(summary) if summary.still_due <= summary.held_back => {
                        failures = 0;
                        retry_at = None;
                    }
                    result => {
                        let refused = matches!(
                            result,
                            Err(Error::ServerRefused(_) | Error::NotProvisioned(_))
                        );
                        failures = failures.saturating_add(1);
                        let random = DeviceEnvironment::default().random();
                        let wait = backoff::delay(failures, random, backoff::BASE, backoff::CAP);
                        retry_at = Some(Instant::now() + wait);
                        let at = chrono::Local::now()
                            + chrono::Duration::from_std(wait).unwrap_or_default();
                        self.sync().update(|l| {
                            l.phase = Some(if refused {
                                SyncPhase::Error
                            } else {
                                SyncPhase::Waiting
                            });
                            l.next_attempt_at = Some(
                                at.fixed_offset()
                                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                            );
                            if let Ok(summary) = &result {
                                l.last_error = Some(format!(
                                    "{} revisions are still waiting for the server",
                                    summary.still_due
                                ));
                            }
                        });
                        self.emit_status(true);
                    }
                }
            }
            let sleep = match retry_at {
                Some(t) => t.saturating_duration_since(Instant::now()),
                None => backoff::PERIODIC_CHECK,
            };
            tokio::select! {
                _ = self.sync().wake.notified() => {}
                _ = tokio::time::sleep(sleep.max(Duration::from_millis(50))) => {}
            }
        }
    }
}

/// The outbox's note on a response whose unsent revisions belong to an earlier link.
fn superseded_reason(count: u32) -> String {
    let kept = if count == 1 {
        "its earlier unsent revision stays on the device and is not sent".to_owned()
    } else {
        format!("its {count} earlier unsent revisions stay on the device and are not sent")
    };
    format!(
        "this device was linked again before all of this response went out: the whole response is sent once under the new link; {kept}"
    )
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
