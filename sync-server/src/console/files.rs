//! A response's files as the console reads them: by the response and the file's name
//! (the answer of a file question), never by a hash the caller supplies, so what a
//! coordinator may fetch is exactly what the response's page may show. The revision that
//! wrote the answer names the file's SHA-256 (`Revision::files`). A sealed file answer's
//! file was sealed on the device: it is named by the sealed answer (`sealed-….age`,
//! `Sealed::file_name`), and what is served is the sealed file, which only the
//! coordinator's identity opens (in the console's page, or with `voices decrypt`).

use std::collections::BTreeSet;

use voices_core::sync::merge::{Register, Value};
use voices_core::sync::{Dot, ResponseState, Revision};

use super::{mask, response::index_of};
use crate::store::projection::{normalize, IndexCache};
use crate::store::{AttachmentStatus, Store};
use crate::Result;

/// Why a file cannot be read (the handler answers each `404`, as for a file that is not
/// there: a name is no proof that an answer holds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No response of that id, or the respondent withdrew.
    Response,
    /// No file question's answer of the response is that name (a sealed answer's file is
    /// named by its ciphertext: `Sealed::file_name`), or only a pii or sensitive one and
    /// pii was not asked.
    Answer,
    /// The answer names it but its bytes have not all arrived.
    Bytes,
}

/// A file the caller may read: its address and size in the project's attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub sha256: String,
    pub size: u64,
}

/// The file `name` of response `id` (a response the caller sees: the handler checked the
/// teams). `pii`: the caller asked for pii (and holds the grant); a picture of a `pii` or
/// `sensitive` question is personal data, read only then.
pub fn find(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    id: &str,
    name: &str,
    pii: bool,
) -> Result<std::result::Result<Found, Missing>> {
    let Some(row) = store.get_response(project, id)? else {
        return Ok(Err(Missing::Response));
    };
    if store.withdrawal_of(project, id)?.is_some() {
        return Ok(Err(Missing::Response));
    }
    let state = &row.state;
    let version = state.form_version().unwrap_or_default().to_owned();
    let index = index_of(store, indexes, project, &state.form, &version)?;
    let Some(index) = index else {
        // Without its form version nothing says which answers are files or pii.
        return Ok(Err(Missing::Answer));
    };
    let writers = writers_of(state, name, |path| {
        index.field(&normalize(path)).is_some_and(|f| {
            f.kind.is_media() && (pii || !(f.sensitive || mask::is_pii(Some(&index), path)))
        })
    });
    if writers.is_empty() {
        return Ok(Err(Missing::Answer));
    }
    let Some(sha256) = named_by(store, project, id, state, &writers, name)? else {
        return Ok(Err(Missing::Answer));
    };
    Ok(match store.attachment_status(project, &sha256)? {
        Some(AttachmentStatus {
            complete: true,
            size,
            ..
        }) => Ok(Found { sha256, size }),
        _ => Err(Missing::Bytes),
    })
}

/// The edits that wrote `name` as the answer of a question `readable` accepts (every
/// value of a conflict counts: the page shows each).
fn writers_of(state: &ResponseState, name: &str, readable: impl Fn(&str) -> bool) -> BTreeSet<Dot> {
    let mut writers = BTreeSet::new();
    for (key, entries) in &state.registers {
        let Register::Answer(path) = key else {
            continue;
        };
        for entry in entries {
            let names = match &entry.value {
                Value::Text(Some(v)) => v == name,
                // A sealed file answer's file goes by a name derived from its ciphertext.
                Value::Sealed(sealed) => name.starts_with("sealed-") && sealed.file_name() == name,
                _ => false,
            };
            if names && readable(path.as_str()) {
                writers.insert(entry.dot.clone());
            }
        }
    }
    writers
}

/// The SHA-256 the response's revisions give `name`: the writing edit's, else (a
/// coordinator kept the value in a conflict, writing it again without `files`) the latest
/// other revision naming it.
fn named_by(
    store: &dyn Store,
    project: &str,
    id: &str,
    state: &ResponseState,
    writers: &BTreeSet<Dot>,
    name: &str,
) -> Result<Option<String>> {
    let writer_ids: BTreeSet<&str> = writers
        .iter()
        .filter_map(|d| state.revisions.get(&d.actor)?.get(&d.seq))
        .map(String::as_str)
        .collect();
    let mut other = None;
    for body in store.revisions_of(project, id)? {
        // A body this server cannot read names no file (it was checked on arrival).
        let Ok(revision) = serde_json::from_str::<Revision>(&body) else {
            continue;
        };
        let Some(sha) = revision.files.get(name) else {
            continue;
        };
        if writer_ids.contains(revision.id.as_str()) {
            return Ok(Some(sha.clone()));
        }
        other = Some(sha.clone());
    }
    Ok(other)
}

/// Whether some revision of the response names the file `sha256` in its `files` (a
/// limited coordinator's download by hash goes through a response that holds it).
pub fn response_names(store: &dyn Store, project: &str, id: &str, sha256: &str) -> Result<bool> {
    Ok(store.revisions_of(project, id)?.iter().any(|body| {
        serde_json::from_str::<Revision>(body).is_ok_and(|r| r.files.values().any(|s| s == sha256))
    }))
}

/// What a file's first bytes say it is, when it is a picture a browser shows safely
/// (never SVG, which can hold script): its media type.
pub fn picture_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pictures_a_browser_shows_safely_are_pictures() {
        assert_eq!(picture_type(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(picture_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(picture_type(b"GIF89a..."), Some("image/gif"));
        assert_eq!(picture_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            picture_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\">"),
            None
        );
        assert_eq!(picture_type(b"<html><script>"), None);
        assert_eq!(picture_type(b""), None);
    }
}
