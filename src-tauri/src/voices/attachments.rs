//! Files attached to answers: kept once under their SHA-256 in the attachments folder,
//! sealed (`vault::files`).

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
        self.files.path(sha256)
    }

    /// The plain bytes of the kept file with this SHA-256 (opened with the files key).
    #[cfg(feature = "test-support")]
    pub fn attachment_bytes(&self, sha256: &str) -> Result<Vec<u8>> {
        self.files.read(sha256)
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
        if !self.files.exists(&sha) {
            // Sealed, then renamed into place: a crash never leaves a half file.
            self.files.write(&sha, &bytes)?;
        }
        let safe_name: String = file_name
            .chars()
            .filter(|c| !matches!(c, '/' | '\\') && !c.is_control())
            .collect();
        // A revision names a response's files by name (`files`): another file already
        // attached under this name at another question gets a name of its own.
        let others = self.store.lock().attachments(id)?;
        let safe_name = unique_name(&safe_name, |candidate| {
            others
                .iter()
                .any(|(p, s, n, _)| p != parsed.as_str() && n == candidate && *s != sha)
        });
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
        let bytes = self.files.read(&sha)?;
        Ok(AttachmentData {
            file_name,
            media_type,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }
}

/// `name`, or `stem-2.ext`, `stem-3.ext`… the first that `taken` does not refuse; an
/// empty name is `file`. At most 255 bytes, as a revision's `files` allows.
fn unique_name(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let name = if name.trim().is_empty() { "file" } else { name };
    let fit = |text: &str, room: usize| -> String {
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_owned()
    };
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    let ext = fit(ext, 32);
    let first = format!("{}{ext}", fit(stem, 255 - ext.len()));
    if !taken(&first) {
        return first;
    }
    (2u32..)
        .map(|n| {
            let suffix = format!("-{n}{ext}");
            format!("{}{suffix}", fit(stem, 255 - suffix.len()))
        })
        .find(|candidate| !taken(candidate))
        .unwrap_or(first)
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
    fn a_second_file_of_the_same_name_gets_a_name_of_its_own() {
        assert_eq!(unique_name("photo.jpg", |_| false), "photo.jpg");
        assert_eq!(
            unique_name("photo.jpg", |n| n == "photo.jpg"),
            "photo-2.jpg"
        );
        assert_eq!(
            unique_name("photo.jpg", |n| n == "photo.jpg" || n == "photo-2.jpg"),
            "photo-3.jpg"
        );
        assert_eq!(unique_name("README", |n| n == "README"), "README-2");
        assert_eq!(unique_name("  ", |_| false), "file");
        let long = format!("{}.jpg", "é".repeat(200));
        let named = unique_name(&long, |n| n.len() > 250 && !n.contains("-2"));
        assert!(named.len() <= 255 && named.ends_with("-2.jpg"), "{named}");
    }
    use crate::vault::{files::new_files_key, AttachmentFiles};

    /// A crash or power loss never leaves a row naming a file that is not on disk whole:
    /// the sealed file is written under a temporary name, fsynced, renamed to its hash
    /// and the folder fsynced (`vault::durable::replace`) before the row is committed.
    #[test]
    fn a_kept_file_is_whole_under_its_hash_with_no_partial_left() {
        let dir = tempfile::tempdir().unwrap();
        let files = AttachmentFiles::new(dir.path().to_owned(), &new_files_key().unwrap()).unwrap();
        let bytes = b"a photo".repeat(1_000);
        let sha = sha256_hex(&bytes);
        files.write(&sha, &bytes).unwrap();
        assert_eq!(files.read(&sha).unwrap(), bytes);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [sha]);
        // A folder that is not there is an error that says where, not a panic.
        let gone =
            AttachmentFiles::new(dir.path().join("gone"), &new_files_key().unwrap()).unwrap();
        let err = gone.write("x", b"y").unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
    }
}
