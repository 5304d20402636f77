//! The storage test suite, generic over the backend. Every `Store` implementation runs
//! all of it through `store_suite!` (see `store_sqlite.rs`). The tests live in one module
//! per area; this file holds the shared fixtures and the macro.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use voices_core::answer::AnswerValue;
use voices_core::response::Response;
use voices_core::sync::protocol::{AckStatus, ReviewState};
use voices_core::sync::{Hlc, ResponseState, Revision, VersionVector};
use voices_server::auth;
use voices_server::sample::household_revision;
use voices_server::store::console::Sort;
use voices_server::store::{
    Decision, Device, FormVersion, IncomingRevision, Principal, Published, Role, Scope, Store,
    TableQuery, TeamChange, TeamRef, TokenSubject, Uploader, Validation, Validator,
};

pub const NOW: &str = "2026-11-26T04:00:00.000Z";
pub const LATER: &str = "2026-11-27T04:00:00.000Z";
pub const PAST: &str = "2026-11-20T04:00:00.000Z";

mod accounts;
mod attachments;
mod feed;
mod ingest;
mod review;
mod table;
mod teams;

pub use accounts::*;
pub use attachments::*;
pub use feed::*;
pub use ingest::*;
pub use review::*;
pub use table::*;
pub use teams::*;

/// Quarantines responses on form version "bad"; everything else is valid.
pub struct TestValidator;

impl Validator for TestValidator {
    fn validate(&self, _: &str, _: &ResponseState, response: &Response) -> Validation {
        if response.form_version == "bad" {
            Validation::Quarantine(vec!["version `bad` is not published".into()])
        } else {
            Validation::Valid
        }
    }
}

pub fn incoming(revision: Revision) -> IncomingRevision {
    let body = serde_json::to_string(&revision).unwrap();
    IncomingRevision {
        sha256: auth::sha256_hex(body.as_bytes()),
        body,
        revision,
    }
}

pub fn uploader(id: &str) -> Uploader {
    Uploader {
        id: id.into(),
        enumerator: format!("enumerator of {id}"),
        devices: None,
    }
}

fn setup(store: &dyn Store) {
    store.add_project("p1", "Project one", NOW).unwrap();
    store.add_project("p2", "Project two", NOW).unwrap();
}

/// The shown value of `/resp_age`.
fn age_of(row: &voices_server::store::StoredResponse) -> Option<&str> {
    match row.state.answer("/resp_age") {
        Some(voices_core::sync::Value::Text(Some(text))) => Some(text),
        _ => None,
    }
}

fn acks_of(store: &dyn Store, by: &str, revisions: &[Revision]) -> Vec<(AckStatus, String)> {
    let batch: Vec<_> = revisions.iter().cloned().map(incoming).collect();
    store
        .ingest("p1", &uploader(by), &batch, &TestValidator, NOW)
        .unwrap()
        .into_iter()
        .map(|a| (a.status, a.code.unwrap_or_default()))
        .collect()
}

#[macro_export]
macro_rules! store_suite {
    ($make:expr) => {
        $crate::store_suite!(@tests $make;
            accounts_and_tokens,
            a_project_device_policy_has_defaults_and_keeps_what_is_set,
            enumerator_profiles_and_the_neutral_name_are_kept,
            passwords_sessions_and_memberships_change_at_once,
            provisioning_codes_work_once,
            form_versions_are_immutable,
            the_same_batch_a_hundred_times_is_stored_once,
            same_id_different_content_is_rejected,
            revision_ids_are_scoped_to_their_project,
            unknown_versions_are_quarantined_not_dropped,
            concurrent_edits_conflict_until_resolved,
            a_device_may_write_only_the_responses_it_started,
            seen_may_claim_only_edits_the_server_holds,
            review_state_moves_the_response_in_the_feed,
            a_send_back_reaches_only_its_device_and_its_edit_resubmits,
            a_withdrawal_reaches_its_device_in_feed_version_2_only_as_a_withdrawal,
            a_device_feed_never_holds_another_devices_response,
            known_revisions_lists_what_is_stored,
            pull_form_reads_one_form_in_feed_order,
            pull_cursor_has_no_gaps_under_concurrent_writers,
            attachments_resume_and_deduplicate,
            feed_positions_do_not_reveal_other_projects,
            attachment_completion_is_one_step_and_a_wrong_size_claim_is_replaced,
            keys_pii_grants_and_the_audit,
            teams_limit_what_a_coordinator_reads,
            a_table_total_is_exact_up_to_its_cap_and_capped_past_it,
            a_far_jump_lands_on_the_row_the_cursors_reach,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let (_guard, store) = $make();
                suite::$name(store);
            }
        )*
    };
}
