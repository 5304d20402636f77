//! The sync protocol core: clocks, revisions, the merge and the wire types.
//!
//! Pure like the rest of `voices-core`: wall time comes in as milliseconds and ids as
//! strings made by the caller. Both the app and the server use these types, so what a
//! device sends is exactly what the server reads. Modules depend downwards only:
//! `clock`, `hlc` → `revision` → `register` → `merge` → `outgoing`, `incoming`, `protocol`.

pub mod clock;
pub mod hlc;
pub mod incoming;
pub mod merge;
pub mod outgoing;
pub mod protocol;
pub mod register;
pub mod revision;

pub use clock::{ActorId, Dot, VersionVector};
pub use hlc::Hlc;
pub use incoming::{merge_local, LocalConflict, LocalMerge};
pub use merge::{Applied, Conflict, ConflictValue, Entry, MergeError, ResponseState};
pub use outgoing::next_revision;
pub use register::{Register, Value};
pub use revision::{Edits, ResponseStatus, Revision, RevisionError};
