//! The project's device policy on the device: taken from the server at each sync and
//! kept in the settings (the idle lock reads it), and retention: responses the server
//! acknowledged leave the device once the policy's days have passed (`store/retention.rs`
//! says what stays).

use chrono::{DateTime, Duration};
use voices_core::sync::protocol::DevicePolicy;

use super::Syncer;
use crate::env::now;
use crate::error::Result;

/// The settings key of the idle time before the app locks (seconds).
pub(crate) const IDLE_LOCK_KEY: &str = "device.idle_lock_seconds";
/// The settings key of the days a sent, acknowledged response stays on the device.
pub(crate) const RETENTION_DAYS_KEY: &str = "device.retention_days";

impl Syncer {
    /// Keep the project's policy for the lock and for retention.
    pub(crate) fn keep_policy(&self, policy: &DevicePolicy) -> Result<()> {
        self.store.with(|s| {
            s.set_setting(IDLE_LOCK_KEY, &policy.idle_lock_seconds.to_string())?;
            s.set_setting(RETENTION_DAYS_KEY, &policy.retention_days.to_string())
        })
    }

    /// The days a response stays after its acknowledgement, as the project's policy
    /// says; `None` until a sync brought the policy (an app upgraded in the field purges
    /// nothing before its project has had its say).
    pub fn retention_days(&self) -> Result<Option<u32>> {
        let stored = self.store.with(|s| s.setting(RETENTION_DAYS_KEY))?;
        Ok(stored.and_then(|v| v.parse().ok()))
    }

    /// Purge every response acknowledged at least the retention period ago, and the
    /// sealed files only they used; how many were purged.
    pub fn purge_acknowledged(&self) -> Result<usize> {
        let Some(days) = self.retention_days()? else {
            return Ok(0);
        };
        let now_text = now();
        let cutoff = DateTime::parse_from_rfc3339(&now_text).map_err(|e| {
            crate::error::Error::Corrupt(format!("the clock's time {now_text}: {e}"))
        })? - Duration::days(days.into());
        let mut purged = 0;
        for (id, acked_at) in self.store.with(|s| s.purgeable_responses())? {
            // A time this app did not write cannot be judged: the response stays.
            let Ok(acked) = DateTime::parse_from_rfc3339(&acked_at) else {
                continue;
            };
            if acked > cutoff {
                continue;
            }
            let Some(unused) = self.store.with(|s| s.purge_response(&id, &now_text))? else {
                continue;
            };
            for sha in unused {
                self.files.remove(&sha)?;
            }
            purged += 1;
        }
        Ok(purged)
    }
}
