//! What the UI shows of sync: the status (link, phase, progress, outbox counts, new
//! form versions) sent as events while it changes, and the outbox list.

use std::time::{Duration, Instant};

use serde::Serialize;
use ts_rs::TS;

use super::{Syncer, AUTO_SYNC_KEY, LAST_SUCCESS_KEY, PROXY_KEY};
use crate::error::{ErrorKind, Result};
use crate::lock::lock;
use crate::store::LinkRow;
use crate::view::neutral_label;

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
    /// A message safe to show: never answer content. In English: the UI shows the
    /// sentence of `last_error_kind` (or of `still_waiting`) in the enumerator's language
    /// and keeps this as the detail.
    pub last_error: Option<String>,
    /// What kind of failure stopped the last run, when one did.
    pub last_error_kind: Option<ErrorKind>,
    /// How many revisions the last run left unacknowledged, when that is the problem.
    pub still_waiting: Option<u32>,
    pub progress: Option<SyncProgress>,
    pub counts: OutboxCounts,
    pub auto_sync: bool,
    pub proxy: Option<String>,
    /// Form versions pulled during sync that the user has not been shown yet.
    pub new_form_versions: Vec<FormVersionOffer>,
    /// Responses sent back to the enumerator and not finalized again (the header's
    /// "Returned" count).
    pub returned: u32,
    /// Responses withdrawn by the coordinator (their respondents withdrew) and removed
    /// from this device: a count only, nothing that names a respondent.
    pub withdrawn: u32,
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

impl Syncer {
    /// The sync state as the UI shows it.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let (link, counts, offers, auto, proxy, last_success, returned, withdrawn) =
            self.store.with(|s| {
                Ok((
                    s.link()?,
                    s.outbox_counts()?,
                    s.unseen_form_offers()?,
                    s.setting(AUTO_SYNC_KEY)?,
                    s.setting(PROXY_KEY)?,
                    s.setting(LAST_SUCCESS_KEY)?,
                    s.sent_back_count()?,
                    s.withdrawn_count()?,
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
        let live = lock(&self.live);
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
            last_error_kind: live.last_error_kind,
            still_waiting: live.still_waiting,
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
            returned,
            withdrawn,
        })
    }

    /// Send the current status to the UI; while syncing at most every 200 ms unless `force`.
    pub(super) fn emit_status(&self, force: bool) {
        {
            let mut live = lock(&self.live);
            let recent = live
                .last_emit
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200));
            if recent && !force {
                return;
            }
            live.last_emit = Some(Instant::now());
        }
        if let Ok(status) = self.sync_status() {
            if let Some(emit) = lock(&self.emitter).as_ref() {
                emit(status);
            }
        }
    }

    pub fn list_outbox(&self) -> Result<Vec<OutboxEntry>> {
        let rows = self.store.with(|s| s.outbox_entries())?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxEntry {
                form_title: self.forms.title(&r.form_id, &r.form_version),
                label: neutral_label(&r.response_id),
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
}

pub(super) fn to_link(row: &LinkRow) -> DeviceLink {
    DeviceLink {
        server_url: row.server_url.clone(),
        project: row.project.clone(),
        device_id: row.device_id.clone(),
        enumerator: row.enumerator.clone(),
        linked_at: row.linked_at.clone(),
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
