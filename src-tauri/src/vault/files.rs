//! Attached files at rest: each one sealed with XChaCha20-Poly1305 under the files key
//! (32 random bytes kept inside the encrypted store), a random 24-byte nonce per file,
//! and the file's name (its content's SHA-256) as associated data, so a file cannot be
//! passed off under another's name.
//!
//! Layout: `VOICESF1` · nonce (24 bytes) · ciphertext with its 16-byte tag.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::durable;
use super::key::random_bytes;
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"VOICESF1";
const HEADER: usize = 8 + 24;

/// The attachments folder and the key its files are sealed with.
pub struct AttachmentFiles {
    dir: PathBuf,
    cipher: XChaCha20Poly1305,
}

/// A new files key (hex, to keep in the encrypted store).
pub fn new_files_key() -> Result<Zeroizing<String>> {
    Ok(Zeroizing::new(hex::encode(*random_bytes::<32>()?)))
}

impl AttachmentFiles {
    /// The folder `dir` with the files key `key_hex` (from the store).
    pub fn new(dir: PathBuf, key_hex: &str) -> Result<AttachmentFiles> {
        let key = Zeroizing::new(
            hex::decode(key_hex)
                .ok()
                .filter(|k| k.len() == 32)
                .ok_or_else(|| Error::Corrupt("the attached files' key is damaged".to_owned()))?,
        );
        Ok(AttachmentFiles {
            dir,
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file named `sha256` is kept (sealed).
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    pub fn exists(&self, sha256: &str) -> bool {
        self.path(sha256).exists()
    }

    /// Seal `bytes` and keep them as `sha256`: written beside, synced, renamed, so a
    /// crash never leaves a half file under the name.
    pub fn write(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let sealed = self.seal(sha256, bytes)?;
        durable::replace(&self.path(sha256), &sealed)
    }

    /// Overwrite and remove the file named `sha256` (its response was purged); a file
    /// already gone is fine.
    pub fn remove(&self, sha256: &str) -> Result<()> {
        durable::scrub_and_remove(&self.path(sha256))
    }

    /// The plain bytes of the file named `sha256`.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path(sha256);
        let sealed = std::fs::read(&path)
            .map_err(|e| Error::file(format!("reading {}", path.display()), e))?;
        self.open(sha256, &sealed).ok_or_else(|| {
            Error::Corrupt(format!(
                "the attached file {} does not open with this device's key",
                &sha256[..sha256.len().min(12)]
            ))
        })
    }

    fn seal(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        let nonce = random_bytes::<24>()?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(nonce.as_ref()),
                Payload {
                    msg: bytes,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| Error::Corrupt("sealing an attached file failed".to_owned()))?;
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < HEADER || &sealed[..8] != MAGIC {
            return None;
        }
        self.cipher
            .decrypt(
                XNonce::from_slice(&sealed[8..HEADER]),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: name.as_bytes(),
                },
            )
            .ok()
    }

    /// Seal every file an earlier app left plain (a store being migrated): each one
    /// replaced durably and its plain blocks overwritten. Files already sealed are left
    /// as they are, so an interrupted migration simply runs again. How many were sealed.
    pub fn seal_plain_files(&self) -> Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::file(format!("listing {}", self.dir.display()), e)),
        };
        let mut sealed = 0;
        for entry in entries {
            let entry =
                entry.map_err(|e| Error::file(format!("listing {}", self.dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.ends_with(".tmp") || name.ends_with(".partial") {
                // What a crash left half-written: never a file in use.
                durable::scrub_and_remove(&path)?;
                continue;
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| Error::file(format!("reading {}", path.display()), e))?;
            if self.open(&name, &bytes).is_some() {
                continue;
            }
            let next = self.dir.join(format!("{name}.sealing"));
            std::fs::write(&next, self.seal(&name, &bytes)?)
                .map_err(|e| Error::file(format!("writing {}", next.display()), e))?;
            durable::replace_scrubbing(&next, &path)?;
            sealed += 1;
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_sealed_on_disk_and_opens_under_its_own_name_only() {
        let dir = tempfile::tempdir().unwrap();
        let files = AttachmentFiles::new(dir.path().to_owned(), &new_files_key().unwrap()).unwrap();
        files.write("aa", b"MARKER-photo-bytes").unwrap();
        let on_disk = std::fs::read(files.path("aa")).unwrap();
        assert!(!on_disk.windows(6).any(|w| w == b"MARKER"));
        assert_eq!(files.read("aa").unwrap(), b"MARKER-photo-bytes");
        std::fs::copy(files.path("aa"), files.path("bb")).unwrap();
        assert!(matches!(files.read("bb"), Err(Error::Corrupt(_))));
        let other = AttachmentFiles::new(dir.path().to_owned(), &new_files_key().unwrap()).unwrap();
        assert!(other.read("aa").is_err());
    }

    #[test]
    fn plain_files_left_by_an_earlier_app_are_sealed_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cc"), b"MARKER plain").unwrap();
        std::fs::write(dir.path().join("dd.partial"), b"MARKER half").unwrap();
        let files = AttachmentFiles::new(dir.path().to_owned(), &new_files_key().unwrap()).unwrap();
        assert_eq!(files.seal_plain_files().unwrap(), 1);
        assert_eq!(files.seal_plain_files().unwrap(), 0);
        assert_eq!(files.read("cc").unwrap(), b"MARKER plain");
        assert!(!dir.path().join("dd.partial").exists());
    }
}
