//! The project's device policy through a real server: the idle lock it sets, and
//! retention 0, which purges a response from the device as soon as the server kept it,
//! keeping what makes the next sync send nothing twice.

mod support;

use support::{
    attach_photo_on, interview_on, interview_with_photo_on, run, Device, TestServer, FORM, PROJECT,
};
use voices_core::sync::protocol::DevicePolicy;

async fn set_policy(server: &TestServer, policy: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(format!(
            "{}/api/v1/projects/{PROJECT}/device-policy",
            server.url
        ))
        .bearer_auth(&server.coordinator)
        .json(&policy)
        .send()
        .await
        .unwrap()
}

#[test]
fn the_projects_policy_reaches_the_device_and_retention_0_purges_what_the_server_kept() {
    run(async {
        let server = TestServer::start().await;
        let refused = set_policy(
            &server,
            serde_json::json!({"idle_lock_seconds": 5, "retention_days": 0}),
        )
        .await;
        assert_eq!(refused.status(), 400);
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "bad_policy", "{problem}");
        let set = set_policy(
            &server,
            serde_json::json!({"idle_lock_seconds": 120, "retention_days": 0}),
        )
        .await;
        assert_eq!(set.status(), 200);

        let device = Device::open();
        let v = &device.voices;
        assert_eq!(
            v.idle_lock_seconds().unwrap(),
            DevicePolicy::DEFAULT_IDLE_LOCK_SECONDS
        );
        // Before its project's policy came, the device purges nothing.
        assert_eq!(v.sync().retention_days().unwrap(), None);
        let sent = interview_on(v, "MARKER-kept-then-purged", None);
        let with_photo = v.start(FORM, None, Some("en")).unwrap().response_id;
        v.record_consent(&with_photo, true).unwrap();
        let photo = b"MARKER-photo of a house, sealed, then purged".to_vec();
        attach_photo_on(v, &with_photo, &photo);
        let sha = voices_app::sync::sha256_hex(&photo);
        let draft = v.start(FORM, None, Some("en")).unwrap().response_id;
        v.record_consent(&draft, true).unwrap();
        v.set_answer(&draft, "/village", Some("unsent draft"), 1)
            .unwrap();
        assert!(v.attachment_file(&sha).exists());

        let code = server.device_code("tab-r", &server.url).await;
        v.sync().provision_device(&code).await.unwrap();
        let first = v.sync().sync_once().await.unwrap();
        assert_eq!((first.accepted, first.still_due), (1, 0), "{first:?}");

        // The policy came down with the sync: the lock follows the project.
        assert_eq!(v.idle_lock_seconds().unwrap(), 120);
        assert_eq!(v.sync().retention_days().unwrap(), Some(0));
        // Acknowledged, so purged at once: gone from the lists and unreadable.
        let listed: Vec<String> = v
            .list_responses()
            .unwrap()
            .into_iter()
            .map(|r| r.response_id)
            .collect();
        assert!(!listed.contains(&sent), "{listed:?}");
        assert!(listed.contains(&draft) && listed.contains(&with_photo));
        let err = v.reopen(&sent).unwrap_err();
        assert!(
            err.to_string().contains("removed from this device"),
            "{err}"
        );
        assert!(v.sync().list_outbox().unwrap().is_empty());
        // The ids and hashes stay: nothing is built or sent again, the server holds it once.
        let ids = v.with_store(|s| s.revisions(&sent)).unwrap();
        assert_eq!(ids.len(), 1);
        assert!(ids[0].body.is_empty() && ids[0].ack.is_some());
        let again = v.sync().sync_once().await.unwrap();
        assert_eq!(
            (
                again.revisions_built,
                again.accepted,
                again.duplicate,
                again.still_due
            ),
            (0, 0, 0, 0),
            "{again:?}"
        );
        let pulled = server.pull_all().await;
        assert_eq!(pulled.len(), 1, "{pulled:?}");
        assert_eq!(pulled[0]["response"]["id"], sent.as_str());
        assert_eq!(
            pulled[0]["response"]["answers"]["village"],
            "MARKER-kept-then-purged"
        );

        // The photo's response goes the same way, and its sealed file with it.
        v.set_answer(&with_photo, "/village", Some("with photo"), 1)
            .unwrap();
        v.set_answer(&with_photo, "/hh_size", Some("2"), 1).unwrap();
        let safety = (0..8)
            .find(|&i| v.page(&with_photo, i).is_ok_and(|p| p.key == "/safety"))
            .unwrap();
        v.record_privacy(
            &with_photo,
            "/safety",
            voices_core::response::PrivacyOutcome::NotPrivate,
            safety,
        )
        .unwrap();
        assert!(v.finalize(&with_photo).unwrap().can_finalize);
        let third = v.sync().sync_once().await.unwrap();
        assert_eq!(
            (third.accepted, third.attachments_sent),
            (1, 1),
            "{third:?}"
        );
        assert!(
            !v.attachment_file(&sha).exists(),
            "the sealed photo was removed"
        );
        assert_eq!(server.pull_all().await.len(), 2);
        // The draft was never sent: it stays, whatever the policy.
        assert!(v
            .with_store(|s| s.answers(&draft))
            .is_ok_and(|a| !a.is_empty()));
    });
}

/// A photo sent with a response that retention then purged from the device, and that
/// the server deleted with the withdrawn response, is sent again when the very same bytes
/// are attached to a new response: the device remembers which server has a file for which
/// response, not for good.
#[test]
fn the_same_photo_attached_after_a_purge_is_sent_again_when_the_server_lost_it() {
    run(async {
        let server = TestServer::start().await;
        let policy = serde_json::json!({"idle_lock_seconds": 120, "retention_days": 0});
        assert_eq!(set_policy(&server, policy).await.status(), 200);
        let withdrawal = format!("/api/v1/projects/{PROJECT}/withdrawal-policy");
        assert_eq!(
            server
                .put_json(&withdrawal, serde_json::json!({"keep_days": 0}))
                .await,
            200
        );
        let device = Device::open();
        let v = &device.voices;
        let code = server.device_code("tab-p", &server.url).await;
        v.sync().provision_device(&code).await.unwrap();
        let photo = b"MARKER-the same photo, attached twice".to_vec();
        let sha = voices_app::sync::sha256_hex(&photo);
        let file = format!("/api/v1/projects/{PROJECT}/attachments/{sha}");
        let first = interview_with_photo_on(v, "first", &photo);
        let sent = v.sync().sync_once().await.unwrap();
        assert_eq!((sent.accepted, sent.attachments_sent), (1, 1), "{sent:?}");
        assert_eq!(server.get_bytes(&file).await, photo);
        // Retention 0: the response and its photo left the device.
        assert!(!v.attachment_file(&sha).exists());

        // The respondent withdrew: the server empties the response and deletes its photo.
        let (status, body) = server
            .coordinator_json(
                reqwest::Method::POST,
                &format!("/api/v1/projects/{PROJECT}/responses/{first}/withdraw"),
                Some(serde_json::json!({"reason": "the respondent withdrew"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            server.status_of(&file).await,
            404,
            "the server deleted the photo"
        );

        // The very same bytes on a new response go up again, and the server has them.
        let second = interview_with_photo_on(v, "second", &photo);
        let again = v.sync().sync_once().await.unwrap();
        assert_eq!(
            (again.accepted, again.attachments_sent, again.held_back),
            (1, 1, 0),
            "{again:?}"
        );
        assert_eq!(server.get_bytes(&file).await, photo);
        let pulled = server.pull_all().await;
        assert!(
            pulled
                .iter()
                .any(|p| p["response"]["id"] == second.as_str()),
            "{pulled:?}"
        );
    });
}
