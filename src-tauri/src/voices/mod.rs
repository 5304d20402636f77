//! The app's behaviour, independent of Tauri: forms on the device, interviews,
//! autosave, consent, privacy checks, finalizing, ending early and return visits,
//! attachments, safe exit, settings.
//! Commands are thin wrappers. [`Voices`] holds the interviews being worked on; the
//! form library ([`Forms`]) and sync ([`Syncer`]) are their own types sharing its store.

mod attachments;
mod interview;
mod matching;
mod returned;
mod safe_exit;
mod settings;
mod visits;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use voices_core::engine::{self, AnswerPath, Session};

use crate::env::DeviceEnvironment;
use crate::error::{Error, Result};
use crate::forms::Forms;
use crate::store::{SharedStore, Store};
use crate::sync::Syncer;
use crate::vault::{files, AttachmentFiles, DataKey, Vault};

pub use crate::decoy::{decoy, DecoyView};
pub use attachments::{AttachmentData, Upload};
pub use interview::{InterviewState, PageUpdate, ResponseSummary, Review};
pub use matching::{HandOverResult, MatchingCheck, Presentation};
pub use returned::{AnswerConflict, FieldComment, ReturnedDetail, ReturnedSummary};
pub use settings::{AppSettings, DEFAULT_IDLE_LOCK_SECONDS};
pub use visits::Visit;

/// An open interview: the engine's session plus what the store knows of it.
struct Open {
    session: Session,
    language: String,
}

/// The setting holding the key the attached files are sealed with (hex; inside the
/// encrypted store only).
const FILES_KEY: &str = "attachments.key";
/// Set once the files an app from before encryption left plain were sealed.
const FILES_SEALED: &str = "attachments.sealed";

pub struct Voices {
    store: SharedStore,
    forms: Arc<Forms>,
    files: Arc<AttachmentFiles>,
    /// Interviews being worked on, kept in step with the store after each commit.
    open: Mutex<HashMap<String, Open>>,
    env: Mutex<DeviceEnvironment>,
    sync: Syncer,
}

fn engine_error(e: engine::EngineError) -> Error {
    match e {
        engine::EngineError::UnknownPath(_) => Error::NotFound(e.to_string()),
        engine::EngineError::FormMismatch { .. } => Error::Corrupt(e.to_string()),
        engine::EngineError::RepeatLimit { .. }
        | engine::EngineError::RepeatControlled(_)
        | engine::EngineError::NotRelevant(_)
        | engine::EngineError::ReadOnly(_)
        | engine::EngineError::AlreadyDrawn(_)
        | engine::EngineError::RosterDrawn(_)
        | engine::EngineError::NobodyEligible(_)
        | engine::EngineError::AssentBeforeConsent
        | engine::EngineError::AssentNotAsked => Error::Conflict(e.to_string()),
        _ => Error::InvalidInput(e.to_string()),
    }
}

/// A path from the UI, parsed (and bounded) once at the boundary.
fn parse_path(text: &str) -> Result<AnswerPath> {
    AnswerPath::parse(text).map_err(|e| Error::InvalidInput(e.to_string()))
}

impl Voices {
    /// Open the data directory (creating it), its database (keyed with `key`) and
    /// attachment folder, and make sure the example forms are there. A store and files
    /// an app from before encryption left plain are encrypted here, nothing lost.
    pub fn open(data_dir: &Path, key: &DataKey) -> Result<Voices> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::file(format!("creating {}", data_dir.display()), e))?;
        let vault = Vault::new(data_dir);
        let attachments_dir = vault.attachments_dir();
        std::fs::create_dir_all(&attachments_dir)
            .map_err(|e| Error::file(format!("creating {}", attachments_dir.display()), e))?;
        let mut store = Store::open(&vault.store_path(), key)?;
        let files_key = match store.setting(FILES_KEY)? {
            Some(k) => zeroize::Zeroizing::new(k),
            None => {
                let k = files::new_files_key()?;
                store.set_setting(FILES_KEY, &k)?;
                k
            }
        };
        let files = Arc::new(AttachmentFiles::new(attachments_dir, &files_key)?);
        if store.setting(FILES_SEALED)?.is_none() {
            files.seal_plain_files()?;
            store.set_setting(FILES_SEALED, "1")?;
        }
        let device_id = match store.setting("device_id")? {
            Some(id) => id,
            None => {
                let id = format!("voices:{}", uuid::Uuid::new_v4());
                store.set_setting("device_id", &id)?;
                id
            }
        };
        let username = store.setting("username")?;
        // A sync cut off by the app being killed left entries `sending`: due again.
        store.reset_sending()?;
        let store = SharedStore::new(store);
        let forms = Arc::new(Forms::new(store.clone()));
        forms.load_examples()?;
        let voices = Voices {
            sync: Syncer::new(store.clone(), forms.clone(), files.clone()),
            store,
            forms,
            files,
            open: Mutex::new(HashMap::new()),
            env: Mutex::new(DeviceEnvironment {
                device_id: Some(device_id),
                username,
                enumerator: None,
            }),
        };
        // Retention runs out while the device is offline too. A failure leaves the
        // responses as they were (each purge is one transaction); the next sync retries.
        if let Err(e) = voices.sync.purge_acknowledged() {
            eprintln!("Voices: purging acknowledged responses failed: {e}");
        }
        Ok(voices)
    }

    /// The form versions on the device: import, list, compiled forms.
    pub fn forms(&self) -> &Forms {
        &self.forms
    }

    /// Sync with the server: status, linking, one run, the background loop.
    pub fn sync(&self) -> &Syncer {
        &self.sync
    }

    /// `PRAGMA integrity_check` of the store: `ok` when the file is sound.
    #[cfg(feature = "test-support")]
    pub fn integrity_check(&self) -> Result<String> {
        self.store.lock().integrity_check()
    }

    /// Direct store access for tests and measurements.
    #[cfg(any(test, feature = "test-support"))]
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        f(&mut self.store.lock())
    }
}
