//! A project's referral directory (`voices_core::referral`): checked and published as
//! the project's next version (an identical document keeps its version), the latest
//! read by devices at each sync.

use voices_core::referral::Directory;

use crate::store::{Published, PublishedDirectory, Store};
use crate::{auth, Error, Result};

/// Why a directory was not published.
#[derive(Debug)]
pub enum Refused {
    UnknownProject,
    /// Every problem of the document, each naming the service and field.
    Invalid(Vec<String>),
}

/// Check `text` and publish it by `by`: the version it has and whether it is new.
pub fn publish(
    store: &dyn Store,
    project: &str,
    text: &str,
    by: &str,
) -> Result<std::result::Result<(PublishedDirectory, Published), Refused>> {
    let directory = match Directory::from_json(text) {
        Ok(d) => d,
        Err(problems) => return Ok(Err(Refused::Invalid(problems))),
    };
    // Stored canonical, so the same services in other whitespace are the same version.
    let document = serde_json::to_string(&directory).map_err(Error::Json)?;
    let sha256 = auth::sha256_hex(document.as_bytes());
    Ok(store
        .publish_directory(project, &document, &sha256, by, &crate::now_text())?
        .ok_or(Refused::UnknownProject))
}
