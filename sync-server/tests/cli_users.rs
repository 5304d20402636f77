//! `voices-server user …`: the password rule for `VOICES_PASSWORD`, an admin's password
//! reset, ending a user's sessions, disabling and enabling an account and removing a
//! membership, through the binary.

mod cli;

use cli::{ok, refused, run};

use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Store, TokenSubject};

#[test]
fn user_commands_obey_the_password_rule_and_end_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, None, &["project", "add", "p1"]));
    ok(run(data, None, &["project", "add", "p2"]));
    let e = refused(run(
        data,
        Some("short"),
        &["user", "add", "cora", "--role", "coordinator"],
    ));
    assert!(e.contains("at least 10"), "{e}");
    ok(run(
        data,
        Some("a long enough passphrase"),
        &[
            "user",
            "add",
            "cora",
            "--role",
            "coordinator",
            "--project",
            "p1",
            "--project",
            "p2",
        ],
    ));

    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    let now = voices_server::now_text();
    let later = voices_server::time_from_now(chrono::Duration::hours(1));
    for hash in ["s1", "s2"] {
        store
            .add_token(hash, &TokenSubject::User("cora".into()), &later, &now)
            .unwrap();
    }
    let out = ok(run(data, None, &["user", "revoke-sessions", "cora"]));
    assert!(out.contains("ended 2 sessions"), "{out}");
    assert!(store
        .find_token("s1")
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());

    store
        .add_token("s3", &TokenSubject::User("cora".into()), &later, &now)
        .unwrap();
    let before = store.find_user("cora").unwrap().unwrap().password_hash;
    let e = refused(run(data, Some("too short"), &["user", "password", "cora"]));
    assert!(e.contains("at least 10"), "{e}");
    ok(run(
        data,
        Some("another long passphrase"),
        &["user", "password", "cora"],
    ));
    let user = store.find_user("cora").unwrap().unwrap();
    assert_ne!(user.password_hash, before);
    assert!(voices_server::auth::verify_password(
        "another long passphrase",
        &user.password_hash
    ));
    assert!(store
        .find_token("s3")
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    let e = refused(run(
        data,
        Some("another long passphrase"),
        &["user", "password", "nobody"],
    ));
    assert!(e.contains("no user `nobody`"), "{e}");

    ok(run(
        data,
        None,
        &["user", "remove-membership", "cora", "--project", "p1"],
    ));
    assert_eq!(store.find_user("cora").unwrap().unwrap().projects, ["p2"]);
    let e = refused(run(
        data,
        None,
        &["user", "remove-membership", "cora", "--project", "p1"],
    ));
    assert!(e.contains("not a member"), "{e}");
}
