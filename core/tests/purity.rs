//! `voices-core` stays pure: no I/O, clock, randomness or async runtime, neither
//! through its dependencies (direct or transitive) nor in its own source.

use std::collections::{BTreeSet, HashMap};
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
];

#[test]
fn no_forbidden_crate_in_the_runtime_dependency_graph() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("run `cargo metadata`");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: HashMap<&str, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let root = names
        .iter()
        .find(|(_, name)| **name == "voices-core")
        .map(|(id, _)| *id)
        .expect("voices-core in metadata");
    // Walk normal (runtime) dependencies only: dev-dependencies such as proptest may use rand.
    let mut seen = BTreeSet::new();
    let mut stack = vec![(root, vec!["voices-core"])];
    let mut offenders = Vec::new();
    while let Some((id, chain)) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let runtime = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if !runtime {
                continue;
            }
            let dep_id = dep["pkg"].as_str().unwrap();
            let name = names[dep_id];
            let mut path = chain.clone();
            path.push(name);
            if FORBIDDEN_CRATES.contains(&name) {
                offenders.push(path.join(" → "));
            }
            stack.push((dep_id, path));
        }
    }
    assert!(
        seen.len() > 3,
        "the dependency walk found too little: {seen:?}"
    );
    assert!(
        offenders.is_empty(),
        "voices-core must stay pure, but depends on: {offenders:#?}"
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
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for pattern in FORBIDDEN_SOURCE {
                if code.contains(pattern) {
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
    assert!(FORBIDDEN_CRATES.contains(&"getrandom"));
}
