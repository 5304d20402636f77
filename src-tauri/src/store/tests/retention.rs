//! What the store keeps over time: a purged response's ids and hashes, the referral directory
//! across restarts.

use super::*;

#[test]
fn a_purged_response_keeps_its_ids_and_hashes_and_loses_its_answers() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/name"), Some("MARKER-purge"), NOW)
        .unwrap();
    s.record_consent("r1", true, NOW, "v1").unwrap();
    s.add_paradata("r1", "opened", None, NOW).unwrap();
    let photo = AttachedFile {
        sha256: "ab",
        media_type: "image/jpeg",
        size: 3,
        file_name: "p.jpg",
    };
    s.attach("r1", &p("/photo"), &photo, NOW).unwrap();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    s.attach("r2", &p("/photo"), &photo, NOW).unwrap();
    s.transition(
        "r1",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    s.transition(
        "r1",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    let built = revision("a1", "r1", 1);
    s.add_revision(&built, NOW).unwrap();
    // Not acknowledged yet: nothing to purge, and a body cannot be emptied.
    assert!(s.purgeable_responses().unwrap().is_empty());
    assert_eq!(s.purge_response("r1", NOW).unwrap(), None);
    let err = s
        .conn
        .execute("UPDATE revisions SET body = '' WHERE id = 'a1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");

    s.apply_acks(&[ack("a1", "accepted", &[])], NOW).unwrap();
    for r in ["r1", "r2"] {
        s.mark_attachment_uploaded(r, "ab", "srv", NOW).unwrap();
    }
    assert_eq!(
        s.purgeable_responses().unwrap(),
        vec![("r1".to_owned(), NOW.to_owned())]
    );
    // The photo is r2's too: its file stays.
    assert_eq!(s.purge_response("r1", NOW).unwrap(), Some(vec![]));
    assert_eq!(s.purge_response("r1", NOW).unwrap(), None, "purged once");
    // r1 no longer has the photo; the server still has it for r2.
    assert!(!s.attachment_uploaded("r1", "ab", "srv").unwrap());
    assert!(s.attachment_uploaded("r2", "ab", "srv").unwrap());
    let count = |s: &Store, sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    for table in ["answers", "consent", "paradata", "response_attachments"] {
        assert_eq!(
            count(
                &s,
                &format!("SELECT count(*) FROM {table} WHERE response_id = 'r1'")
            ),
            0,
            "{table}"
        );
    }
    let (id, ack_kept, body, hash): (String, String, String, String) = s
        .conn
        .query_row(
            "SELECT id, ack, body, body_sha256 FROM revisions WHERE response_id = 'r1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (id.as_str(), ack_kept.as_str(), body.as_str()),
        ("a1", "accepted", "")
    );
    assert_eq!(hash, crate::sync::sha256_hex(built.body.as_bytes()));
    // Nothing is due and nothing is built again: the server holds it exactly once.
    assert!(s.unacknowledged_revisions(10).unwrap().is_empty());
    assert!(s.responses_to_build().unwrap().is_empty());
    // Gone from every list; opening or reopening it says why.
    assert_eq!(
        s.responses()
            .unwrap()
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["r2"]
    );
    assert!(s.outbox_entries().unwrap().is_empty());
    let err = s.response("r1").unwrap_err();
    assert!(
        err.to_string().contains("removed from this device"),
        "{err}"
    );
    let err = s
        .transition("r1", &[ResponseStatus::Sent], ResponseStatus::Draft, NOW)
        .unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::NotFound);
    // r2 purged later takes the last use of the photo: its file is to be removed.
    s.transition(
        "r2",
        &[ResponseStatus::Draft],
        ResponseStatus::Finalized,
        NOW,
    )
    .unwrap();
    s.transition(
        "r2",
        &[ResponseStatus::Finalized],
        ResponseStatus::Queued,
        NOW,
    )
    .unwrap();
    s.add_revision(&revision("b1", "r2", 1), NOW).unwrap();
    s.apply_acks(&[ack("b1", "duplicate", &[])], NOW).unwrap();
    assert_eq!(
        s.purge_response("r2", NOW).unwrap(),
        Some(vec!["ab".to_owned()])
    );
    assert_eq!(count(&s, "SELECT count(*) FROM attachments"), 0);
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

/// The referral directory a sync brought is kept encrypted, survives closing the store,
/// is replaced by a newer version and forgotten when the project has none.
#[test]
fn the_referral_directory_is_kept_across_restarts_and_replaced() {
    use voices_core::referral::Directory;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    let first = Directory::from_json(
        r#"{"services": [{"id": "hotline", "name": "MARKER-line-9c1", "kind": "gbv", "phone": "1190"}]}"#,
    )
    .unwrap();
    {
        let mut s = Store::open(&path, &test_key()).unwrap();
        assert_eq!(s.directory().unwrap(), None);
        s.keep_directory(1, "2026-12-07T10:00:00Z", &first, NOW)
            .unwrap();
    }
    assert_eq!(
        bytes_in_dir(dir.path(), b"MARKER-line-9c1"),
        Vec::<String>::new()
    );
    let mut s = Store::open(&path, &test_key()).unwrap();
    let kept = s.directory().unwrap().expect("kept across a restart");
    assert_eq!(
        (kept.version, kept.published_at.as_str(), &kept.directory),
        (1, "2026-12-07T10:00:00Z", &first)
    );
    let second = Directory::from_json(
        r#"{"services": [{"id": "clinic", "name": "Clinic", "kind": "health", "phone": "2", "areas": ["north"]}]}"#,
    )
    .unwrap();
    s.keep_directory(2, "2026-12-08T10:00:00Z", &second, NOW)
        .unwrap();
    assert_eq!(s.directory().unwrap().unwrap().directory, second);
    s.forget_directory().unwrap();
    assert_eq!(s.directory().unwrap(), None);
}
