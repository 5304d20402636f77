//! What the sync client relies on: immutable revisions, acknowledgements driving the outbox,
//! failures kept due, held-back responses, the link and form offers.

use super::*;

#[test]
fn revisions_are_immutable_and_never_deleted() {
    let mut s = store_with_queued_response();
    s.add_revision(&revision("v1", "r1", 1), NOW).unwrap();
    let err = s
        .conn
        .execute("UPDATE revisions SET body = '{}' WHERE id = 'v1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    let err = s
        .conn
        .execute("DELETE FROM revisions WHERE id = 'v1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("never deleted"), "{err}");
    // The same edit number cannot be built twice.
    assert!(s.add_revision(&revision("v2", "r1", 1), NOW).is_err());
    let kept = s.revisions("r1").unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, revision("v1", "r1", 1).body);
}

#[test]
fn acknowledgements_drive_the_outbox_and_nothing_is_deleted() {
    let mut s = store_with_queued_response();
    for id in ["r2", "r3"] {
        s.create_response(id, "f", "1", "en", NOW).unwrap();
        s.transition(id, &[ResponseStatus::Draft], ResponseStatus::Finalized, NOW)
            .unwrap();
        s.transition(
            id,
            &[ResponseStatus::Finalized],
            ResponseStatus::Queued,
            NOW,
        )
        .unwrap();
    }
    s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
    s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
    s.add_revision(&revision("c1", "r3", 1), NOW).unwrap();
    assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 3);
    s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
    assert_eq!(outbox_state(&s, "r1").0, "sending");
    s.apply_acks(
        &[
            ack("a1", "accepted", &[]),
            ack("b1", "quarantined", &["/age: must be 0 or more"]),
            ack(
                "c1",
                "rejected",
                &["the same id was sent with other content"],
            ),
        ],
        NOW,
    )
    .unwrap();
    assert_eq!(outbox_state(&s, "r1"), ("sent".to_owned(), vec![]));
    assert_eq!(
        outbox_state(&s, "r2"),
        (
            "quarantined".to_owned(),
            vec!["/age: must be 0 or more".to_owned()]
        )
    );
    let (state, reasons) = outbox_state(&s, "r3");
    assert_eq!(state, "rejected");
    assert_eq!(
        reasons,
        ["revision_id_conflict: the same id was sent with other content"]
    );
    assert_eq!(s.response("r1").unwrap().status, ResponseStatus::Sent);
    assert_eq!(s.response("r2").unwrap().status, ResponseStatus::Sent);
    assert_eq!(s.response("r3").unwrap().status, ResponseStatus::Queued);
    // Nothing is due again (a rejected revision is not resent blindly), nothing deleted.
    assert!(s.unacknowledged_revisions(10).unwrap().is_empty());
    assert_eq!(s.revisions("r3").unwrap().len(), 1);
    assert_eq!(s.answers("r3").unwrap().len(), 0);
    // A later edit that passes clears the quarantine.
    s.add_revision(&revision("b2", "r2", 2), NOW).unwrap();
    assert_eq!(outbox_state(&s, "r2").0, "pending");
    s.apply_acks(&[ack("b2", "accepted", &[])], NOW).unwrap();
    assert_eq!(outbox_state(&s, "r2"), ("sent".to_owned(), vec![]));
}

#[test]
fn a_send_failure_keeps_revisions_due_and_says_why() {
    let mut s = store_with_queued_response();
    s.add_revision(&revision("a1", "r1", 1), NOW).unwrap();
    s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
    s.count_attempt(&["a1".to_owned()]).unwrap();
    s.note_send_failure(&["a1".to_owned()], "connection refused", NOW)
        .unwrap();
    let entry = &s.outbox_entries().unwrap()[0];
    assert_eq!(entry.state, "failed");
    assert_eq!(entry.last_error.as_deref(), Some("connection refused"));
    let due = s.unacknowledged_revisions(10).unwrap();
    assert_eq!(due[0].attempts, 1);
    // A killed sync leaves `sending` behind; opening resets it to pending.
    s.mark_sending(&["r1".to_owned()], true, NOW).unwrap();
    s.reset_sending().unwrap();
    assert_eq!(outbox_state(&s, "r1").0, "pending");
}

#[test]
fn held_back_responses_do_not_hide_the_queue_behind_them() {
    let mut s = store_with_queued_response();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    // r1 heads the queue with more revisions than the window holds.
    for seq in 1..=4 {
        s.add_revision(&revision(&format!("a{seq}"), "r1", seq), NOW)
            .unwrap();
    }
    s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
    let ids = |rows: Vec<RevisionRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.unacknowledged_revisions_except(2, &[]).unwrap()),
        ["a1", "a2"]
    );
    assert_eq!(
        ids(s
            .unacknowledged_revisions_except(2, &["r1".to_owned()])
            .unwrap()),
        ["b1"]
    );
    // Held back is not forgotten: every revision is still due and kept.
    assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 5);
}

#[test]
fn the_link_and_form_offers_round_trip() {
    let mut s = Store::open_in_memory().unwrap();
    assert_eq!(s.link().unwrap(), None);
    let link = LinkRow {
        server_url: "http://10.0.0.2:8470".into(),
        project: "p".into(),
        device_id: "tab-a".into(),
        enumerator: "Achieng".into(),
        token: "secret".into(),
        expires_at: NOW.into(),
        linked_at: NOW.into(),
        certificate_sha256: None,
    };
    s.set_link(&link).unwrap();
    s.set_link(&link).unwrap();
    assert_eq!(s.link().unwrap(), Some(link.clone()));
    let pinned = LinkRow {
        server_url: "https://10.0.0.2:8443".into(),
        certificate_sha256: Some("ab".repeat(32)),
        ..link
    };
    s.set_link(&pinned).unwrap();
    assert_eq!(s.link().unwrap(), Some(pinned));
    s.clear_link().unwrap();
    assert_eq!(s.link().unwrap(), None);
    let offer = FormOfferRow {
        form_id: "f".into(),
        version: "2".into(),
        title: "F".into(),
        published_at: NOW.into(),
    };
    s.add_form_offer(&offer).unwrap();
    s.add_form_offer(&offer).unwrap();
    assert_eq!(s.unseen_form_offers().unwrap(), vec![offer]);
    s.acknowledge_form_offers().unwrap();
    assert!(s.unseen_form_offers().unwrap().is_empty());
    // Which server has a file is kept per response (the server may delete it with another).
    s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
    s.create_response("r1", "f", "1", "en", NOW).unwrap();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    assert!(!s.attachment_uploaded("r1", "abc", "srv").unwrap());
    s.mark_attachment_uploaded("r1", "abc", "srv", NOW).unwrap();
    assert!(s.attachment_uploaded("r1", "abc", "srv").unwrap());
    assert!(!s.attachment_uploaded("r2", "abc", "srv").unwrap());
    assert!(!s.attachment_uploaded("r1", "abc", "other").unwrap());
}
