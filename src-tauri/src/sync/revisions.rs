//! Turning finalized responses into revisions: the first one holds everything (seq 1),
//! each later edit only what changed since the revisions already built.
//!
//! Revisions are built only once the device is linked, because the server accepts a
//! device's revisions only under its own device id (`wrong_actor` otherwise) and a
//! built revision is never changed: building earlier under a local id would need
//! re-keying immutable records. Finalized responses simply wait, whole, until the link.

use voices_core::sync::outgoing::{Author, Built, Current};
use voices_core::sync::protocol::AckStatus;
use voices_core::sync::{next_revision, ResponseState, Revision};

use voices_core::engine::CompiledForm;

use super::files::sha256_hex;
use super::seal::Sealer;
use crate::error::{Error, Result};
use crate::store::{ResponseStatus as StoreStatus, RevisionRow, SealedFile, Store};
use crate::vault::AttachmentFiles;

/// Build the next revision of `response_id` as `actor` if its state differs from what
/// its revisions already say. Returns whether one was built. Call with the store locked
/// for the whole step, so two builders cannot race for an edit number. `folder`: the
/// attachments folder, where a sealed answer's file is read and its sealed file kept
/// (`None` only where no response has one: a sealed file answer is then an error).
pub fn build_for(
    store: &mut Store,
    folder: Option<&AttachmentFiles>,
    response_id: &str,
    actor: &str,
    now_ms: u64,
    now: &str,
) -> Result<bool> {
    let row = store.response(response_id)?;
    if !matches!(
        row.status,
        StoreStatus::Queued | StoreStatus::Sent | StoreStatus::Refused
    ) {
        return Ok(false);
    }
    let answers = store.answers(response_id)?;
    let consent = store.consent(response_id)?;
    let privacy = store.privacy_checks(response_id)?;
    let selections = store.selections(response_id)?;
    let matching = store.matching(response_id)?;
    let outcome = store.outcome(response_id)?;
    // The attached files by name (the answer), so the revision names each file it uses.
    let attached = store.attachments(response_id)?;
    let files: std::collections::BTreeMap<String, String> = attached
        .iter()
        .map(|(_, sha, name, _)| (name.clone(), sha.clone()))
        .collect();
    let built = store.revisions(response_id)?;
    // What the device sent sealed it cannot open: it folds the clear text it kept.
    let clear = store.clear_revisions(response_id)?;
    // Everything built so far (edit numbers, stamps, whether anything changed since),
    // and what the server holds or will hold: revisions it took, and unanswered ones of
    // this actor. A rejected revision, or an unsent one of an earlier link (which the
    // server will refuse as another device's), does not count, so the next revision
    // carries its content again. Folded by the same merge the server runs.
    let mut all = ResponseState::new(response_id, row.form_id.clone());
    let mut held = ResponseState::new(response_id, row.form_id.clone());
    for r in &built {
        let body = clear.get(&r.id).unwrap_or(&r.body);
        let revision: Revision = serde_json::from_str(body)
            .map_err(|e| Error::Corrupt(format!("revision `{}`: {e}", r.id)))?;
        let merge = |state: &mut ResponseState| {
            state
                .apply(&revision)
                .map_err(|e| Error::Corrupt(format!("revision `{}`: {e}", r.id)))
        };
        merge(&mut all)?;
        let holds = match r.ack {
            Some(AckStatus::Rejected) => false,
            Some(_) => true,
            None => r.actor == actor,
        };
        if holds {
            merge(&mut held)?;
        }
    }
    let orphaned = built.iter().any(|r| r.actor != actor && r.ack.is_none());
    let current = Current {
        answers: &answers,
        consent: consent.as_ref(),
        privacy: &privacy,
        selections: &selections,
        matching: &matching,
        outcome: outcome.as_ref(),
        files: &files,
    };
    let author = Author {
        revision_id: uuid::Uuid::now_v7().to_string(),
        actor: actor.to_owned(),
        form_version: row.form_version.clone(),
        now_ms,
    };
    let built = Built {
        all: &all,
        held: &held,
        orphaned,
    };
    let Some(mut revision) = next_revision(current, built, author)
        .map_err(|e| Error::Corrupt(format!("response `{response_id}` cannot be sent: {e}")))?
    else {
        return Ok(false);
    };
    let json = |revision: &Revision| {
        serde_json::to_string(revision)
            .map_err(|e| Error::Corrupt(format!("revision of `{response_id}`: {e}")))
    };
    // Sealed before it is kept: the clear text never enters what is sent. The response
    // was validated against its form when it was finalized.
    let mut clear = None;
    let mut sealed_files = Vec::new();
    if let Some(sealer) = Sealer::load(store)? {
        let form = compiled_form(store, &row.form_id, &row.form_version)?;
        let clear_text = json(&revision)?;
        // A sealed answer's file is sealed too, kept under its sealed bytes' hash and
        // sent in the clear file's place (written before its row: a crash leaves at
        // most a file no row names).
        let seal_file = |clear_sha: &str| -> Result<Option<String>> {
            let folder = folder.ok_or_else(|| {
                Error::Corrupt(format!(
                    "response `{response_id}` has a sealed file answer, but its files are out of reach here"
                ))
            })?;
            let sealed = sealer.seal_file(&folder.read(clear_sha)?)?;
            let sha = sha256_hex(&sealed);
            folder.write(&sha, &sealed)?;
            sealed_files.push(SealedFile {
                sha256: sha.clone(),
                clear_sha256: clear_sha.to_owned(),
                size: sealed.len() as u64,
            });
            Ok(Some(sha))
        };
        // A file answer holding the bytes a sealed answer's file holds is sealed too,
        // whichever revision carries that sealed answer (docs/console.md, sealed files).
        let sensitive: std::collections::BTreeSet<&str> = attached
            .iter()
            .filter(|(path, ..)| path.parse().is_ok_and(|p| form.seals(&p)))
            .map(|(_, sha, ..)| sha.as_str())
            .collect();
        let also = |path: &voices_core::answer::AnswerPath| {
            attached
                .iter()
                .any(|(p, sha, ..)| p == path.as_str() && sensitive.contains(sha.as_str()))
        };
        if sealer.seal_revision(&mut revision, &form, also, seal_file)? > 0 {
            clear = Some(clear_text);
        }
    }
    let body = json(&revision)?;
    store.add_revision_with_clear(
        &RevisionRow {
            id: revision.id.clone(),
            response_id: response_id.to_owned(),
            actor: actor.to_owned(),
            seq: revision.seq,
            body,
            ack: None,
            code: None,
            reasons: Vec::new(),
            attempts: 0,
        },
        clear.as_deref(),
        &sealed_files,
        now,
    )?;
    Ok(true)
}

/// The form a response was filled on, compiled (to know which answers it seals).
fn compiled_form(store: &Store, form_id: &str, version: &str) -> Result<CompiledForm> {
    let definition = store.form_definition(form_id, version)?;
    let form = voices_core::Form::from_json(&definition)
        .map_err(|e| Error::Corrupt(format!("stored form `{form_id}` `{version}`: {e}")))?;
    CompiledForm::compile(form).map_err(|diagnostics| {
        Error::InvalidForm(format!(
            "form `{form_id}` `{version}` no longer compiles: {}",
            diagnostics
                .first()
                .map(|d| d.to_string())
                .unwrap_or_default()
        ))
    })
}

/// Build every revision that is due; how many were built.
pub fn build_due(
    store: &mut Store,
    folder: Option<&AttachmentFiles>,
    actor: &str,
    now_ms: u64,
    now: &str,
) -> Result<u32> {
    let mut built = 0;
    for id in store.responses_to_build()? {
        if build_for(store, folder, &id, actor, now_ms, now)? {
            built += 1;
        }
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use voices_core::sync::ResponseStatus;

    use crate::store::{ResponseStatus as S, RevisionAck};

    fn p(text: &str) -> voices_core::answer::AnswerPath {
        text.parse().unwrap()
    }

    const NOW: &str = "2026-01-05T10:00:00.000+03:00";

    fn queued(answers: &[(&str, &str)]) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        s.create_response("r", "f", "1", "en", NOW).unwrap();
        for (path, value) in answers {
            s.set_answer("r", &p(path), Some(value), NOW).unwrap();
        }
        s.record_consent("r", true, NOW, "v1").unwrap();
        s.transition("r", &[S::Draft], S::Finalized, NOW).unwrap();
        s.transition("r", &[S::Finalized], S::Queued, NOW).unwrap();
        s
    }

    fn edit(s: &mut Store, path: &str, value: &str) {
        s.transition("r", &[S::Queued, S::Sent], S::Draft, NOW)
            .unwrap();
        s.set_answer("r", &p(path), Some(value), NOW).unwrap();
        s.transition("r", &[S::Draft], S::Finalized, NOW).unwrap();
        s.transition("r", &[S::Finalized], S::Queued, NOW).unwrap();
    }

    fn bodies(s: &Store) -> Vec<Revision> {
        s.revisions("r")
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }

    fn ack(s: &mut Store, index: usize, ack: AckStatus) {
        let id = s.revisions("r").unwrap()[index].id.clone();
        s.apply_acks(
            &[RevisionAck {
                revision_id: id,
                ack,
                code: (ack == AckStatus::Rejected).then(|| "wrong_actor".into()),
                reasons: vec!["why".into()],
            }],
            NOW,
        )
        .unwrap();
    }

    #[test]
    fn the_first_revision_holds_everything_and_later_ones_only_changes() {
        let mut s = queued(&[("/village", "Kolo"), ("/age", "41")]);
        assert!(build_for(&mut s, None, "r", "tab", 1_000, NOW).unwrap());
        assert!(
            !build_for(&mut s, None, "r", "tab", 2_000, NOW).unwrap(),
            "nothing changed"
        );
        edit(&mut s, "/age", "42");
        assert!(build_for(&mut s, None, "r", "tab", 3_000, NOW).unwrap());
        let revs = bodies(&s);
        assert_eq!(revs.len(), 2);
        assert_eq!(revs[0].seq, 1);
        assert_eq!(revs[0].set.len(), 2);
        assert!(revs[0].consent.is_some());
        assert_eq!(revs[0].status, Some(ResponseStatus::Finalized));
        assert_eq!(revs[1].seq, 2);
        assert_eq!(
            revs[1].set,
            BTreeMap::from([("/age".to_owned(), Some("42".into()))])
        );
        assert!(revs[1].consent.is_none() && revs[1].status.is_none());
        assert!(revs[1].seen.is_empty(), "its own edits are implied by seq");
        assert!(revs[1].hlc > revs[0].hlc);
    }

    #[test]
    fn a_revision_names_the_files_its_answers_use() {
        let mut s = Store::open_in_memory().unwrap();
        s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        s.create_response("r", "f", "1", "en", NOW).unwrap();
        s.set_answer("r", &p("/village"), Some("Kolo"), NOW)
            .unwrap();
        let sha = "5e".repeat(32);
        s.attach(
            "r",
            &p("/photo"),
            &crate::store::AttachedFile {
                sha256: &sha,
                media_type: "image/png",
                size: 10,
                file_name: "pump.png",
            },
            NOW,
        )
        .unwrap();
        s.record_consent("r", true, NOW, "v1").unwrap();
        s.transition("r", &[S::Draft], S::Finalized, NOW).unwrap();
        s.transition("r", &[S::Finalized], S::Queued, NOW).unwrap();
        assert!(build_for(&mut s, None, "r", "tab", 1_000, NOW).unwrap());
        edit(&mut s, "/village", "Lela");
        assert!(build_for(&mut s, None, "r", "tab", 2_000, NOW).unwrap());
        let revs = bodies(&s);
        assert_eq!(
            revs[0].files,
            BTreeMap::from([("pump.png".to_owned(), sha)])
        );
        assert!(revs[1].files.is_empty(), "the photo did not change");
    }

    #[test]
    fn a_sealed_photo_is_sealed_once_sent_in_its_place_and_purged_with_its_response() {
        let dir = tempfile::tempdir().unwrap();
        let files = AttachmentFiles::new(
            dir.path().to_owned(),
            &crate::vault::files::new_files_key().unwrap(),
        )
        .unwrap();
        let mut form: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/household.json")).unwrap();
        let household = form["body"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|item| item["name"] == "household")
            .unwrap();
        for item in household["body"].as_array_mut().unwrap() {
            if item["name"] == "photo" {
                item["sensitive"] = true.into();
            }
        }
        let (form_id, version) = ("app_fixture_household", "2026-01");
        let mut s = Store::open_in_memory().unwrap();
        s.put_form_version(form_id, version, &form.to_string(), "test", NOW)
            .unwrap();
        s.create_response("r", form_id, version, "en", NOW).unwrap();
        let photo = b"\x89PNG MARKER-door".to_vec();
        let clear_sha = sha256_hex(&photo);
        files.write(&clear_sha, &photo).unwrap();
        s.attach(
            "r",
            &p("/photo"),
            &crate::store::AttachedFile {
                sha256: &clear_sha,
                media_type: "image/png",
                size: photo.len() as u64,
                file_name: "door of Amina.png",
            },
            NOW,
        )
        .unwrap();
        s.record_consent("r", true, NOW, "v1").unwrap();
        s.transition("r", &[S::Draft], S::Finalized, NOW).unwrap();
        s.transition("r", &[S::Finalized], S::Queued, NOW).unwrap();
        let identity = age::x25519::Identity::generate();
        crate::sync::seal::save_recipients(&mut s, &[identity.to_public().to_string()]).unwrap();

        assert!(build_for(&mut s, Some(&files), "r", "tab", 1_000, NOW).unwrap());
        let revision = &bodies(&s)[0];
        let answer = revision.set["/photo"].as_ref().unwrap().sealed().unwrap();
        let sealed_sha = revision.files[&answer.file_name()].clone();
        assert_eq!(revision.files.len(), 1, "{:?}", revision.files);
        let body = &s.revisions("r").unwrap()[0].body;
        assert!(
            !body.contains("Amina") && !body.contains(&clear_sha),
            "{body}"
        );
        // Kept sealed under its own hash, sent in the clear file's place.
        let sealed = files.read(&sealed_sha).unwrap();
        assert_eq!(sha256_hex(&sealed), sealed_sha);
        assert_eq!(age::decrypt(&identity, &sealed).unwrap(), photo);
        assert_eq!(
            s.attachment_files("r").unwrap(),
            [(sealed_sha.clone(), sealed.len() as u64)]
        );
        // Nothing changed: no second revision, no second seal.
        assert!(!build_for(&mut s, Some(&files), "r", "tab", 2_000, NOW).unwrap());
        // An edit elsewhere names no file: the photo is not sealed again.
        edit(&mut s, "/village", "Lela");
        assert!(build_for(&mut s, Some(&files), "r", "tab", 3_000, NOW).unwrap());
        assert!(bodies(&s)[1].files.is_empty());
        assert_eq!(s.attachment_files("r").unwrap().len(), 1);

        for i in 0..2 {
            ack(&mut s, i, AckStatus::Accepted);
        }
        let unused = s.purge_response("r", NOW).unwrap().unwrap();
        assert!(
            unused.contains(&clear_sha) && unused.contains(&sealed_sha),
            "{unused:?}"
        );
        assert!(s.attachment_files("r").unwrap().is_empty());
    }

    /// The photo given to the sensitive question is given later to a clear one too: the
    /// later revision seals that answer and its own sealed file, and the clear bytes are
    /// never listed or uploaded.
    #[test]
    fn the_same_photo_under_a_clear_question_later_is_sealed_too() {
        let dir = tempfile::tempdir().unwrap();
        let files = AttachmentFiles::new(
            dir.path().to_owned(),
            &crate::vault::files::new_files_key().unwrap(),
        )
        .unwrap();
        let mut form: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/household.json")).unwrap();
        let household = form["body"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|item| item["name"] == "household")
            .unwrap();
        let body = household["body"].as_array_mut().unwrap();
        for item in body.iter_mut() {
            if item["name"] == "photo" {
                item["sensitive"] = true.into();
            }
        }
        body.push(serde_json::json!({"type": "image", "name": "wall",
            "label": {"en": "Photo of the wall", "ar": "صورة الجدار"}}));
        let (form_id, version) = ("app_fixture_household", "2026-01");
        let mut s = Store::open_in_memory().unwrap();
        s.put_form_version(form_id, version, &form.to_string(), "test", NOW)
            .unwrap();
        s.create_response("r", form_id, version, "en", NOW).unwrap();
        let photo = b"\x89PNG MARKER-same".to_vec();
        let clear_sha = sha256_hex(&photo);
        files.write(&clear_sha, &photo).unwrap();
        let attach = |s: &mut Store, path: &str, name: &str| {
            s.attach(
                "r",
                &p(path),
                &crate::store::AttachedFile {
                    sha256: &clear_sha,
                    media_type: "image/png",
                    size: photo.len() as u64,
                    file_name: name,
                },
                NOW,
            )
            .unwrap();
        };
        attach(&mut s, "/photo", "door.png");
        s.record_consent("r", true, NOW, "v1").unwrap();
        s.transition("r", &[S::Draft], S::Finalized, NOW).unwrap();
        s.transition("r", &[S::Finalized], S::Queued, NOW).unwrap();
        let identity = age::x25519::Identity::generate();
        crate::sync::seal::save_recipients(&mut s, &[identity.to_public().to_string()]).unwrap();
        assert!(build_for(&mut s, Some(&files), "r", "tab", 1_000, NOW).unwrap());

        s.transition("r", &[S::Queued], S::Draft, NOW).unwrap();
        attach(&mut s, "/wall", "wall.png");
        s.transition("r", &[S::Draft], S::Finalized, NOW).unwrap();
        s.transition("r", &[S::Finalized], S::Queued, NOW).unwrap();
        assert!(build_for(&mut s, Some(&files), "r", "tab", 2_000, NOW).unwrap());
        let later = &bodies(&s)[1];
        let wall = later.set["/wall"].as_ref().unwrap().sealed().unwrap();
        let sealed_sha = later.files[&wall.file_name()].clone();
        assert_eq!(later.files.len(), 1, "{:?}", later.files);
        assert_eq!(
            age::decrypt(&identity, &files.read(&sealed_sha).unwrap()).unwrap(),
            photo
        );
        let uploaded: Vec<String> = s
            .attachment_files("r")
            .unwrap()
            .into_iter()
            .map(|(sha, _)| sha)
            .collect();
        assert_eq!(uploaded.len(), 2, "one sealed file per sealed answer");
        assert!(
            !uploaded.contains(&clear_sha),
            "the clear bytes never leave"
        );
    }

    #[test]
    fn a_clock_that_goes_back_still_stamps_later_edits_later() {
        let mut s = queued(&[("/village", "Kolo")]);
        build_for(&mut s, None, "r", "tab", 9_000_000, NOW).unwrap();
        edit(&mut s, "/village", "Lela");
        build_for(&mut s, None, "r", "tab", 1_000, NOW).unwrap();
        let revs = bodies(&s);
        assert!(revs[1].hlc > revs[0].hlc);
    }

    #[test]
    fn a_new_link_rebuilds_what_the_old_one_never_sent() {
        let mut s = queued(&[("/village", "Kolo")]);
        build_for(&mut s, None, "r", "old-tab", 1_000, NOW).unwrap();
        // Linked again as another device before the first revision was sent.
        assert!(build_for(&mut s, None, "r", "new-tab", 2_000, NOW).unwrap());
        let revs = bodies(&s);
        assert_eq!(revs[1].actor, "new-tab");
        assert_eq!(revs[1].seq, 1);
        assert_eq!(revs[1].set.len(), 1, "the whole response again");
        assert!(revs[1].consent.is_some());
        // The old link's revision never reached the server, which refuses a `seen`
        // claiming it.
        assert_eq!(revs[1].seen.get("old-tab"), 0);
        // Once built, nothing more until something changes.
        assert!(!build_for(&mut s, None, "r", "new-tab", 3_000, NOW).unwrap());
    }

    fn link_as(s: &mut Store, device: &str) {
        s.set_link(&crate::store::LinkRow {
            server_url: "http://10.0.0.2:8470".into(),
            project: "p".into(),
            device_id: device.into(),
            enumerator: "E".into(),
            token: "t".into(),
            expires_at: NOW.into(),
            linked_at: NOW.into(),
            certificate_sha256: None,
        })
        .unwrap();
    }

    #[test]
    fn the_old_links_unsent_revisions_are_kept_but_neither_sent_nor_counted() {
        let mut s = queued(&[("/village", "Kolo")]);
        link_as(&mut s, "old-tab");
        build_for(&mut s, None, "r", "old-tab", 1_000, NOW).unwrap();
        link_as(&mut s, "new-tab");
        assert!(build_for(&mut s, None, "r", "new-tab", 2_000, NOW).unwrap());
        let due = s.unacknowledged_revisions(10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].actor, "new-tab");
        let entry = &s.outbox_entries().unwrap()[0];
        assert_eq!(
            (entry.state.as_str(), entry.revisions, entry.superseded),
            ("pending", 1, 1)
        );
        ack(&mut s, 1, AckStatus::Accepted);
        let entry = &s.outbox_entries().unwrap()[0];
        assert_eq!((entry.state.as_str(), entry.superseded), ("sent", 1));
        assert_eq!(s.response("r").unwrap().status, S::Sent);
        assert_eq!(s.revisions("r").unwrap().len(), 2, "nothing deleted");
    }

    #[test]
    fn a_refusal_of_an_earlier_link_is_rebuilt_under_the_new_one() {
        let mut s = Store::open_in_memory().unwrap();
        s.put_form_version("f", "1", "{}", "test", NOW).unwrap();
        s.create_response("r", "f", "1", "en", NOW).unwrap();
        s.record_consent("r", false, NOW, "v1").unwrap();
        assert_eq!(s.response("r").unwrap().status, S::Refused);
        link_as(&mut s, "old-tab");
        assert_eq!(build_due(&mut s, None, "old-tab", 1_000, NOW).unwrap(), 1);
        assert_eq!(build_due(&mut s, None, "old-tab", 1_500, NOW).unwrap(), 0);
        link_as(&mut s, "new-tab");
        assert_eq!(build_due(&mut s, None, "new-tab", 2_000, NOW).unwrap(), 1);
        assert_eq!(build_due(&mut s, None, "new-tab", 3_000, NOW).unwrap(), 0);
        let due = s.unacknowledged_revisions(10).unwrap();
        assert_eq!((due.len(), due[0].actor.as_str()), (1, "new-tab"));
    }

    #[test]
    fn a_rejected_revision_is_not_rebuilt_blindly_but_an_edit_carries_its_content() {
        let mut s = queued(&[("/village", "Kolo"), ("/age", "41")]);
        build_for(&mut s, None, "r", "tab", 1_000, NOW).unwrap();
        ack(&mut s, 0, AckStatus::Rejected);
        assert!(!build_for(&mut s, None, "r", "tab", 2_000, NOW).unwrap());
        let entry = &s.outbox_entries().unwrap()[0];
        assert_eq!(entry.state, "rejected");
        assert_eq!(entry.reasons, ["wrong_actor: why"]);
        edit(&mut s, "/age", "42");
        assert!(build_for(&mut s, None, "r", "tab", 3_000, NOW).unwrap());
        let revs = bodies(&s);
        assert_eq!(revs[1].seq, 2, "edit numbers are never reused");
        assert_eq!(revs[1].set.len(), 2, "the rejected content goes again");
        assert!(revs[1].consent.is_some());
        assert_eq!(s.outbox_entries().unwrap()[0].state, "pending");
        ack(&mut s, 1, AckStatus::Accepted);
        assert_eq!(s.outbox_entries().unwrap()[0].state, "sent");
        assert_eq!(s.response("r").unwrap().status, S::Sent);
    }
}
