//! Accounts, tokens, sessions, provisioning, enumerator profiles, recipient keys and the audit.

use super::*;

pub fn accounts_and_tokens(store: Arc<dyn Store>) {
    setup(store.as_ref());
    assert!(store.project_exists("p1").unwrap());
    assert!(!store.project_exists("nope").unwrap());
    assert!(
        store.add_project("p1", "again", NOW).is_err(),
        "duplicate project accepted"
    );
    store
        .add_user("ana", Role::Coordinator, "hash", NOW)
        .unwrap();
    assert!(store.add_user("ana", Role::Admin, "hash", NOW).is_err());
    store.add_membership("ana", "p1").unwrap();
    assert!(store.add_membership("ana", "missing").is_err());
    let ana = store.find_user("ana").unwrap().unwrap();
    assert_eq!(ana.role, Role::Coordinator);
    assert_eq!(ana.projects, ["p1"]);
    assert!(store.find_user("bob").unwrap().is_none());

    store
        .add_token("hash-1", &TokenSubject::User("ana".into()), LATER, NOW)
        .unwrap();
    let info = store.find_token("hash-1").unwrap().unwrap();
    assert!(matches!(info.principal, Principal::User(ref u) if u.name == "ana"));
    assert_eq!(info.expires_at, LATER);
    assert!(info.revoked_at.is_none());
    assert!(store.revoke_token("hash-1", NOW).unwrap());
    assert!(store
        .find_token("hash-1")
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(store.find_token("unknown").unwrap().is_none());
}

pub fn a_project_device_policy_has_defaults_and_keeps_what_is_set(store: Arc<dyn Store>) {
    use voices_core::sync::protocol::DevicePolicy;
    setup(store.as_ref());
    assert_eq!(
        store.device_policy("p1").unwrap(),
        Some(DevicePolicy::DEFAULT)
    );
    assert_eq!(store.device_policy("nope").unwrap(), None);
    let strict = DevicePolicy {
        idle_lock_seconds: 60,
        retention_days: 0,
    };
    assert!(store.set_device_policy("p1", &strict).unwrap());
    assert!(!store.set_device_policy("nope", &strict).unwrap());
    assert_eq!(store.device_policy("p1").unwrap(), Some(strict));
    assert_eq!(
        store.device_policy("p2").unwrap(),
        Some(DevicePolicy::DEFAULT)
    );
}

pub fn enumerator_profiles_and_the_neutral_name_are_kept(store: Arc<dyn Store>) {
    use voices_core::matching::EnumeratorProfile;
    use voices_core::sync::protocol::Presentation;
    setup(store.as_ref());
    let device = |id: &str, project: &str| Device {
        id: id.into(),
        project: project.into(),
        enumerator: "Amal".into(),
        revoked_at: None,
        wipe_requested_at: None,
    };
    store
        .add_device(&device("dev-a", "p1"), "c-a", LATER, NOW)
        .unwrap();
    store
        .add_device(&device("dev-b", "p2"), "c-b", LATER, NOW)
        .unwrap();
    // Nothing given: every part unknown.
    assert_eq!(
        store.device_profile(None, "dev-a").unwrap(),
        Some(EnumeratorProfile::default())
    );
    assert_eq!(store.device_profile(None, "nope").unwrap(), None);
    let profile = EnumeratorProfile {
        sex: Some("female".into()),
        languages: vec!["ar".into(), "en".into()],
        area: Some("North district".into()),
    };
    assert!(store
        .set_device_profile(Some("p1"), "dev-a", &profile)
        .unwrap());
    // Another project's device is not reached through this one.
    assert!(!store
        .set_device_profile(Some("p1"), "dev-b", &profile)
        .unwrap());
    assert!(!store.set_device_profile(None, "nope", &profile).unwrap());
    assert_eq!(
        store.device_profile(Some("p1"), "dev-a").unwrap(),
        Some(profile.clone())
    );
    assert_eq!(store.device_profile(Some("p2"), "dev-a").unwrap(), None);
    assert_eq!(
        store.device_profile(None, "dev-b").unwrap(),
        Some(EnumeratorProfile::default())
    );
    let listed = store.list_devices("p1").unwrap();
    assert_eq!(listed[0].profile, profile);
    // Replacing makes parts unknown again.
    let male = EnumeratorProfile {
        sex: Some("male".into()),
        ..Default::default()
    };
    assert!(store.set_device_profile(None, "dev-a", &male).unwrap());
    assert_eq!(store.device_profile(None, "dev-a").unwrap(), Some(male));

    assert_eq!(
        store.presentation("p1").unwrap(),
        Some(Presentation::default())
    );
    assert_eq!(store.presentation("nope").unwrap(), None);
    let named = Presentation {
        neutral_name: Some("Field notes".into()),
    };
    assert!(store.set_presentation("p1", &named).unwrap());
    assert!(!store.set_presentation("nope", &named).unwrap());
    assert_eq!(store.presentation("p1").unwrap(), Some(named));
    assert_eq!(
        store.presentation("p2").unwrap(),
        Some(Presentation::default())
    );
    assert!(store
        .set_presentation("p1", &Presentation::default())
        .unwrap());
    assert_eq!(
        store.presentation("p1").unwrap(),
        Some(Presentation::default())
    );
}

pub fn passwords_sessions_and_memberships_change_at_once(store: Arc<dyn Store>) {
    setup(store.as_ref());
    store
        .add_user("ana", Role::Coordinator, "old", NOW)
        .unwrap();
    store.add_user("bob", Role::Coordinator, "b", NOW).unwrap();
    store.add_membership("ana", "p1").unwrap();
    store.add_membership("ana", "p2").unwrap();
    for (hash, user) in [("a1", "ana"), ("a2", "ana"), ("b1", "bob")] {
        store
            .add_token(hash, &TokenSubject::User(user.into()), LATER, NOW)
            .unwrap();
    }
    let expired_before = "2000-01-01T00:00:00.000Z";
    store
        .add_token(
            "a-old",
            &TokenSubject::User("ana".into()),
            expired_before,
            expired_before,
        )
        .unwrap();
    let revoked = |hash: &str| store.find_token(hash).unwrap().unwrap().revoked_at;

    // Revoking a user's sessions counts the live ones and leaves other users alone.
    assert_eq!(store.revoke_user_tokens("ana", NOW).unwrap(), 2);
    assert!(revoked("a1").is_some() && revoked("a2").is_some());
    assert!(revoked("b1").is_none());
    assert_eq!(store.revoke_user_tokens("ana", NOW).unwrap(), 0);

    // A new password replaces the hash and revokes every token, in one step.
    store
        .add_token("a3", &TokenSubject::User("ana".into()), LATER, NOW)
        .unwrap();
    assert!(store.set_password("ana", "new", NOW).unwrap());
    assert_eq!(
        store.find_user("ana").unwrap().unwrap().password_hash,
        "new"
    );
    assert!(revoked("a3").is_some());
    assert!(revoked("b1").is_none());
    assert!(!store.set_password("nobody", "x", NOW).unwrap());

    // Memberships come off one project at a time.
    assert!(store.remove_membership("ana", "p1").unwrap());
    assert!(!store.remove_membership("ana", "p1").unwrap());
    assert!(!store.remove_membership("nobody", "p2").unwrap());
    assert_eq!(store.find_user("ana").unwrap().unwrap().projects, ["p2"]);
}

pub fn provisioning_codes_work_once(store: Arc<dyn Store>) {
    setup(store.as_ref());
    let device = Device {
        id: "dev-a".into(),
        project: "p1".into(),
        enumerator: "Achieng".into(),
        revoked_at: None,
        wipe_requested_at: None,
    };
    store.add_device(&device, "code-hash", LATER, NOW).unwrap();
    assert!(store.add_device(&device, "other", LATER, NOW).is_err());
    let redeemed = store.redeem_code("code-hash", "tok-a", LATER, NOW).unwrap();
    assert_eq!(redeemed.unwrap().id, "dev-a");
    assert!(
        store
            .redeem_code("code-hash", "tok-b", LATER, NOW)
            .unwrap()
            .is_none(),
        "a provisioning code worked twice"
    );
    let info = store.find_token("tok-a").unwrap().unwrap();
    assert!(matches!(info.principal, Principal::Device(ref d) if d.project == "p1"));

    // An expired code does not work.
    let late = Device {
        id: "dev-b".into(),
        ..device.clone()
    };
    store.add_device(&late, "old-code", PAST, PAST).unwrap();
    assert!(store
        .redeem_code("old-code", "tok-c", LATER, NOW)
        .unwrap()
        .is_none());

    // Revoking a device revokes its tokens and its unused code.
    let c = Device {
        id: "dev-c".into(),
        ..device
    };
    store.add_device(&c, "code-c", LATER, NOW).unwrap();
    assert!(store.revoke_device("dev-a", NOW).unwrap());
    assert!(store.revoke_device("dev-c", NOW).unwrap());
    assert!(!store.revoke_device("dev-zzz", NOW).unwrap());
    assert!(store
        .find_token("tok-a")
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(store
        .redeem_code("code-c", "tok-d", LATER, NOW)
        .unwrap()
        .is_none());
}

/// A project's recipient keys (added once, retired with when, per project), the pii grant
/// (members only), and the audit read back by project, actor, action, time and page.
pub fn keys_pii_grants_and_the_audit(store: Arc<dyn Store>) {
    use voices_server::store::access::{AuditAction, AuditQuery, AuditRecord, ProjectKey};
    setup(store.as_ref());
    let key = |recipient: &str, at: &str| ProjectKey {
        recipient: recipient.into(),
        label: "data manager".into(),
        added_by: "ada".into(),
        added_at: at.into(),
        retired_at: None,
    };
    assert!(store.add_project_key("p1", &key("age1old", PAST)).unwrap());
    assert!(!store.add_project_key("p1", &key("age1old", NOW)).unwrap());
    assert!(store.add_project_key("p1", &key("age1new", NOW)).unwrap());
    assert!(store.add_project_key("p2", &key("age1old", NOW)).unwrap());
    assert!(store.retire_project_key("p1", "age1old", LATER).unwrap());
    assert!(!store.retire_project_key("p1", "age1old", LATER).unwrap());
    assert!(!store.retire_project_key("p1", "age1never", LATER).unwrap());
    let keys = store.project_keys("p1").unwrap();
    let listed: Vec<(&str, Option<&str>)> = keys
        .iter()
        .map(|k| (k.recipient.as_str(), k.retired_at.as_deref()))
        .collect();
    assert_eq!(listed, [("age1old", Some(LATER)), ("age1new", None)]);
    assert_eq!(store.project_keys("p2").unwrap()[0].retired_at, None);

    store
        .add_user("cora", Role::Coordinator, "hash", NOW)
        .unwrap();
    store.add_membership("cora", "p1").unwrap();
    let cora = || store.find_user("cora").unwrap().unwrap();
    assert!(!cora().may_read_pii("p1"), "not by default");
    assert!(store.set_pii_grant("cora", "p1", true).unwrap());
    assert!(cora().may_read_pii("p1"));
    assert!(
        !store.set_pii_grant("cora", "p2", true).unwrap(),
        "not a member"
    );
    assert!(!cora().may_read_pii("p2"));
    assert!(store.set_pii_grant("cora", "p1", false).unwrap());
    assert!(!cora().may_read_pii("p1"));

    let record = |at: &str, actor: &str, action, project: &str, ok| AuditRecord {
        at: at.into(),
        actor: actor.into(),
        action,
        project: Some(project.into()),
        target: Some("r1".into()),
        detail: "pii=true".into(),
        ok,
    };
    for r in [
        record(PAST, "cora", AuditAction::ReadResponse, "p1", true),
        record(NOW, "cora", AuditAction::Export, "p1", true),
        record(NOW, "dana", AuditAction::ReadResponse, "p2", true),
        record(LATER, "-", AuditAction::SignInFailed, "p1", false),
    ] {
        store.append_audit(&r).unwrap();
    }
    let query = |q: AuditQuery| -> Vec<(String, String, String)> {
        store
            .audit(&AuditQuery { limit: 100, ..q })
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.outcome))
            .collect()
    };
    let all = store
        .audit(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "in order");
    assert_eq!(all[0].target.as_deref(), Some("r1"));
    assert_eq!(all[0].detail, "pii=true");
    let p1 = query(AuditQuery {
        project: Some("p1".into()),
        ..AuditQuery::default()
    });
    assert_eq!(p1.len(), 3);
    assert_eq!(
        p1[2],
        ("-".into(), "sign_in_failed".into(), "refused".into())
    );
    let cora_reads = query(AuditQuery {
        actor: Some("cora".into()),
        action: Some(AuditAction::ReadResponse),
        ..AuditQuery::default()
    });
    assert_eq!(
        cora_reads,
        [("cora".into(), "read_response".into(), "ok".into())]
    );
    let between = query(AuditQuery {
        since: Some(NOW.into()),
        until: Some(LATER.into()),
        ..AuditQuery::default()
    });
    assert_eq!(between.len(), 2, "{between:?}");
    let page = store
        .audit(&AuditQuery {
            after: all[1].id,
            limit: 1,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, all[2].id);
}
