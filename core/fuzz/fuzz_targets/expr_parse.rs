//! Parse any text as an expression and evaluate what parses against an empty
//! context and against a small tree: neither may panic, overflow or hang; the
//! printed form of what parses must parse back to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voices_core::env::FixedEnvironment;
use voices_core::expr::{evaluate, parse, MapContext};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = parse(source) else {
        return;
    };
    let now = chrono::DateTime::UNIX_EPOCH.fixed_offset();
    let empty = MapContext::new();
    let _ = evaluate(&expr, &empty, &mut FixedEnvironment::new(now, 1));
    let mut tree = MapContext::new();
    tree.push("/data/a", "1");
    tree.push("/data/r/b", "x y");
    tree.push("/data/r/b", "2024-01-02");
    tree.set_context_path("/data/a");
    tree.add_instance("list", [&[("name", "n"), ("label", "L")][..]]);
    let _ = evaluate(&expr, &tree, &mut FixedEnvironment::new(now, 2));
    let _ = expr.references();
    let _ = expr.calls();
    let _ = expr.paths();
    let _ = voices_core::expr::static_problems(&expr);
    // The printed form must parse back to a tree that prints the same.
    let printed = expr.to_string();
    let reparsed =
        parse(&printed).unwrap_or_else(|e| panic!("{source:?} printed as {printed:?}: {e}"));
    assert_eq!(reparsed.to_string(), printed, "{source:?}");
});
