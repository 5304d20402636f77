//! The device's clock and random source, given to the pure core as an `Environment`.

use chrono::{DateTime, FixedOffset};
use voices_core::Environment;

/// The real clock (device local offset) and the operating system's random source.
#[derive(Debug, Clone, Default)]
pub struct DeviceEnvironment {
    pub device_id: Option<String>,
    pub username: Option<String>,
    /// The enumerator's profile kept from the last sync (`enumerator()` in forms).
    pub enumerator: Option<voices_core::matching::EnumeratorProfile>,
}

impl Environment for DeviceEnvironment {
    fn now(&self) -> DateTime<FixedOffset> {
        chrono::Local::now().fixed_offset()
    }

    fn random(&mut self) -> f64 {
        let bytes = self.random_bytes();
        let mut eight = [0u8; 8];
        eight.copy_from_slice(&bytes[..8]);
        // 53 random bits give every representable double in [0, 1) with a uniform step.
        (u64::from_le_bytes(eight) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn random_bytes(&mut self) -> [u8; 16] {
        // A v4 UUID is 122 bits from the OS random source; its bytes serve as randomness.
        *uuid::Uuid::new_v4().as_bytes()
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

/// The device's clock as RFC 3339 with milliseconds, in the local offset.
pub fn now() -> String {
    chrono::Local::now()
        .fixed_offset()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_numbers_are_in_range_and_vary() {
        let mut env = DeviceEnvironment::default();
        let draws: Vec<f64> = (0..100).map(|_| env.random()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        assert_ne!(draws[0], draws[1]);
        assert_ne!(env.random_bytes(), env.random_bytes());
    }
}
