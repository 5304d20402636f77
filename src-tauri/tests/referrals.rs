//! The referral directory on the device: fetched from a real `voices-server` at sync,
//! kept encrypted, listed by a referral step offline and after a restart, replaced by
//! the next version; the choice recorded as the step's answer.

mod support;

use serde_json::json;
use support::{run, Device, TestServer, PROJECT};
use voices_app::view::PageView;
use voices_app::Voices;

const FORM: &str = "referral_fixture";

fn form() -> String {
    json!({
        "id": FORM, "version": "1", "title": "Services",
        "languages": [{"code": "en", "name": "English"}, {"code": "es", "name": "Español"}],
        "default_language": "en",
        "body": [
            {"type": "select_one", "name": "district", "choices": "districts", "label": "District"},
            {"type": "select_multiple", "name": "needs", "choices": "kinds", "label": "Needs"},
            {"type": "referral", "name": "services", "required": true, "label": "Contacts",
             "referral": {"area": "${district}", "needs": "${needs}"}}
        ],
        "choices": {
            "districts": [{"name": "north", "label": "North"}, {"name": "south", "label": "South"}],
            "kinds": [{"name": "health", "label": {"en": "Health care", "es": "Salud"}},
                      {"name": "legal", "label": {"en": "Legal advice", "es": "Asesoría legal"}}]
        }
    })
    .to_string()
}

fn directory(version: u32) -> serde_json::Value {
    let clinic_phone = if version == 1 {
        "+1 555 0101"
    } else {
        "+1 555 0199"
    };
    json!({"services": [
        {"id": "hotline", "name": "Help line", "kind": "health", "phone": "1190", "hours": "24 h",
         "languages": ["es"]},
        {"id": "north_clinic", "name": "North clinic", "kind": "health", "phone": clinic_phone,
         "areas": ["north"]},
        {"id": "north_legal", "name": "Legal aid north", "kind": "legal", "phone": "+1 555 0102",
         "areas": ["north"]},
        {"id": "south_clinic", "name": "South clinic", "kind": "health", "phone": "+1 555 0103",
         "areas": ["south"]}
    ]})
}

/// The page holding the referral step of response `id`.
fn referral_page(v: &Voices, id: &str) -> PageView {
    let count = v.state(id, 0, None).unwrap().page_count;
    (0..count)
        .map(|i| v.page(id, i).unwrap())
        .find(|p| p.fields.iter().any(|f| f.kind == "referral"))
        .expect("a page with the referral step")
}

fn listed(page: &PageView) -> (bool, Vec<(String, String, String, bool)>) {
    let r = page.fields.iter().find_map(|f| f.referral.clone()).unwrap();
    let services = r
        .services
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                s.kind_label.clone(),
                s.phone.clone(),
                s.in_language,
            )
        })
        .collect();
    (r.directory, services)
}

async fn story(server: &TestServer) {
    let uri = format!("/api/v1/projects/{PROJECT}/referrals");
    let device = Device::open();
    let v = &device.voices;
    let report = v
        .forms()
        .import_text("referral.json", &form(), "file")
        .unwrap();
    assert_eq!(report.outcome, "added", "{report:?}");

    // Before any directory: the step says so, and "no service" can be recorded.
    let id = v.start(FORM, None, Some("es")).unwrap().response_id;
    v.set_answer(&id, "/district", Some("north"), 0).unwrap();
    v.set_answer(&id, "/needs", Some("health"), 0).unwrap();
    assert_eq!(listed(&referral_page(v, &id)), (false, vec![]));

    let code = server.device_code("tab-r", &server.url).await;
    v.sync().provision_device(&code).await.unwrap();
    let summary = v.sync().sync_once().await.unwrap();
    assert_eq!(summary.directory_version, None, "the project has none yet");
    assert_eq!(v.with_store(|s| s.directory()).unwrap(), None);

    assert_eq!(server.put_json(&uri, directory(1)).await, 201);
    let summary = v.sync().sync_once().await.unwrap();
    assert_eq!(summary.directory_version, Some(1), "{:?}", summary.problems);
    let (present, services) = listed(&referral_page(v, &id));
    assert!(present);
    assert_eq!(
        services,
        [
            ("hotline".into(), "Salud".into(), "1190".into(), true),
            (
                "north_clinic".into(),
                "Salud".into(),
                "+1 555 0101".into(),
                false
            ),
        ],
        "the district's health services, kinds in the interview's language"
    );
    let path = referral_page(v, &id)
        .fields
        .iter()
        .find(|f| f.kind == "referral")
        .unwrap()
        .path
        .clone();
    let page = referral_page(v, &id).index;
    v.set_answer(&id, &path, Some("accepted north_clinic"), page)
        .unwrap();
    // Closed (the data directory kept), then opened again.
    let Device { dir, voices } = device;
    drop(voices);

    // After a restart, with no request made (a page reads only the store): the kept
    // directory still lists the services.
    let v = voices_app::device::open_with_pin(dir.path(), voices_app::device::TEST_PIN).unwrap();
    v.set_answer(&id, "/needs", Some("health legal"), 0)
        .unwrap();
    let (_, services) = listed(&referral_page(&v, &id));
    let ids: Vec<&str> = services.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(ids, ["hotline", "north_clinic", "north_legal"]);
    v.set_answer(&id, "/district", Some("south"), 0).unwrap();
    let (_, services) = listed(&referral_page(&v, &id));
    let ids: Vec<&str> = services.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(ids, ["hotline", "south_clinic"]);

    // The next version replaces it at the next sync.
    v.set_answer(&id, "/district", Some("north"), 0).unwrap();
    assert_eq!(server.put_json(&uri, directory(2)).await, 201);
    let summary = v.sync().sync_once().await.unwrap();
    assert_eq!(summary.directory_version, Some(2), "{:?}", summary.problems);
    let (_, services) = listed(&referral_page(&v, &id));
    assert!(services.contains(&(
        "north_clinic".into(),
        "Salud".into(),
        "+1 555 0199".into(),
        false
    )));
    let review = v.finalize(&id).unwrap();
    assert!(review.can_finalize, "{:?}", review.issues);
    let answers = v.with_store(|s| s.answers(&id)).unwrap();
    assert_eq!(
        answers.get(&path),
        Some("accepted north_clinic"),
        "the choice is the step's answer"
    );
}

#[test]
fn the_directory_is_fetched_kept_and_listed_offline_sqlite() {
    // Dropped outside the runtime (PostgreSQL's client blocks when it closes).
    let server = run(async {
        let server = TestServer::start().await;
        story(&server).await;
        server
    });
    drop(server);
}

/// The same against PostgreSQL (`scripts/with-postgres.sh`; without it this fails).
#[test]
fn the_directory_is_fetched_kept_and_listed_offline_postgres() {
    // Dropped outside the runtime (PostgreSQL's client blocks when it closes).
    let server = run(async {
        let server = TestServer::start_postgres().await;
        story(&server).await;
        server
    });
    drop(server);
}
