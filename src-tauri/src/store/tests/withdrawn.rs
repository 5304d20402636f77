//! A respondent's withdrawal as the device feed brings it: the response purged, its
//! unsent edit refused, out of every list, and nothing more written for it.

use super::*;
use crate::error::ErrorKind;
use voices_core::sync::protocol::{DeviceFeedItem, ReviewState, ReviewTransition};

const LATER: &str = "2026-01-06T10:00:00.000+03:00";
const CURSOR_KEY: &str = "sync.feed_cursor.tab-a";
const AA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CC: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const DD: &str = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
const EE: &str = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

fn item(cursor: &str, withdrawn: bool) -> DeviceFeedItem {
    DeviceFeedItem {
        cursor: cursor.into(),
        response: "r1".into(),
        form: "f".into(),
        version: "1".into(),
        review_state: if withdrawn {
            ReviewState::Received
        } else {
            ReviewState::SentBack
        },
        reviews: if withdrawn {
            Vec::new()
        } else {
            vec![ReviewTransition {
                state: ReviewState::SentBack,
                comment: Some("ask the age again".into()),
                fields: Default::default(),
                by: "user:cora".into(),
                at: NOW.into(),
            }]
        },
        edits: Vec::new(),
        withdrawn,
    }
}

/// A revision body naming files as the app's do (`files`: name → SHA-256).
fn with_files(mut row: RevisionRow, files: &[(&str, &str)]) -> RevisionRow {
    let files: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(n, s)| (n.to_string(), serde_json::Value::from(*s)))
        .collect();
    row.body = serde_json::json!({
        "id": row.id, "response": row.response_id, "form": "f", "version": "1",
        "actor": "tab-a", "seq": row.seq, "hlc": "1767596497512.0",
        "set": {"/name": "MARKER-withdrawn"}, "files": files
    })
    .to_string();
    row
}

fn file(sha: &'static str, name: &'static str) -> AttachedFile<'static> {
    AttachedFile {
        sha256: sha,
        media_type: "image/jpeg",
        size: 3,
        file_name: name,
    }
}

#[test]
fn a_withdrawal_purges_the_response_refuses_its_unsent_edit_and_leaves_every_list() {
    let mut s = store_with_draft();
    s.set_answer("r1", &p("/name"), Some("MARKER-withdrawn"), NOW)
        .unwrap();
    s.attach("r1", &p("/photo"), &file(AA, "p.jpg"), NOW)
        .unwrap();
    s.create_response("r2", "f", "1", "en", NOW).unwrap();
    s.attach("r2", &p("/photo"), &file(CC, "q.jpg"), NOW)
        .unwrap();
    for (from, to) in [
        (ResponseStatus::Draft, ResponseStatus::Finalized),
        (ResponseStatus::Finalized, ResponseStatus::Queued),
    ] {
        s.transition("r1", &[from], to, NOW).unwrap();
    }
    // Its first revision named an earlier photo (`ee`), replaced since: only `files`
    // names it now.
    s.add_revision(
        &with_files(revision("a1", "r1", 1), &[("old.jpg", EE)]),
        NOW,
    )
    .unwrap();
    s.apply_acks(&[ack("a1", "accepted", &[])], NOW).unwrap();
    // Sent back; the enumerator reopens it, edits and finalizes: an edit not sent yet.
    assert_eq!(
        s.apply_feed_item(&item("5", false), "tab-a", CURSOR_KEY, NOW)
            .unwrap(),
        returned::Applied::Merged
    );
    assert_eq!(s.sent_back().unwrap().len(), 1);
    s.transition("r1", &[ResponseStatus::Sent], ResponseStatus::Draft, NOW)
        .unwrap();
    s.set_answer("r1", &p("/name"), Some("MARKER-edit"), NOW)
        .unwrap();
    for (from, to) in [
        (ResponseStatus::Draft, ResponseStatus::Finalized),
        (ResponseStatus::Finalized, ResponseStatus::Queued),
    ] {
        s.transition("r1", &[from], to, NOW).unwrap();
    }
    let unsent = with_files(revision("a2", "r1", 2), &[("p.jpg", AA)]);
    s.add_revision(&unsent, NOW).unwrap();
    assert_eq!(s.unacknowledged_revisions(10).unwrap().len(), 1);

    let applied = s
        .apply_feed_item(&item("9", true), "tab-a", CURSOR_KEY, LATER)
        .unwrap();
    let returned::Applied::Withdrawn(mut files) = applied else {
        panic!("{applied:?}")
    };
    files.sort();
    assert_eq!(files, [AA, EE], "its files, not r2's");
    assert_eq!(s.setting(CURSOR_KEY).unwrap().as_deref(), Some("9"));

    // Nothing of what the respondent said is left; ids, acks and hashes are.
    let count = |s: &Store, sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    for table in [
        "answers",
        "consent",
        "paradata",
        "response_attachments",
        "returned",
    ] {
        let n = count(
            &s,
            &format!("SELECT count(*) FROM {table} WHERE response_id = 'r1'"),
        );
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(
        count(
            &s,
            &format!("SELECT count(*) FROM attachments WHERE sha256 = '{AA}'")
        ),
        0
    );
    assert_eq!(
        count(
            &s,
            &format!("SELECT count(*) FROM attachments WHERE sha256 = '{CC}'")
        ),
        1
    );
    let revisions: Vec<(String, String, Option<String>, String, String)> = s
        .conn
        .prepare("SELECT id, ack, code, body, body_sha256 FROM revisions ORDER BY seqno")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        (revisions[0].1.as_str(), revisions[0].2.as_deref()),
        ("accepted", None)
    );
    assert_eq!(
        (revisions[1].1.as_str(), revisions[1].2.as_deref()),
        ("rejected", Some(WITHDRAWN_CODE)),
        "the unsent edit is refused, never sent, and recorded"
    );
    assert!(revisions.iter().all(|r| r.3.is_empty()));
    assert_eq!(
        revisions[1].4,
        crate::sync::sha256_hex(unsent.body.as_bytes())
    );
    let dump: String = s
        .conn
        .prepare("SELECT quote(body) || quote(reasons) FROM revisions")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!dump.contains("MARKER"), "{dump}");

    // Out of every list, nothing due, nothing built; a neutral count stays.
    assert!(s.unacknowledged_revisions(10).unwrap().is_empty());
    assert!(s.responses_to_build().unwrap().is_empty());
    assert_eq!(
        s.responses()
            .unwrap()
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["r2"]
    );
    assert!(s.sent_back().unwrap().is_empty());
    assert!(s.outbox_entries().unwrap().is_empty());
    assert!(s.outbox_counts().unwrap().is_empty());
    assert_eq!(s.withdrawn_count().unwrap(), 1);
    assert_eq!(s.withdrawn_at("r1").unwrap().as_deref(), Some(LATER));
    assert_eq!(
        s.response_counts().unwrap(),
        [("f".to_owned(), "1".to_owned(), ResponseStatus::Draft, 1)],
        "only r2 is counted on the forms list"
    );

    // An interview still open on it writes nothing more: every write says why.
    let write = s.set_answer("r1", &p("/name"), Some("MARKER-late"), LATER);
    assert_eq!(write.unwrap_err().kind(), ErrorKind::Withdrawn);
    let flat_write = s.replace_answers("r1", &flat(&[("/name", "MARKER-late")]), LATER);
    assert_eq!(flat_write.unwrap_err().kind(), ErrorKind::Withdrawn);
    assert_eq!(s.response("r1").unwrap_err().kind(), ErrorKind::Withdrawn);
    let reopen = s.transition(
        "r1",
        &[ResponseStatus::Queued],
        ResponseStatus::Draft,
        LATER,
    );
    assert_eq!(reopen.unwrap_err().kind(), ErrorKind::Withdrawn);
    assert_eq!(
        count(&s, "SELECT count(*) FROM answers WHERE response_id = 'r1'"),
        0
    );

    // The same word again (a cursor handed out twice): nothing more to do.
    assert_eq!(
        s.apply_feed_item(&item("9", true), "tab-a", CURSOR_KEY, LATER)
            .unwrap(),
        returned::Applied::Withdrawn(Vec::new())
    );
}

#[test]
fn a_withdrawal_of_a_response_retention_purged_or_never_here_keeps_the_record_only() {
    let mut s = store_with_queued_response();
    s.add_revision(&with_files(revision("a1", "r1", 1), &[]), NOW)
        .unwrap();
    s.apply_acks(&[ack("a1", "accepted", &[])], NOW).unwrap();
    assert_eq!(s.purge_response("r1", NOW).unwrap(), Some(vec![]));
    assert_eq!(s.withdraw_response("r1", LATER).unwrap(), Some(Vec::new()));
    assert_eq!(s.withdrawn_count().unwrap(), 1);
    assert_eq!(s.response("r1").unwrap_err().kind(), ErrorKind::Withdrawn);
    let mut other = item("3", true);
    other.response = "elsewhere".into();
    assert_eq!(
        s.apply_feed_item(&other, "tab-a", CURSOR_KEY, LATER)
            .unwrap(),
        returned::Applied::NotHere
    );
    assert_eq!(s.setting(CURSOR_KEY).unwrap().as_deref(), Some("3"));
}

#[test]
fn retention_takes_every_file_of_the_response_even_one_only_a_revision_names() {
    let mut s = store_with_draft();
    s.attach("r1", &p("/photo"), &file(AA, "p.jpg"), NOW)
        .unwrap();
    for (from, to) in [
        (ResponseStatus::Draft, ResponseStatus::Finalized),
        (ResponseStatus::Finalized, ResponseStatus::Queued),
    ] {
        s.transition("r1", &[from], to, NOW).unwrap();
    }
    // A legacy revision: its sealed answer hid the file's name, and its clear text (kept
    // beside it) names the clear file `dd` no answer row does any more.
    let sealed = with_files(revision("a1", "r1", 1), &[("p.jpg", AA)]);
    let clear = with_files(revision("a1", "r1", 1), &[("legacy.jpg", DD)]).body;
    s.add_revision_with_clear(&sealed, Some(&clear), &[], NOW)
        .unwrap();
    s.apply_acks(&[ack("a1", "accepted", &[])], NOW).unwrap();
    let mut files = s.purge_response("r1", NOW).unwrap().unwrap();
    files.sort();
    assert_eq!(files, [AA, DD]);
}
