//! Sync with `voices-server`: provisioning, pulling form versions, building revisions,
//! uploading attachments and revisions with per-record acknowledgements, and the
//! automatic background loop with backoff. [`Syncer`] holds the store it shares with
//! the interviews, the form library, and the running state of sync.
//!
//! Invariants: the device never deletes anything because of a send result (rejected
//! revisions are kept and shown); a revision, once built, is never changed (retries send
//! the same bytes); every acknowledgement is committed before the next batch is sent.

mod auto;
pub mod backoff;
pub mod client;
mod directory;
mod feed;
mod files;
mod link;
pub(crate) mod policy;
pub(crate) mod profile;
pub mod revisions;
mod run;
pub mod seal;
mod status;
pub mod tls;
mod upload;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::error::Error;
use crate::forms::Forms;
use crate::lock::lock;
use crate::store::SharedStore;
use crate::vault::AttachmentFiles;
use client::{ClientError, ClientOptions};

pub use files::sha256_hex;
pub use link::{ProvisionRequest, SyncSettingsRequest};
pub use run::SyncSummary;
pub use status::{
    DeviceLink, FormProgress, FormVersionOffer, OutboxCounts, OutboxEntry, RecordSyncState,
    SyncPhase, SyncProgress, SyncStatus,
};
pub use upload::BATCH_RECORDS;

const AUTO_SYNC_KEY: &str = "sync.auto";

/// The server's answer to every call of a device revoked with wipe.
pub const DEVICE_WIPE_CODE: &str = "device_wipe";

const PROXY_KEY: &str = "sync.proxy";

const LAST_SUCCESS_KEY: &str = "sync.last_success_at";

type Emitter = Box<dyn Fn(SyncStatus) + Send + Sync>;

#[derive(Default)]
struct Live {
    phase: Option<SyncPhase>,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    last_error_kind: Option<crate::error::ErrorKind>,
    /// Revisions the last run left unacknowledged (the background loop's retry).
    still_waiting: Option<u32>,
    progress: Option<SyncProgress>,
    last_emit: Option<Instant>,
}

/// Sync with the server: the store and forms it works on, and its running state, shared
/// by the commands and the background loop.
pub struct Syncer {
    store: SharedStore,
    forms: Arc<Forms>,
    files: Arc<AttachmentFiles>,
    live: Mutex<Live>,
    wake: tokio::sync::Notify,
    now_requested: AtomicBool,
    running: tokio::sync::Mutex<()>,
    emitter: Mutex<Option<Emitter>>,
    options: Mutex<ClientOptions>,
    clock_skew_ms: AtomicI64,
    /// Responses the device feed changed in the store since an interview last opened
    /// them: an interview open in memory is read again before its next step.
    feed_changed: Mutex<std::collections::HashSet<String>>,
}

impl Syncer {
    pub(crate) fn new(
        store: SharedStore,
        forms: Arc<Forms>,
        files: Arc<AttachmentFiles>,
    ) -> Syncer {
        Syncer {
            store,
            forms,
            files,
            live: Mutex::default(),
            wake: tokio::sync::Notify::new(),
            now_requested: AtomicBool::new(false),
            running: tokio::sync::Mutex::new(()),
            emitter: Mutex::new(None),
            options: Mutex::default(),
            clock_skew_ms: AtomicI64::new(0),
            feed_changed: Mutex::default(),
        }
    }

    /// Whether the device feed changed response `id` since this was last asked.
    pub(crate) fn take_feed_changed(&self, id: &str) -> bool {
        lock(&self.feed_changed).remove(id)
    }

    /// Where `sync-status` events go (the app shell sets this to emit Tauri events).
    pub fn set_emitter(&self, emit: impl Fn(SyncStatus) + Send + Sync + 'static) {
        *lock(&self.emitter) = Some(Box::new(emit));
    }

    /// Whether the device is linked to a server (an unreadable store counts as not linked).
    pub fn is_linked(&self) -> bool {
        self.store.with(|s| s.link()).ok().flatten().is_some()
    }

    /// Connection options (tests and field support: fresh connections).
    pub fn set_client_options(&self, options: ClientOptions) {
        *lock(&self.options) = options;
    }

    /// Shift the clock that stamps revisions (HLC) by `skew`: reproduces a device whose
    /// clock is days off, which the server must not care about.
    #[cfg(feature = "test-support")]
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
        // A coordinator revoked this device with wipe: the caller erases its data.
        ClientError::Refused {
            status: 401, code, ..
        } if code == DEVICE_WIPE_CODE => Error::Wiped(
            "a coordinator revoked this device with wipe: its data is erased".to_owned(),
        ),
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
