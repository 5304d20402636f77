//! Replacing a small file so that a crash at any point leaves the old or the new
//! content, never a mix: write a temporary file beside it, fsync it, rename it over
//! the target, fsync the directory (the rename itself is durable only then).
//!
//! Tests inject a crash after each step ([`Step`]): the function stops there, as if the
//! process had been killed, and leaves what a killed process would leave.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// The steps of [`replace`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    TempWritten,
    TempSynced,
    Renamed,
    DirectorySynced,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::TempWritten,
        Step::TempSynced,
        Step::Renamed,
        Step::DirectorySynced,
    ];
}

#[cfg(any(test, feature = "test-support"))]
thread_local! {
    static CRASH_AFTER: std::cell::RefCell<Option<(String, Step)>> = const { std::cell::RefCell::new(None) };
}

/// Tests: stop the next [`replace`] of a file named `file_name` on this thread after
/// `step`, as a crash would.
#[cfg(any(test, feature = "test-support"))]
pub fn crash_after(file_name: &str, step: Step) {
    CRASH_AFTER.with(|c| *c.borrow_mut() = Some((file_name.to_owned(), step)));
}

fn reached(target: &Path, step: Step) -> Result<()> {
    #[cfg(any(test, feature = "test-support"))]
    {
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let crash = CRASH_AFTER.with(|c| {
            let mut c = c.borrow_mut();
            let hit = c.as_ref().is_some_and(|(n, s)| *n == name && *s == step);
            if hit {
                *c = None;
            }
            hit
        });
        if crash {
            return Err(Error::Conflict(format!("test crash after {step:?}")));
        }
    }
    let _ = (target, step);
    Ok(())
}

/// The temporary file [`replace`] writes beside `target`.
pub fn temp_path(target: &Path) -> std::path::PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    target.with_file_name(name)
}

/// Replace `target` with `bytes`, durably and atomically.
pub fn replace(target: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_path(target);
    let io = |what: &str, e| Error::file(format!("{what} {}", temp.display()), e);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .map_err(|e| io("creating", e))?;
    file.write_all(bytes).map_err(|e| io("writing", e))?;
    reached(target, Step::TempWritten)?;
    file.sync_all().map_err(|e| io("syncing", e))?;
    drop(file);
    reached(target, Step::TempSynced)?;
    std::fs::rename(&temp, target)
        .map_err(|e| Error::file(format!("renaming onto {}", target.display()), e))?;
    reached(target, Step::Renamed)?;
    sync_dir(target)?;
    reached(target, Step::DirectorySynced)?;
    Ok(())
}

/// Move the finished file `from` over `target` durably, then overwrite the replaced
/// file's old content with zeros through a handle kept open across the rename: its
/// blocks held plain text (best effort: flash storage and copy-on-write file systems may
/// keep other copies, which is why the docs ask for device encryption too).
pub fn replace_scrubbing(from: &Path, target: &Path) -> Result<()> {
    File::open(from)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::file(format!("syncing {}", from.display()), e))?;
    let old = OpenOptions::new().write(true).open(target).ok();
    std::fs::rename(from, target)
        .map_err(|e| Error::file(format!("renaming onto {}", target.display()), e))?;
    sync_dir(target)?;
    if let Some(old) = old {
        scrub(old);
    }
    Ok(())
}

/// Overwrite an open file's content with zeros and sync it (best effort).
pub fn scrub(mut file: File) {
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return;
    };
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        if file.write_all(&zeros[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
    let _ = file.sync_all();
}

/// Overwrite a file with zeros and remove it; a missing file is already gone.
pub fn scrub_and_remove(path: &Path) -> Result<()> {
    if let Ok(file) = OpenOptions::new().write(true).open(path) {
        scrub(file);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file(format!("removing {}", path.display()), e)),
    }
}

/// fsync the directory holding `path`, so a rename or removal in it is durable.
pub fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // Directories cannot be opened for syncing on every platform; where they can, do.
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::file(format!("syncing {}", dir.display()), e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_after_any_step_leaves_the_old_or_the_new_content() {
        for step in Step::ALL {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("f");
            std::fs::write(&target, b"old").unwrap();
            crash_after("f", step);
            assert!(replace(&target, b"new").is_err(), "{step:?}");
            let now = std::fs::read(&target).unwrap();
            assert!(now == b"old" || now == b"new", "{step:?}: {now:?}");
            // The next replace finishes over whatever the crash left.
            replace(&target, b"newer").unwrap();
            assert_eq!(std::fs::read(&target).unwrap(), b"newer");
            assert!(!temp_path(&target).exists());
        }
    }

    #[test]
    fn scrubbing_overwrites_the_replaced_file_through_its_open_handle() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("db");
        std::fs::write(&target, b"plain secret").unwrap();
        let keep = File::open(&target).unwrap();
        let next = dir.path().join("db.next");
        std::fs::write(&next, b"sealed").unwrap();
        replace_scrubbing(&next, &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"sealed");
        // The old inode, still readable through a handle opened before, holds zeros.
        let mut old = Vec::new();
        std::io::Read::read_to_end(&mut &keep, &mut old).unwrap();
        assert_eq!(old, vec![0u8; 12]);
    }
}
