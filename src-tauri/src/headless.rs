//! `voices-app sync --data-dir DIR [--provision CODE]`: one sync without a window,
//! for field support and for the test that kills the app mid-sync.

use std::path::PathBuf;

use crate::sync::client::ClientOptions;
use crate::Voices;

/// Set to `1` to open a new connection for every request (middleboxes that break
/// reused connections; the fault tests' proxy).
pub const FRESH_CONNECTIONS_VAR: &str = "VOICES_SYNC_FRESH_CONNECTIONS";

/// Run one sync and print a one-line summary. Exit status: 0 when everything due was
/// acknowledged, 1 when something is still due or the sync failed, 2 for bad usage.
pub fn sync_main(data_dir: Option<PathBuf>, provision_code: Option<String>) -> i32 {
    let Some(dir) = data_dir else {
        eprintln!("usage: voices-app sync --data-dir DIR [--provision CODE]");
        return 2;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sync: cannot start: {e}");
            return 1;
        }
    };
    let voices = match Voices::open(&dir) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("sync: cannot open {}: {e}", dir.display());
            return 1;
        }
    };
    voices.sync().set_client_options(ClientOptions {
        proxy: None,
        fresh_connections: std::env::var(FRESH_CONNECTIONS_VAR).is_ok_and(|v| v == "1"),
        batch_records: 0,
    });
    runtime.block_on(async {
        if !voices.sync().is_linked() {
            let Some(code) = provision_code else {
                eprintln!("sync: this device is not linked; pass --provision CODE");
                return 1;
            };
            if let Err(e) = voices.sync().provision_device(&code).await {
                eprintln!("sync: linking failed: {e}");
                return 1;
            }
        }
        match voices.sync().sync_once().await {
            Ok(s) => {
                let counts = voices.sync().sync_status().map(|s| s.counts).unwrap_or_default();
                println!(
                    "sync: {} forms installed, {} revisions built, {} accepted, {} duplicate, {} quarantined, {} rejected, {} files; outbox {} sent, {} quarantined, {} rejected, {} due ({} held back)",
                    s.forms_installed,
                    s.revisions_built,
                    s.accepted,
                    s.duplicate,
                    s.quarantined,
                    s.rejected,
                    s.attachments_sent,
                    counts.sent,
                    counts.quarantined,
                    counts.rejected,
                    s.still_due,
                    s.held_back
                );
                for problem in &s.problems {
                    eprintln!("sync: {problem}");
                }
                i32::from(s.still_due > 0)
            }
            Err(e) => {
                eprintln!("sync: {e}");
                1
            }
        }
    })
}
