//! Answer paths as they arrive (revisions, the app's store) and as they were stored:
//! each input line parsed with `AnswerPath::parse` and `parse_stored`. What parses must
//! be its own text, walk its steps and parents to the root, and what `parse` accepts
//! `parse_stored` accepts too. The parsed fields and counts then build a flat response
//! and its tree and back, which must stay bounded by `MAX_INSTANCES` whatever instance
//! numbers the paths claim (libFuzzer's `-rss_limit_mb` catches an allocation in
//! proportion to a claimed index).
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_core::answer::{is_key, AnswerPath, FlatAnswers, Step, MAX_INSTANCES};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut flat = FlatAnswers::new();
    for line in text.lines() {
        let strict = AnswerPath::parse(line);
        let stored = AnswerPath::parse_stored(line);
        if strict.is_ok() {
            assert!(stored.is_ok(), "{line:?} parses but not as stored");
        }
        let Ok(path) = stored else {
            continue;
        };
        assert_eq!(path.as_str(), line);
        assert_eq!(
            path.to_string().parse::<AnswerPath>().is_ok(),
            strict.is_ok()
        );
        for step in path.steps() {
            if let Step::Instance(_, n) = step {
                assert!(n >= 1);
                if strict.is_ok() {
                    assert!(n <= MAX_INSTANCES, "{line:?}");
                }
            }
        }
        let _ = path.kind();
        let _ = path.count();
        let mut up = path.clone();
        let mut depth = 0;
        while let Some(parent) = up.parent() {
            depth += 1;
            assert!(depth <= line.len(), "{line:?} has more parents than bytes");
            up = parent;
        }
        assert!(up.is_root());
        if is_key(&path) {
            let _ = flat.insert(path, "1".into());
        }
    }
    let tree = flat.to_tree();
    if let Ok(back) = FlatAnswers::from_tree(&tree) {
        assert!(back.len() <= flat.len() * (MAX_INSTANCES + 1) + 1);
    }
});
