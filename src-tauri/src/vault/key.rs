//! The data key and the key file that keeps it wrapped under the enumerator's PIN.
//!
//! The data key is 32 random bytes from the operating system. It keys SQLCipher and,
//! through a second random key kept inside the encrypted store, the attached files. On
//! disk it exists only wrapped: XChaCha20-Poly1305 under a key Argon2id derives from the
//! PIN (64 MiB, 3 passes), with the key file's parameters as associated data so they
//! cannot be swapped for weaker ones. Changing the PIN rewraps the same data key.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Argon2id memory: 64 MiB, the floor (RFC 9106's second recommendation).
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_ITERATIONS: u32 = 3;
/// A key file asking for more memory than this is refused (a crafted file could
/// otherwise exhaust the device).
const ARGON2_MEMORY_KIB_MAX: u32 = 1024 * 1024;
const ARGON2_ITERATIONS_MAX: u32 = 64;

const KEY_FILE_FORMAT: u32 = 1;

/// 32 random bytes that key the store; wiped from memory when dropped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<DataKey> {
        Ok(DataKey(random_bytes::<32>()?))
    }

    /// A key from known bytes (tests and benchmarks that need no PIN).
    #[cfg(any(test, feature = "test-support"))]
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SQLCipher's raw-key form `x'…'`: the key is used as it is, without SQLCipher's
    /// own PBKDF2 (it is random already).
    pub(crate) fn sqlcipher_key(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(*self.0)))
    }
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut())
        .map_err(|e| Error::Corrupt(format!("the operating system's random source failed: {e}")))?;
    Ok(bytes)
}

/// The key file as stored (`key.json`): everything needed to unwrap the data key with
/// the PIN, nothing that helps without it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    pub format: u32,
    pub kdf: Kdf,
    /// Always `xchacha20poly1305`.
    pub cipher: String,
    pub nonce: String,
    pub wrapped_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kdf {
    /// Always `argon2id`.
    pub algorithm: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub salt: String,
}

impl KeyFile {
    /// Wrap `key` under `pin` with a new salt and nonce.
    pub fn wrap(key: &DataKey, pin: &str) -> Result<KeyFile> {
        let salt = random_bytes::<16>()?;
        let nonce = random_bytes::<24>()?;
        let kdf = Kdf {
            algorithm: "argon2id".to_owned(),
            memory_kib: ARGON2_MEMORY_KIB,
            iterations: ARGON2_ITERATIONS,
            parallelism: 1,
            salt: hex::encode(*salt),
        };
        let wrapping = derive(&kdf, pin)?;
        let mut file = KeyFile {
            format: KEY_FILE_FORMAT,
            kdf,
            cipher: "xchacha20poly1305".to_owned(),
            nonce: hex::encode(*nonce),
            wrapped_key: String::new(),
        };
        let cipher = XChaCha20Poly1305::new(Key::from_slice(wrapping.as_ref()));
        let wrapped = cipher
            .encrypt(
                XNonce::from_slice(nonce.as_ref()),
                Payload {
                    msg: key.bytes(),
                    aad: file.associated_data().as_bytes(),
                },
            )
            .map_err(|_| Error::Corrupt("wrapping the data key failed".to_owned()))?;
        file.wrapped_key = hex::encode(wrapped);
        Ok(file)
    }

    /// The data key, or `None` when `pin` is not the one it was wrapped under.
    pub fn unwrap_key(&self, pin: &str) -> Result<Option<DataKey>> {
        self.check()?;
        let wrapping = derive(&self.kdf, pin)?;
        let nonce = decode_hex(&self.nonce, "nonce")?;
        let wrapped = decode_hex(&self.wrapped_key, "wrapped_key")?;
        if nonce.len() != 24 {
            return Err(Error::Corrupt(
                "the key file's nonce is not 24 bytes".to_owned(),
            ));
        }
        let cipher = XChaCha20Poly1305::new(Key::from_slice(wrapping.as_ref()));
        let opened = cipher.decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &wrapped,
                aad: self.associated_data().as_bytes(),
            },
        );
        let Ok(bytes) = opened.map(Zeroizing::new) else {
            return Ok(None);
        };
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::Corrupt("the key file's data key is not 32 bytes".to_owned()))?;
        Ok(Some(DataKey(Zeroizing::new(bytes))))
    }

    /// Parse a key file, saying what is wrong with one that is not.
    pub fn parse(text: &str) -> Result<KeyFile> {
        let file: KeyFile = serde_json::from_str(text)
            .map_err(|e| Error::Corrupt(format!("the key file is unreadable: {e}")))?;
        file.check()?;
        Ok(file)
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Corrupt(format!("the key file {what}")));
        if self.format != KEY_FILE_FORMAT {
            return bad(format!(
                "has format {}, this app reads {KEY_FILE_FORMAT}",
                self.format
            ));
        }
        if self.kdf.algorithm != "argon2id" || self.cipher != "xchacha20poly1305" {
            return bad(format!(
                "names {} and {}, this app uses argon2id and xchacha20poly1305",
                self.kdf.algorithm, self.cipher
            ));
        }
        if !(ARGON2_MEMORY_KIB..=ARGON2_MEMORY_KIB_MAX).contains(&self.kdf.memory_kib)
            || !(1..=ARGON2_ITERATIONS_MAX).contains(&self.kdf.iterations)
            || !(1..=4).contains(&self.kdf.parallelism)
        {
            return bad(format!(
                "asks for Argon2id parameters outside what this app accepts ({} KiB, {} passes, {} lanes)",
                self.kdf.memory_kib, self.kdf.iterations, self.kdf.parallelism
            ));
        }
        Ok(())
    }

    /// The parameters the wrapped key is bound to.
    fn associated_data(&self) -> String {
        format!(
            "voices-key-file/{}/{}/{}/{}/{}/{}/{}",
            self.format,
            self.kdf.algorithm,
            self.kdf.memory_kib,
            self.kdf.iterations,
            self.kdf.parallelism,
            self.kdf.salt,
            self.cipher
        )
    }
}

fn decode_hex(text: &str, what: &str) -> Result<Vec<u8>> {
    hex::decode(text).map_err(|e| Error::Corrupt(format!("the key file's {what}: {e}")))
}

/// The wrapping key: Argon2id of the PIN under the key file's salt and parameters.
fn derive(kdf: &Kdf, pin: &str) -> Result<Zeroizing<[u8; 32]>> {
    let salt = decode_hex(&kdf.salt, "salt")?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| Error::Corrupt(format!("the key file's Argon2id parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pin.as_bytes(), &salt, out.as_mut())
        .map_err(|e| Error::Corrupt(format!("deriving the key from the PIN: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_with_its_pin_only() {
        let key = DataKey::generate().unwrap();
        let file = KeyFile::wrap(&key, "correct horse").unwrap();
        let text = serde_json::to_string(&file).unwrap();
        assert!(!text.contains(&hex::encode(key.bytes())));
        let parsed = KeyFile::parse(&text).unwrap();
        let opened = parsed.unwrap_key("correct horse").unwrap().unwrap();
        assert_eq!(opened.bytes(), key.bytes());
        assert!(parsed.unwrap_key("correct hors").unwrap().is_none());
        assert!(parsed.unwrap_key("").unwrap().is_none());
    }

    #[test]
    fn the_parameters_are_bound_to_the_wrapped_key() {
        let key = DataKey::generate().unwrap();
        let mut file = KeyFile::wrap(&key, "123456").unwrap();
        assert_eq!(file.kdf.memory_kib, 64 * 1024);
        file.kdf.iterations = 4;
        // Other parameters: the wrapped key no longer opens, even with the right PIN.
        assert!(file.unwrap_key("123456").unwrap().is_none());
    }

    #[test]
    fn weak_or_unknown_parameters_are_refused() {
        let key = DataKey::generate().unwrap();
        let file = KeyFile::wrap(&key, "123456").unwrap();
        let mut weak = file.clone();
        weak.kdf.memory_kib = 1024;
        assert!(
            matches!(weak.unwrap_key("123456"), Err(Error::Corrupt(m)) if m.contains("parameters"))
        );
        let mut other = file;
        other.cipher = "aes".to_owned();
        assert!(KeyFile::parse(&serde_json::to_string(&other).unwrap()).is_err());
        assert!(KeyFile::parse("{").is_err());
    }

    #[test]
    fn two_keys_differ() {
        let a = DataKey::generate().unwrap();
        let b = DataKey::generate().unwrap();
        assert_ne!(a.bytes(), b.bytes());
        assert!(a.sqlcipher_key().starts_with("x'") && a.sqlcipher_key().len() == 67);
    }
}
