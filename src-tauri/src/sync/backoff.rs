//! When to try again after a failed sync: exponential backoff with full jitter, capped.
//!
//! Pure (the random draw comes in as a number), so the schedule is unit-tested and the
//! app shell supplies the randomness. Full jitter spreads devices that lost the same
//! network at the same time instead of having them all retry in step.

use std::time::Duration;

/// The first retry waits up to this long.
pub const BASE: Duration = Duration::from_secs(5);
/// No retry waits longer than this (15 minutes), however long the server was away.
pub const CAP: Duration = Duration::from_secs(15 * 60);
/// Never retry sooner than this, whatever the draw: a refused connection must not spin.
pub const FLOOR: Duration = Duration::from_secs(1);
/// How often a linked, idle device checks the server for new form versions.
pub const PERIODIC_CHECK: Duration = Duration::from_secs(15 * 60);

/// The longest wait after `failures` consecutive failed attempts (1 = the first):
/// `BASE · 2^(failures-1)`, at most `CAP`.
pub fn ceiling(failures: u32, base: Duration, cap: Duration) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let doublings = (failures - 1).min(32);
    base.checked_mul(1u32 << doublings.min(31))
        .unwrap_or(cap)
        .min(cap)
}

/// The wait before the next attempt after `failures` consecutive failures, with
/// `random` uniform in `[0, 1)`: full jitter over `[FLOOR, ceiling]`.
/// No failures means no wait.
pub fn delay(failures: u32, random: f64, base: Duration, cap: Duration) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let top = ceiling(failures, base, cap).max(FLOOR);
    let r = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.5
    };
    top.mul_f64(r).max(FLOOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_base_and_stops_at_the_cap() {
        let s = |n| ceiling(n, BASE, CAP).as_secs();
        assert_eq!(s(0), 0);
        assert_eq!(s(1), 5);
        assert_eq!(s(2), 10);
        assert_eq!(s(3), 20);
        assert_eq!(s(8), 640);
        assert_eq!(s(9), 900, "5·2^8 = 1280 s is capped at 15 minutes");
        assert_eq!(s(1_000), 900, "no overflow after a very long outage");
        assert_eq!(s(u32::MAX), 900);
    }

    #[test]
    fn full_jitter_spreads_over_the_whole_range_but_never_below_the_floor() {
        assert_eq!(delay(0, 0.7, BASE, CAP), Duration::ZERO);
        assert_eq!(delay(1, 0.0, BASE, CAP), FLOOR, "a zero draw still waits");
        assert_eq!(delay(1, 0.5, BASE, CAP), Duration::from_millis(2_500));
        assert_eq!(delay(3, 0.25, BASE, CAP), Duration::from_secs(5));
        assert_eq!(delay(50, 0.5, BASE, CAP), Duration::from_secs(450));
        assert!(delay(50, 0.999_999, BASE, CAP) <= CAP);
        // Out-of-range draws are clamped rather than trusted.
        assert_eq!(delay(2, 7.0, BASE, CAP), Duration::from_secs(10));
        assert_eq!(delay(2, -1.0, BASE, CAP), FLOOR);
        assert_eq!(delay(2, f64::NAN, BASE, CAP), Duration::from_secs(5));
    }

    #[test]
    fn a_device_offline_for_a_day_makes_few_attempts() {
        // With the mean draw (0.5), count attempts in 24 hours of refused connections.
        let mut waited = Duration::ZERO;
        let mut attempts = 0u32;
        while waited < Duration::from_secs(86_400) {
            attempts += 1;
            waited += delay(attempts, 0.5, BASE, CAP);
        }
        assert!(attempts < 220, "{attempts} attempts in a day");
        assert!(
            attempts > 150,
            "the cap keeps retrying every few minutes: {attempts}"
        );
    }
}
