//! Encryption at rest: nothing reaches the disk in the clear, a plain store is encrypted in place.

use super::*;

#[test]
fn nothing_reaches_the_disk_unencrypted_and_another_key_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    let mut s = Store::open(&path, &test_key()).unwrap();
    s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
    s.create_response("r1", "f", "1", "en", NOW).unwrap();
    s.set_answer("r1", &p("/name"), Some("MARKER-7f3a-answer"), NOW)
        .unwrap();
    s.set_answer("r1", &p("/name"), Some("MARKER-7f3a-edited"), NOW)
        .unwrap();
    let secure: i64 = s
        .conn
        .pragma_query_value(None, "secure_delete", |r| r.get(0))
        .unwrap();
    assert_eq!(secure, 1);
    // The database and its WAL, while open and after closing.
    assert!(dir.path().join("voices.sqlite-wal").exists());
    for needle in [&b"MARKER-7f3a"[..], b"SQLite format 3"] {
        assert_eq!(bytes_in_dir(dir.path(), needle), Vec::<String>::new());
    }
    drop(s);
    assert_eq!(
        bytes_in_dir(dir.path(), b"MARKER-7f3a"),
        Vec::<String>::new()
    );
    let other = Store::open(&path, &DataKey::from_bytes([8; 32]));
    assert!(matches!(other, Err(Error::Corrupt(_))));
    let again = Store::open(&path, &test_key()).unwrap();
    assert_eq!(
        again.answers("r1").unwrap(),
        flat(&[("/name", "MARKER-7f3a-edited")])
    );
}

#[test]
fn a_plain_store_is_encrypted_in_place_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voices.sqlite");
    {
        // What the app before encryption wrote: plain SQLite, answers in its WAL.
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        let mut plain = Store { conn };
        plain.migrate(MIGRATIONS.len()).unwrap();
        plain.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        plain.create_response("r1", "f", "1", "en", NOW).unwrap();
        plain
            .set_answer("r1", &p("/name"), Some("MARKER-plain-answer"), NOW)
            .unwrap();
    }
    assert!(cipher::is_plain(&path));
    let s = Store::open(&path, &test_key()).unwrap();
    assert!(!cipher::is_plain(&path));
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
    assert_eq!(
        s.answers("r1").unwrap(),
        flat(&[("/name", "MARKER-plain-answer")])
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");
    assert_eq!(
        bytes_in_dir(dir.path(), b"MARKER-plain"),
        Vec::<String>::new()
    );
    assert!(!dir.path().join("voices.sqlite.encrypting").exists());
}
