//! What the outside world supplies to an evaluation: time, randomness, identity.
//!
//! The core never reads a clock or a random source itself. Shells (app, server,
//! CLI) implement [`Environment`] with the real ones; tests use [`FixedEnvironment`].

use chrono::{DateTime, FixedOffset};

use crate::matching::EnumeratorProfile;

/// Inputs an evaluation may need from outside the pure core.
pub trait Environment {
    /// The current instant, in the device's local offset (dates in forms are local).
    fn now(&self) -> DateTime<FixedOffset>;
    /// A uniformly distributed number in `[0, 1)`.
    fn random(&mut self) -> f64;
    /// Sixteen fresh random bytes, used for `uuid()` (version 4) by the engine.
    fn random_bytes(&mut self) -> [u8; 16];
    /// The device identifier for `deviceid` metadata fields.
    fn device_id(&self) -> Option<String> {
        None
    }
    /// The enumerator's user name for `username` metadata fields.
    fn username(&self) -> Option<String> {
        None
    }
    /// A value of the device's enumerator profile for `enumerator(key)` (`sex`,
    /// `languages`, `area`); `None` when the device has no profile.
    fn enumerator(&self, _key: &str) -> Option<String> {
        None
    }
}

/// A deterministic environment: a fixed clock and a seeded generator (SplitMix64).
///
/// Used by tests, the CLI preview and anywhere results must be reproducible.
#[derive(Debug, Clone)]
pub struct FixedEnvironment {
    pub now: DateTime<FixedOffset>,
    pub seed: u64,
    pub device_id: Option<String>,
    pub username: Option<String>,
    /// The enumerator's profile (`enumerator()`); `None`: the device has none.
    pub enumerator: Option<EnumeratorProfile>,
}

impl FixedEnvironment {
    pub fn new(now: DateTime<FixedOffset>, seed: u64) -> Self {
        Self {
            now,
            seed,
            device_id: None,
            username: None,
            enumerator: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // SplitMix64: tiny, well-distributed, and good enough for tests and previews.
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Environment for FixedEnvironment {
    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
    fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn random_bytes(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }
    fn device_id(&self) -> Option<String> {
        self.device_id.clone()
    }
    fn username(&self) -> Option<String> {
        self.username.clone()
    }
    fn enumerator(&self, key: &str) -> Option<String> {
        self.enumerator.as_ref().and_then(|p| p.value(key))
    }
}
