//! Files attached to answers: kept once under their SHA-256 in the attachments folder.

use base64::Engine as _;
use serde::Serialize;
use ts_rs::TS;
use voices_core::form::Item;

use super::{engine_error, parse_path, PageUpdate, Voices};
use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::AttachedFile;
use crate::sync::sha256_hex;

/// Write `bytes` as the file `sha` in `dir` so that a crash or power loss never leaves
/// a row naming a file that is not on disk whole: written under a temporary name and
/// fsynced, renamed to its hash, then the file and the folder (which holds the rename)
/// fsynced, all before the caller commits the row that names it.
fn keep_durably(dir: &std::path::Path, sha: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let partial = dir.join(format!("{sha}.partial"));
    let target = dir.join(sha);
    let writing = |e: std::io::Error| Error::file(format!("writing {}", partial.display()), e);
    let mut file = std::fs::File::create(&partial).map_err(writing)?;
    file.write_all(bytes).map_err(writing)?;
    file.sync_all().map_err(writing)?;
    drop(file);
    std::fs::rename(&partial, &target)
        .map_err(|e| Error::file(format!("storing {}", target.display()), e))?;
    let syncing = |e: std::io::Error| Error::file(format!("syncing {}", target.display()), e);
    std::fs::File::open(&target)
        .and_then(|f| f.sync_all())
        .map_err(syncing)?;
    sync_dir(dir).map_err(|e| Error::file(format!("syncing {}", dir.display()), e))
}

/// Make a rename in `dir` durable. On Unix a folder is fsynced like a file; Windows
/// cannot open a folder as a file, and its file system journals renames itself.
fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AttachmentData {
    pub file_name: String,
    pub media_type: String,
    pub data_base64: String,
}

/// A file the enumerator picked, as the UI sends it.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub media_type: &'a str,
    pub data_base64: &'a str,
}

impl Voices {
    /// Where the file with this SHA-256 is kept.
    #[cfg(feature = "test-support")]
    pub fn attachment_file(&self, sha256: &str) -> std::path::PathBuf {
        self.attachments_dir.join(sha256)
    }

    /// Keep a file (content-addressed by SHA-256) as the answer to a media field.
    pub fn attach(
        &self,
        id: &str,
        path: &str,
        upload: &Upload<'_>,
        page: u32,
    ) -> Result<PageUpdate> {
        let Upload {
            file_name,
            media_type,
            data_base64,
        } = *upload;
        let parsed = parse_path(path)?;
        let row = self.store.lock().response(id)?;
        let compiled = self.forms.compiled(&row.form_id, &row.form_version)?;
        let is_media = compiled
            .form()
            .body
            .iter()
            .any(|item| media_field_named(item, parsed.name().unwrap_or_default()));
        if !is_media {
            return Err(Error::InvalidInput(format!(
                "`{path}` is not a file attachment question"
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64)
            .map_err(|e| Error::InvalidInput(format!("attachment for `{path}`: {e}")))?;
        let sha = sha256_hex(&bytes);
        let target = self.attachments_dir.join(&sha);
        if !target.exists() {
            keep_durably(&self.attachments_dir, &sha, &bytes)?;
        }
        let safe_name: String = file_name
            .chars()
            .filter(|c| !matches!(c, '/' | '\\' | '\0'))
            .collect();
        let at = now();
        self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .set_answer(&parsed, Some(safe_name.clone()), &mut *env)
                .map(|_| ())
                .map_err(engine_error)
        })?;
        let stored = self.store.lock().attach(
            id,
            &parsed,
            &AttachedFile {
                sha256: &sha,
                media_type,
                size: bytes.len() as u64,
                file_name: &safe_name,
            },
            &at,
        );
        if let Err(e) = stored {
            self.evict(id);
            return Err(e);
        }
        self.persist_all(id, &at)?;
        self.page_update(id, page, at)
    }

    pub fn attachment(&self, id: &str, path: &str) -> Result<AttachmentData> {
        let (_, sha, file_name, media_type) = self
            .store
            .lock()
            .attachments(id)?
            .into_iter()
            .find(|(p, ..)| p == path)
            .ok_or_else(|| Error::NotFound(format!("no file attached at `{path}`")))?;
        let file = self.attachments_dir.join(&sha);
        let bytes = std::fs::read(&file)
            .map_err(|e| Error::file(format!("reading {}", file.display()), e))?;
        Ok(AttachmentData {
            file_name,
            media_type,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }
}

fn media_field_named(item: &Item, name: &str) -> bool {
    match item {
        Item::Field(f) => f.name == name && f.kind.is_media(),
        Item::Group(g) => g.body.iter().any(|i| media_field_named(i, name)),
        Item::Repeat(r) => r.body.iter().any(|i| media_field_named(i, name)),
        Item::Consent(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_whole_under_its_hash_with_no_partial_left() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"a photo".repeat(1_000);
        let sha = sha256_hex(&bytes);
        keep_durably(dir.path(), &sha, &bytes).unwrap();
        assert_eq!(std::fs::read(dir.path().join(&sha)).unwrap(), bytes);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [sha]);
        // A folder that is not there is an error that says where, not a panic.
        let err = keep_durably(&dir.path().join("gone"), "x", b"y").unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
    }
}
