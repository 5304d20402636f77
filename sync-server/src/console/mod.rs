//! What the coordinator console shows, computed from what the store returns: pii masked,
//! a response's history as per-field changes, the dashboard with small cells suppressed,
//! a coordinator's resolution of a conflict as a revision, the fields of a form, a
//! response's files by name.
//!
//! No HTTP here (the handlers in `http/` call these) and no SQL (the store runs the
//! queries, `store::console` and `store::projection` shape them).

pub mod dashboard;
pub mod fields;
pub mod files;
pub mod history;
pub mod mask;
pub mod resolve;
pub mod response;
pub mod resubmission;
pub mod table;

/// The JSON that stands for a pii value shown without the permission.
pub fn masked() -> serde_json::Value {
    serde_json::json!({"masked": true})
}

/// A sealed answer as the console receives it: its ciphertext, which the server cannot
/// read and the coordinator's page opens with their identity (docs/console.md).
pub fn sealed(sealed: &voices_core::answer::Sealed) -> serde_json::Value {
    serde_json::json!({"sealed": sealed.as_str()})
}
