//! What coordinators read: the project's feed of merged responses, page by page, each as
//! a [`PulledResponse`] (their review decisions are `review.rs`'s). The pull endpoints
//! and the JSON export both show a response through [`pulled`].

use voices_core::sync::protocol::{PullPage, PulledResponse};

use crate::store::{Scope, Store, StoredResponse};
use crate::Result;

/// Most responses in one pull page.
pub const MAX_PAGE: usize = 1_000;
/// Responses in a pull page when the client does not say.
pub const DEFAULT_PAGE: usize = 100;

/// A stored response as the protocol shows it.
pub fn pulled(row: StoredResponse) -> PulledResponse {
    PulledResponse {
        cursor: row.feed_seq.to_string(),
        status: row.state.status(),
        conflicts: row.state.conflicts(),
        context: row.state.context(),
        revisions: row.state.revision_count() as u64,
        response: row.state.to_response(),
        device: row.device,
        enumerator: row.enumerator,
        received_at: row.received_at,
        updated_at: row.updated_at,
        review_state: row.review_state,
        quarantine: row.quarantine,
        masked: Vec::new(),
        review_comment: None,
    }
}

/// The responses `scope` sees changed after feed position `after`, at most `limit`
/// (clamped to 1..=[`MAX_PAGE`]), and whether more are waiting.
pub fn page(
    store: &dyn Store,
    project: &str,
    scope: &Scope,
    after: i64,
    limit: usize,
) -> Result<PullPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    // One extra row tells whether more is waiting.
    let mut rows = store.pull_in(project, scope, after, limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows
        .last()
        .map(|r| r.feed_seq.to_string())
        .unwrap_or_else(|| after.to_string());
    Ok(PullPage {
        items: rows.into_iter().map(pulled).collect(),
        next,
        more,
    })
}
