//! Login throttling: failed sign-ins are counted per user name and per client address,
//! and after a few free failures each further one blocks that name (or address) for an
//! exponentially growing time, capped. A blocked attempt is answered `429` with
//! `Retry-After` before any password is checked, so guessing gets slower and slower and
//! a blocked attempt tells nothing. A success clears the name's count (not the
//! address's: one valid account must not launder an address's guesses). Counts are
//! forgotten an hour after the last failure.
//!
//! The state is per server process (docs/deploy.md says what that means for several
//! processes on one database). Time comes in as an `Instant` so tests control it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How one kind of key (names, addresses) is throttled.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before the first block.
    pub free_failures: u32,
    /// The first block; each further failure doubles it.
    pub first_block: Duration,
    pub longest_block: Duration,
}

/// Five wrong passwords for one name, then 1 s, 2 s, 4 s … up to 15 minutes.
pub const PER_NAME: Policy = Policy {
    free_failures: 5,
    first_block: Duration::from_secs(1),
    longest_block: Duration::from_secs(15 * 60),
};

/// Twenty failures from one address (any names), then the same back-off. An office
/// behind one NAT address gets room for its people's typos.
pub const PER_ADDRESS: Policy = Policy {
    free_failures: 20,
    first_block: Duration::from_secs(1),
    longest_block: Duration::from_secs(15 * 60),
};

/// How long after its last failure a count is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// Keys tracked per kind at most; past that the stalest is dropped, so sign-ins under
/// ever new names cannot grow the server's memory.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
struct Counts {
    policy: Policy,
    entries: HashMap<String, Entry>,
}

impl Counts {
    fn new(policy: Policy) -> Counts {
        Counts {
            policy,
            entries: HashMap::new(),
        }
    }

    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        let stale = self
            .entries
            .get(key)
            .is_some_and(|e| now.saturating_duration_since(e.last_failure) > FORGET_AFTER);
        if stale {
            self.entries.remove(key);
        }
        self.entries.get_mut(key)
    }

    fn wait(&mut self, key: &str, now: Instant) -> Option<Duration> {
        let until = self.live(key, now)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&mut self, key: &str, now: Instant) {
        if self.live(key, now).is_none() && self.entries.len() >= MAX_KEYS {
            self.make_room(now);
        }
        let policy = self.policy;
        let entry = self.entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            blocked_until: None,
        });
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = now;
        if let Some(over) = entry.failures.checked_sub(policy.free_failures + 1) {
            let block = policy
                .first_block
                .saturating_mul(2u32.saturating_pow(over.min(31)))
                .min(policy.longest_block);
            entry.blocked_until = Some(now + block);
        }
    }

    fn make_room(&mut self, now: Instant) {
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_failure) <= FORGET_AFTER);
        if self.entries.len() >= MAX_KEYS {
            if let Some(stalest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_failure)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&stalest);
            }
        }
    }
}

/// Failed sign-ins by user name and by client address.
#[derive(Debug)]
pub struct LoginThrottle {
    names: Mutex<Counts>,
    addresses: Mutex<Counts>,
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new(PER_NAME, PER_ADDRESS)
    }
}

/// A sign-in refused before its password was checked: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub retry_after: Duration,
}

impl LoginThrottle {
    pub fn new(names: Policy, addresses: Policy) -> LoginThrottle {
        LoginThrottle {
            names: Mutex::new(Counts::new(names)),
            addresses: Mutex::new(Counts::new(addresses)),
        }
    }

    /// Whether a sign-in as `name` from `address` may be tried now.
    pub fn admit(&self, name: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Blocked> {
        let by_name = lock(&self.names).wait(&name_key(name), now);
        let by_address = address.and_then(|a| lock(&self.addresses).wait(&address_key(a), now));
        match by_name.max(by_address) {
            Some(retry_after) => Err(Blocked { retry_after }),
            None => Ok(()),
        }
    }

    pub fn failed(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        lock(&self.names).fail(&name_key(name), now);
        if let Some(address) = address {
            lock(&self.addresses).fail(&address_key(address), now);
        }
    }

    pub fn succeeded(&self, name: &str) {
        lock(&self.names).entries.remove(&name_key(name));
    }
}

/// The counts stay usable even if a thread panicked while holding them.
fn lock(counts: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Names are counted without regard to case or surrounding space, so `Cora` and `cora `
/// share one count.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// IPv6 clients are counted by their /64: one subscriber usually holds a whole one.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_name_is_blocked_after_five_failures_with_a_doubling_wait() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(throttle.admit("cora", ip("10.0.0.1"), t0), Ok(()));
            throttle.failed("cora", ip("10.0.0.1"), t0);
        }
        assert_eq!(throttle.admit("cora", ip("10.0.0.2"), t0), Ok(()));
        throttle.failed("cora", ip("10.0.0.2"), t0);
        // Sixth failure: 1 s, from any address and in any case.
        let blocked = throttle.admit(" CORA", ip("10.9.9.9"), t0).unwrap_err();
        assert_eq!(blocked.retry_after, Duration::from_secs(1));
        assert_eq!(throttle.admit("otto", ip("10.9.9.9"), t0), Ok(()));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(throttle.admit("cora", None, t1), Ok(()));
        throttle.failed("cora", None, t1);
        assert_eq!(
            throttle.admit("cora", None, t1).unwrap_err().retry_after,
            Duration::from_secs(2)
        );
        // Many more failures: capped at 15 minutes.
        let mut t = t1;
        for _ in 0..40 {
            t += Duration::from_secs(1000);
            throttle.failed("cora", None, t);
        }
        assert_eq!(
            throttle.admit("cora", None, t).unwrap_err().retry_after,
            PER_NAME.longest_block
        );
        // Forgotten an hour after the last failure.
        assert_eq!(
            throttle.admit("cora", None, t + FORGET_AFTER + Duration::from_secs(1)),
            Ok(())
        );
    }

    #[test]
    fn success_clears_the_name_but_not_the_address() {
        let throttle = LoginThrottle::default();
        let t = Instant::now();
        for i in 0..25 {
            throttle.failed(&format!("user{i}"), ip("203.0.113.7"), t);
        }
        throttle.failed("cora", ip("203.0.113.8"), t);
        throttle.succeeded("cora");
        assert!(
            throttle.admit("cora", ip("203.0.113.7"), t).is_err(),
            "address still blocked"
        );
        assert_eq!(throttle.admit("cora", ip("203.0.113.8"), t), Ok(()));
        // 25 failures: 5 past the 20 free ones, so 2^4 seconds.
        assert_eq!(
            throttle
                .admit("x", ip("203.0.113.7"), t)
                .unwrap_err()
                .retry_after,
            Duration::from_secs(16)
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let throttle = LoginThrottle::default();
        let t = Instant::now();
        for i in 0..21 {
            throttle.failed(&format!("u{i}"), ip(&format!("2001:db8:1:2::{i:x}")), t);
        }
        assert!(throttle.admit("v", ip("2001:db8:1:2:ffff::1"), t).is_err());
        assert_eq!(throttle.admit("v", ip("2001:db8:1:3::1"), t), Ok(()));
    }

    #[test]
    fn ever_new_names_do_not_grow_the_counts_past_the_cap() {
        let mut counts = Counts::new(PER_NAME);
        let t = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            counts.fail(&format!("n{i}"), t + Duration::from_nanos(i as u64));
        }
        assert_eq!(counts.entries.len(), MAX_KEYS);
        assert!(!counts.entries.contains_key("n0"), "the stalest went first");
    }
}
