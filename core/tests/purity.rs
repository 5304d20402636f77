//! `voices-core` stays pure: no I/O, clock, randomness or async runtime, neither
//! through its dependencies (direct or transitive) nor in its own source.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates that would bring I/O, networking, storage, a UI shell or OS randomness.
const FORBIDDEN_CRATES: &[&str] = &[
    "tokio",
    "rusqlite",
    "libsqlite3-sys",
    "reqwest",
    "axum",
    "hyper",
    "tauri",
    "getrandom",
    "rand",
    "rand_core",
    "mio",
    "sqlx",
    "postgres",
    "tokio-postgres",
];

/// Source patterns that reach the outside world from inside the core.
const FORBIDDEN_SOURCE: &[&str] = &[
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "std::time::SystemTime",
    "SystemTime::now",
    "std::time::Instant",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "thread_rng",
    // std's HashMap/HashSet seed themselves from OS randomness (`RandomState`);
    // the core uses `voices_core::collections::{Map, Set}` with a fixed hasher.
    "RandomState",
    "HashMap",
    "HashSet",
];

/// The one file allowed to name std's hash maps: it defines the fixed-hasher aliases.
const COLLECTIONS_MODULE: &str = "collections.rs";

#[test]
fn no_forbidden_crate_in_the_runtime_dependency_graph() {
    // `cargo tree -p voices-core` resolves features for voices-core alone; `cargo
    // metadata` would unify them with the app's (which enables uuid's random ids).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "voices-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("run `cargo tree`");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let crates: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains("voices-core") && crates.contains("serde") && crates.len() > 5,
        "the dependency tree looks wrong: {crates:?}"
    );
    let offenders: Vec<&str> = crates
        .iter()
        .copied()
        .filter(|c| FORBIDDEN_CRATES.contains(c))
        .collect();
    assert!(
        offenders.is_empty(),
        "voices-core must stay pure, but depends on {offenders:?} (see `cargo tree -p voices-core -e normal -i <crate>`)"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_source_does_no_io_and_reads_no_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 5,
        "found only {files:?} under {}",
        src.display()
    );
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let is_collections_module = file.ends_with(COLLECTIONS_MODULE);
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for pattern in FORBIDDEN_SOURCE {
                let allowed = is_collections_module && matches!(*pattern, "HashMap" | "HashSet");
                if code.contains(pattern) && !allowed {
                    offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "voices-core gets time, randomness and I/O through voices_core::env::Environment only:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_scan_would_catch_a_violation() {
    // Guard against a scan that can never fail (e.g. a pattern typo).
    let line = "let t = std::time::SystemTime::now();";
    assert!(FORBIDDEN_SOURCE.iter().any(|p| line.contains(p)));
    let seeded = "let seen: std::collections::HashSet<&str> = HashSet::new();";
    assert!(FORBIDDEN_SOURCE.iter().any(|p| seeded.contains(p)));
    assert!(FORBIDDEN_CRATES.contains(&"getrandom"));
}
