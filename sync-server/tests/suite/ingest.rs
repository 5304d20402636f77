//! Publishing forms and ingesting batches: idempotence, ids, quarantine, conflicts and
//! who may write what.

use super::*;

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
