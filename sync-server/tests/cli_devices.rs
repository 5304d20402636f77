//! `voices-server device revoke --wipe` and `project policy` through the binary: what the
//! command prints and what the store holds afterwards.

mod cli;

use cli::{ok, refused};

use voices_core::sync::protocol::DevicePolicy;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    cli::run(dir, None, args)
}

#[test]
fn revoke_with_wipe_marks_the_device_and_says_what_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["project", "add", "p1"]));
    for id in ["tab-1", "tab-2"] {
        ok(run(
            data,
            &[
                "device",
                "add",
                "--project",
                "p1",
                "--enumerator",
                "E",
                "--id",
                id,
                "--server",
                "http://127.0.0.1:8470",
            ],
        ));
    }
    let out = ok(run(data, &["device", "revoke", "tab-1", "--wipe"]));
    assert!(out.contains("erases its data at its next contact"), "{out}");
    assert!(out.contains("not sent are lost"), "{out}");
    let out = ok(run(data, &["device", "revoke", "tab-2"]));
    assert!(!out.contains("erases"), "{out}");
    let e = refused(run(data, &["device", "revoke", "tab-9", "--wipe"]));
    assert!(e.contains("no device `tab-9`"), "{e}");

    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    let devices = store.list_devices("p1").unwrap();
    let of = |id: &str| devices.iter().find(|d| d.id == id).unwrap();
    assert!(of("tab-1").revoked_at.is_some() && of("tab-1").wipe_requested_at.is_some());
    assert!(of("tab-2").revoked_at.is_some() && of("tab-2").wipe_requested_at.is_none());
    // Revoked before, wiped later: the wipe is still ordered.
    ok(run(data, &["device", "revoke", "tab-2", "--wipe"]));
    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    let devices = store.list_devices("p1").unwrap();
    assert!(
        devices.iter().all(|d| d.wipe_requested_at.is_some()),
        "{devices:?}"
    );
}

#[test]
fn the_device_policy_is_shown_set_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["project", "add", "p1"]));
    let out = ok(run(data, &["project", "policy", "p1"]));
    assert!(out.contains("locks after 300 s"), "{out}");
    assert!(out.contains("30 day(s)"), "{out}");
    let out = ok(run(
        data,
        &[
            "project",
            "policy",
            "p1",
            "--idle-lock-minutes",
            "2",
            "--retention-days",
            "0",
        ],
    ));
    assert!(out.contains("locks after 120 s"), "{out}");
    let e = refused(run(
        data,
        &["project", "policy", "p1", "--idle-lock-minutes", "0"],
    ));
    assert!(e.contains("idle_lock_seconds is 0"), "{e}");
    let e = refused(run(data, &["project", "policy", "p9"]));
    assert!(e.contains("no project `p9`"), "{e}");
    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    assert_eq!(
        store.device_policy("p1").unwrap(),
        Some(DevicePolicy {
            idle_lock_seconds: 120,
            retention_days: 0
        })
    );
}
