//! The automatic sync loop that runs beside the app.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use voices_core::Environment;

use super::backoff;
use super::status::SyncPhase;
use super::Syncer;
use crate::env::DeviceEnvironment;
use crate::error::Error;

impl Syncer {
    /// The automatic sync loop: runs when something is due or the periodic form check
    /// comes round, backs off (full jitter, capped) after failures, and sleeps otherwise.
    /// Returns only when the server orders this device wiped (the caller erases it).
    pub async fn auto_sync_loop(&self) {
        let mut failures: u32 = 0;
        let mut retry_at: Option<Instant> = None;
        let mut last_check: Option<Instant> = None;
        loop {
            let now_requested = self.now_requested.swap(false, Ordering::SeqCst);
            if now_requested {
                failures = 0;
                retry_at = None;
            }
            let linked = self.is_linked();
            let auto = self.sync_status().map(|s| s.auto_sync).unwrap_or(true);
            let backing_off = retry_at.is_some_and(|t| Instant::now() < t);
            let periodic = last_check.is_none_or(|t| t.elapsed() >= backoff::PERIODIC_CHECK);
            let due = self.sync_due().unwrap_or(false);
            let run = linked
                && (now_requested
                    || (auto && !backing_off && (due || periodic || retry_at.is_some())));
            if run {
                last_check = Some(Instant::now());
                let result = self.sync_once().await;
                if matches!(result, Err(Error::Wiped(_))) {
                    return;
                }
                match result {
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
                        self.update(|l| {
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
                                l.last_error_kind = None;
                                l.still_waiting = Some(summary.still_due);
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
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep.max(Duration::from_millis(50))) => {}
            }
        }
    }
}
