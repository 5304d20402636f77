//! Secrets: random tokens stored as SHA-256, passwords as Argon2id. Password checks
//! go through [`Passwords`], which bounds how many run at once and gives unknown names
//! the same work as known ones.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::{Error, Result};

/// A fresh random secret (256 bits, base64url) with a readable prefix such as `vt_`.
pub fn random_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Invalid(format!("the system random source failed: {e}")))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// What is stored for a token or code: its SHA-256 in hex. Tokens carry 256 random bits,
/// so a fast hash is enough (nothing to brute-force), unlike passwords.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An Argon2id hash (PHC string) of `password` with a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::Invalid(format!("the system random source failed: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid(format!("could not hash the password: {e}")))
}

/// Characters a password must have at least, and may have at most (Argon2 works on every
/// byte, so an unbounded password is unbounded work).
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The rule every new password obeys, wherever it comes from (the CLI, its
/// `VOICES_PASSWORD`, the API).
pub fn check_new_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::WeakPassword(format!(
            "the password has {chars} characters; it needs at least {MIN_PASSWORD_CHARS}"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::WeakPassword(format!(
            "the password has {chars} characters; at most {MAX_PASSWORD_CHARS} are accepted"
        )));
    }
    Ok(())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

static DECOY: OnceLock<String> = OnceLock::new();

/// How long a password check waits for a free core before the request is refused busy.
pub const PASSWORD_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Password checks: each Argon2 run takes a turn (at most one per core at once), and a
/// check for a name that does not exist runs Argon2 against a decoy hash, so the answer
/// takes as long as for a wrong password and timing does not tell which names exist.
/// The decoy is made with the checker, not at the first unknown name (that check would
/// pay for hashing it too, and tell itself apart once per start).
pub struct Passwords {
    turns: Arc<tokio::sync::Semaphore>,
    parallel: usize,
    checks: AtomicU64,
    decoy: &'static str,
}

impl Default for Passwords {
    fn default() -> Passwords {
        Passwords::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl Passwords {
    pub fn new(parallel: usize) -> Passwords {
        let parallel = parallel.max(1);
        Passwords {
            turns: Arc::new(tokio::sync::Semaphore::new(parallel)),
            parallel,
            checks: AtomicU64::new(0),
            decoy: decoy_hash(),
        }
    }

    /// Wait (at most [`PASSWORD_QUEUE_WAIT`]) for a turn to run Argon2; hold the
    /// returned turn while checking. `Busy` when every core stays taken.
    pub async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        match tokio::time::timeout(PASSWORD_QUEUE_WAIT, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            _ => Err(Error::Busy(format!(
                "{} password checks are running; try again in a moment",
                self.parallel
            ))),
        }
    }

    /// Whether `password` matches `hash`; with no hash (an unknown name) the decoy is
    /// checked and the answer is `false`.
    pub fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        self.checks.fetch_add(1, Ordering::Relaxed);
        match hash {
            Some(hash) => verify_password(password, hash),
            None => {
                let _ = verify_password(password, self.decoy);
                false
            }
        }
    }

    /// Argon2 runs so far (tests check that every path pays for one).
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

/// An Argon2id hash of a random secret with the parameters real hashes get (one per
/// process).
fn decoy_hash() -> &'static str {
    DECOY.get_or_init(|| {
        random_secret("")
            .and_then(|secret| hash_password(&secret))
            // Without a random source no password could have been hashed either; a
            // fixed decoy still costs the same.
            .or_else(|_| hash_password("voices decoy password"))
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn new_passwords_need_ten_to_1024_characters() {
        assert!(matches!(
            check_new_password("short1234"),
            Err(Error::WeakPassword(m)) if m.contains("9 characters")
        ));
        // Characters, not bytes: ten accented letters are twenty bytes but ten characters.
        assert!(check_new_password("éééééééééé").is_ok());
        assert!(check_new_password("ééééééééé").is_err());
        assert!(check_new_password(&"x".repeat(1024)).is_ok());
        assert!(check_new_password(&"x".repeat(1025)).is_err());
    }

    /// The parameters of a PHC string (`m=…,t=…,p=…`), what Argon2's time depends on.
    fn parameters(hash: &str) -> String {
        let parsed = PasswordHash::new(hash).unwrap();
        format!(
            "{} {:?} {}",
            parsed.algorithm, parsed.version, parsed.params
        )
    }

    #[test]
    fn the_decoy_for_unknown_names_is_ready_and_costs_what_a_real_hash_costs() {
        let passwords = Passwords::new(1);
        // Made with the checker, so no check ever pays for making it.
        assert!(DECOY.get().is_some());
        assert_eq!(passwords.decoy, DECOY.get().unwrap().as_str());
        let real = hash_password("a long enough passphrase").unwrap();
        assert_eq!(parameters(passwords.decoy), parameters(&real));
        assert!(parameters(&real).starts_with("argon2id"), "{real}");
        assert!(!passwords.verify("a long enough passphrase", None));
        assert_eq!(passwords.checks(), 1);
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = random_secret("vt_").unwrap();
        let b = random_secret("vt_").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("vt_") && a.len() > 40);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), secret_hash(&b));
    }
}
