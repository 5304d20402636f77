//! `voices-server project key …`, `user grant-pii` and `audit`, through the binary: keys
//! are checked and listed with their state, the last current one is never retired, the
//! pii grant is for members only, and every change is in the audit the command prints.

mod cli;

use cli::{ok, refused};

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    cli::run(dir, Some(cli::PASSWORD), args)
}

#[test]
fn keys_grants_and_the_audit_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["project", "add", "p1"]));
    let first = age::x25519::Identity::generate().to_public().to_string();
    let second = age::x25519::Identity::generate().to_public().to_string();

    let e = refused(run(
        data,
        &[
            "project",
            "key",
            "add",
            "AGE-SECRET-KEY-1QQQ",
            "--project",
            "p1",
        ],
    ));
    assert!(e.contains("not an age X25519 recipient"), "{e}");
    for key in [&first, &second] {
        ok(run(
            data,
            &[
                "project",
                "key",
                "add",
                key,
                "--project",
                "p1",
                "--label",
                "data manager",
            ],
        ));
    }
    let e = refused(run(
        data,
        &["project", "key", "add", &first, "--project", "p1"],
    ));
    assert!(e.contains("already has this key"), "{e}");
    ok(run(
        data,
        &["project", "key", "retire", &first, "--project", "p1"],
    ));
    let e = refused(run(
        data,
        &["project", "key", "retire", &second, "--project", "p1"],
    ));
    assert!(e.contains("last current key"), "{e}");
    let list = ok(run(data, &["project", "key", "list", "--project", "p1"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&first) && l.contains("\tretired ")),
        "{list}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&second) && l.contains("\tcurrent\t")),
        "{list}"
    );

    ok(run(
        data,
        &[
            "user",
            "add",
            "cora",
            "--role",
            "coordinator",
            "--project",
            "p1",
        ],
    ));
    ok(run(data, &["user", "grant-pii", "cora", "--project", "p1"]));
    let e = refused(run(data, &["user", "grant-pii", "otto", "--project", "p1"]));
    assert!(e.contains("not a member"), "{e}");

    let audit = ok(run(data, &["audit", "--project", "p1", "--json"]));
    let entries: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        done,
        [
            ("add_key", first.as_str()),
            ("add_key", second.as_str()),
            ("retire_key", first.as_str()),
            ("grant_pii", "cora"),
        ],
        "{audit}"
    );
    assert!(entries.iter().all(|e| e["actor"] == "cli"), "{audit}");
    let retired = ok(run(data, &["audit", "--action", "retire_key"]));
    assert_eq!(retired.lines().count(), 1, "{retired}");
    assert!(retired.contains(&first), "{retired}");
    let e = refused(run(data, &["audit", "--action", "peek"]));
    assert!(e.contains("--action is one of"), "{e}");
}
