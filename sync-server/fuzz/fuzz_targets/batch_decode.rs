//! An upload body as the server reads it: decompressed per its `Content-Encoding` (the
//! first input byte picks none, zstd, gzip or identity) under a cap, split into NDJSON
//! lines, each decoded as a revision (`ingest::decode_batch`); each revision is then
//! checked and merged into a fresh state and that state stored and read back, as an
//! ingest does. Refusals are fine; panics, overflows, hangs and allocations out of
//! proportion to the input (libFuzzer's `-rss_limit_mb`) are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_core::sync::protocol::Limits;
use voices_core::sync::{ResponseState, Revision};
use voices_server::http::body::decompress;
use voices_server::ingest::{decode_batch, Line};
use voices_server::store::{codec, Uploader};

const ENCODINGS: [Option<&str>; 4] = [None, Some("zstd"), Some("gzip"), Some("identity")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let encoding = ENCODINGS[usize::from(selector) % ENCODINGS.len()];
    // The server's limits, smaller where they only cost the fuzzer time.
    let limits = Limits {
        max_decompressed_bytes: 4 << 20,
        max_batch_records: 1_000,
        max_line_bytes: 1 << 20,
        ..voices_server::http::default_limits()
    };
    let Ok((plain, truncated)) =
        decompress(body.to_vec(), encoding, None, limits.max_decompressed_bytes)
    else {
        return;
    };
    let uploader = Uploader {
        id: "tab-a".into(),
        enumerator: "Enumerator".into(),
        devices: None,
    };
    let Ok(lines) = decode_batch(&uploader, &plain, truncated, &limits) else {
        return;
    };
    for line in lines {
        let Line::Revision(incoming) = line else {
            continue;
        };
        // The canonical body is what is stored and hashed: it must read back as the
        // same revision.
        let stored: Revision = serde_json::from_str(&incoming.body)
            .unwrap_or_else(|e| panic!("canonical body does not parse: {e}: {}", incoming.body));
        assert_eq!(stored, incoming.revision);
        merge_and_store(&incoming.revision);
    }
});

fn merge_and_store(revision: &Revision) {
    if revision.check().is_err() {
        return;
    }
    let mut state = ResponseState::for_revision(revision);
    if state.apply(revision).is_err() {
        return;
    }
    let _ = state.answers().to_tree();
    let _ = state.to_response();
    let _ = state.conflicts();
    let text = codec::encode(&state).expect("a merged state encodes");
    let back = codec::decode(&text).expect("an encoded state decodes");
    assert_eq!(back, state);
}
