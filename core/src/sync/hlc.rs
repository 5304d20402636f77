//! Hybrid logical clock (Kulkarni et al., 2014).
//!
//! An [`Hlc`] stamps each revision with a time close to the device's wall clock that
//! still never goes backwards and always moves past every stamp the device has seen.
//! Field devices often have clocks that are wrong by days (no network time, a dead
//! battery resets the date), so the stamp is only used to order revisions for display
//! and to say "last edited"; the merge never looks at it (causality comes from
//! version vectors, see [`super::clock`]). Skew is therefore tolerated, not rejected:
//! a stamp from a device whose clock runs days ahead pulls every clock that sees it
//! forward, and the logical counter keeps them strictly increasing after that.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A hybrid-logical-clock timestamp: wall-clock milliseconds since the Unix epoch plus a
/// logical counter that orders events within the same millisecond (or while the local
/// wall clock lags behind a stamp already seen).
///
/// On the wire it is the text `"<ms>.<counter>"`, which sorts correctly as a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc {
        wall_ms: 0,
        counter: 0,
    };

    pub fn new(wall_ms: u64, counter: u32) -> Hlc {
        Hlc { wall_ms, counter }
    }

    /// The stamp for a local event (making a revision) when the wall clock reads `now_ms`.
    pub fn tick(self, now_ms: u64) -> Hlc {
        if now_ms > self.wall_ms {
            Hlc::new(now_ms, 0)
        } else {
            self.bump()
        }
    }

    /// The stamp after receiving `remote` when the wall clock reads `now_ms`.
    pub fn receive(self, remote: Hlc, now_ms: u64) -> Hlc {
        let wall = now_ms.max(self.wall_ms).max(remote.wall_ms);
        if wall == now_ms && now_ms > self.wall_ms && now_ms > remote.wall_ms {
            return Hlc::new(now_ms, 0);
        }
        let counter = match (wall == self.wall_ms, wall == remote.wall_ms) {
            (true, true) => self.counter.max(remote.counter),
            (true, false) => self.counter,
            (false, true) => remote.counter,
            (false, false) => return Hlc::new(wall, 0),
        };
        Hlc::new(wall, counter).bump()
    }

    /// The next stamp after this one without consulting the wall clock. When the counter
    /// is exhausted the millisecond moves on instead of wrapping around.
    fn bump(self) -> Hlc {
        match self.counter.checked_add(1) {
            Some(counter) => Hlc::new(self.wall_ms, counter),
            None => Hlc::new(self.wall_ms.saturating_add(1), 0),
        }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wall_ms, self.counter)
    }
}

/// Why a text is not an HLC stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a hybrid-logical-clock stamp (expected `<milliseconds>.<counter>`)")]
pub struct ParseHlcError(pub String);

impl FromStr for Hlc {
    type Err = ParseHlcError;
    fn from_str(s: &str) -> Result<Hlc, ParseHlcError> {
        let bad = || ParseHlcError(s.chars().take(40).collect());
        let (ms, counter) = s.split_once('.').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(counter) {
            return Err(bad());
        }
        Ok(Hlc::new(
            ms.parse().map_err(|_| bad())?,
            counter.parse().map_err(|_| bad())?,
        ))
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hlc, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: u64 = 86_400_000;

    #[test]
    fn tick_follows_the_wall_clock_when_it_moves_forward() {
        let t = Hlc::ZERO.tick(1_000);
        assert_eq!(t, Hlc::new(1_000, 0));
        assert_eq!(t.tick(1_005), Hlc::new(1_005, 0));
    }

    #[test]
    fn tick_never_goes_backwards_when_the_wall_clock_is_set_back() {
        let t = Hlc::new(10 * DAY_MS, 3);
        let next = t.tick(DAY_MS);
        assert!(next > t);
        assert_eq!(next, Hlc::new(10 * DAY_MS, 4));
    }

    #[test]
    fn receive_moves_past_a_stamp_from_a_clock_days_ahead() {
        let local = Hlc::new(DAY_MS, 0);
        let remote = Hlc::new(5 * DAY_MS, 7);
        let after = local.receive(remote, DAY_MS + 10);
        assert!(after > remote && after > local);
        assert_eq!(after, Hlc::new(5 * DAY_MS, 8));
        // Later local events stay ahead of everything seen even though the wall clock lags.
        assert!(after.tick(DAY_MS + 20) > after);
    }

    #[test]
    fn receive_uses_the_wall_clock_when_it_is_ahead_of_both() {
        let after = Hlc::new(5, 2).receive(Hlc::new(6, 9), 100);
        assert_eq!(after, Hlc::new(100, 0));
    }

    #[test]
    fn counter_exhaustion_moves_the_millisecond_on() {
        let t = Hlc::new(7, u32::MAX).tick(0);
        assert_eq!(t, Hlc::new(8, 0));
    }

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let t = Hlc::new(1_764_130_000_123, 42);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"1764130000123.42\"");
        assert_eq!(serde_json::from_str::<Hlc>(&json).unwrap(), t);
        for bad in [
            "",
            "12",
            "12.",
            ".3",
            "1.2.3",
            "-1.2",
            "a.b",
            "99999999999999999999.1",
        ] {
            assert!(bad.parse::<Hlc>().is_err(), "{bad:?} accepted");
        }
    }
}
