//! What purging a withdrawn response leaves on the server, on SQLite and on PostgreSQL:
//! the files only it named are deleted with its answers, and of its sealed answers no
//! ciphertext is left in any row of any table, in a revision, a pull or an export.

mod common;
#[allow(unused_imports)]
mod console;
mod pgdb;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use console::Console;
use serde_json::json;
use voices_core::answer::{AnswerValue, Sealed, SealedError};
use voices_core::sync::{Hlc, Revision};
use voices_server::store::postgres::PostgresStore;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::Store;

/// The form of the app's tests (`tests/wire/form.json`): an image, a `pii` field in a
/// repeat and a `sensitive` group.
const WIRE_FORM: &str = "app_fixture_household";

/// Where a backend keeps its rows, to read every one of them back.
enum Rows {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Rows {
    /// The database's files as they are on disk: SQLite's file and WAL; on PostgreSQL
    /// (after a checkpoint, so every page is written) the files of every table, TOAST
    /// table and index of the store's schema, which a purge vacuums. (PostgreSQL's WAL
    /// keeps what it logged until its segments are recycled: docs/deploy.md.) `None`
    /// when this process cannot read PostgreSQL's data directory.
    fn files(&self) -> Option<Vec<u8>> {
        let path = match self {
            Rows::Sqlite(path) => path,
            Rows::Postgres(url) => return postgres_files(url.clone()),
        };
        let mut bytes = std::fs::read(path).unwrap();
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        bytes.extend(std::fs::read(&wal).unwrap_or_default());
        Some(bytes)
    }

    /// Every text and byte value of every row of every table, as text (bytes also as
    /// hex, as PostgreSQL prints `bytea`).
    fn dump(&self) -> String {
        let mut out = String::new();
        match self {
            Rows::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                let tables: Vec<String> = c
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                assert!(tables.iter().any(|t| t == "revisions"), "{tables:?}");
                for table in tables {
                    let mut stmt = c.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
                    let columns = stmt.column_count();
                    let mut rows = stmt.query([]).unwrap();
                    while let Some(row) = rows.next().unwrap() {
                        for i in 0..columns {
                            match row.get_ref(i).unwrap() {
                                rusqlite::types::ValueRef::Text(t) => {
                                    out.push_str(&String::from_utf8_lossy(t));
                                }
                                rusqlite::types::ValueRef::Blob(b) => {
                                    out.push_str(&String::from_utf8_lossy(b));
                                    out.push_str(&hex::encode(b));
                                }
                                _ => {}
                            }
                            out.push('\n');
                        }
                    }
                }
            }
            Rows::Postgres(url) => {
                let url = url.clone();
                out = std::thread::spawn(move || {
                    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    let tables: Vec<String> = c
                        .query(
                            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
                            &[],
                        )
                        .unwrap()
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    assert!(tables.iter().any(|t| t == "revisions"), "{tables:?}");
                    let mut out = String::new();
                    for table in tables {
                        for row in c
                            .query(&format!("SELECT t::text FROM \"{table}\" t"), &[])
                            .unwrap()
                        {
                            out.push_str(row.get::<_, &str>(0));
                            out.push('\n');
                        }
                    }
                    out
                })
                .join()
                .unwrap();
            }
        }
        out
    }
}

/// The main fork of every relation of the current schema (tables, their TOAST tables
/// and indexes), every segment, read from the data directory after a checkpoint.
fn postgres_files(url: String) -> Option<Vec<u8>> {
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute("CHECKPOINT").unwrap();
        let dir: String = c.query_one("SHOW data_directory", &[]).unwrap().get(0);
        let dir = PathBuf::from(dir);
        if std::fs::read_dir(&dir).is_err() {
            return None;
        }
        let relations: Vec<String> = c
            .query(
                "SELECT pg_relation_filepath(c.oid)::text FROM pg_class c
                 WHERE c.relkind IN ('r', 't', 'i')
                   AND (c.relnamespace = current_schema()::regnamespace
                        OR c.oid IN (SELECT reltoastrelid FROM pg_class
                                     WHERE relnamespace = current_schema()::regnamespace)
                        OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN
                                     (SELECT reltoastrelid FROM pg_class
                                      WHERE relnamespace = current_schema()::regnamespace)))
                   AND pg_relation_filepath(c.oid) IS NOT NULL",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(relations.len() > 20, "{relations:?}");
        let mut bytes = Vec::new();
        for relation in relations {
            let base = dir.join(&relation);
            bytes.extend(std::fs::read(&base).unwrap_or_default());
            for segment in 1.. {
                let Ok(more) = std::fs::read(format!("{}.{segment}", base.display())) else {
                    break;
                };
                bytes.extend(more);
            }
        }
        Some(bytes)
    })
    .join()
    .unwrap()
}

fn run<F, Fut>(store: Arc<dyn Store>, rows: Rows, test: F)
where
    F: FnOnce(Console, Rows) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _keep = store.clone();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { test(Console::new(store).await, rows).await });
}

fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Console, Rows) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite3");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    run(store, Rows::Sqlite(path), test);
}

fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Console, Rows) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = pgdb::TestDatabase::create();
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url).unwrap());
    run(store, Rows::Postgres(db.url.clone()), test);
}

#[test]
fn a_purged_response_takes_the_files_only_it_names_sqlite() {
    on_sqlite(a_purged_response_takes_the_files_only_it_names);
}

#[test]
fn a_purged_response_takes_the_files_only_it_names_postgres() {
    on_postgres(a_purged_response_takes_the_files_only_it_names);
}

#[test]
fn a_purged_response_takes_its_sealed_files_sqlite() {
    on_sqlite(a_purged_response_takes_its_sealed_files);
}

#[test]
fn a_purged_response_takes_its_sealed_files_postgres() {
    on_postgres(a_purged_response_takes_its_sealed_files);
}

#[test]
fn a_purged_sealed_response_leaves_no_ciphertext_sqlite() {
    on_sqlite(a_purged_sealed_response_leaves_no_ciphertext);
}

#[test]
fn a_purged_sealed_response_leaves_no_ciphertext_postgres() {
    on_postgres(a_purged_sealed_response_leaves_no_ciphertext);
}

/// The app's first revision of the frozen wire, as response `n` (new ids), with the
/// photo answer `photo`.
fn wire_revision(n: u64, photo: &str) -> Revision {
    let text =
        std::fs::read_to_string(common::repo_path("sync-server/tests/wire/batch.ndjson")).unwrap();
    let mut revision: Revision = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    revision.id = format!("019b8c30-1111-7a00-8000-0000000a{n:04}");
    revision.response = format!("019b8c2e-7a10-7c3e-9d41-0000000b{n:04}");
    revision.hlc = Hlc::new(1_767_596_497_512 + n, 0);
    revision
        .set
        .insert("/photo".into(), Some(AnswerValue::Text(photo.to_owned())));
    revision
}

async fn publish_wire_form(c: &Console) {
    let form =
        std::fs::read_to_string(common::repo_path("sync-server/tests/wire/form.json")).unwrap();
    let answer = c
        .call("POST", "/api/v1/projects/p1/forms", &c.admin, Some(form))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}

/// Upload a whole file as the device: its content address.
async fn attach(c: &Console, bytes: &[u8]) -> String {
    let sha = voices_server::auth::sha256_hex(bytes);
    let answer = c
        .send(
            Request::put(format!(
                "/api/v1/projects/p1/attachments/{sha}?offset=0&size={}",
                bytes.len()
            ))
            .header(header::AUTHORIZATION, console::bearer(&c.device))
            .body(Body::from(bytes.to_vec()))
            .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["complete"], true, "{}", answer.body);
    sha
}

/// The coordinator's download of a file: its status and bytes.
async fn download(c: &Console, sha: &str) -> (StatusCode, Vec<u8>) {
    let response = tower::ServiceExt::oneshot(
        c.router.clone(),
        Request::get(format!("/api/v1/projects/p1/attachments/{sha}"))
            .header(header::AUTHORIZATION, console::bearer(&c.coordinator))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, bytes)
}

/// `revision` with its `pii` and `sensitive` answers sealed (the first names in the
/// repeat, whether the respondent felt unsafe), each ciphertext base64 of "SEALED" and
/// then the response, the edit and the value numbered: unique, and findable.
fn sealed(mut revision: Revision) -> Revision {
    let seq = revision.seq;
    let n: u64 = revision.response[revision.response.len() - 4..]
        .parse()
        .unwrap();
    if revision.seq == 1 {
        revision
            .set
            .insert("/felt_unsafe".into(), Some(AnswerValue::Text("yes".into())));
    }
    let mut k = 0;
    revision
        .seal(
            |p| p.as_str() == "/felt_unsafe" || p.as_str().ends_with("/first_name"),
            |_clear| {
                k += 1;
                Sealed::new(format!("U0VBTEVE{n}r{seq}v{k}"))
            },
        )
        .unwrap();
    assert!(revision.validated);
    revision
}

fn holds(text: &str, what: &str) -> bool {
    text.contains(what) || text.contains(&hex::encode(what))
}

async fn withdraw(c: &Console, response: &str) {
    let answer = c
        .call(
            "POST",
            &format!("/api/v1/projects/p1/responses/{response}/withdraw"),
            &c.coordinator,
            Some(json!({"reason": "asked by phone"}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// Keep withdrawn responses 0 days: those withdrawn are purged at once.
async fn purge_now(c: &Console) {
    let answer = c
        .call(
            "PUT",
            "/api/v1/projects/p1/withdrawal-policy",
            &c.coordinator,
            Some(json!({"keep_days": 0}).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// Files are stored once per project, under their content address, however many
/// responses name them: purging a response deletes the files it named that no response
/// still kept names, and keeps the rest.
async fn a_purged_response_takes_the_files_only_it_names(c: Console, rows: Rows) {
    publish_wire_form(&c).await;
    let only = attach(
        &c,
        b"MARKER-only-photo: the house of the withdrawn respondent",
    )
    .await;
    let shared = attach(&c, b"MARKER-shared-photo: the village well").await;
    let a = wire_revision(1, &format!("{only}.jpg"));
    let b = wire_revision(2, &format!("{shared}.jpg"));
    let kept = wire_revision(3, &format!("IMG {shared}"));
    // As the app names them: the answer is the picked file's name, the revision's `files`
    // gives its address.
    let app_only = attach(&c, b"MARKER-app-only: the withdrawn respondent's door").await;
    let app_shared = attach(&c, b"MARKER-app-shared: the market").await;
    let named = |n: u64, name: &str, sha: &str| {
        let mut revision = wire_revision(n, name);
        revision.files = [(name.to_owned(), sha.to_owned())].into();
        revision
    };
    let d = named(4, "door.jpg", &app_only);
    let e = named(5, "market.jpg", &app_shared);
    let kept_too = named(6, "IMG_0001.jpg", &app_shared);
    c.upload(
        &c.device,
        &[
            a.clone(),
            b.clone(),
            kept.clone(),
            d.clone(),
            e.clone(),
            kept_too,
        ],
    )
    .await;
    withdraw(&c, &a.response).await;
    withdraw(&c, &b.response).await;
    withdraw(&c, &d.response).await;
    withdraw(&c, &e.response).await;
    // Kept for the audit (30 days by default): the files stay meanwhile.
    assert_eq!(download(&c, &only).await.0, StatusCode::OK);

    purge_now(&c).await;
    let store = c.store.clone();
    let (only2, shared2) = (only.clone(), shared.clone());
    let (gone, stays) = std::thread::spawn(move || {
        (
            (
                store.attachment_status("p1", &only2).unwrap(),
                store.read_attachment("p1", &only2, 0, 1 << 20).unwrap(),
            ),
            store.attachment_status("p1", &shared2).unwrap(),
        )
    })
    .join()
    .unwrap();
    assert_eq!(
        gone,
        (None, Vec::new()),
        "the file only the purged response named"
    );
    assert!(
        stays.is_some_and(|s| s.complete),
        "a file a kept response names"
    );
    assert_eq!(download(&c, &only).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        download(&c, &app_only).await.0,
        StatusCode::NOT_FOUND,
        "the file only the purged response's revision listed"
    );
    assert_eq!(
        download(&c, &app_shared).await.0,
        StatusCode::OK,
        "a file a kept response's revision lists"
    );
    let (status, bytes) = download(&c, &shared).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"MARKER-shared-photo: the village well");
    let dump = rows.dump();
    assert!(
        !holds(&dump, "MARKER-only-photo"),
        "the purged file's bytes are left"
    );
    assert!(
        holds(&dump, "MARKER-shared-photo"),
        "the dump reads the files"
    );
}

/// A response whose `pii` and `sensitive` answers were sealed on the device, edited
/// once, withdrawn and purged: none of its ciphertexts is left anywhere the server keeps
/// or gives out, nor its file, while another response's ciphertexts are all still there.
async fn a_purged_sealed_response_leaves_no_ciphertext(c: Console, rows: Rows) {
    publish_wire_form(&c).await;
    let photo = attach(&c, b"MARKER-photo of the respondent's house").await;
    let withdrawn = sealed(wire_revision(1, &format!("{photo}.jpg")));
    let other = sealed(wire_revision(2, "no photo"));
    c.upload(&c.device, &[withdrawn.clone(), other.clone()])
        .await;
    // An edit from the device, sealing a new value: a second revision with ciphertext.
    let mut again = withdrawn.clone();
    again.id = "019b8c30-1111-7a00-8000-0000000e0001".into();
    again.seq = 2;
    again.hlc = Hlc::new(1_767_596_600_000, 0);
    again.consent = None;
    again.privacy.clear();
    again.set = [(
        "/felt_unsafe".to_owned(),
        Some(AnswerValue::Text("no".into())),
    )]
    .into();
    let again = sealed(again);
    c.upload(&c.device, &[again]).await;
    // Sent back with words that quote the respondent, on the response and on a field.
    let answer = c
        .call(
            "PUT",
            &format!(
                "/api/v1/projects/p1/responses/{}/review",
                withdrawn.response
            ),
            &c.coordinator,
            Some(
                json!({"state": "sent_back", "comment": "MARKER-comment: she named her husband",
                    "fields": {"/felt_unsafe": "MARKER-field-comment: ask again about the night"}})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    // The three sealed answers of each first revision, and the edit's.
    let markers = |n: u64| -> Vec<String> {
        let mut m: Vec<String> = (1..=3).map(|k| format!("U0VBTEVE{n}r1v{k}")).collect();
        if n == 1 {
            m.push("U0VBTEVE1r2v1".into());
        }
        m
    };
    let before = rows.dump();
    for marker in markers(1).iter().chain(&markers(2)) {
        assert!(before.contains(marker.as_str()), "{marker} was stored");
    }
    assert!(holds(&before, "MARKER-photo"), "the dump reads the files");
    assert!(before.contains("MARKER-comment") && before.contains("MARKER-field-comment"));
    if let Some(bytes) = rows.files() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(markers(1).iter().all(|m| text.contains(m.as_str())));
    }

    withdraw(&c, &withdrawn.response).await;
    purge_now(&c).await;

    let mut seen = vec![("every row of every table".to_owned(), rows.dump())];
    if let Some(bytes) = rows.files() {
        // SQLite: the database file and its WAL, byte for byte (free pages included);
        // PostgreSQL: every relation's files after the purge's vacuum.
        seen.push((
            "the database files".to_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for (what, uri) in [
        (
            "the pull",
            "/api/v1/projects/p1/responses?after=0".to_owned(),
        ),
        (
            "the response",
            format!(
                "/api/v1/projects/p1/responses/{}?pii=true",
                withdrawn.response
            ),
        ),
        (
            "its history",
            format!(
                "/api/v1/projects/p1/responses/{}/history?pii=true",
                withdrawn.response
            ),
        ),
        (
            "the JSON export",
            format!("/api/v1/projects/p1/forms/{WIRE_FORM}/export?format=json&pii=true"),
        ),
        (
            "the table",
            "/api/v1/projects/p1/table?limit=100".to_owned(),
        ),
    ] {
        let answer = c.get(&c.coordinator, &uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{what}: {}", answer.body);
        seen.push((what.to_owned(), answer.body.to_string()));
    }
    let csv = tower::ServiceExt::oneshot(
        c.router.clone(),
        Request::get(format!(
            "/api/v1/projects/p1/forms/{WIRE_FORM}/export?format=csv&pii=true"
        ))
        .header(header::AUTHORIZATION, console::bearer(&c.coordinator))
        .body(Body::empty())
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let zipped = http_body_util::BodyExt::collect(csv.into_body())
        .await
        .unwrap()
        .to_bytes();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    let mut csv_text = String::new();
    for i in 0..archive.len() {
        archive
            .by_index(i)
            .unwrap()
            .read_to_string(&mut csv_text)
            .unwrap();
    }
    seen.push(("the CSV export".to_owned(), csv_text));
    for (what, text) in &seen {
        for marker in markers(1) {
            assert!(!text.contains(&marker), "{marker} is left in {what}");
        }
        assert!(
            !holds(text, "MARKER-photo"),
            "the purged response's file is left in {what}"
        );
        for comment in ["MARKER-comment", "MARKER-field-comment"] {
            assert!(
                !holds(text, comment),
                "the review's {comment} is left in {what}"
            );
        }
    }
    // What was not withdrawn is all still there (so the search above can find).
    for marker in markers(2) {
        assert!(seen[0].1.contains(&marker), "{marker} of the kept response");
    }
    assert!(seen
        .iter()
        .any(|(what, text)| what == "the JSON export" && text.contains(&markers(2)[0])));
    assert_eq!(download(&c, &photo).await.0, StatusCode::NOT_FOUND);
}

/// A photo answered to a sealed question is sealed on the device with its answer: nothing
/// in clear names its file but the revision's `files`, under the sealed answer's
/// `sealed-….age` name. Purging the response deletes that file all the same, and keeps
/// another response's.
async fn a_purged_response_takes_its_sealed_files(c: Console, rows: Rows) {
    publish_wire_form(&c).await;
    let gone = attach(
        &c,
        b"age-encryption.org/v1\nMARKER-sealed-door of the withdrawn",
    )
    .await;
    let kept = attach(&c, b"age-encryption.org/v1\nMARKER-sealed-roof of the kept").await;
    let with_sealed_photo = |n: u64, sealed_sha: &str| {
        let mut revision = wire_revision(n, "door.jpg");
        // The clear file's hash, which never reaches the server.
        revision.files = [("door.jpg".to_owned(), "d0".repeat(32))].into();
        revision
            .seal_with_files(
                |p| p.as_str() == "/photo",
                |_| Sealed::new(format!("U0VBTEVEcGhvdG8{n}")),
                |_| Ok::<_, SealedError>(Some(sealed_sha.to_owned())),
            )
            .unwrap();
        let body = serde_json::to_string(&revision).unwrap();
        assert!(
            !body.contains("door") && !body.contains(&"d0".repeat(32)),
            "{body}"
        );
        let name = revision.set["/photo"]
            .as_ref()
            .unwrap()
            .sealed()
            .unwrap()
            .file_name();
        assert_eq!(revision.files[&name], sealed_sha);
        revision
    };
    let a = with_sealed_photo(7, &gone);
    let b = with_sealed_photo(8, &kept);
    c.upload(&c.device, &[a.clone(), b.clone()]).await;
    assert_eq!(download(&c, &gone).await.0, StatusCode::OK);

    withdraw(&c, &a.response).await;
    purge_now(&c).await;
    assert_eq!(
        download(&c, &gone).await.0,
        StatusCode::NOT_FOUND,
        "the sealed file only the purged response's `files` named"
    );
    let (status, bytes) = download(&c, &kept).await;
    assert_eq!(status, StatusCode::OK, "a kept response's sealed file");
    assert!(bytes.ends_with(b"MARKER-sealed-roof of the kept"));
    let dump = rows.dump();
    assert!(
        !holds(&dump, "MARKER-sealed-door"),
        "the purged sealed file's bytes"
    );
    assert!(
        holds(&dump, "MARKER-sealed-roof"),
        "the dump reads the files"
    );
}
