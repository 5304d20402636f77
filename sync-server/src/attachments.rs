//! Attachments are addressed by the SHA-256 of their content within a project and
//! arrive in chunks; the chunk with the last byte is hashed with the rest in the store's
//! transaction, and the file is complete only if it has the hash it was sent under.
//! [`verify`] recovers a file an earlier version left with every byte but not complete.
//! A response uses a file by naming its address in an answer ([`named_in`]): that is how
//! a team-limited coordinator reaches it and how a purge knows which files go with it; a
//! revision lists them in `files` ([`named_by_revision`]).

use sha2::{Digest, Sha256};

use crate::store::{AttachmentStatus, Store};
use crate::Result;

/// Bytes read from the store at a time while hashing or sending a file.
pub const READ_BYTES: u64 = 1 << 20;
/// Bytes read at a time while hashing a complete upload.
const VERIFY_READ_BYTES: u64 = 4 << 20;

/// `text` as an attachment address (lower-case hex SHA-256), if it is one.
pub fn address(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    (lower.len() == 64 && lower.bytes().all(|b| b.is_ascii_hexdigit())).then_some(lower)
}

/// The attachment addresses `text` names: each run of 64 hex digits standing alone among
/// letters and digits (`3f…9a.jpg`, `photo 3f…9a`), lower-cased.
pub fn named_in(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(address)
        .collect()
}

/// The attachment addresses a stored revision body uses: those its `files` lists (by
/// name: a clear file answer's name, or a sealed answer's `sealed-….age`, whose file no
/// clear text else names) and any its answers carry ([`named_in`]).
pub fn named_by_revision(body: &str) -> std::collections::BTreeSet<String> {
    let mut named = named_in(body);
    if let Ok(revision) = serde_json::from_str::<voices_core::sync::Revision>(body) {
        named.extend(revision.files.values().filter_map(|sha| address(sha)));
    }
    named
}

/// Hash the stored bytes of an upload whose every byte has arrived: when they have the
/// hash they were sent under, the attachment is marked complete and its status returned;
/// otherwise they are discarded (`None`), so the file can be sent again.
pub fn verify(
    store: &dyn Store,
    project: &str,
    status: AttachmentStatus,
) -> Result<Option<AttachmentStatus>> {
    let mut hasher = Sha256::new();
    let mut at = 0;
    while at < status.size {
        let chunk = store.read_attachment(project, &status.sha256, at, VERIFY_READ_BYTES)?;
        if chunk.is_empty() {
            break;
        }
        at += chunk.len() as u64;
        hasher.update(&chunk);
    }
    if hex::encode(hasher.finalize()) == status.sha256 && at == status.size {
        store.complete_attachment(project, &status.sha256, &crate::now_text())?;
        Ok(Some(AttachmentStatus {
            complete: true,
            ..status
        }))
    } else {
        store.discard_attachment(project, &status.sha256)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_by_a_standalone_content_address() {
        let sha = "ab".repeat(32);
        let text = format!(
            r#"{{"/photo":"{sha}.jpg","/other":"x{sha}","/loud":"{}","/short":"{}"}}"#,
            sha.to_uppercase(),
            &sha[..62]
        );
        assert_eq!(named_in(&text).into_iter().collect::<Vec<_>>(), [sha]);
        assert!(named_in("house.jpg").is_empty());
    }

    #[test]
    fn a_revision_names_the_files_it_lists_even_under_a_sealed_name() {
        let sha = "AB".repeat(32);
        let body = format!(
            r#"{{"id":"r","response":"x","form":"f","version":"1","actor":"a","seq":1,"hlc":"1.0","set":{{"/photo":{{"sealed":"YWdl"}}}},"validated":true,"files":{{"sealed-00112233445566778899aabbccddeeff.age":"{sha}"}}}}"#
        );
        assert_eq!(
            named_by_revision(&body).into_iter().collect::<Vec<_>>(),
            [sha.to_lowercase()]
        );
        assert!(named_by_revision("not a revision").is_empty());
    }
}
