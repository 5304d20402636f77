//! Review states, send-back and what a device's feed holds.

use super::*;

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
    let feed =
        |device: &str, after: i64| store.device_feed("p1", device, after, 100, true).unwrap();
    let first = feed("dev-a", 0);
    assert_eq!(first.len(), 1, "only its own response");
    assert_eq!(first[0].id, response);
    assert_eq!(first[0].review_state, ReviewState::Received);
    assert!(first[0].reviews.is_empty() && first[0].coordinator_revisions.is_empty());
    assert_eq!(feed("dev-b", 0)[0].id, theirs.response);
    assert!(store
        .device_feed("p2", "dev-a", 0, 100, true)
        .unwrap()
        .is_empty());
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
            let page = store.device_feed(project, device, after, 2, true).unwrap();
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

/// A withdrawal reaches the device that started the response in feed version 2 as an
/// item saying only that (no reviews, no coordinators' edits, which carry answers),
/// before and after the purge; version 1 leaves it out as before. A later revision of
/// it is refused `withdrawn`, never stored as live data.
pub fn a_withdrawal_reaches_its_device_in_feed_version_2_only_as_a_withdrawal(
    store: Arc<dyn Store>,
) {
    setup(store.as_ref());
    let mine = household_revision(31, "dev-a", "1");
    let kept = household_revision(32, "dev-a", "1");
    let response = mine.response.clone();
    acks_of(store.as_ref(), "dev-a", &[mine.clone(), kept.clone()]);
    let correction = Revision {
        id: "cw1".into(),
        actor: "user:cora".into(),
        seq: 1,
        seen: VersionVector([("dev-a".to_string(), 1)].into()),
        set: [(
            "/resp_age".to_string(),
            Some(AnswerValue::Text("51".into())),
        )]
        .into(),
        status: None,
        consent: None,
        ..mine.clone()
    };
    acks_of(store.as_ref(), "user:cora", &[correction]);
    let fields = BTreeMap::new();
    let decision = Decision {
        state: ReviewState::SentBack,
        comment: Some("Ask again"),
        fields: &fields,
        by: "cora",
    };
    store
        .review("p1", std::slice::from_ref(&response), &decision, LATER)
        .unwrap();
    let cursor = store.device_feed("p1", "dev-a", 0, 100, true).unwrap();
    assert_eq!(cursor.len(), 2);
    assert!(cursor.iter().all(|r| !r.withdrawn));
    let after = cursor.iter().map(|r| r.feed_seq).max().unwrap();

    assert!(store
        .withdraw("p1", &response, Some("by phone"), "cora", LATER)
        .unwrap()
        .is_some());
    let v2 = store.device_feed("p1", "dev-a", after, 100, true).unwrap();
    assert_eq!(v2.len(), 1, "the withdrawal moves the response in the feed");
    let item = &v2[0];
    assert_eq!(item.id, response);
    assert!(item.withdrawn);
    assert!(item.reviews.is_empty() && item.coordinator_revisions.is_empty());
    assert!(store
        .device_feed("p1", "dev-a", after, 100, false)
        .unwrap()
        .is_empty());
    assert!(store
        .device_feed("p1", "dev-b", 0, 100, true)
        .unwrap()
        .is_empty());

    // The device's later edit of it: refused, with the reason the app branches on.
    let late = Revision {
        id: "aw2".into(),
        seq: 2,
        set: [(
            "/resp_age".to_string(),
            Some(AnswerValue::Text("52".into())),
        )]
        .into(),
        consent: None,
        ..mine.clone()
    };
    assert_eq!(
        acks_of(store.as_ref(), "dev-a", &[late])[0],
        (AckStatus::Rejected, "withdrawn".to_string())
    );
    assert_eq!(
        store.revisions_of("p1", &response).unwrap().len(),
        2,
        "the device's first and the coordinator's edit, not the refused one"
    );

    // Purged: still a withdrawal in the feed, from the start too.
    assert_eq!(store.purge_withdrawn("p1", LATER, LATER).unwrap(), 1);
    let all = store.device_feed("p1", "dev-a", 0, 100, true).unwrap();
    let withdrawn: Vec<_> = all.iter().filter(|r| r.withdrawn).collect();
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0].id, response);
    assert!(withdrawn[0].coordinator_revisions.is_empty());
    assert_eq!(
        store
            .device_feed("p1", "dev-a", 0, 100, false)
            .unwrap()
            .len(),
        1,
        "version 1: only the response kept"
    );
}
