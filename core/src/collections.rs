//! Hash maps and sets with a fixed hasher.
//!
//! std's default `RandomState` seeds every map from the operating system's random
//! numbers. The core reads no randomness (ARCHITECTURE.md, invariants): with a fixed
//! hasher, iteration order — and so every message and ordering derived from it — is the
//! same on every run, on the device and on the server. The inputs hashed here are form
//! and answer names from authenticated designers and devices, bounded in size, so a
//! keyed hasher's protection against chosen collisions is not needed.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

/// A hasher builder without a random seed. FxHash rather than std's SipHash: std's
/// `DefaultHasher` without a seed has a known key, so it gave no protection against
/// chosen collisions either, and SipHash was a twentieth of checking a large form.
pub type FixedState = BuildHasherDefault<FxHasher>;
/// `HashMap` with [`FixedState`].
pub type Map<K, V> = HashMap<K, V, FixedState>;
/// `HashSet` with [`FixedState`].
pub type Set<T> = HashSet<T, FixedState>;
