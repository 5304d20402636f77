//! `voices-app sync --data-dir DIR [--provision CODE]`: one sync without a window,
//! for field support and for the test that kills the app mid-sync. The PIN comes from
//! `VOICES_PIN` or the first line of standard input.

use std::path::PathBuf;

use std::io::BufRead;

use crate::sync::client::ClientOptions;

/// The device's PIN for a sync without a window (else the first line of standard input).
/// On a device without a PIN yet, it becomes the PIN.
pub const PIN_VAR: &str = "VOICES_PIN";

/// What the sync run answers when the server ordered the device wiped (never an exit
/// status: the device is erased and the process exits with 1).
const WIPE_ORDERED: i32 = -1;

fn read_pin() -> Option<String> {
    if let Ok(pin) = std::env::var(PIN_VAR) {
        return Some(pin);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    let pin = line.trim_end_matches(['\r', '\n']).to_owned();
    (!pin.is_empty()).then_some(pin)
}

/// Set to `1` to open a new connection for every request (middleboxes that break
/// reused connections; the fault tests' proxy).
pub const FRESH_CONNECTIONS_VAR: &str = "VOICES_SYNC_FRESH_CONNECTIONS";

/// `voices-app check --data-dir DIR`: unlock (the PIN as for sync) and print the store's
/// `PRAGMA integrity_check` (`integrity_check: ok`). Exit status 0 when sound. For field
/// support and the kill test, which cannot read the encrypted file itself.
pub fn check_main(data_dir: Option<PathBuf>) -> i32 {
    let Some(dir) = data_dir else {
        eprintln!("usage: voices-app check --data-dir DIR");
        return 2;
    };
    let Some(pin) = read_pin() else {
        eprintln!(
            "check: give the device's PIN in {PIN_VAR} or on the first line of standard input"
        );
        return 2;
    };
    let vault = crate::vault::Vault::new(&dir);
    if !vault.has_pin() {
        eprintln!("check: {} holds no Voices data", dir.display());
        return 1;
    }
    let result = vault
        .unlock(&pin)
        .and_then(|key| crate::store::Store::open(&vault.store_path(), &key))
        .and_then(|store| store.integrity_check());
    match result {
        Ok(report) => {
            println!("integrity_check: {report}");
            i32::from(report != "ok")
        }
        Err(e) => {
            eprintln!("check: {e}");
            1
        }
    }
}

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
    let pin = match read_pin() {
        Some(pin) => pin,
        None => {
            eprintln!(
                "sync: give the device's PIN in {PIN_VAR} or on the first line of standard input"
            );
            return 2;
        }
    };
    let voices = match crate::device::open_with_pin(&dir, &pin) {
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
    let status = runtime.block_on(async {
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
            Err(e @ crate::Error::Wiped(_)) => {
                eprintln!("sync: {e}");
                WIPE_ORDERED
            }
            Err(e) => {
                eprintln!("sync: {e}");
                1
            }
        }
    });
    if status != WIPE_ORDERED {
        return status;
    }
    // The server ordered this device wiped: close the store, then erase.
    drop(voices);
    if let Err(e) = crate::vault::Vault::new(&dir).wipe() {
        eprintln!("sync: erasing the device's data failed: {e}");
    }
    1
}
