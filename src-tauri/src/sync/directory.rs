//! The project's referral directory down at each sync, kept on the device so referral
//! steps list services offline.

use voices_core::referral::Directory;

use super::client::Client;
use super::{client_error, Syncer};
use crate::env::now;
use crate::error::Result;

/// What the server's answer says, read apart from the services: the version and when it
/// was published, then the directory itself, checked as the core checks it.
pub(crate) fn read_published(
    mut body: serde_json::Value,
) -> std::result::Result<(u32, String, Directory), String> {
    let object = body
        .as_object_mut()
        .ok_or("the directory is not a JSON object")?;
    let version = object
        .remove("version")
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .ok_or("the directory has no version")?;
    let published_at = object
        .remove("published_at")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let directory: Directory = serde_json::from_value(body)
        .map_err(|e| format!("the directory (version {version}) does not read: {e}"))?;
    directory.check().map_err(|problems| {
        format!(
            "the directory (version {version}) is not valid: {}",
            problems.join("; ")
        )
    })?;
    Ok((version, published_at, directory))
}

impl Syncer {
    /// Fetch the project's directory and keep it when it is another version than the one
    /// held; a project without one leaves the device without one. The version kept,
    /// or a problem to tell (a directory that does not check is not kept, and the one held
    /// stays).
    pub(crate) async fn pull_directory(
        &self,
        client: &Client,
        problems: &mut Vec<String>,
    ) -> Result<Option<u32>> {
        let Some(body) = client.referrals().await.map_err(client_error)? else {
            self.store.with(|s| s.forget_directory())?;
            return Ok(None);
        };
        let (version, published_at, directory) = match read_published(body) {
            Ok(found) => found,
            Err(problem) => {
                problems.push(format!("the referral directory was not kept: {problem}"));
                return Ok(self.store.with(|s| s.directory())?.map(|d| d.version));
            }
        };
        self.store.with(|s| {
            let held = s.directory()?;
            if held.is_none_or(|h| h.version != version || h.directory != directory) {
                s.keep_directory(version, &published_at, &directory, &now())?;
            }
            Ok(Some(version))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::read_published;
    use serde_json::json;

    #[test]
    fn the_servers_answer_is_its_version_and_a_checked_directory() {
        let (version, at, d) = read_published(json!({
            "version": 3, "published_at": "2026-12-07T10:00:00Z",
            "services": [{"id": "hotline", "name": "Hotline", "kind": "gbv", "phone": "1190"}]
        }))
        .unwrap();
        assert_eq!((version, at.as_str()), (3, "2026-12-07T10:00:00Z"));
        assert_eq!(d.services[0].id, "hotline");
        let bad = read_published(json!({
            "version": 4,
            "services": [{"id": "a", "name": "", "kind": "gbv", "phone": "1"}]
        }))
        .unwrap_err();
        assert!(bad.contains("services[0].name is empty"), "{bad}");
        assert!(read_published(json!({"services": []}))
            .unwrap_err()
            .contains("no version"));
        assert!(read_published(json!([1])).is_err());
    }
}
