//! The device at rest: the data key wrapped under the enumerator's PIN, the count of
//! wrong PINs with the wipe it ends in, and the sealed attachment files.
//!
//! The data directory holds `key.json` (the wrapped data key: [`key`]), `unlock-failures`
//! (wrong PINs since the last unlock), the SQLCipher store `voices.sqlite` and its WAL,
//! and `attachments/` (sealed files: [`files`]). No answer is ever written there
//! unencrypted. Without the key file nothing else can be read, so a wipe removes it
//! first: whatever a crash leaves after that is unreadable.
//!
//! No SQL here: the store keys its connection with the [`DataKey`] it is given.

pub mod durable;
pub mod files;
pub mod key;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use files::AttachmentFiles;
pub use key::DataKey;
use key::KeyFile;

/// Wrong PINs in a row that wipe the device's data.
pub const MAX_FAILED_UNLOCKS: u32 = 10;
/// From this many tries left, the unlock screen says what happens after the last one.
pub const WARN_WHEN_LEFT: u32 = 3;
/// The shortest PIN or passphrase accepted, in characters.
pub const MIN_PIN_CHARS: usize = 6;

const KEY_FILE: &str = "key.json";
const FAILURES_FILE: &str = "unlock-failures";
/// The store's file name in the data directory.
pub const STORE_FILE: &str = "voices.sqlite";
/// The attachments folder's name in the data directory.
pub const ATTACHMENTS_DIR: &str = "attachments";

/// The data directory's keys and files, locked or not.
#[derive(Debug, Clone)]
pub struct Vault {
    dir: PathBuf,
}

impl Vault {
    pub fn new(dir: &Path) -> Vault {
        Vault {
            dir: dir.to_owned(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.dir.join(ATTACHMENTS_DIR)
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    fn failures_path(&self) -> PathBuf {
        self.dir.join(FAILURES_FILE)
    }

    /// Whether a PIN was set (the key file exists).
    pub fn has_pin(&self) -> bool {
        self.key_path().exists()
    }

    /// Whether the directory holds a store from before encryption (no PIN yet, a store
    /// file there): setting the PIN will encrypt it.
    pub fn has_store_without_pin(&self) -> bool {
        !self.has_pin() && self.store_path().exists()
    }

    /// Wrong PINs since the last successful unlock.
    pub fn failed_unlocks(&self) -> Result<u32> {
        match std::fs::read_to_string(self.failures_path()) {
            Ok(text) => text.trim().parse().map_err(|_| {
                Error::Corrupt(format!(
                    "{FAILURES_FILE} holds `{}`, not a count",
                    text.trim()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Error::file(format!("reading {FAILURES_FILE}"), e)),
        }
    }

    fn set_failed_unlocks(&self, count: u32) -> Result<()> {
        durable::replace(&self.failures_path(), count.to_string().as_bytes())
    }

    /// First start: a new data key, wrapped under `pin`.
    pub fn set_pin(&self, pin: &str) -> Result<DataKey> {
        if self.has_pin() {
            return Err(Error::Conflict(
                "a PIN is set already; unlock or change it instead".to_owned(),
            ));
        }
        check_pin_rule(pin)?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::file(format!("creating {}", self.dir.display()), e))?;
        let key = DataKey::generate()?;
        self.write_key_file(&KeyFile::wrap(&key, pin)?)?;
        self.set_failed_unlocks(0)?;
        Ok(key)
    }

    /// The data key for `pin`. Every try is counted before the PIN is checked (killing
    /// the app mid-check does not give a free try); the count goes back to zero on
    /// success, and the [`MAX_FAILED_UNLOCKS`]th wrong PIN wipes the device.
    pub fn unlock(&self, pin: &str) -> Result<DataKey> {
        let file = self.read_key_file()?;
        let failed = self.failed_unlocks()?;
        self.set_failed_unlocks(failed + 1)?;
        match file.unwrap_key(pin)? {
            Some(key) => {
                self.set_failed_unlocks(0)?;
                Ok(key)
            }
            None if failed + 1 >= MAX_FAILED_UNLOCKS => {
                self.wipe()?;
                Err(Error::Wiped(format!(
                    "{MAX_FAILED_UNLOCKS} wrong PINs: this device's data was erased"
                )))
            }
            None => Err(Error::WrongPin {
                attempts_left: MAX_FAILED_UNLOCKS - (failed + 1),
            }),
        }
    }

    /// Rewrap the data key under `new_pin` (nothing else is re-encrypted). The key file
    /// is replaced durably, so a crash at any point leaves one that opens with the old or
    /// the new PIN. A wrong `old_pin` counts like any wrong PIN.
    pub fn change_pin(&self, old_pin: &str, new_pin: &str) -> Result<()> {
        check_pin_rule(new_pin)?;
        let key = self.unlock(old_pin)?;
        self.write_key_file(&KeyFile::wrap(&key, new_pin)?)
    }

    /// Erase the device's data: the key file first (without it nothing else can be
    /// read), then the store, its WAL, the attached files and the counters.
    pub fn wipe(&self) -> Result<()> {
        durable::scrub_and_remove(&self.key_path())?;
        durable::scrub_and_remove(&durable::temp_path(&self.key_path()))?;
        durable::sync_dir(&self.key_path())?;
        let store = self.store_path();
        for suffix in ["", "-wal", "-shm", "-journal", ".encrypting"] {
            let mut name = store.as_os_str().to_owned();
            name.push(suffix);
            remove_file(Path::new(&name))?;
        }
        match std::fs::remove_dir_all(self.attachments_dir()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::file("erasing the attached files", e)),
        }
        remove_file(&self.failures_path())?;
        remove_file(&durable::temp_path(&self.failures_path()))?;
        durable::sync_dir(&self.key_path())
    }

    fn read_key_file(&self) -> Result<KeyFile> {
        match std::fs::read_to_string(self.key_path()) {
            Ok(text) => KeyFile::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::Locked("no PIN is set on this device yet".to_owned()))
            }
            Err(e) => Err(Error::file(format!("reading {KEY_FILE}"), e)),
        }
    }

    fn write_key_file(&self, file: &KeyFile) -> Result<()> {
        let text = serde_json::to_vec_pretty(file)
            .map_err(|e| Error::Corrupt(format!("writing the key file: {e}")))?;
        durable::replace(&self.key_path(), &text)
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file(format!("removing {}", path.display()), e)),
    }
}

/// A PIN or passphrase of at least [`MIN_PIN_CHARS`] characters.
pub fn check_pin_rule(pin: &str) -> Result<()> {
    if pin.chars().count() < MIN_PIN_CHARS {
        return Err(Error::InvalidInput(format!(
            "the PIN needs at least {MIN_PIN_CHARS} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_unlocks_and_wrong_pins_are_counted_then_forgiven() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(dir.path());
        assert!(!vault.has_pin());
        assert!(matches!(
            vault.set_pin("12345"),
            Err(Error::InvalidInput(_))
        ));
        let key = vault.set_pin("123456").unwrap();
        assert!(matches!(vault.set_pin("654321"), Err(Error::Conflict(_))));
        assert!(matches!(
            vault.unlock("000000"),
            Err(Error::WrongPin { attempts_left }) if attempts_left == MAX_FAILED_UNLOCKS - 1
        ));
        assert_eq!(vault.failed_unlocks().unwrap(), 1);
        assert_eq!(vault.unlock("123456").unwrap().bytes(), key.bytes());
        assert_eq!(vault.failed_unlocks().unwrap(), 0);
    }

    #[test]
    fn the_last_wrong_pin_wipes_everything() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(dir.path());
        vault.set_pin("123456").unwrap();
        std::fs::write(vault.store_path(), b"store").unwrap();
        std::fs::create_dir_all(vault.attachments_dir()).unwrap();
        std::fs::write(vault.attachments_dir().join("f"), b"file").unwrap();
        for left in (1..MAX_FAILED_UNLOCKS).rev() {
            assert!(
                matches!(vault.unlock("999999"), Err(Error::WrongPin { attempts_left }) if attempts_left == left)
            );
        }
        assert!(matches!(vault.unlock("999999"), Err(Error::Wiped(_))));
        assert!(!vault.has_pin());
        assert!(!vault.store_path().exists());
        assert!(!vault.attachments_dir().exists());
        assert_eq!(vault.failed_unlocks().unwrap(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_crash_at_any_step_of_a_pin_change_leaves_the_old_or_the_new_pin() {
        for step in durable::Step::ALL {
            let dir = tempfile::tempdir().unwrap();
            let vault = Vault::new(dir.path());
            let key = vault.set_pin("old-pin-1").unwrap();
            durable::crash_after(KEY_FILE, step);
            assert!(
                vault.change_pin("old-pin-1", "new-pin-2").is_err(),
                "{step:?}"
            );
            let opened = match vault.unlock("old-pin-1") {
                Ok(k) => k,
                Err(Error::WrongPin { .. }) => vault.unlock("new-pin-2").unwrap(),
                Err(e) => panic!("{step:?}: {e}"),
            };
            assert_eq!(opened.bytes(), key.bytes(), "{step:?}");
        }
    }

    const KILL_CHILD_DIR: &str = "VOICES_TEST_PIN_CHANGE_DIR";

    /// SIGKILL at any moment of a PIN change (a process changing the PIN back and forth
    /// is killed after a different delay each round) leaves a key file that opens with
    /// one of the two PINs, giving the same data key.
    #[cfg(unix)]
    #[test]
    fn sigkill_during_pin_changes_leaves_a_key_that_opens_with_the_old_or_the_new_pin() {
        const PINS: [&str; 2] = ["first-pin-1", "second-pin-2"];
        if let Ok(dir) = std::env::var(KILL_CHILD_DIR) {
            // The child: change the PIN to the other one, forever, until killed.
            let vault = Vault::new(Path::new(&dir));
            loop {
                if vault.change_pin(PINS[0], PINS[1]).is_err() {
                    let _ = vault.change_pin(PINS[1], PINS[0]);
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(dir.path());
        let key = vault.set_pin(PINS[0]).unwrap();
        // One change is two Argon2id derivations (and a failed try a third): time it.
        let started = std::time::Instant::now();
        vault.change_pin(PINS[0], PINS[1]).unwrap();
        vault.change_pin(PINS[1], PINS[0]).unwrap();
        let change = started.elapsed() / 2;
        let rounds = 8u32;
        for round in 0..rounds {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "vault::tests::sigkill_during_pin_changes_leaves_a_key_that_opens_with_the_old_or_the_new_pin",
                    "--nocapture",
                ])
                .env(KILL_CHILD_DIR, dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Past the child's start, then spread over two changes in steps.
            std::thread::sleep(std::time::Duration::from_millis(150) + change * 2 * round / rounds);
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: the child stopped before it was killed (not changing PINs)"
            );
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let opened = match vault.unlock(PINS[0]) {
                Ok(k) => k,
                Err(Error::WrongPin { .. }) => vault
                    .unlock(PINS[1])
                    .unwrap_or_else(|e| panic!("round {round}: neither PIN opens: {e}")),
                Err(e) => panic!("round {round}: {e}"),
            };
            assert_eq!(opened.bytes(), key.bytes(), "round {round}");
        }
    }

    #[test]
    fn a_pin_change_keeps_the_data_key_and_needs_the_old_pin() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(dir.path());
        let key = vault.set_pin("old-pin-1").unwrap();
        assert!(matches!(
            vault.change_pin("wrong-pin", "new-pin-2"),
            Err(Error::WrongPin { .. })
        ));
        assert!(matches!(
            vault.change_pin("old-pin-1", "short"),
            Err(Error::InvalidInput(_))
        ));
        vault.change_pin("old-pin-1", "new-pin-2").unwrap();
        assert!(matches!(
            vault.unlock("old-pin-1"),
            Err(Error::WrongPin { .. })
        ));
        assert_eq!(vault.unlock("new-pin-2").unwrap().bytes(), key.bytes());
    }
}
