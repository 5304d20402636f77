//! The pure core of Voices.
//!
//! Everything here is deterministic: no I/O, no clock, no randomness. The current
//! time, random numbers and new identifiers come in through [`env::Environment`],
//! so the app (enumerators) and the server (coordinators) give a form exactly the
//! same meaning, and tests can replay any evaluation.

pub mod answer;
pub mod check;
pub mod collections;
pub mod csv_layout;
pub mod diagnostic;
pub mod engine;
pub mod env;
pub mod expr;
pub mod form;
pub mod locate;
pub mod matching;
pub mod referral;
pub mod response;
pub mod selection;
pub mod stress;
pub mod sync;

pub use env::Environment;
pub use form::Form;
pub use response::Response;
