//! `voices-server teams …`: an admin makes teams, puts devices in them and limits a
//! coordinator, through the binary; what the store then holds is what the console reads.

mod cli;

use cli::{ok, refused};

use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Scope, Store};

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    cli::run(dir, Some(cli::PASSWORD), args)
}

#[test]
fn teams_commands_make_teams_and_limit_a_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["project", "add", "p1"]));
    ok(run(
        data,
        &[
            "user",
            "add",
            "lena",
            "--role",
            "coordinator",
            "--project",
            "p1",
        ],
    ));
    ok(run(data, &["user", "add", "root", "--role", "admin"]));
    for id in ["tab-a", "tab-b"] {
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
            ],
        ));
    }
    assert!(ok(run(data, &["teams", "list", "--project", "p1"])).contains("no teams"));
    ok(run(data, &["teams", "add", "North", "--project", "p1"]));
    assert!(
        refused(run(data, &["teams", "add", " North ", "--project", "p1"]))
            .contains("already has a team")
    );
    assert!(refused(run(data, &["teams", "add", "X", "--project", "nope"])).contains("no project"));
    ok(run(
        data,
        &[
            "teams",
            "add-device",
            "North",
            "tab-a",
            "tab-b",
            "--project",
            "p1",
        ],
    ));
    ok(run(
        data,
        &[
            "teams",
            "remove-device",
            "North",
            "tab-b",
            "--project",
            "p1",
        ],
    ));
    assert!(refused(run(
        data,
        &["teams", "add-device", "North", "tab-z", "--project", "p1"]
    ))
    .contains("no device `tab-z`"));
    assert!(refused(run(
        data,
        &["teams", "limit", "root", "North", "--project", "p1"]
    ))
    .contains("admin"));
    assert!(refused(run(
        data,
        &["teams", "limit", "lena", "South", "--project", "p1"]
    ))
    .contains("no team named `South`"));
    ok(run(
        data,
        &["teams", "limit", "lena", "North", "--project", "p1"],
    ));
    ok(run(
        data,
        &["teams", "rename", "North", "Coast", "--project", "p1"],
    ));
    let listed = ok(run(data, &["teams", "list", "--project", "p1"]));
    assert!(
        listed.contains("Coast\tdevices: tab-a\tlimited coordinators: lena"),
        "{listed}"
    );

    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.scope_in("p1"), Scope::TeamsOf("lena".into()));
    assert_eq!(lena.memberships[0].teams.as_ref().unwrap()[0].name, "Coast");
    drop(store);

    ok(run(data, &["teams", "delete", "Coast", "--project", "p1"]));
    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(
        lena.memberships[0].teams,
        Some(Vec::new()),
        "still limited, to nothing"
    );
    drop(store);
    ok(run(data, &["teams", "unlimit", "lena", "--project", "p1"]));
    let store = SqliteStore::open(&data.join("voices.sqlite3")).unwrap();
    assert_eq!(
        store.find_user("lena").unwrap().unwrap().scope_in("p1"),
        Scope::Project
    );
    drop(store);

    // Every change is in the audit, by the operator's command.
    let audit = ok(run(data, &["audit", "--project", "p1"]));
    let actions: Vec<&str> = audit
        .lines()
        .map(|l| l.split('\t').nth(3).unwrap_or_default())
        .filter(|a| a.contains("team"))
        .collect();
    assert_eq!(
        actions,
        [
            "add_team",
            "team_device",
            "team_device",
            "team_device",
            "limit_teams",
            "rename_team",
            "delete_team",
            "limit_teams"
        ],
        "{audit}"
    );
    assert!(audit.contains("lena\tok\tteams=1"), "{audit}");
    assert!(audit.contains("lena\tok\tunlimited"), "{audit}");
}
