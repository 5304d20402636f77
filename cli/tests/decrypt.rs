//! `voices keygen` and `voices decrypt`: an identity made with a passphrase opens the
//! sealed answers of a JSON pull and of a CSV zip; a wrong passphrase, or answers sealed
//! to another key, are said so.

use std::io::{Read, Write};
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine;
use predicates::prelude::*;

const HANG_GUARD: Duration = Duration::from_secs(300);
const PASSPHRASE: &str = "correct horse battery staple";

fn voices() -> Command {
    let mut command = Command::cargo_bin("voices").expect("the voices binary is built");
    command.timeout(HANG_GUARD);
    command
}

/// What the app does: one age file to every recipient, base64.
fn seal(clear: &str, recipients: &[&str]) -> String {
    let recipients: Vec<age::x25519::Recipient> =
        recipients.iter().map(|r| r.parse().unwrap()).collect();
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .unwrap();
    let mut file = Vec::new();
    let mut writer = encryptor.wrap_output(&mut file).unwrap();
    writer.write_all(clear.as_bytes()).unwrap();
    writer.finish().unwrap();
    base64::engine::general_purpose::STANDARD.encode(file)
}

fn keygen(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, String) {
    let path = dir.join(name);
    let out = voices()
        .args(["keygen", "--output"])
        .arg(&path)
        .env("VOICES_IDENTITY_PASSPHRASE", PASSPHRASE)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let recipient = String::from_utf8(out).unwrap().trim().to_owned();
    assert!(recipient.starts_with("age1"), "{recipient}");
    // The identity is not readable without the passphrase.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("AGE-SECRET-KEY"));
    (path, recipient)
}

#[test]
fn a_pull_and_a_csv_export_open_with_the_identity_and_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = keygen(dir.path(), "me.age");
    let (_, other) = keygen(dir.path(), "other.age");
    // A new identity never replaces an existing one.
    voices()
        .args(["keygen", "--output"])
        .arg(&identity)
        .env("VOICES_IDENTITY_PASSPHRASE", PASSPHRASE)
        .assert()
        .failure()
        .stderr(predicate::str::contains("never overwritten"));

    // A pull page: two answers sealed to both keys (rotation: old and new), one to the
    // other key only.
    let pull = serde_json::json!({"items": [{"response": {"answers": {
        "resp_name": {"sealed": seal("Amina Kamau", &[&recipient, &other])},
        "resp_age": "34",
        "member": [{"member_name": {"sealed": seal("Yusuf", &[&recipient])}}],
        "resp_phone": {"sealed": seal("+254700000000", &[&other])}
    }}}], "next": "3", "more": false});
    let input = dir.path().join("pull.json");
    std::fs::write(&input, pull.to_string()).unwrap();
    let output = dir.path().join("clear.json");
    voices()
        .args(["decrypt", "--identity"])
        .arg(&identity)
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .env("VOICES_IDENTITY_PASSPHRASE", PASSPHRASE)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "2 sealed answers opened, 1 left sealed",
        ));
    let clear: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let answers = &clear["items"][0]["response"]["answers"];
    assert_eq!(answers["resp_name"], "Amina Kamau");
    assert_eq!(answers["resp_age"], "34");
    assert_eq!(answers["member"][0]["member_name"], "Yusuf");
    assert!(answers["resp_phone"]["sealed"].is_string());

    // A CSV zip: the ciphertext in the field's column.
    let sealed_name = seal("Amina Kamau", &[&recipient]);
    let zip_path = dir.path().join("export.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        zip.start_file(
            "household_survey.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        write!(zip, "resp_name,resp_age,KEY\n{sealed_name},34,uuid:1\n").unwrap();
        zip.finish().unwrap();
    }
    let clear_zip = dir.path().join("clear.zip");
    voices()
        .args(["decrypt", "--identity"])
        .arg(&identity)
        .arg(&zip_path)
        .arg("--output")
        .arg(&clear_zip)
        .env("VOICES_IDENTITY_PASSPHRASE", PASSPHRASE)
        .assert()
        .success();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&clear_zip).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name("household_survey.csv")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "resp_name,resp_age,KEY\nAmina Kamau,34,uuid:1\n");

    // A wrong passphrase opens nothing and says why.
    voices()
        .args(["decrypt", "--identity"])
        .arg(&identity)
        .arg(&input)
        .arg("--output")
        .arg(dir.path().join("never.json"))
        .env("VOICES_IDENTITY_PASSPHRASE", "not the passphrase")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot open"));
    assert!(!dir.path().join("never.json").exists());
}
