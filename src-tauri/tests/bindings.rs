//! `ui/src/lib/bindings.ts` must be what the Rust types generate, so UI and Rust cannot drift.

use std::path::Path;

mod mock_app;

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

/// The handler and the bindings come from one list; this checks it through the IPC path
/// the UI uses: every command the bindings name answers (a wrong request, but never
/// "not found"), and a name outside the list is not found.
#[test]
fn every_registered_command_has_a_signature() {
    let names: Vec<_> = voices_app::commands::signatures()
        .into_iter()
        .map(|(n, ..)| n)
        .collect();
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "a command is listed twice");
    let app = mock_app::mock_app();
    let not_found = |name: &str| {
        // A request no command takes: commands with a request refuse it before running.
        let answer = app.call(name, Some(serde_json::json!("not a request")));
        answer.is_err_and(|e| e.to_string().contains("not found"))
    };
    assert!(not_found("no_such_command"));
    for name in names {
        assert!(
            !not_found(name),
            "`{name}` has a signature but is not registered"
        );
    }
}
