//! The storage test suite, generic over the backend. Every `Store` implementation runs
//! all of it through `store_suite!` (see `store_sqlite.rs`).

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

pub fn accounts_and_tokens(store: Arc<dyn Store>) {
    setup(store.as_ref());
    assert!(store.project_exists("p1").unwrap());
    assert!(!store.project_exists("nope").unwrap());
    assert!(
        store.add_project("p1", "again", NOW).is_err(),
        "duplicate project accepted"
    );
    store
        .add_user("ana", Role::Coordinator, "hash", NOW)
        .unwrap();
    assert!(store.add_user("ana", Role::Admin, "hash", NOW).is_err());
    store.add_membership("ana", "p1").unwrap();
    assert!(store.add_membership("ana", "missing").is_err());
    let ana = store.find_user("ana").unwrap().unwrap();
    assert_eq!(ana.role, Role::Coordinator);
    assert_eq!(ana.projects, ["p1"]);
    assert!(store.find_user("bob").unwrap().is_none());

    store
        .add_token("hash-1", &TokenSubject::User("ana".into()), LATER, NOW)
        .unwrap();
    let info = store.find_token("hash-1").unwrap().unwrap();
    assert!(matches!(info.principal, Principal::User(ref u) if u.name == "ana"));
    assert_eq!(info.expires_at, LATER);
    assert!(info.revoked_at.is_none());
    assert!(store.revoke_token("hash-1", NOW).unwrap());
    assert!(store
        .find_token("hash-1")
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(store.find_token("unknown").unwrap().is_none());
}

pub fn a_project_device_policy_has_defaults_and_keeps_what_is_set(store: Arc<dyn Store>) {
    use voices_core::sync::protocol::DevicePolicy;
    setup(store.as_ref());
    assert_eq!(
        store.device_policy("p1").unwrap(),
        Some(DevicePolicy::DEFAULT)
    );
    assert_eq!(store.device_policy("nope").unwrap(), None);
    let strict = DevicePolicy {
        idle_lock_seconds: 60,
        retention_days: 0,
    };
    assert!(store.set_device_policy("p1", &strict).unwrap());
    assert!(!store.set_device_policy("nope", &strict).unwrap());
    assert_eq!(store.device_policy("p1").unwrap(), Some(strict));
    assert_eq!(
        store.device_policy("p2").unwrap(),
        Some(DevicePolicy::DEFAULT)
    );
}

pub fn enumerator_profiles_and_the_neutral_name_are_kept(store: Arc<dyn Store>) {
    use voices_core::matching::EnumeratorProfile;
    use voices_core::sync::protocol::Presentation;
    setup(store.as_ref());
    let device = |id: &str, project: &str| Device {
        id: id.into(),
        project: project.into(),
        enumerator: "Amal".into(),
        revoked_at: None,
        wipe_requested_at: None,
    };
    store
        .add_device(&device("dev-a", "p1"), "c-a", LATER, NOW)
        .unwrap();
    store
        .add_device(&device("dev-b", "p2"), "c-b", LATER, NOW)
        .unwrap();
    // Nothing given: every part unknown.
    assert_eq!(
        store.device_profile(None, "dev-a").unwrap(),
        Some(EnumeratorProfile::default())
    );
    assert_eq!(store.device_profile(None, "nope").unwrap(), None);
    let profile = EnumeratorProfile {
        sex: Some("female".into()),
        languages: vec!["ar".into(), "en".into()],
        area: Some("North district".into()),
    };
    assert!(store
        .set_device_profile(Some("p1"), "dev-a", &profile)
        .unwrap());
    // Another project's device is not reached through this one.
    assert!(!store
        .set_device_profile(Some("p1"), "dev-b", &profile)
        .unwrap());
    assert!(!store.set_device_profile(None, "nope", &profile).unwrap());
    assert_eq!(
        store.device_profile(Some("p1"), "dev-a").unwrap(),
        Some(profile.clone())
    );
    assert_eq!(store.device_profile(Some("p2"), "dev-a").unwrap(), None);
    assert_eq!(
        store.device_profile(None, "dev-b").unwrap(),
        Some(EnumeratorProfile::default())
    );
    let listed = store.list_devices("p1").unwrap();
    assert_eq!(listed[0].profile, profile);
    // Replacing makes parts unknown again.
    let male = EnumeratorProfile {
        sex: Some("male".into()),
        ..Default::default()
    };
    assert!(store.set_device_profile(None, "dev-a", &male).unwrap());
    assert_eq!(store.device_profile(None, "dev-a").unwrap(), Some(male));

    assert_eq!(
        store.presentation("p1").unwrap(),
        Some(Presentation::default())
    );
    assert_eq!(store.presentation("nope").unwrap(), None);
    let named = Presentation {
        neutral_name: Some("Field notes".into()),
    };
    assert!(store.set_presentation("p1", &named).unwrap());
    assert!(!store.set_presentation("nope", &named).unwrap());
    assert_eq!(store.presentation("p1").unwrap(), Some(named));
    assert_eq!(
        store.presentation("p2").unwrap(),
        Some(Presentation::default())
    );
    assert!(store
        .set_presentation("p1", &Presentation::default())
        .unwrap());
    assert_eq!(
        store.presentation("p1").unwrap(),
        Some(Presentation::default())
    );
}

pub fn passwords_sessions_and_memberships_change_at_once(store: Arc<dyn Store>) {
    setup(store.as_ref());
    store
        .add_user("ana", Role::Coordinator, "old", NOW)
        .unwrap();
    store.add_user("bob", Role::Coordinator, "b", NOW).unwrap();
    store.add_membership("ana", "p1").unwrap();
    store.add_membership("ana", "p2").unwrap();
    for (hash, user) in [("a1", "ana"), ("a2", "ana"), ("b1", "bob")] {
        store
            .add_token(hash, &TokenSubject::User(user.into()), LATER, NOW)
            .unwrap();
    }
    let expired_before = "2000-01-01T00:00:00.000Z";
    store
        .add_token(
            "a-old",
            &TokenSubject::User("ana".into()),
            expired_before,
            expired_before,
        )
        .unwrap();
    let revoked = |hash: &str| store.find_token(hash).unwrap().unwrap().revoked_at;

    // Revoking a user's sessions counts the live ones and leaves other users alone.
    assert_eq!(store.revoke_user_tokens("ana", NOW).unwrap(), 2);
    assert!(revoked("a1").is_some() && revoked("a2").is_some());
    assert!(revoked("b1").is_none());
    assert_eq!(store.revoke_user_tokens("ana", NOW).unwrap(), 0);

    // A new password replaces the hash and revokes every token, in one step.
    store
        .add_token("a3", &TokenSubject::User("ana".into()), LATER, NOW)
        .unwrap();
    assert!(store.set_password("ana", "new", NOW).unwrap());
    assert_eq!(
        store.find_user("ana").unwrap().unwrap().password_hash,
        "new"
    );
    assert!(revoked("a3").is_some());
    assert!(revoked("b1").is_none());
    assert!(!store.set_password("nobody", "x", NOW).unwrap());

    // Memberships come off one project at a time.
    assert!(store.remove_membership("ana", "p1").unwrap());
    assert!(!store.remove_membership("ana", "p1").unwrap());
    assert!(!store.remove_membership("nobody", "p2").unwrap());
    assert_eq!(store.find_user("ana").unwrap().unwrap().projects, ["p2"]);
}

pub fn provisioning_codes_work_once(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let device = Device {
        id: "dev-a".into(),
        project: "p1".into(),
        enumerator: "Achieng".into(),
        revoked_at: None,
        wipe_requested_at: None,
    };
    store.add_device(&device, "code-hash", LATER, NOW).unwrap();
    assert!(store.add_device(&device, "other", LATER, NOW).is_err());
    let redeemed = store.redeem_code("code-hash", "tok-a", LATER, NOW).unwrap();
    assert_eq!(redeemed.unwrap().id, "dev-a");
    assert!(
        store
            .redeem_code("code-hash", "tok-b", LATER, NOW)
            .unwrap()
            .is_none(),
        "a provisioning code worked twice"
    );
    let info = store.find_token("tok-a").unwrap().unwrap();
    assert!(matches!(info.principal, Principal::Device(ref d) if d.project == "p1"));

    // An expired code does not work.
    let late = Device {
        id: "dev-b".into(),
        ..device.clone()
    };
    store.add_device(&late, "old-code", PAST, PAST).unwrap();
    assert!(store
        .redeem_code("old-code", "tok-c", LATER, NOW)
        .unwrap()
        .is_none());

    // Revoking a device revokes its tokens and its unused code.
    let c = Device {
        id: "dev-c".into(),
        ..device
    };
    store.add_device(&c, "code-c", LATER, NOW).unwrap();
    assert!(store.revoke_device("dev-a", NOW).unwrap());
    assert!(store.revoke_device("dev-c", NOW).unwrap());
    assert!(!store.revoke_device("dev-zzz", NOW).unwrap());
    assert!(store
        .find_token("tok-a")
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(store
        .redeem_code("code-c", "tok-d", LATER, NOW)
        .unwrap()
        .is_none());
}

fn form_version(version: &str, document: &str) -> FormVersion {
    FormVersion {
        project: "p1".into(),
        form: "household_survey".into(),
        version: version.into(),
        title: "Household".into(),
        sha256: auth::sha256_hex(document.as_bytes()),
        document: document.into(),
        published_at: NOW.into(),
        published_by: "designer".into(),
    }
}

pub fn form_versions_are_immutable(store: Arc<dyn Store>) {
    setup(store.as_ref());
    assert_eq!(
        store.publish_form(&form_version("1", "{one}")).unwrap(),
        Published::New
    );
    assert_eq!(
        store.publish_form(&form_version("1", "{one}")).unwrap(),
        Published::AlreadyIdentical
    );
    assert!(store.publish_form(&form_version("1", "{changed}")).is_err());
    assert_eq!(
        store.publish_form(&form_version("2", "{two}")).unwrap(),
        Published::New
    );
    let listed = store.list_forms("p1").unwrap();
    assert_eq!(listed.len(), 2, "every version stays listed");
    assert!(store.list_forms("p2").unwrap().is_empty());
    assert_eq!(
        store
            .get_form("p1", "household_survey", "1")
            .unwrap()
            .unwrap()
            .document,
        "{one}"
    );
    assert!(store
        .get_form("p2", "household_survey", "1")
        .unwrap()
        .is_none());
}

pub fn the_same_batch_a_hundred_times_is_stored_once(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let batch: Vec<IncomingRevision> = (0..20)
        .map(|i| incoming(household_revision(i, "dev-a", "1")))
        .collect();
    let first = store
        .ingest("p1", &uploader("dev-a"), &batch, &TestValidator, NOW)
        .unwrap();
    assert!(
        first.iter().all(|a| a.status == AckStatus::Accepted),
        "{first:?}"
    );
    for _ in 0..99 {
        let again = store
            .ingest("p1", &uploader("dev-a"), &batch, &TestValidator, NOW)
            .unwrap();
        assert!(again.iter().all(|a| a.status == AckStatus::Duplicate));
    }
    let pulled = store.pull("p1", 0, 1000).unwrap();
    assert_eq!(pulled.len(), 20);
    for row in &pulled {
        let stored = store.revisions_of("p1", &row.state.response).unwrap();
        assert_eq!(stored.len(), 1, "a revision was stored more than once");
        assert_eq!(row.state.revision_count(), 1);
    }
    // A duplicate inside one batch is also taken once.
    let r = incoming(household_revision(100, "dev-a", "1"));
    let acks = store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[r.clone(), r],
            &TestValidator,
            NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Accepted);
    assert_eq!(acks[1].status, AckStatus::Duplicate);
}

pub fn same_id_different_content_is_rejected(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let original = household_revision(1, "dev-a", "1");
    store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(original.clone())],
            &TestValidator,
            NOW,
        )
        .unwrap();
    let mut altered = original.clone();
    altered
        .set
        .insert("/village".into(), Some("Elsewhere".into()));
    let acks = store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(altered)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Rejected);
    assert_eq!(acks[0].code.as_deref(), Some("revision_id_conflict"));
    // The stored response keeps the original value.
    let row = store
        .get_response("p1", &original.response)
        .unwrap()
        .unwrap();
    let village = row.state.current(&"/village".parse().unwrap()).cloned();
    assert_eq!(
        village,
        Some(voices_core::sync::Value::Text(
            original.text("/village").map(str::to_owned)
        ))
    );
}

/// Revision ids are scoped to their project (the tenant boundary): a device of one project
/// cannot block or dedupe another project's revision by choosing its id.
pub fn revision_ids_are_scoped_to_their_project(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let in_p1 = household_revision(1, "dev-a", "1");
    // Same revision id, different content (another device, another village).
    let mut in_p2 = household_revision(1, "dev-b", "1");
    in_p2
        .set
        .insert("/village".into(), Some("Elsewhere".into()));
    assert_eq!(in_p1.id, in_p2.id);
    let ingest = |project: &str, device: &str, revision: &Revision| {
        store
            .ingest(
                project,
                &uploader(device),
                &[incoming(revision.clone())],
                &TestValidator,
                NOW,
            )
            .unwrap()
    };
    let statuses = |acks: Vec<voices_core::sync::protocol::RecordAck>| {
        acks.iter().map(|a| a.status).collect::<Vec<_>>()
    };

    assert_eq!(
        statuses(ingest("p1", "dev-a", &in_p1)),
        [AckStatus::Accepted]
    );
    assert_eq!(
        statuses(ingest("p2", "dev-b", &in_p2)),
        [AckStatus::Accepted]
    );
    // Re-sending either is a duplicate within its own project only.
    assert_eq!(
        statuses(ingest("p1", "dev-a", &in_p1)),
        [AckStatus::Duplicate]
    );
    assert_eq!(
        statuses(ingest("p2", "dev-b", &in_p2)),
        [AckStatus::Duplicate]
    );
    // Each project's copy conflicts only with a different content in that project.
    let acks = ingest("p1", "dev-a", &in_p2);
    assert_eq!(
        acks[0].code.as_deref(),
        Some("revision_id_conflict"),
        "{acks:?}"
    );

    for (project, revision) in [("p1", &in_p1), ("p2", &in_p2)] {
        let stored = store.revisions_of(project, &revision.response).unwrap();
        assert_eq!(stored.len(), 1, "{project}: stored {} times", stored.len());
        let stored: Revision = serde_json::from_str(&stored[0]).unwrap();
        assert_eq!(
            &stored, revision,
            "{project} holds another project's revision"
        );
        let known = store
            .known_revisions(project, std::slice::from_ref(&revision.id))
            .unwrap();
        assert_eq!(known, std::slice::from_ref(&revision.id));
        let pulled = store.pull(project, 0, 100).unwrap();
        assert_eq!(pulled.len(), 1, "{project}");
        assert_eq!(pulled[0].state.revision_count(), 1);
    }
    let village = |project: &str| {
        store
            .get_response(project, &in_p1.response)
            .unwrap()
            .unwrap()
            .state
            .current(&"/village".parse().unwrap())
            .cloned()
    };
    assert_eq!(
        village("p2"),
        Some(voices_core::sync::Value::Text(Some("Elsewhere".into())))
    );
    assert_ne!(village("p1"), village("p2"));
}

pub fn unknown_versions_are_quarantined_not_dropped(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let r = household_revision(5, "dev-a", "bad");
    let acks = store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(r.clone())],
            &TestValidator,
            NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Quarantined);
    assert!(acks[0].reasons[0].contains("bad"));
    let row = store.get_response("p1", &r.response).unwrap().unwrap();
    assert_eq!(row.quarantine.len(), 1);
    assert_eq!(store.revisions_of("p1", &r.response).unwrap().len(), 1);
    // A later fix on a good version clears the quarantine.
    let mut fix = r.clone();
    fix.id = "fix-1".into();
    fix.seq = 2;
    fix.version = "1".into();
    fix.set = BTreeMap::new();
    let acks = store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(fix)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Accepted);
    assert!(store
        .get_response("p1", &r.response)
        .unwrap()
        .unwrap()
        .quarantine
        .is_empty());
}

pub fn concurrent_edits_conflict_until_resolved(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let first = household_revision(7, "dev-a", "1");
    store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(first.clone())],
            &TestValidator,
            NOW,
        )
        .unwrap();
    let edit = |id: &str, actor: &str, seq: u64, seen: &[(&str, u64)], age: &str| Revision {
        id: id.into(),
        seq,
        validated: false,
        files: Default::default(),
        actor: actor.into(),
        hlc: Hlc::new(1_764_200_000_000, 0),
        seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
        set: [("/resp_age".to_string(), Some(age.into()))].into(),
        ..first.clone()
    };
    let a2 = edit("a2", "dev-a", 2, &[], "40");
    // Concurrent edits of a response come from its device and coordinators: a device
    // writes only the responses it started.
    let b1 = edit("b1", "user:other", 1, &[("dev-a", 1)], "41");
    store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(a2)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    store
        .ingest(
            "p1",
            &uploader("user:other"),
            &[incoming(b1)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    let conflicts = row.state.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].key, "/resp_age");
    assert_eq!(
        row.device, "dev-a",
        "the response keeps the device that started it"
    );

    let context = row.state.context();
    let resolution = Revision {
        seen: context,
        ..edit("c1", "user:coord", 1, &[], "41")
    };
    store
        .ingest(
            "p1",
            &uploader("user:coord"),
            &[incoming(resolution)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    assert!(!row.state.has_conflicts());
    assert_eq!(store.revisions_of("p1", &first.response).unwrap().len(), 4);
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

pub fn a_device_may_write_only_the_responses_it_started(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let first = household_revision(11, "dev-a", "1");
    let edit = |id: &str, actor: &str, seq: u64, age: &str| Revision {
        id: id.into(),
        actor: actor.into(),
        seq,
        seen: VersionVector::new(),
        set: [("/resp_age".to_string(), Some(age.to_string().into()))].into(),
        ..first.clone()
    };
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", std::slice::from_ref(&first)),
        [(AckStatus::Accepted, String::new())]
    );
    // Another device of the project that knows the response's id: refused, even with
    // an edit number it never used, and even in the same batch as the device's own.
    let intruder = edit("x1", "dev-b", 1, "4242424");
    let acks = store
        .ingest(
            "p1",
            &uploader("dev-b"),
            &[incoming(intruder)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Rejected);
    assert_eq!(acks[0].code.as_deref(), Some("not_your_response"));
    assert!(
        acks[0].reasons[0].contains("started by another device"),
        "{:?}",
        acks[0].reasons
    );
    assert!(
        !acks[0].reasons[0].contains("4242424"),
        "{:?}",
        acks[0].reasons
    );
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    assert_eq!(row.state.revision_count(), 1);
    assert_eq!(row.device, "dev-a");
    // The device itself and a coordinator edit it.
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[edit("a2", "dev-a", 2, "40")])[0].0,
        AckStatus::Accepted
    );
    let correction = Revision {
        seen: VersionVector([("dev-a".to_string(), 2)].into()),
        ..edit("c1", "user:coord", 1, "41")
    };
    assert_eq!(
        acks_of(store.as_ref(), "user:coord", &[correction])[0].0,
        AckStatus::Accepted
    );
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    assert_eq!(age_of(&row), Some("41"));
    assert_eq!(
        row.device, "dev-a",
        "the device that started it stays recorded"
    );
}

pub fn seen_may_claim_only_edits_the_server_holds(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let first = household_revision(12, "dev-a", "1");
    let edit = |id: &str, actor: &str, seq: u64, seen: &[(&str, u64)], age: &str| Revision {
        id: id.into(),
        actor: actor.into(),
        seq,
        seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
        set: [("/resp_age".to_string(), Some(age.to_string().into()))].into(),
        ..first.clone()
    };
    acks_of(store.as_ref(), "dev-a", std::slice::from_ref(&first));
    // The device claims to have seen a coordinator's edits that do not exist yet, so
    // that the correction would arrive already superseded.
    let claim = edit("a2", "dev-a", 2, &[("user:coord", 5)], "17");
    let acks = store
        .ingest(
            "p1",
            &uploader("dev-a"),
            &[incoming(claim)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    assert_eq!(acks[0].status, AckStatus::Rejected);
    assert_eq!(acks[0].code.as_deref(), Some("unknown_edits_seen"));
    let reason = &acks[0].reasons[0];
    assert!(
        reason.contains("user:coord") && reason.contains("edit 5") && reason.contains("first 0"),
        "{reason}"
    );
    // Nor may it claim more of a coordinator's edits than arrived.
    let correction = Revision {
        seen: VersionVector([("dev-a".to_string(), 1)].into()),
        ..edit("c1", "user:coord", 1, &[], "41")
    };
    assert_eq!(
        acks_of(store.as_ref(), "user:coord", &[correction])[0].0,
        AckStatus::Accepted
    );
    let overclaim = edit("a3", "dev-a", 2, &[("user:coord", 2)], "17");
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[overclaim]),
        [(AckStatus::Rejected, "unknown_edits_seen".to_string())]
    );
    // The correction stands; a device edit that had seen it replaces it as usual.
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    assert!(!row.state.has_conflicts());
    assert_eq!(age_of(&row), Some("41"));
    // The device's own earlier edits may still be on the way (reordered): not judged.
    let reordered = edit("a5", "dev-a", 4, &[("dev-a", 3), ("user:coord", 1)], "43");
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[reordered])[0].0,
        AckStatus::Accepted
    );
    let honest = edit("a4", "dev-a", 2, &[("user:coord", 1)], "42");
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[honest])[0].0,
        AckStatus::Accepted
    );
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    // Edit 4 had seen edit 2 (its own, through its number): 43 stands.
    assert_eq!(age_of(&row), Some("43"));
    // Naming actors with nothing seen claims nothing, and the state keeps none of them:
    // what it keeps of `seen` names only actors whose edits the server holds.
    let ghosts = Revision {
        seen: VersionVector(
            (0..Revision::MAX_SEEN_ACTORS - 1)
                .map(|i| (format!("ghost-{i}"), 0))
                .chain([("user:coord".to_string(), 1)])
                .collect(),
        ),
        ..edit("a6", "dev-a", 5, &[], "44")
    };
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[ghosts])[0].0,
        AckStatus::Accepted
    );
    let row = store.get_response("p1", &first.response).unwrap().unwrap();
    assert_eq!(age_of(&row), Some("44"));
    let held = row.state.context();
    for (dot, context) in &row.state.contexts {
        for actor in context.0.keys() {
            assert!(held.get(actor) > 0, "{dot}'s context names `{actor}`");
        }
    }
}

pub fn review_state_moves_the_response_in_the_feed(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let batch: Vec<_> = (0..3)
        .map(|i| incoming(household_revision(i, "dev-a", "1")))
        .collect();
    store
        .ingest("p1", &uploader("dev-a"), &batch, &TestValidator, NOW)
        .unwrap();
    let before = store.pull("p1", 0, 10).unwrap();
    let last = before.last().unwrap().feed_seq;
    let first_id = before[0].state.response.clone();
    assert!(store
        .set_review_state("p1", &first_id, ReviewState::Approved, NOW)
        .unwrap());
    assert!(!store
        .set_review_state("p1", "nope", ReviewState::Approved, NOW)
        .unwrap());
    let after = store.pull("p1", last, 10).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].state.response, first_id);
    assert_eq!(after[0].review_state, ReviewState::Approved);
}

/// Send-back: the device that started a response, and only it, pulls back its review
/// state, the comments and coordinators' edits; its next finalized edit resubmits it; every
/// transition is kept.
pub fn a_send_back_reaches_only_its_device_and_its_edit_resubmits(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let mine = household_revision(21, "dev-a", "1");
    let theirs = household_revision(22, "dev-b", "1");
    let elsewhere = household_revision(23, "dev-c", "1");
    let response = mine.response.clone();
    acks_of(store.as_ref(), "dev-a", std::slice::from_ref(&mine));
    acks_of(store.as_ref(), "dev-b", std::slice::from_ref(&theirs));
    store
        .ingest(
            "p2",
            &uploader("dev-c"),
            &[incoming(elsewhere)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    let feed = |device: &str, after: i64| store.device_feed("p1", device, after, 100).unwrap();
    let first = feed("dev-a", 0);
    assert_eq!(first.len(), 1, "only its own response");
    assert_eq!(first[0].id, response);
    assert_eq!(first[0].review_state, ReviewState::Received);
    assert!(first[0].reviews.is_empty() && first[0].coordinator_revisions.is_empty());
    assert_eq!(feed("dev-b", 0)[0].id, theirs.response);
    assert!(store.device_feed("p2", "dev-a", 0, 100).unwrap().is_empty());
    let cursor = first[0].feed_seq;

    // A coordinator corrects one answer and sends the response back with comments.
    let edit = |id: &str, actor: &str, seq: u64, seen: &[(&str, u64)], age: &str| Revision {
        id: id.into(),
        actor: actor.into(),
        seq,
        seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
        set: [(
            "/resp_age".to_string(),
            Some(AnswerValue::Text(age.to_string())),
        )]
        .into(),
        status: None,
        consent: None,
        ..mine.clone()
    };
    let correction = edit("c1", "user:cora", 1, &[("dev-a", 1)], "44");
    acks_of(
        store.as_ref(),
        "user:cora",
        std::slice::from_ref(&correction),
    );
    let fields = BTreeMap::from([("/resp_age".to_string(), "Is 44 right?".to_string())]);
    let decision = Decision {
        state: ReviewState::SentBack,
        comment: Some("Please check the age"),
        fields: &fields,
        by: "cora",
    };
    assert_eq!(
        store
            .review("p1", std::slice::from_ref(&response), &decision, LATER)
            .unwrap(),
        [true]
    );
    let back = feed("dev-a", cursor);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].review_state, ReviewState::SentBack);
    assert_eq!(back[0].reviews.len(), 1);
    let sent = &back[0].reviews[0];
    assert_eq!(sent.comment.as_deref(), Some("Please check the age"));
    assert_eq!(sent.fields, fields);
    assert_eq!(sent.transition().by, "user:cora");
    assert_eq!(
        sent.context,
        Some(VersionVector(
            [("dev-a".to_string(), 1), ("user:cora".to_string(), 1)].into()
        )),
        "the send-back keeps what it had seen"
    );
    let edits: Vec<Revision> = back[0]
        .coordinator_revisions
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(edits, std::slice::from_ref(&correction));
    let other_cursor = feed("dev-b", 0)[0].feed_seq;
    assert!(feed("dev-b", other_cursor).is_empty(), "nothing of dev-a's");

    // Another coordinator edit leaves it sent back; the device's finalized edit
    // resubmits it.
    let second = edit("c2", "user:cora", 2, &[("dev-a", 1)], "45");
    acks_of(store.as_ref(), "user:cora", &[second]);
    let row = store.get_response("p1", &response).unwrap().unwrap();
    assert_eq!(row.review_state, ReviewState::SentBack);
    let fixed = Revision {
        status: Some(voices_core::sync::ResponseStatus::Finalized),
        ..edit("a2", "dev-a", 2, &[("user:cora", 2)], "46")
    };
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[fixed])[0].0,
        AckStatus::Accepted
    );
    let row = store.get_response("p1", &response).unwrap().unwrap();
    assert_eq!(row.review_state, ReviewState::Resubmitted);
    assert_eq!(age_of(&row), Some("46"));
    let states: Vec<(String, String)> = store
        .reviews_of("p1", &response)
        .unwrap()
        .into_iter()
        .map(|r| (r.state, r.by))
        .collect();
    assert_eq!(
        states,
        [
            ("sentBack".to_string(), "cora".to_string()),
            ("resubmitted".to_string(), "dev-a".to_string())
        ]
    );
    // Approved: the device reads that too.
    let approve = Decision {
        state: ReviewState::Approved,
        comment: None,
        fields: &BTreeMap::new(),
        by: "cora",
    };
    store
        .review("p1", std::slice::from_ref(&response), &approve, LATER)
        .unwrap();
    let last = feed("dev-a", cursor);
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].review_state, ReviewState::Approved);
    assert_eq!(last[0].reviews.len(), 3);
    assert_eq!(last[0].coordinator_revisions.len(), 2);
    assert!(feed("dev-a", last[0].feed_seq).is_empty());
}

/// A device's feed holds the responses it started in that project and nothing else:
/// several devices in two projects (one device id in both), every response corrected
/// and sent back by a coordinator, each feed read to its end in small pages.
pub fn a_device_feed_never_holds_another_devices_response(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let started: [(&str, &str, [u64; 3]); 5] = [
        ("p1", "dev-a", [31, 32, 33]),
        ("p1", "dev-b", [34, 35, 36]),
        ("p1", "dev-c", [37, 38, 39]),
        ("p2", "dev-a", [40, 41, 42]),
        ("p2", "dev-d", [43, 44, 45]),
    ];
    let fields = BTreeMap::from([("/resp_age".to_string(), "Is this right?".to_string())]);
    let back = Decision {
        state: ReviewState::SentBack,
        comment: Some("Please check"),
        fields: &fields,
        by: "cora",
    };
    for (project, device, numbers) in started {
        for n in numbers {
            let first = household_revision(n, device, "1");
            let response = first.response.clone();
            let correction = Revision {
                id: format!("cora-{n}"),
                actor: "user:cora".into(),
                seq: 1,
                seen: VersionVector([(device.to_string(), 1)].into()),
                set: [("/resp_age".to_string(), Some("44".into()))].into(),
                status: None,
                ..first.clone()
            };
            for (by, revision) in [(device, first), ("user:cora", correction)] {
                let acks = store
                    .ingest(
                        project,
                        &uploader(by),
                        &[incoming(revision)],
                        &TestValidator,
                        NOW,
                    )
                    .unwrap();
                assert_eq!(acks[0].status, AckStatus::Accepted, "{acks:?}");
            }
            store
                .review(project, std::slice::from_ref(&response), &back, LATER)
                .unwrap();
        }
    }
    let devices = [
        ("p1", "dev-a"),
        ("p1", "dev-b"),
        ("p1", "dev-c"),
        ("p1", "dev-d"),
        ("p2", "dev-a"),
        ("p2", "dev-b"),
        ("p2", "dev-d"),
    ];
    for (project, device) in devices {
        let expected: HashSet<String> = started
            .iter()
            .filter(|(p, d, _)| *p == project && *d == device)
            .flat_map(|(_, _, numbers)| numbers.iter())
            .map(|n| household_revision(*n, device, "1").response)
            .collect();
        let mut got = HashSet::new();
        let mut after = 0;
        loop {
            let page = store.device_feed(project, device, after, 2).unwrap();
            let Some(last) = page.last() else { break };
            after = last.feed_seq;
            for row in page {
                assert!(
                    expected.contains(&row.id),
                    "{device} in {project} received response {} it did not start",
                    row.id
                );
                assert_eq!(row.review_state, ReviewState::SentBack);
                for body in &row.coordinator_revisions {
                    let edit: Revision = serde_json::from_str(body).unwrap();
                    assert_eq!(edit.response, row.id, "an edit of another response");
                }
                assert_eq!(row.coordinator_revisions.len(), 1);
                got.insert(row.id);
            }
        }
        assert_eq!(got, expected, "{device} in {project}");
    }
}

pub fn known_revisions_lists_what_is_stored(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let batch: Vec<_> = (0..5)
        .map(|i| incoming(household_revision(i, "dev-a", "1")))
        .collect();
    store
        .ingest("p1", &uploader("dev-a"), &batch[..3], &TestValidator, NOW)
        .unwrap();
    let ids: Vec<String> = batch.iter().map(|b| b.revision.id.clone()).collect();
    let known = store.known_revisions("p1", &ids).unwrap();
    assert_eq!(known, ids[..3]);
    assert!(store.known_revisions("p2", &ids).unwrap().is_empty());
}

/// The export's read: one form's responses in feed order, paged, the other forms' and
/// projects' left out by the store, edits moving a response to its latest position.
pub fn pull_form_reads_one_form_in_feed_order(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let batch: Vec<_> = (0..9)
        .map(|i| {
            let mut r = household_revision(i, "dev-a", "1");
            if i % 3 == 1 {
                r.form = "market_survey".into();
            }
            incoming(r)
        })
        .collect();
    store
        .ingest("p1", &uploader("dev-a"), &batch, &TestValidator, NOW)
        .unwrap();
    let mut elsewhere = household_revision(100, "dev-b", "1");
    elsewhere.form = "market_survey".into();
    store
        .ingest(
            "p2",
            &uploader("dev-b"),
            &[incoming(elsewhere)],
            &TestValidator,
            NOW,
        )
        .unwrap();
    // An edit moves the first response to the end of the feed.
    let first = batch[0].revision.response.clone();
    assert!(store
        .set_review_state("p1", &first, ReviewState::Approved, NOW)
        .unwrap());
    let read_all = |form: &str| {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = store.pull_form("p1", form, after, 2).unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else {
                return out;
            };
            after = last.feed_seq;
            out.extend(page);
        }
    };
    for form in ["household_survey", "market_survey"] {
        let rows = read_all(form);
        let expected: Vec<String> = store
            .pull("p1", 0, 100)
            .unwrap()
            .into_iter()
            .filter(|r| r.state.form == form)
            .map(|r| r.state.response)
            .collect();
        let got: Vec<String> = rows.iter().map(|r| r.state.response.clone()).collect();
        assert_eq!(got, expected, "{form}");
        assert!(rows.iter().all(|r| r.state.form == form));
        assert!(rows.windows(2).all(|w| w[0].feed_seq < w[1].feed_seq));
    }
    assert_eq!(read_all("household_survey").len(), 6);
    assert_eq!(read_all("market_survey").len(), 3);
    assert_eq!(
        read_all("household_survey").last().unwrap().state.response,
        first
    );
    assert!(read_all("nope").is_empty());
    assert_eq!(
        store.pull_form("p2", "market_survey", 0, 10).unwrap().len(),
        1
    );
}

/// Writers on several threads add responses while a reader pages through the feed:
/// the reader must see every response exactly once — no gaps, no repeats.
pub fn pull_cursor_has_no_gaps_under_concurrent_writers(store: Arc<dyn Store>) {
    setup(store.as_ref());
    const WRITERS: u64 = 4;
    const BATCHES: u64 = 40;
    const PER_BATCH: u64 = 10;
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let done = done.clone();
        handles.push(std::thread::spawn(move || {
            for b in 0..BATCHES {
                let batch: Vec<_> = (0..PER_BATCH)
                    .map(|i| {
                        let n = (w * BATCHES + b) * PER_BATCH + i;
                        incoming(household_revision(n, &format!("dev-{w}"), "1"))
                    })
                    .collect();
                store
                    .ingest(
                        "p1",
                        &uploader(&format!("dev-{w}")),
                        &batch,
                        &TestValidator,
                        NOW,
                    )
                    .unwrap();
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    let mut seen = HashSet::new();
    let mut cursor = 0i64;
    let mut pages = 0;
    loop {
        let writers_done = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS as usize;
        let page = store.pull("p1", cursor, 7).unwrap();
        pages += 1;
        for row in &page {
            assert!(row.feed_seq > cursor, "cursor went backwards");
            assert!(
                seen.insert(row.state.response.clone()),
                "response seen twice"
            );
            cursor = row.feed_seq;
        }
        if page.is_empty() && writers_done {
            break;
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        seen.len() as u64,
        WRITERS * BATCHES * PER_BATCH,
        "responses missed"
    );
    assert!(pages > 10, "the reader did not interleave with the writers");
}

pub fn attachments_resume_and_deduplicate(store: Arc<dyn Store>) {
    use voices_server::store::ChunkOutcome;
    setup(store.as_ref());
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = auth::sha256_hex(&data);
    assert!(store.attachment_status("p1", &sha).unwrap().is_none());
    let first = store
        .put_attachment_chunk("p1", &sha, 300, 0, &data[..100], NOW)
        .unwrap();
    assert!(matches!(first, ChunkOutcome::Stored(ref s) if s.received == 100 && !s.complete));
    // A chunk that does not start where the received bytes end is refused with the position.
    let wrong = store
        .put_attachment_chunk("p1", &sha, 300, 50, &data[50..150], NOW)
        .unwrap();
    assert!(matches!(wrong, ChunkOutcome::OffsetMismatch(ref s) if s.received == 100));
    assert!(store
        .put_attachment_chunk("p1", &sha, 999, 100, &data[100..], NOW)
        .is_err());
    assert!(store
        .put_attachment_chunk("p1", &sha, 300, 100, &[0; 201], NOW)
        .is_err());
    let done = store
        .put_attachment_chunk("p1", &sha, 300, 100, &data[100..], NOW)
        .unwrap();
    assert!(matches!(done, ChunkOutcome::Stored(ref s) if s.received == 300));
    assert_eq!(store.read_attachment("p1", &sha, 0, 1 << 20).unwrap(), data);
    assert_eq!(
        store.read_attachment("p1", &sha, 150, 1 << 20).unwrap(),
        data[150..]
    );
    assert!(store
        .read_attachment("p1", &sha, 300, 1 << 20)
        .unwrap()
        .is_empty());
    store.complete_attachment("p1", &sha, NOW).unwrap();
    // Complete: a second upload of the same content is not needed, and discard is refused.
    let again = store
        .put_attachment_chunk("p1", &sha, 300, 0, &data[..100], NOW)
        .unwrap();
    assert!(matches!(again, ChunkOutcome::OffsetMismatch(ref s) if s.complete));
    store.discard_attachment("p1", &sha).unwrap();
    assert!(
        store
            .attachment_status("p1", &sha)
            .unwrap()
            .unwrap()
            .complete
    );
    assert_eq!(store.read_attachment("p1", &sha, 0, 1 << 20).unwrap(), data);
    // Projects do not share attachments; discarding an incomplete one forgets it.
    assert!(store.attachment_status("p2", &sha).unwrap().is_none());
    store
        .put_attachment_chunk("p2", &sha, 300, 0, &data[..10], NOW)
        .unwrap();
    store.discard_attachment("p2", &sha).unwrap();
    assert!(store.attachment_status("p2", &sha).unwrap().is_none());
}

/// Feed positions are counted per project: what happens in one project (new responses,
/// edits, reviews) never moves another project's positions, so a cursor tells a
/// coordinator nothing about other projects' activity.
pub fn feed_positions_do_not_reveal_other_projects(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let ingest = |project: &str, from: u64, n: u64| {
        let batch: Vec<_> = (from..from + n)
            .map(|i| incoming(household_revision(i, "dev-a", "1")))
            .collect();
        store
            .ingest(project, &uploader("dev-a"), &batch, &TestValidator, NOW)
            .unwrap();
    };
    let positions = |project: &str| -> Vec<i64> {
        store
            .pull(project, 0, 1000)
            .unwrap()
            .iter()
            .map(|r| r.feed_seq)
            .collect()
    };
    ingest("p1", 0, 3);
    ingest("p2", 100, 5);
    ingest("p1", 3, 2);
    let p2_first = store.pull("p2", 0, 1).unwrap()[0].state.response.clone();
    assert!(store
        .set_review_state("p2", &p2_first, ReviewState::Approved, NOW)
        .unwrap());
    ingest("p1", 5, 1);
    // p2's busy week shows nowhere in p1's positions, nor p1's in p2's.
    assert_eq!(positions("p1"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(positions("p2"), [2, 3, 4, 5, 6]);
    let p1_first = store.pull("p1", 0, 1).unwrap()[0].state.response.clone();
    assert!(store
        .set_review_state("p1", &p1_first, ReviewState::Approved, NOW)
        .unwrap());
    assert_eq!(store.pull("p1", 6, 10).unwrap()[0].feed_seq, 7);
    assert_eq!(positions("p2"), [2, 3, 4, 5, 6]);
}

pub fn attachment_completion_is_one_step_and_a_wrong_size_claim_is_replaced(store: Arc<dyn Store>) {
    use voices_server::store::ChunkOutcome;
    setup(store.as_ref());
    let data: Vec<u8> = (0..300u32).map(|i| (i * 11 % 251) as u8).collect();
    let sha = auth::sha256_hex(&data);
    let status = |sha: &str| store.attachment_status("p1", sha).unwrap();
    // Someone claims the hash first with a wrong size (and some bytes).
    store
        .put_attachment_chunk("p1", &sha, 5_000, 0, &data[..100], NOW)
        .unwrap();
    // Continuing under another size is refused, saying how to start again ...
    let err = store
        .put_attachment_chunk("p1", &sha, 300, 100, &data[100..], NOW)
        .unwrap_err();
    assert!(err.to_string().contains("offset 0"), "{err}");
    // ... and starting again from 0 with the real size replaces the unverified claim.
    let restarted = store
        .put_attachment_chunk("p1", &sha, 300, 0, &data[..200], NOW)
        .unwrap();
    assert!(
        matches!(restarted, ChunkOutcome::Stored(ref s) if s.size == 300 && s.received == 200 && !s.complete),
        "{restarted:?}"
    );
    // The chunk with the last byte completes the file in the same step.
    let last = store
        .put_attachment_chunk("p1", &sha, 300, 200, &data[200..], NOW)
        .unwrap();
    assert!(
        matches!(last, ChunkOutcome::Stored(ref s) if s.received == 300 && s.complete),
        "{last:?}"
    );
    assert!(status(&sha).unwrap().complete);
    assert_eq!(store.read_attachment("p1", &sha, 0, 1 << 20).unwrap(), data);
    // A complete file's size is not a claim any more.
    assert!(store
        .put_attachment_chunk("p1", &sha, 301, 0, &data[..10], NOW)
        .is_err());

    // A claim too small: its last byte arrives at once, the hash does not match, and
    // the claim is gone, so the real file goes in after it.
    let other: Vec<u8> = (0..50u8).collect();
    let other_sha = auth::sha256_hex(&other);
    let wrong = store
        .put_attachment_chunk("p1", &other_sha, 10, 0, &[0; 10], NOW)
        .unwrap();
    assert!(matches!(wrong, ChunkOutcome::Discarded), "{wrong:?}");
    assert!(status(&other_sha).is_none());
    // Wrong bytes of the right size are discarded alike, never left complete = false.
    let garbage = store
        .put_attachment_chunk("p1", &other_sha, 50, 0, &[7; 50], NOW)
        .unwrap();
    assert!(matches!(garbage, ChunkOutcome::Discarded), "{garbage:?}");
    assert!(status(&other_sha).is_none());
    let real = store
        .put_attachment_chunk("p1", &other_sha, 50, 0, &other, NOW)
        .unwrap();
    assert!(
        matches!(real, ChunkOutcome::Stored(ref s) if s.complete),
        "{real:?}"
    );
}

/// A project's recipient keys (added once, retired with when, per project), the pii grant
/// (members only), and the audit read back by project, actor, action, time and page.
pub fn keys_pii_grants_and_the_audit(store: Arc<dyn Store>) {
    use voices_server::store::access::{AuditAction, AuditQuery, AuditRecord, ProjectKey};
    setup(store.as_ref());
    let key = |recipient: &str, at: &str| ProjectKey {
        recipient: recipient.into(),
        label: "data manager".into(),
        added_by: "ada".into(),
        added_at: at.into(),
        retired_at: None,
    };
    assert!(store.add_project_key("p1", &key("age1old", PAST)).unwrap());
    assert!(!store.add_project_key("p1", &key("age1old", NOW)).unwrap());
    assert!(store.add_project_key("p1", &key("age1new", NOW)).unwrap());
    assert!(store.add_project_key("p2", &key("age1old", NOW)).unwrap());
    assert!(store.retire_project_key("p1", "age1old", LATER).unwrap());
    assert!(!store.retire_project_key("p1", "age1old", LATER).unwrap());
    assert!(!store.retire_project_key("p1", "age1never", LATER).unwrap());
    let keys = store.project_keys("p1").unwrap();
    let listed: Vec<(&str, Option<&str>)> = keys
        .iter()
        .map(|k| (k.recipient.as_str(), k.retired_at.as_deref()))
        .collect();
    assert_eq!(listed, [("age1old", Some(LATER)), ("age1new", None)]);
    assert_eq!(store.project_keys("p2").unwrap()[0].retired_at, None);

    store
        .add_user("cora", Role::Coordinator, "hash", NOW)
        .unwrap();
    store.add_membership("cora", "p1").unwrap();
    let cora = || store.find_user("cora").unwrap().unwrap();
    assert!(!cora().may_read_pii("p1"), "not by default");
    assert!(store.set_pii_grant("cora", "p1", true).unwrap());
    assert!(cora().may_read_pii("p1"));
    assert!(
        !store.set_pii_grant("cora", "p2", true).unwrap(),
        "not a member"
    );
    assert!(!cora().may_read_pii("p2"));
    assert!(store.set_pii_grant("cora", "p1", false).unwrap());
    assert!(!cora().may_read_pii("p1"));

    let record = |at: &str, actor: &str, action, project: &str, ok| AuditRecord {
        at: at.into(),
        actor: actor.into(),
        action,
        project: Some(project.into()),
        target: Some("r1".into()),
        detail: "pii=true".into(),
        ok,
    };
    for r in [
        record(PAST, "cora", AuditAction::ReadResponse, "p1", true),
        record(NOW, "cora", AuditAction::Export, "p1", true),
        record(NOW, "dana", AuditAction::ReadResponse, "p2", true),
        record(LATER, "-", AuditAction::SignInFailed, "p1", false),
    ] {
        store.append_audit(&r).unwrap();
    }
    let query = |q: AuditQuery| -> Vec<(String, String, String)> {
        store
            .audit(&AuditQuery { limit: 100, ..q })
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.outcome))
            .collect()
    };
    let all = store
        .audit(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "in order");
    assert_eq!(all[0].target.as_deref(), Some("r1"));
    assert_eq!(all[0].detail, "pii=true");
    let p1 = query(AuditQuery {
        project: Some("p1".into()),
        ..AuditQuery::default()
    });
    assert_eq!(p1.len(), 3);
    assert_eq!(
        p1[2],
        ("-".into(), "sign_in_failed".into(), "refused".into())
    );
    let cora_reads = query(AuditQuery {
        actor: Some("cora".into()),
        action: Some(AuditAction::ReadResponse),
        ..AuditQuery::default()
    });
    assert_eq!(
        cora_reads,
        [("cora".into(), "read_response".into(), "ok".into())]
    );
    let between = query(AuditQuery {
        since: Some(NOW.into()),
        until: Some(LATER.into()),
        ..AuditQuery::default()
    });
    assert_eq!(between.len(), 2, "{between:?}");
    let page = store
        .audit(&AuditQuery {
            after: all[1].id,
            limit: 1,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, all[2].id);
}

fn team_query(scope: Scope) -> TableQuery {
    TableQuery {
        form: None,
        version: None,
        status: None,
        review: None,
        flag: None,
        enumerator: None,
        device: None,
        from: None,
        to: None,
        words: Vec::new(),
        pii: false,
        sort: Sort::ReceivedAt,
        descending: false,
        after: None,
        offset: 0,
        limit: 50,
        count: true,
        scope,
    }
}

/// Teams: a coordinator limited to teams reads, in every read the store offers, only
/// the responses their teams' devices started; a deleted team leaves them limited to
/// nothing (never to everything); lifting the limit or leaving the project ends it.
pub fn teams_limit_what_a_coordinator_reads(store: Arc<dyn Store>) {
    setup(store.as_ref());
    for (id, project) in [("dev-a", "p1"), ("dev-b", "p1"), ("dev-p2", "p2")] {
        let device = Device {
            id: id.into(),
            project: project.into(),
            enumerator: format!("enumerator of {id}"),
            revoked_at: None,
            wipe_requested_at: None,
        };
        store
            .add_device(&device, &format!("code-{id}"), LATER, NOW)
            .unwrap();
    }
    let ours = household_revision(61, "dev-a", "1");
    let theirs = household_revision(62, "dev-b", "1");
    for (device, revision) in [("dev-a", &ours), ("dev-b", &theirs)] {
        let acks = store
            .ingest(
                "p1",
                &uploader(device),
                &[incoming(revision.clone())],
                &TestValidator,
                NOW,
            )
            .unwrap();
        assert_eq!(acks[0].status, AckStatus::Accepted, "{acks:?}");
    }
    let hash = auth::hash_password("a long enough passphrase").unwrap();
    store
        .add_user("lena", Role::Coordinator, &hash, NOW)
        .unwrap();
    store.add_membership("lena", "p1").unwrap();

    // Teams: names unique per project, trimmed by the caller.
    let north = store.add_team("p1", "North", NOW).unwrap();
    assert!(matches!(
        store.add_team("p1", "North", NOW),
        Err(voices_server::Error::Conflict(_))
    ));
    let south = store.add_team("p1", "South", NOW).unwrap();
    let elsewhere = store.add_team("p2", "North", NOW).unwrap();
    assert!(matches!(
        store.rename_team("p1", south.id, "North"),
        Err(voices_server::Error::Conflict(_))
    ));
    assert!(store.rename_team("p1", south.id, "Coast").unwrap());
    assert!(!store.rename_team("p1", elsewhere.id, "Other").unwrap());
    assert_eq!(
        store
            .set_team_device("p1", north.id, "dev-a", true)
            .unwrap(),
        TeamChange::Done
    );
    assert_eq!(
        store
            .set_team_device("p1", north.id, "dev-a", true)
            .unwrap(),
        TeamChange::Done
    );
    assert_eq!(
        store
            .set_team_device("p1", north.id, "dev-p2", true)
            .unwrap(),
        TeamChange::UnknownDevice
    );
    assert_eq!(
        store
            .set_team_device("p1", elsewhere.id, "dev-a", true)
            .unwrap(),
        TeamChange::UnknownTeam
    );
    store
        .set_team_device("p1", south.id, "dev-b", true)
        .unwrap();

    // Unlimited first: the whole project.
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.memberships[0].teams, None);
    assert_eq!(lena.scope_in("p1"), Scope::Project);
    assert_eq!(
        store
            .limit_member("lena", "p1", Some(&[elsewhere.id]))
            .unwrap(),
        TeamChange::UnknownTeam
    );
    assert_eq!(
        store
            .limit_member("nobody", "p1", Some(&[north.id]))
            .unwrap(),
        TeamChange::NotMember
    );
    assert_eq!(
        store.limit_member("lena", "p1", Some(&[north.id])).unwrap(),
        TeamChange::Done
    );
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(
        lena.memberships[0].teams,
        Some(vec![TeamRef {
            id: north.id,
            name: "North".into()
        }])
    );
    let scope = lena.scope_in("p1");
    assert_eq!(scope, Scope::TeamsOf("lena".into()));
    let teams = store.teams("p1").unwrap();
    assert_eq!(
        teams
            .iter()
            .map(|t| (t.name.as_str(), t.devices.clone(), t.coordinators.clone()))
            .collect::<Vec<_>>(),
        [
            ("Coast", vec!["dev-b".to_string()], vec![]),
            ("North", vec!["dev-a".to_string()], vec!["lena".to_string()]),
        ]
    );

    // Every read: only dev-a's response.
    let ids = |rows: Vec<voices_server::store::StoredResponse>| -> Vec<String> {
        rows.into_iter().map(|r| r.state.response.clone()).collect()
    };
    assert_eq!(
        ids(store.pull_in("p1", &scope, 0, 100).unwrap()),
        vec![ours.response.clone()]
    );
    assert_eq!(
        ids(store
            .pull_form_in("p1", &scope, "household_survey", 0, 100)
            .unwrap()),
        vec![ours.response.clone()]
    );
    assert_eq!(
        store.pull_in("p1", &Scope::Project, 0, 100).unwrap().len(),
        2
    );
    assert!(store
        .get_response_in("p1", &scope, &theirs.response)
        .unwrap()
        .is_none());
    assert!(store
        .get_response_in("p1", &scope, &ours.response)
        .unwrap()
        .is_some());
    assert!(store
        .get_response_in("p1", &Scope::Project, &theirs.response)
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .visible_responses(
                "p1",
                &scope,
                &[
                    theirs.response.clone(),
                    ours.response.clone(),
                    "missing".into()
                ]
            )
            .unwrap(),
        [false, true, false]
    );
    assert_eq!(
        store
            .known_revisions_in("p1", &scope, &[ours.id.clone(), theirs.id.clone()])
            .unwrap(),
        vec![ours.id.clone()]
    );
    assert_eq!(
        store
            .known_revisions("p1", &[ours.id.clone(), theirs.id.clone()])
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .count_form_in("p1", &scope, "household_survey", 0)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_form_in("p1", &Scope::Project, "household_survey", 0)
            .unwrap(),
        2
    );
    let cells: u64 = store
        .map_cells_in("p1", &scope, "household_survey", 6)
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    let all_cells: u64 = store
        .map_cells_in("p1", &Scope::Project, "household_survey", 6)
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert!(
        cells < all_cells || all_cells == 0,
        "{cells} of {all_cells}"
    );
    let devices: Vec<String> = store
        .list_devices_in("p1", &scope)
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(devices, ["dev-a"]);
    let page = store.table("p1", &team_query(scope.clone())).unwrap();
    assert_eq!(
        page.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![ours.response.clone()]
    );
    assert_eq!(page.total, Some(1));
    assert_eq!(
        store
            .table("p1", &team_query(Scope::Project))
            .unwrap()
            .total,
        Some(2)
    );
    // Free text too: both villages are a "Kijiji"; only ours is found.
    let mut searched = team_query(scope.clone());
    searched.words = voices_server::store::projection::search_words("kijiji");
    // No form is published here, so every answer is indexed as pii text.
    searched.pii = true;
    let found = store.table("p1", &searched).unwrap();
    assert_eq!(found.total, Some(1));
    assert_eq!(found.rows[0].id, ours.response);
    searched.scope = Scope::Project;
    assert_eq!(store.table("p1", &searched).unwrap().total, Some(2));

    // A device leaving the team takes its responses out of the coordinator's reads.
    store
        .set_team_device("p1", north.id, "dev-a", false)
        .unwrap();
    assert!(store.pull_in("p1", &scope, 0, 100).unwrap().is_empty());
    store
        .set_team_device("p1", north.id, "dev-a", true)
        .unwrap();

    // Deleting the team leaves the coordinator limited, to nothing.
    assert!(store.delete_team("p1", north.id).unwrap());
    assert!(!store.delete_team("p1", north.id).unwrap());
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.memberships[0].teams, Some(vec![]));
    assert_eq!(lena.scope_in("p1"), scope);
    assert!(store.pull_in("p1", &scope, 0, 100).unwrap().is_empty());
    assert_eq!(
        store.table("p1", &team_query(scope.clone())).unwrap().total,
        Some(0)
    );
    assert!(store.list_devices_in("p1", &scope).unwrap().is_empty());

    // Lifting the limit, or leaving the project and coming back, reads everything again.
    store.limit_member("lena", "p1", Some(&[south.id])).unwrap();
    assert_eq!(
        ids(store.pull_in("p1", &scope, 0, 100).unwrap()),
        vec![theirs.response.clone()]
    );
    store.limit_member("lena", "p1", None).unwrap();
    assert_eq!(
        store.find_user("lena").unwrap().unwrap().scope_in("p1"),
        Scope::Project
    );
    store.limit_member("lena", "p1", Some(&[south.id])).unwrap();
    assert!(store.remove_membership("lena", "p1").unwrap());
    store.add_membership("lena", "p1").unwrap();
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.memberships[0].teams, None);
    assert!(store.teams("p1").unwrap()[0].coordinators.is_empty());
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
            a_device_feed_never_holds_another_devices_response,
            known_revisions_lists_what_is_stored,
            pull_form_reads_one_form_in_feed_order,
            pull_cursor_has_no_gaps_under_concurrent_writers,
            attachments_resume_and_deduplicate,
            feed_positions_do_not_reveal_other_projects,
            attachment_completion_is_one_step_and_a_wrong_size_claim_is_replaced,
            keys_pii_grants_and_the_audit,
            teams_limit_what_a_coordinator_reads,
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
