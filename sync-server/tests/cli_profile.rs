//! `voices-server device add --sex --languages --area`, `device profile` and `project
//! presentation` through the binary: what the command prints and what the store holds.

mod cli;

use cli::{ok, refused};

use voices_core::matching::EnumeratorProfile;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    cli::run(dir, None, args)
}

fn profile(dir: &std::path::Path, id: &str) -> Option<EnumeratorProfile> {
    let store = SqliteStore::open(&dir.join("voices.sqlite3")).unwrap();
    store.device_profile(None, id).unwrap()
}

#[test]
fn a_profile_is_given_at_provisioning_and_changed_later() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["project", "add", "p1"]));
    let add = |id: &str, extra: &[&str]| {
        let mut args = vec![
            "device",
            "add",
            "--project",
            "p1",
            "--enumerator",
            "Amal",
            "--id",
            id,
            "--server",
            "http://127.0.0.1:8470",
        ];
        args.extend_from_slice(extra);
        run(data, &args)
    };
    let out = ok(add(
        "tab-1",
        &["--sex", "female", "--languages", "ar,en", "--area", "North"],
    ));
    assert!(
        out.contains("enumerator profile: sex female, languages ar,en, area North"),
        "{out}"
    );
    assert_eq!(
        profile(data, "tab-1"),
        Some(EnumeratorProfile {
            sex: Some("female".into()),
            languages: vec!["ar".into(), "en".into()],
            area: Some("North".into()),
        })
    );
    // A wrong profile is refused before the device is made.
    let e = refused(add("tab-2", &["--sex", "woman"]));
    assert!(e.contains("female, male, other"), "{e}");
    assert_eq!(profile(data, "tab-2"), None);
    ok(add("tab-2", &[]));
    assert_eq!(profile(data, "tab-2"), Some(EnumeratorProfile::default()));

    // Shown, then changed part by part; an empty value makes a part unknown.
    let out = ok(run(data, &["device", "profile", "tab-1"]));
    assert!(
        out.contains("sex female, languages ar,en, area North"),
        "{out}"
    );
    let out = ok(run(
        data,
        &["device", "profile", "tab-1", "--sex", "male", "--area", ""],
    ));
    assert!(
        out.contains("sex male, languages ar,en, area unknown"),
        "{out}"
    );
    assert!(out.contains("next sync"), "{out}");
    let e = refused(run(
        data,
        &["device", "profile", "tab-1", "--languages", "ar en"],
    ));
    assert!(e.contains("not a language code"), "{e}");
    let e = refused(run(data, &["device", "profile", "tab-9", "--sex", "male"]));
    assert!(e.contains("no device `tab-9`"), "{e}");
    assert_eq!(profile(data, "tab-1").unwrap().sex.as_deref(), Some("male"));
}

#[test]
fn the_neutral_name_is_shown_set_checked_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["project", "add", "p1"]));
    let out = ok(run(data, &["project", "presentation", "p1"]));
    assert!(out.contains("no neutral name"), "{out}");
    let out = ok(run(
        data,
        &[
            "project",
            "presentation",
            "p1",
            "--neutral-name",
            " Field notes ",
        ],
    ));
    assert!(out.contains("\"Field notes\""), "{out}");
    let long = "x".repeat(61);
    let e = refused(run(
        data,
        &["project", "presentation", "p1", "--neutral-name", &long],
    ));
    assert!(e.contains("at most 60 characters"), "{e}");
    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    assert_eq!(
        store
            .presentation("p1")
            .unwrap()
            .unwrap()
            .neutral_name
            .as_deref(),
        Some("Field notes")
    );
    drop(store);
    let out = ok(run(
        data,
        &["project", "presentation", "p1", "--neutral-name", ""],
    ));
    assert!(out.contains("no neutral name"), "{out}");
    let e = refused(run(data, &["project", "presentation", "nope"]));
    assert!(e.contains("no project `nope`"), "{e}");
}
