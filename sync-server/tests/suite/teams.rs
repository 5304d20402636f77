//! Teams limit what a coordinator reads.

use super::*;

fn team_query(scope: Scope) -> TableQuery {
    TableQuery {
        form: None,
        version: None,
        status: None,
        review: None,
        flag: None,
        enumerator: None,
        device: None,
        from: None,
        to: None,
        words: Vec::new(),
        pii: false,
        sort: Sort::ReceivedAt,
        descending: false,
        after: None,
        offset: 0,
        limit: 50,
        count: true,
        count_cap: None,
        scope,
    }
}

/// Teams: a coordinator limited to teams reads, in every read the store offers, only
/// the responses their teams' devices started; a deleted team leaves them limited to
/// nothing (never to everything); lifting the limit or leaving the project ends it.
pub fn teams_limit_what_a_coordinator_reads(store: Arc<dyn Store>) {
    setup(store.as_ref());
    for (id, project) in [("dev-a", "p1"), ("dev-b", "p1"), ("dev-p2", "p2")] {
        let device = Device {
            id: id.into(),
            project: project.into(),
            enumerator: format!("enumerator of {id}"),
            revoked_at: None,
            wipe_requested_at: None,
        };
        store
            .add_device(&device, &format!("code-{id}"), LATER, NOW)
            .unwrap();
    }
    let ours = household_revision(61, "dev-a", "1");
    let theirs = household_revision(62, "dev-b", "1");
    for (device, revision) in [("dev-a", &ours), ("dev-b", &theirs)] {
        let acks = store
            .ingest(
                "p1",
                &uploader(device),
                &[incoming(revision.clone())],
                &TestValidator,
                NOW,
            )
            .unwrap();
        assert_eq!(acks[0].status, AckStatus::Accepted, "{acks:?}");
    }
    let hash = auth::hash_password("a long enough passphrase").unwrap();
    store
        .add_user("lena", Role::Coordinator, &hash, NOW)
        .unwrap();
    store.add_membership("lena", "p1").unwrap();

    // Teams: names unique per project, trimmed by the caller.
    let north = store.add_team("p1", "North", NOW).unwrap();
    assert!(matches!(
        store.add_team("p1", "North", NOW),
        Err(voices_server::Error::Conflict(_))
    ));
    let south = store.add_team("p1", "South", NOW).unwrap();
    let elsewhere = store.add_team("p2", "North", NOW).unwrap();
    assert!(matches!(
        store.rename_team("p1", south.id, "North"),
        Err(voices_server::Error::Conflict(_))
    ));
    assert!(store.rename_team("p1", south.id, "Coast").unwrap());
    assert!(!store.rename_team("p1", elsewhere.id, "Other").unwrap());
    assert_eq!(
        store
            .set_team_device("p1", north.id, "dev-a", true)
            .unwrap(),
        TeamChange::Done
    );
    assert_eq!(
        store
            .set_team_device("p1", north.id, "dev-a", true)
            .unwrap(),
        TeamChange::Done
    );
    assert_eq!(
        store
            .set_team_device("p1", north.id, "dev-p2", true)
            .unwrap(),
        TeamChange::UnknownDevice
    );
    assert_eq!(
        store
            .set_team_device("p1", elsewhere.id, "dev-a", true)
            .unwrap(),
        TeamChange::UnknownTeam
    );
    store
        .set_team_device("p1", south.id, "dev-b", true)
        .unwrap();

    // Unlimited first: the whole project.
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.memberships[0].teams, None);
    assert_eq!(lena.scope_in("p1"), Scope::Project);
    assert_eq!(
        store
            .limit_member("lena", "p1", Some(&[elsewhere.id]))
            .unwrap(),
        TeamChange::UnknownTeam
    );
    assert_eq!(
        store
            .limit_member("nobody", "p1", Some(&[north.id]))
            .unwrap(),
        TeamChange::NotMember
    );
    assert_eq!(
        store.limit_member("lena", "p1", Some(&[north.id])).unwrap(),
        TeamChange::Done
    );
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(
        lena.memberships[0].teams,
        Some(vec![TeamRef {
            id: north.id,
            name: "North".into()
        }])
    );
    let scope = lena.scope_in("p1");
    assert_eq!(scope, Scope::TeamsOf("lena".into()));
    let teams = store.teams("p1").unwrap();
    assert_eq!(
        teams
            .iter()
            .map(|t| (t.name.as_str(), t.devices.clone(), t.coordinators.clone()))
            .collect::<Vec<_>>(),
        [
            ("Coast", vec!["dev-b".to_string()], vec![]),
            ("North", vec!["dev-a".to_string()], vec!["lena".to_string()]),
        ]
    );

    // Every read: only dev-a's response.
    let ids = |rows: Vec<voices_server::store::StoredResponse>| -> Vec<String> {
        rows.into_iter().map(|r| r.state.response.clone()).collect()
    };
    assert_eq!(
        ids(store.pull_in("p1", &scope, 0, 100).unwrap()),
        vec![ours.response.clone()]
    );
    assert_eq!(
        ids(store
            .pull_form_in("p1", &scope, "household_survey", 0, 100)
            .unwrap()),
        vec![ours.response.clone()]
    );
    assert_eq!(
        store.pull_in("p1", &Scope::Project, 0, 100).unwrap().len(),
        2
    );
    assert!(store
        .get_response_in("p1", &scope, &theirs.response)
        .unwrap()
        .is_none());
    assert!(store
        .get_response_in("p1", &scope, &ours.response)
        .unwrap()
        .is_some());
    assert!(store
        .get_response_in("p1", &Scope::Project, &theirs.response)
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .visible_responses(
                "p1",
                &scope,
                &[
                    theirs.response.clone(),
                    ours.response.clone(),
                    "missing".into()
                ]
            )
            .unwrap(),
        [false, true, false]
    );
    assert_eq!(
        store
            .known_revisions_in("p1", &scope, &[ours.id.clone(), theirs.id.clone()])
            .unwrap(),
        vec![ours.id.clone()]
    );
    assert_eq!(
        store
            .known_revisions("p1", &[ours.id.clone(), theirs.id.clone()])
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .count_form_in("p1", &scope, "household_survey", 0)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_form_in("p1", &Scope::Project, "household_survey", 0)
            .unwrap(),
        2
    );
    let cells: u64 = store
        .map_cells_in("p1", &scope, "household_survey", 6)
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    let all_cells: u64 = store
        .map_cells_in("p1", &Scope::Project, "household_survey", 6)
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert!(
        cells < all_cells || all_cells == 0,
        "{cells} of {all_cells}"
    );
    let devices: Vec<String> = store
        .list_devices_in("p1", &scope)
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(devices, ["dev-a"]);
    let page = store.table("p1", &team_query(scope.clone())).unwrap();
    assert_eq!(
        page.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![ours.response.clone()]
    );
    assert_eq!(page.total, Some(1));
    assert_eq!(
        store
            .table("p1", &team_query(Scope::Project))
            .unwrap()
            .total,
        Some(2)
    );
    // Free text too: both villages are a "Kijiji"; only ours is found.
    let mut searched = team_query(scope.clone());
    searched.words = voices_server::store::projection::search_words("kijiji");
    // No form is published here, so every answer is indexed as pii text.
    searched.pii = true;
    let found = store.table("p1", &searched).unwrap();
    assert_eq!(found.total, Some(1));
    assert_eq!(found.rows[0].id, ours.response);
    searched.scope = Scope::Project;
    assert_eq!(store.table("p1", &searched).unwrap().total, Some(2));

    // A device leaving the team takes its responses out of the coordinator's reads.
    store
        .set_team_device("p1", north.id, "dev-a", false)
        .unwrap();
    assert!(store.pull_in("p1", &scope, 0, 100).unwrap().is_empty());
    store
        .set_team_device("p1", north.id, "dev-a", true)
        .unwrap();

    // Deleting the team leaves the coordinator limited, to nothing.
    assert!(store.delete_team("p1", north.id).unwrap());
    assert!(!store.delete_team("p1", north.id).unwrap());
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.memberships[0].teams, Some(vec![]));
    assert_eq!(lena.scope_in("p1"), scope);
    assert!(store.pull_in("p1", &scope, 0, 100).unwrap().is_empty());
    assert_eq!(
        store.table("p1", &team_query(scope.clone())).unwrap().total,
        Some(0)
    );
    assert!(store.list_devices_in("p1", &scope).unwrap().is_empty());

    // Lifting the limit, or leaving the project and coming back, reads everything again.
    store.limit_member("lena", "p1", Some(&[south.id])).unwrap();
    assert_eq!(
        ids(store.pull_in("p1", &scope, 0, 100).unwrap()),
        vec![theirs.response.clone()]
    );
    store.limit_member("lena", "p1", None).unwrap();
    assert_eq!(
        store.find_user("lena").unwrap().unwrap().scope_in("p1"),
        Scope::Project
    );
    store.limit_member("lena", "p1", Some(&[south.id])).unwrap();
    assert!(store.remove_membership("lena", "p1").unwrap());
    store.add_membership("lena", "p1").unwrap();
    let lena = store.find_user("lena").unwrap().unwrap();
    assert_eq!(lena.memberships[0].teams, None);
    assert!(store.teams("p1").unwrap()[0].coordinators.is_empty());
}
