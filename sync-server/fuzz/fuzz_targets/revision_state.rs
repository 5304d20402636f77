//! Stored bytes read back: the input as a response's stored state (`codec::decode`, the
//! compact format or `ResponseState`'s own JSON) and as a revision (its JSON, checked and
//! merged into that state). Whatever decodes must show its answers, tree and conflicts
//! without panicking or allocating out of proportion (libFuzzer's `-rss_limit_mb`), and
//! encode to text that decodes to the same state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_core::sync::{ResponseState, Revision};
use voices_server::store::codec;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(state) = codec::decode(text) {
        show_and_round_trip(&state);
    }
    if let Ok(revision) = serde_json::from_str::<Revision>(text) {
        if revision.check().is_ok() {
            let mut state = ResponseState::for_revision(&revision);
            if state.apply(&revision).is_ok() {
                show_and_round_trip(&state);
                // Applying it again changes nothing.
                let before = state.clone();
                let _ = state.apply(&revision);
                assert_eq!(state, before);
            }
        }
    }
});

fn show_and_round_trip(state: &ResponseState) {
    let _ = state.answers().to_tree();
    let _ = state.to_response();
    let _ = state.conflicts();
    let _ = state.status();
    let _ = state.context();
    let text = codec::encode(state).expect("a state encodes");
    let back = codec::decode(&text).expect("an encoded state decodes");
    assert_eq!(&back, state);
}
