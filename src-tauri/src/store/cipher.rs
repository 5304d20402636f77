//! SQLCipher: keying a connection, and encrypting in place a store an earlier app
//! wrote in plain SQLite.
//!
//! The key is given raw (`x'…'`), so SQLCipher skips its own key derivation: the data
//! key is random already, and the PIN's Argon2id happens once, in `vault`.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::vault::{durable, DataKey};

/// Key `conn` before any other statement touches the file.
pub(super) fn key(conn: &Connection, key: &DataKey) -> Result<()> {
    let pragma = zeroize::Zeroizing::new(format!("PRAGMA key = \"{}\";", &*key.sqlcipher_key()));
    conn.execute_batch(&pragma)?;
    Ok(())
}

/// Whether the file opens on this connection (its key is right, or it is plain and
/// the connection has none).
pub(super) fn readable(conn: &Connection) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok()
}

/// Whether `path` is a store in plain SQLite (an app from before encryption wrote it).
pub fn is_plain(path: &Path) -> bool {
    path.exists() && Connection::open(path).is_ok_and(|c| readable(&c))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Encrypt the plain store at `path` under `data_key`, in place: everything copied
/// into a new encrypted file (SQLCipher's `sqlcipher_export`), which then replaces the
/// plain one durably; the plain file's blocks are overwritten. A crash before the
/// replacement leaves the plain store, which the next unlock encrypts again.
pub(super) fn encrypt_plain_store(path: &Path, data_key: &DataKey) -> Result<()> {
    let encrypting = sibling(path, ".encrypting");
    let _ = std::fs::remove_file(&encrypting);
    {
        let conn = Connection::open(path)?;
        // Everything into the main file, so the WAL holds nothing the copy would miss.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let target = encrypting.to_str().ok_or_else(|| {
            Error::InvalidInput(format!("{} is not a UTF-8 path", encrypting.display()))
        })?;
        conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            rusqlite::params![target, &*data_key.sqlcipher_key()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        conn.execute("DETACH DATABASE encrypted", [])?;
    }
    // The plain WAL is empty after the checkpoint; its blocks may still hold pages.
    for suffix in ["-wal", "-shm"] {
        durable::scrub_and_remove(&sibling(path, suffix))?;
    }
    durable::replace_scrubbing(&encrypting, path)
}
