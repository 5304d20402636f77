//! `ui/src/lib/bindings.ts` must be what the Rust types generate, so UI and Rust cannot drift.

use std::path::Path;

#[test]
fn the_committed_typescript_bindings_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(voices_app::bindings::BINDINGS_PATH);
    let generated = voices_app::bindings::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}); run `UPDATE_BINDINGS=1 cargo test -p voices-app --test bindings`",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p voices-app --test bindings` and commit it",
        path.display()
    );
}

#[test]
fn every_registered_command_has_a_signature() {
    let names: Vec<_> = voices_app::commands::signatures()
        .into_iter()
        .map(|(n, ..)| n)
        .collect();
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let registered: Vec<_> = lib
        .lines()
        // Commands live in `commands` and, for provisioning pictures, in `qr`.
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("commands::")
                .or_else(|| l.strip_prefix("qr::"))
        })
        .map(|l| l.trim_end_matches(','))
        .collect();
    assert_eq!(registered, names);
}
