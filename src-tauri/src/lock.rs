//! Locking a mutex that a panic left poisoned.

use std::sync::{Mutex, MutexGuard};

/// Lock `m`, also after a panic while it was held: what was committed to SQLite is
/// intact, so carry on with what is in memory rather than fail every later call.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
