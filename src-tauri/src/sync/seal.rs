//! Sealing: the answers of `sensitive` and `pii` fields are encrypted with `age` to every
//! current recipient of the project before they enter a revision, one ciphertext per
//! answer, so the server stores, merges and exports them without being able to read
//! them. The recipients (public keys only) arrive with the forms the device pulls; the
//! identities that open sealed answers never come near the device or the server.
//!
//! The file of a sealed file answer (a photo of a `sensitive` question) is sealed the
//! same way, once, as the revision is built: the sealed file is kept beside the clear one
//! under the SHA-256 of its sealed bytes (`store::SealedFile`), listed in the revision's
//! `files` under the sealed answer's `Sealed::file_name`, and uploaded in the clear
//! one's place; the server addresses and checks it by that hash, never seeing the clear
//! bytes, their hash or the file's name.
//!
//! A built revision is immutable and is sent as built, so its sealed text is what the
//! server holds. The device cannot open it, so it keeps the clear revision beside it
//! (in its own store, with the answers themselves) to tell what changed since.

use std::io::Write;
use std::str::FromStr;

use base64::Engine;
use voices_core::answer::Sealed;
use voices_core::engine::CompiledForm;
use voices_core::sync::Revision;

use crate::error::{Error, Result};
use crate::store::Store;

/// The setting holding the project's current recipients, one per line.
const RECIPIENTS_KEY: &str = "sync.recipients";
/// Set while a new link has not received its project's keys yet.
const PENDING_KEY: &str = "sync.recipients_pending";

/// Encrypts answers to the project's current recipients.
pub struct Sealer {
    recipients: Vec<age::x25519::Recipient>,
}

impl Sealer {
    /// A sealer for these recipients (`age1…`); `None` when there are none (the project
    /// has no key: nothing is sealed).
    pub fn new(recipients: &[String]) -> Result<Option<Sealer>> {
        let recipients = recipients
            .iter()
            .map(|text| {
                age::x25519::Recipient::from_str(text).map_err(|e| {
                    Error::ServerRefused(format!(
                        "the server sent a project key that is not an age recipient (`{text}`: {e}); ask its admin to check `voices-server project key list`"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((!recipients.is_empty()).then_some(Sealer { recipients }))
    }

    /// The sealer for the recipients last received from the server.
    pub fn load(store: &Store) -> Result<Option<Sealer>> {
        Sealer::new(&recipients(store)?)
    }

    /// One answer, sealed: an age file to every recipient, base64.
    pub fn seal(&self, clear: &str) -> Result<Sealed> {
        let file = self.age_file(clear.as_bytes(), "an answer")?;
        Sealed::new(base64::engine::general_purpose::STANDARD.encode(file))
            .map_err(|e| Error::Corrupt(format!("sealing an answer: {e}")))
    }

    /// One attached file, sealed: an age file (binary) to every recipient.
    pub fn seal_file(&self, clear: &[u8]) -> Result<Vec<u8>> {
        self.age_file(clear, "an attached file")
    }

    fn age_file(&self, clear: &[u8], what: &str) -> Result<Vec<u8>> {
        let failed = |e: &dyn std::fmt::Display| Error::Corrupt(format!("sealing {what}: {e}"));
        let encryptor = age::Encryptor::with_recipients(
            self.recipients.iter().map(|r| r as &dyn age::Recipient),
        )
        .map_err(|e| failed(&e))?;
        let mut file = Vec::with_capacity(clear.len() + 200 * self.recipients.len() + 64);
        let mut writer = encryptor.wrap_output(&mut file).map_err(|e| failed(&e))?;
        writer.write_all(clear).map_err(|e| failed(&e))?;
        writer.finish().map_err(|e| failed(&e))?;
        Ok(file)
    }

    /// Seal the answers of `revision` that `form` flags, and those `also` names (file
    /// answers holding the bytes of a sealed answer's file in an earlier revision), and
    /// the file each sealed file answer names (`seal_file`: the clear file's SHA-256 →
    /// the sealed file's); how many answers were sealed.
    pub fn seal_revision(
        &self,
        revision: &mut Revision,
        form: &CompiledForm,
        also: impl Fn(&voices_core::answer::AnswerPath) -> bool,
        seal_file: impl FnMut(&str) -> Result<Option<String>>,
    ) -> Result<usize> {
        revision.seal_with_files(
            |path| form.seals(path) || also(path),
            |clear| self.seal(clear),
            seal_file,
        )
    }
}

/// The recipients last received from the server.
pub fn recipients(store: &Store) -> Result<Vec<String>> {
    Ok(store
        .setting(RECIPIENTS_KEY)?
        .map(|text| {
            text.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

/// Whether the device has received its project's keys (possibly none) since it was
/// linked: until then it builds no revision, so nothing leaves it unsealed by mistake.
/// (A store linked before keys existed has no pending mark: it learns them at its
/// next sync.)
pub fn recipients_known(store: &Store) -> Result<bool> {
    Ok(store.setting(PENDING_KEY)?.is_none())
}

/// Keep the recipients the server lists now (checked first: a bad one is refused).
pub fn save_recipients(store: &mut Store, list: &[String]) -> Result<()> {
    Sealer::new(list)?;
    store.set_setting(RECIPIENTS_KEY, &list.join("\n"))?;
    store.delete_setting(PENDING_KEY)
}

/// Forget the keys of a previous link: a new link waits for its project's.
pub fn forget_recipients(store: &mut Store) -> Result<()> {
    store.delete_setting(RECIPIENTS_KEY)?;
    store.set_setting(PENDING_KEY, "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(sealed: &Sealed, identity: &age::x25519::Identity) -> Option<String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.as_str())
            .unwrap();
        let clear = age::decrypt(identity, &bytes).ok()?;
        Some(String::from_utf8(clear).unwrap())
    }

    #[test]
    fn an_answer_sealed_to_two_keys_opens_with_either_and_differs_each_time() {
        let (a, b, c) = (
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
        );
        let sealer = Sealer::new(&[a.to_public().to_string(), b.to_public().to_string()])
            .unwrap()
            .unwrap();
        let first = sealer.seal("Amina Kamau").unwrap();
        let second = sealer.seal("Amina Kamau").unwrap();
        assert_ne!(
            first, second,
            "a seal never repeats: equal answers are not told apart"
        );
        for identity in [&a, &b] {
            assert_eq!(open(&first, identity).as_deref(), Some("Amina Kamau"));
        }
        assert_eq!(open(&first, &c), None);
        assert!(!first.as_str().contains("Amina"));
    }

    #[test]
    fn a_file_sealed_to_a_key_opens_with_it_only() {
        let (a, c) = (
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
        );
        let sealer = Sealer::new(&[a.to_public().to_string()]).unwrap().unwrap();
        let photo = b"\x89PNG MARKER-in-a-photo".to_vec();
        let sealed = sealer.seal_file(&photo).unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
        assert!(!sealed.windows(6).any(|w| w == b"MARKER"));
        assert_ne!(sealed, sealer.seal_file(&photo).unwrap());
        assert_eq!(age::decrypt(&a, &sealed).unwrap(), photo);
        assert!(age::decrypt(&c, &sealed).is_err());
    }

    #[test]
    fn no_keys_seal_nothing_and_a_bad_key_is_refused() {
        assert!(Sealer::new(&[]).unwrap().is_none());
        let err = Sealer::new(&["AGE-SECRET-KEY-1XYZ".to_owned()])
            .err()
            .unwrap();
        assert!(err.to_string().contains("not an age recipient"), "{err}");
    }
}
