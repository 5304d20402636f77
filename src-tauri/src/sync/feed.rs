//! The device feed down: after its uploads, the device pulls what the server says about
//! the responses it started (review states, comments, coordinators' edits) from the
//! cursor it kept, page by page, each item merged and committed with the cursor, so a
//! cut connection costs at most the page on the wire.

use voices_core::sync::protocol::DEVICE_FEED_VERSION;

use super::client::Client;
use super::{client_error, Syncer};
use crate::env::now;
use crate::error::{Error, Result};
use crate::store::FeedApplied;

/// Items asked for per page.
const FEED_PAGE: usize = 200;

/// The setting holding the feed's cursor for one link (a new link starts again at 0).
pub(crate) fn cursor_key(device_id: &str) -> String {
    format!("sync.feed_cursor.{device_id}")
}

impl Syncer {
    /// Pull the device feed to its end; how many responses were merged, and how many
    /// withdrawn.
    pub(super) async fn pull_feed(&self, client: &Client, device_id: &str) -> Result<(u32, u32)> {
        let key = cursor_key(device_id);
        let (mut merged, mut withdrawn) = (0, 0);
        loop {
            let after = self
                .store
                .with(|s| s.setting(&key))?
                .unwrap_or_else(|| "0".into());
            let page = client
                .device_feed(&after, FEED_PAGE, DEVICE_FEED_VERSION)
                .await
                .map_err(client_error)?;
            // A page the app cannot read whole is applied not at all.
            page.check(DEVICE_FEED_VERSION)
                .map_err(|e| Error::ServerRefused(e.to_string()))?;
            let at = now();
            for item in &page.items {
                let applied = self
                    .store
                    .with(|s| s.apply_feed_item(item, device_id, &key, &at))?;
                match applied {
                    FeedApplied::Withdrawn(files) => {
                        for sha in files {
                            self.files.remove(&sha)?;
                        }
                        // An interview open on it reads the store again, and closes.
                        crate::lock::lock(&self.feed_changed).insert(item.response.clone());
                        withdrawn += 1;
                    }
                    FeedApplied::Merged => {
                        merged += 1;
                        crate::lock::lock(&self.feed_changed).insert(item.response.clone());
                    }
                    FeedApplied::Purged => merged += 1,
                    FeedApplied::NotHere => {}
                }
            }
            if page.items.is_empty() {
                // Nothing new: keep the server's word for where the feed stands.
                self.store.with(|s| s.set_setting(&key, &page.next))?;
            }
            if !page.more || page.items.is_empty() {
                return Ok((merged, withdrawn));
            }
        }
    }
}
