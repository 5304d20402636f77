//! The device's lock: what the commands reach the app through.
//!
//! [`Device`] is the Tauri state. Until the enumerator's PIN unwraps the data key there
//! is no [`Voices`] at all (no connection, no key in memory); unlocking opens it, and
//! locking (by hand, after the idle time, or before a wipe) stops the sync task and
//! drops it, which closes the store and clears the key. Commands that need the app take
//! an [`Unlocked`] argument, which answers `locked` while there is none.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tauri::ipc::{CommandArg, CommandItem, InvokeError};
use tauri::{Manager, Runtime};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::cipher;
use crate::vault::{self, Vault};
use crate::Voices;

/// What stops the work started for an unlocked app (the sync task).
pub type Stop = Box<dyn FnOnce() + Send>;
type StartHook = Box<dyn Fn(Arc<Voices>) -> Stop + Send + Sync>;

/// Whether the app is open, and what the unlock screen says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LockStatus {
    /// First start (or after a wipe): a PIN must be set.
    New,
    Locked,
    Unlocked,
}

/// The lock as the UI shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceState {
    pub status: LockStatus,
    /// No PIN yet, but data from an app before encryption is here: setting the PIN
    /// encrypts it (nothing is lost).
    pub has_unencrypted_data: bool,
    /// Wrong PINs that may still be entered before the device's data is erased.
    pub attempts_left: u32,
    pub max_attempts: u32,
    /// From this many tries left, the screen warns what the last one does.
    pub warn_when_left: u32,
    pub min_pin_length: u32,
    /// Idle time after which the app locks itself (the project's setting, or the default).
    pub idle_lock_seconds: u32,
    /// The device's data was erased since the app started (too many wrong PINs or a
    /// wipe ordered by the coordinator): the screen says so.
    pub wiped: bool,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PinRequest {
    pub pin: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ChangePinRequest {
    pub old_pin: String,
    pub new_pin: String,
}

struct Session {
    voices: Arc<Voices>,
    stop: Option<Stop>,
}

/// The device's lock and, while unlocked, the app.
pub struct Device {
    vault: Vault,
    session: Mutex<Option<Session>>,
    on_unlock: Mutex<Option<StartHook>>,
    last_activity: Mutex<Instant>,
    wiped: AtomicBool,
    /// The idle time last read from the open store (the project's), so the lock screen
    /// says it while the store is closed.
    idle_lock_seconds: AtomicU32,
}

/// The PIN the crate's tests and benchmarks use.
#[cfg(feature = "test-support")]
pub const TEST_PIN: &str = "test-pin-1";

/// Open the app in `dir` with `pin`, setting it as the device's PIN when none is set
/// (the headless sync, tests).
pub fn open_with_pin(dir: &Path, pin: &str) -> Result<Voices> {
    let vault = Vault::new(dir);
    let key = if vault.has_pin() {
        vault.unlock(pin)?
    } else {
        set_pin_on(&vault, pin)?
    };
    Voices::open(dir, &key)
}

/// Set the first PIN. A store that opens with no key is one from before encryption and
/// is kept (opening encrypts it); an encrypted store without a key file is what an
/// interrupted wipe left, unreadable forever, and is erased first.
fn set_pin_on(vault: &Vault, pin: &str) -> Result<vault::DataKey> {
    vault::check_pin_rule(pin)?;
    let store = vault.store_path();
    if !vault.has_pin() && store.exists() && !cipher::is_plain(&store) {
        vault.wipe()?;
    }
    vault.set_pin(pin)
}

impl Device {
    pub fn new(dir: &Path) -> Device {
        Device {
            vault: Vault::new(dir),
            session: Mutex::new(None),
            on_unlock: Mutex::new(None),
            last_activity: Mutex::new(Instant::now()),
            wiped: AtomicBool::new(false),
            idle_lock_seconds: AtomicU32::new(crate::voices::DEFAULT_IDLE_LOCK_SECONDS),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.vault.dir().to_owned()
    }

    /// What to start each time the app is unlocked (the sync task); it returns how to
    /// stop it when the app locks.
    pub fn on_unlock(&self, start: impl Fn(Arc<Voices>) -> Stop + Send + Sync + 'static) {
        *lock(&self.on_unlock) = Some(Box::new(start));
    }

    pub fn state(&self) -> Result<DeviceState> {
        let unlocked = lock(&self.session).as_ref().map(|s| s.voices.clone());
        let status = match (&unlocked, self.vault.has_pin()) {
            (Some(_), _) => LockStatus::Unlocked,
            (None, true) => LockStatus::Locked,
            (None, false) => LockStatus::New,
        };
        let failed = self.vault.failed_unlocks()?;
        Ok(DeviceState {
            status,
            has_unencrypted_data: status == LockStatus::New
                && cipher::is_plain(&self.vault.store_path()),
            attempts_left: vault::MAX_FAILED_UNLOCKS.saturating_sub(failed),
            max_attempts: vault::MAX_FAILED_UNLOCKS,
            warn_when_left: vault::WARN_WHEN_LEFT,
            min_pin_length: vault::MIN_PIN_CHARS as u32,
            idle_lock_seconds: match &unlocked {
                Some(v) => {
                    let seconds = v.idle_lock_seconds()?;
                    self.idle_lock_seconds.store(seconds, Ordering::SeqCst);
                    seconds
                }
                None => self.idle_lock_seconds.load(Ordering::SeqCst),
            },
            wiped: self.wiped.load(Ordering::SeqCst),
        })
    }

    /// First start: set the PIN and open the app (encrypting an earlier app's data).
    pub fn set_pin(&self, pin: &str) -> Result<DeviceState> {
        if self.vault.has_pin() {
            return Err(Error::Conflict(
                "a PIN is set already; unlock or change it instead".to_owned(),
            ));
        }
        let key = set_pin_on(&self.vault, pin)?;
        self.open(&key)?;
        self.state()
    }

    pub fn unlock(&self, pin: &str) -> Result<DeviceState> {
        if lock(&self.session).is_some() {
            return self.state();
        }
        match self.vault.unlock(pin) {
            Ok(key) => {
                self.open(&key)?;
                self.state()
            }
            Err(e @ Error::Wiped(_)) => {
                self.wiped.store(true, Ordering::SeqCst);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn open(&self, key: &vault::DataKey) -> Result<()> {
        let voices = Arc::new(Voices::open(self.vault.dir(), key)?);
        let stop = lock(&self.on_unlock)
            .as_ref()
            .map(|start| start(voices.clone()));
        *lock(&self.session) = Some(Session { voices, stop });
        self.wiped.store(false, Ordering::SeqCst);
        self.touch();
        Ok(())
    }

    /// Lock now: stop the sync task and close the store (the key leaves memory).
    pub fn lock(&self) {
        let session = lock(&self.session).take();
        if let Some(mut session) = session {
            if let Some(stop) = session.stop.take() {
                stop();
            }
        }
    }

    /// Rewrap the data key under a new PIN (the app stays as it is). A wrong old PIN
    /// counts like any wrong PIN; the last one erases the device.
    pub fn change_pin(&self, old_pin: &str, new_pin: &str) -> Result<()> {
        self.voices()?;
        match self.vault.change_pin(old_pin, new_pin) {
            Err(e @ Error::Wiped(_)) => {
                self.lock();
                self.wiped.store(true, Ordering::SeqCst);
                Err(e)
            }
            other => other,
        }
    }

    /// Erase the device's data (a wipe the coordinator ordered): lock, then erase.
    pub fn wipe(&self) -> Result<()> {
        self.lock();
        self.vault.wipe()?;
        self.wiped.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// The open app, or `locked`.
    pub fn voices(&self) -> Result<Arc<Voices>> {
        lock(&self.session)
            .as_ref()
            .map(|s| s.voices.clone())
            .ok_or_else(|| Error::Locked("the device is locked: enter the PIN".to_owned()))
    }

    /// The enumerator did something: the idle time starts again.
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }

    /// Lock when the app was idle for its idle time; whether it locked now.
    pub fn lock_if_idle(&self) -> bool {
        let Ok(voices) = self.voices() else {
            return false;
        };
        let limit = voices
            .idle_lock_seconds()
            .unwrap_or(crate::voices::DEFAULT_IDLE_LOCK_SECONDS);
        self.idle_lock_seconds.store(limit, Ordering::SeqCst);
        drop(voices);
        if lock(&self.last_activity).elapsed() < Duration::from_secs(limit.into()) {
            return false;
        }
        self.lock();
        true
    }
}

/// A command argument: the unlocked app, or the `locked` error before the command runs.
pub struct Unlocked(Arc<Voices>);

impl Deref for Unlocked {
    type Target = Voices;
    fn deref(&self) -> &Voices {
        &self.0
    }
}

impl<'de, R: Runtime> CommandArg<'de, R> for Unlocked {
    fn from_command(command: CommandItem<'de, R>) -> std::result::Result<Self, InvokeError> {
        let device = command
            .message
            .webview_ref()
            .try_state::<Device>()
            .ok_or_else(|| {
                InvokeError::from(Error::Locked("the app is still starting".to_owned()))
            })?;
        device.voices().map(Unlocked).map_err(InvokeError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::policy::IDLE_LOCK_KEY;

    fn idle_for(device: &Device, seconds: u64) {
        *lock(&device.last_activity) = Instant::now() - Duration::from_secs(seconds);
    }

    #[test]
    fn the_app_locks_after_the_projects_idle_time_and_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::new(dir.path());
        device.set_pin("idle-pin-1").unwrap();
        // The default: 5 minutes.
        idle_for(&device, 299);
        assert!(!device.lock_if_idle());
        // The project's setting, as a sync keeps it: 2 minutes.
        device
            .voices()
            .unwrap()
            .with_store(|s| s.set_setting(IDLE_LOCK_KEY, "120"))
            .unwrap();
        idle_for(&device, 119);
        assert!(!device.lock_if_idle());
        device.touch();
        assert!(!device.lock_if_idle());
        idle_for(&device, 121);
        assert!(device.lock_if_idle());
        let state = device.state().unwrap();
        assert_eq!(state.status, LockStatus::Locked);
        // Locked, the screen still says the project's time.
        assert_eq!(state.idle_lock_seconds, 120);
        assert!(matches!(device.voices(), Err(Error::Locked(_))));
        // A locked app does not lock again.
        assert!(!device.lock_if_idle());
        device.unlock("idle-pin-1").unwrap();
        // A setting below the floor is raised to it.
        device
            .voices()
            .unwrap()
            .with_store(|s| s.set_setting(IDLE_LOCK_KEY, "1"))
            .unwrap();
        idle_for(&device, 29);
        assert!(!device.lock_if_idle());
        idle_for(&device, 31);
        assert!(device.lock_if_idle());
    }
}
