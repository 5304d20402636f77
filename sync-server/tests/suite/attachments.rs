//! Attachments: resuming, deduplicating, one-step completion, size claims.

use super::*;

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
