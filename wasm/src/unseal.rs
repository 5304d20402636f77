//! Sealed answers opened in the coordinator's browser: the identity file `voices keygen`
//! wrote (an age X25519 identity, encrypted with a passphrase) is opened in the page, and
//! each sealed answer (the base64 of an age file) is decrypted with it there. Nothing here
//! talks to a server: the console keeps the [`Keyring`] in memory and frees it when the
//! coordinator forgets the key or signs out.
//!
//! The same steps as `voices decrypt` (cli/src/identity.rs, cli/src/decrypt.rs), with the
//! browser's limit on the passphrase's work: see [`MAX_WORK_FACTOR`].

use std::io::Read;

use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine;
use serde_json::{json, Value as Json};

/// How every age file begins.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

/// The largest scrypt work factor (log2 N) of an identity file opened here. scrypt needs
/// 128 × 8 × N bytes: 1 GiB at 2^20, which a page's WebAssembly memory (at most 4 GiB,
/// and less on many machines) can still hold; 2^21 and more would fail to allocate and
/// stop the module. `voices keygen` picks about a second's work on the machine it runs
/// on (2^18 to 2^20 on today's machines); a file protected with more is refused with a
/// message, and `voices decrypt` still opens it.
pub const MAX_WORK_FACTOR: u8 = 20;

/// Why an identity or a sealed answer could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the passphrase does not open this identity file")]
    WrongPassphrase,
    #[error("{0}")]
    NotAnIdentity(String),
    #[error("this identity file's passphrase protection asks 2^{0} of scrypt's work, more than a browser can hold in memory (at most 2^{MAX_WORK_FACTOR}); open the answers with `voices decrypt`, or protect the identity again with less work")]
    TooMuchWork(u8),
    #[error("this answer is not sealed to the identity opened (it was sealed to other keys)")]
    NotYours,
    #[error("{0}")]
    NotSealed(String),
}

impl Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::WrongPassphrase => "wrong_passphrase",
            Error::NotAnIdentity(_) => "not_an_identity",
            Error::TooMuchWork(_) => "too_much_work",
            Error::NotYours => "not_yours",
            Error::NotSealed(_) => "not_sealed",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The envelope of every answer: `{"ok": …}` or `{"error": {"kind", "message"}}`.
pub fn envelope(result: Result<Json>) -> String {
    match result {
        Ok(value) => json!({ "ok": value }),
        Err(e) => json!({ "error": { "kind": e.kind(), "message": e.to_string() } }),
    }
    .to_string()
}

/// The identities of one identity file.
pub struct Identities {
    identities: Vec<age::x25519::Identity>,
}

impl Identities {
    /// Open an identity file: passphrase-protected (as `voices keygen` and `age -p`
    /// write it), or plain `AGE-SECRET-KEY-1…` lines (as `age-keygen` writes them; the
    /// passphrase is then not used).
    pub fn open(file: &[u8], passphrase: &str) -> Result<Identities> {
        let text = match age::Decryptor::new_buffered(file) {
            Ok(decryptor) if decryptor.is_scrypt() => {
                let mut identity =
                    age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
                identity.set_max_work_factor(MAX_WORK_FACTOR);
                let mut reader = decryptor
                    .decrypt(std::iter::once(&identity as &dyn age::Identity))
                    .map_err(|e| match e {
                        age::DecryptError::ExcessiveWork { required, .. } => {
                            Error::TooMuchWork(required)
                        }
                        age::DecryptError::DecryptionFailed
                        | age::DecryptError::KeyDecryptionFailed
                        | age::DecryptError::NoMatchingKeys => Error::WrongPassphrase,
                        other => Error::NotAnIdentity(format!(
                            "the identity file cannot be opened: {other}"
                        )),
                    })?;
                let mut text = String::new();
                reader.read_to_string(&mut text).map_err(|e| {
                    Error::NotAnIdentity(format!("the identity file cannot be read: {e}"))
                })?;
                SecretString::from(text)
            }
            Ok(_) => {
                return Err(Error::NotAnIdentity(
                    "this file is encrypted to a key, not a passphrase: choose the identity file itself".into(),
                ))
            }
            Err(_) => SecretString::from(String::from_utf8(file.to_vec()).map_err(|_| {
                Error::NotAnIdentity(
                    "this file is neither an age identity nor a passphrase-protected one".into(),
                )
            })?),
        };
        let identities = text
            .expose_secret()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .enumerate()
            .map(|(i, line)| {
                line.parse::<age::x25519::Identity>().map_err(|_| {
                    Error::NotAnIdentity(format!(
                        "key line {} of the identity file is not an age identity (AGE-SECRET-KEY-1…)",
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if identities.is_empty() {
            return Err(Error::NotAnIdentity(
                "the identity file holds no identity".into(),
            ));
        }
        Ok(Identities { identities })
    }

    /// The public keys (`age1…`) of the identities, to compare with the project's keys.
    pub fn recipients(&self) -> Vec<String> {
        self.identities
            .iter()
            .map(|i| i.to_public().to_string())
            .collect()
    }

    /// The clear text of one sealed answer (the base64 of an age file).
    pub fn open_sealed(&self, sealed: &str) -> Result<String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|e| Error::NotSealed(format!("a sealed answer is base64: {e}")))?;
        if !bytes.starts_with(AGE_HEADER) {
            return Err(Error::NotSealed(
                "a sealed answer is an age file, and this is not one".into(),
            ));
        }
        let decryptor = age::Decryptor::new_buffered(&bytes[..])
            .map_err(|e| Error::NotSealed(format!("the sealed answer is damaged: {e}")))?;
        let mut reader = decryptor
            .decrypt(self.identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => Error::NotYours,
                other => Error::NotSealed(format!("the sealed answer cannot be opened: {other}")),
            })?;
        let mut clear = String::new();
        reader
            .read_to_string(&mut clear)
            .map_err(|e| Error::NotSealed(format!("the sealed answer cannot be read: {e}")))?;
        Ok(clear)
    }

    /// The clear bytes of one sealed file (an age file, binary, as the server serves a
    /// sealed file answer's file).
    pub fn open_file(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if !sealed.starts_with(AGE_HEADER) {
            return Err(Error::NotSealed(
                "a sealed file is an age file, and this is not one".into(),
            ));
        }
        let decryptor = age::Decryptor::new_buffered(sealed)
            .map_err(|e| Error::NotSealed(format!("the sealed file is damaged: {e}")))?;
        let mut reader = decryptor
            .decrypt(self.identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => Error::NotYours,
                other => Error::NotSealed(format!("the sealed file cannot be opened: {other}")),
            })?;
        let mut clear = Vec::new();
        reader
            .read_to_end(&mut clear)
            .map_err(|e| Error::NotSealed(format!("the sealed file cannot be read: {e}")))?;
        Ok(clear)
    }

    /// Every sealed answer of a JSON array of texts, in order: `{"ok": clear}` or
    /// `{"error": {kind, message}}` each (one page of the table at once).
    pub fn open_each(&self, sealed: &[String]) -> Vec<Json> {
        sealed
            .iter()
            .map(|s| match self.open_sealed(s) {
                Ok(clear) => json!({ "ok": clear }),
                Err(e) => json!({ "error": { "kind": e.kind(), "message": e.to_string() } }),
            })
            .collect()
    }
}

/// The name a sealed file answer's file goes by on the server (`Sealed::file_name`).
pub fn file_name(sealed: &str) -> Result<String> {
    voices_core::answer::Sealed::new(sealed.trim())
        .map(|s| s.file_name())
        .map_err(|e| Error::NotSealed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_opens_with_its_identity_and_is_named_as_the_core_names_it() {
        let identity = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let ring = Identities::open(identity.to_string().expose_secret().as_bytes(), "").unwrap();
        let photo = b"\x89PNG MARKER".to_vec();
        let sealed = age::encrypt(&identity.to_public(), &photo).unwrap();
        assert_eq!(ring.open_file(&sealed).unwrap(), photo);
        let not_mine = age::encrypt(&other.to_public(), &photo).unwrap();
        assert!(matches!(ring.open_file(&not_mine), Err(Error::NotYours)));
        assert!(matches!(ring.open_file(&photo), Err(Error::NotSealed(_))));
        let answer = base64::engine::general_purpose::STANDARD.encode(&sealed);
        let core = voices_core::answer::Sealed::new(answer.clone()).unwrap();
        assert_eq!(file_name(&answer).unwrap(), core.file_name());
        assert!(file_name("not base64 !").is_err());
    }
}
