//! The local store: every SQL statement the app runs lives in this module.
//!
//! One SQLite file in the app data directory, WAL mode, `synchronous=FULL` so an
//! answer the UI shows as saved survives a crash or a pulled battery. Migrations are
//! embedded and append-only (`migrations.rs`); `PRAGMA user_version` counts how many
//! have run. Opening happens only in [`Store::open`], which keys the connection for
//! SQLCipher before anything else (`cipher.rs`): the file, its WAL and its temporary
//! tables are encrypted, and `secure_delete` overwrites what is deleted.
//! One file per concern, each adding its own `impl Store` block.

mod answers;
mod attachments;
pub mod cipher;
mod consent;
mod forms;
mod link;
mod matching;
mod migrations;
mod outbox;
mod outcomes;
mod paradata;
mod referrals;
mod responses;
mod retention;
mod returned;
mod revisions;
mod selections;
mod settings;
mod withdrawn;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};
use crate::vault::DataKey;

pub use attachments::{AttachedFile, SealedFile};
pub use forms::{FormOfferRow, FormVersionRow, Stored};
pub use link::LinkRow;
pub use migrations::MIGRATIONS;
pub use outbox::OutboxEntryRow;
pub use paradata::ParadataRow;
pub use referrals::KeptDirectory;
pub use responses::{ResponseRow, ResponseStatus};
pub use returned::{Applied as FeedApplied, ConflictRow, ReturnedRow};
pub use revisions::{RevisionAck, RevisionRow};
pub use withdrawn::WITHDRAWN_CODE;

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Open (creating if needed) and upgrade the encrypted database at `path`.
    ///
    /// The only place a connection is made: it is keyed with `key` before any other
    /// statement. A store an earlier app wrote in plain SQLite is encrypted in place
    /// first, nothing lost.
    pub fn open(path: &Path, key: &DataKey) -> Result<Store> {
        Store::open_migrated_to(path, key, MIGRATIONS.len())
    }

    /// [`Store::open`], running migrations only up to `target` (upgrade tests start from
    /// a database an earlier app wrote).
    fn open_migrated_to(path: &Path, key: &DataKey, target: usize) -> Result<Store> {
        let conn = Connection::open(path)?;
        cipher::key(&conn, key)?;
        if cipher::readable(&conn) {
            return Store::configure(conn, target);
        }
        drop(conn);
        if !cipher::is_plain(path) {
            return Err(Error::Corrupt(format!(
                "{} does not open with this device's key",
                path.display()
            )));
        }
        cipher::encrypt_plain_store(path, key)?;
        let conn = Connection::open(path)?;
        cipher::key(&conn, key)?;
        Store::configure(conn, target)
    }

    /// A private in-memory store (tests and previews).
    pub fn open_in_memory() -> Result<Store> {
        Store::configure(Connection::open_in_memory()?, MIGRATIONS.len())
    }

    fn configure(conn: Connection, target: usize) -> Result<Store> {
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn };
        store.migrate(target)?;
        Ok(store)
    }

    /// Number of migrations applied to this database.
    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(v as usize)
    }

    /// Apply migrations up to `target` (exclusive count), each in its own transaction.
    pub fn migrate(&mut self, target: usize) -> Result<()> {
        let current = self.schema_version()?;
        if current > MIGRATIONS.len() {
            return Err(Error::Corrupt(format!(
                "the database was written by a newer Voices (schema {current}, this app knows {})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Open without running migrations past `target` (used to test upgrades).
    #[cfg(test)]
    pub(crate) fn open_at_version(path: &Path, key: &DataKey, target: usize) -> Result<Store> {
        Store::open_migrated_to(path, key, target)
    }

    /// `PRAGMA integrity_check`: `ok` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// The store as the app's parts share it (interviews, the form library, sync): one
/// connection behind one lock, so each statement or transaction runs alone.
#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<Store>>);

impl SharedStore {
    pub fn new(store: Store) -> SharedStore {
        SharedStore(Arc::new(Mutex::new(store)))
    }

    /// The store, for one or more statements (also after a panic elsewhere: see
    /// [`crate::lock::lock`]).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        crate::lock::lock(&self.0)
    }

    /// Run `f` on the locked store.
    pub fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        f(&mut self.lock())
    }
}

fn reasons_from(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|_| vec![text.to_owned()])
}

#[cfg(test)]
mod tests;
