//! The SQLite store's reader connections: at most a fixed number open at once, reused.
//! Each connection keeps a page cache of up to 32 MB (`cache_size` in `configure`), so
//! the number open is what bounds the memory the database takes. Reads once opened a
//! connection of their own whenever every pooled one was in use: with 64 uploads in
//! flight that was dozens at once, and most of the soak campaign's peak RSS
//! (docs/performance.md). Now a read waits for a free one, as with PostgreSQL's pool.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::configure;
use crate::{Error, Result};

/// How long a read waits for a free reader before the server answers busy (as
/// PostgreSQL's pool does, `store::postgres::POOL_WAIT`).
const READER_WAIT: Duration = Duration::from_secs(5);

/// The idle readers, and how many are open (idle or in use).
#[derive(Default)]
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

pub(super) struct ReaderPool {
    path: PathBuf,
    most: usize,
    readers: Mutex<Readers>,
    freed: Condvar,
}

impl ReaderPool {
    pub(super) fn new(path: &Path, most: usize) -> ReaderPool {
        ReaderPool {
            path: path.to_owned(),
            most: most.max(1),
            readers: Mutex::new(Readers::default()),
            freed: Condvar::new(),
        }
    }

    /// Run `f` on a reader, given back afterwards.
    pub(super) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.take()?;
        let result = f(&conn);
        let mut readers = self.readers.lock().map_err(|_| Error::Poisoned)?;
        readers.idle.push(conn);
        self.freed.notify_one();
        result
    }

    /// An idle reader, a new one while fewer than `most` are open, else the next one
    /// freed (within [`READER_WAIT`], then `Busy`: a 503 with `Retry-After`).
    fn take(&self) -> Result<Connection> {
        let deadline = Instant::now() + READER_WAIT;
        let mut readers = self.readers.lock().map_err(|_| Error::Poisoned)?;
        loop {
            if let Some(conn) = readers.idle.pop() {
                return Ok(conn);
            }
            if readers.open < self.most {
                readers.open += 1;
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Busy(format!(
                    "all {} database readers stayed in use for {} s",
                    self.most,
                    READER_WAIT.as_secs()
                )));
            }
            readers = self
                .freed
                .wait_timeout(readers, left)
                .map_err(|_| Error::Poisoned)?
                .0;
        }
        drop(readers);
        let opened = Connection::open(&self.path)
            .map_err(Error::from)
            .and_then(|conn| configure(&conn).map(|()| conn));
        if opened.is_err() {
            let mut readers = self.readers.lock().map_err(|_| Error::Poisoned)?;
            readers.open -= 1;
            self.freed.notify_one();
        }
        opened
    }

    /// Readers open now (idle or in use).
    #[cfg(test)]
    fn open(&self) -> usize {
        self.readers.lock().map_or(0, |r| r.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn many_reads_at_once_share_at_most_the_pools_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite3");
        Connection::open(&path).unwrap();
        let pool = ReaderPool::new(&path, 4);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..32 {
                scope.spawn(|| {
                    pool.read(|c| {
                        let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(at_once, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)
                    })
                    .unwrap()
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 4, "reads at once");
        assert_eq!(pool.open(), 4, "connections open");
    }

    #[test]
    fn a_read_waits_for_a_reader_then_is_told_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite3");
        Connection::open(&path).unwrap();
        let pool = ReaderPool::new(&path, 1);
        let started = Instant::now();
        let inner = pool.read(|_| Ok(pool.read(|_| Ok(()))));
        let waited = started.elapsed();
        assert!(
            matches!(inner, Ok(Err(Error::Busy(ref m))) if m.contains("1 database readers")),
            "{inner:?}"
        );
        assert!(waited >= READER_WAIT, "{waited:?}");
        // The pool is whole again afterwards.
        assert_eq!(pool.read(|_| Ok(7)).unwrap(), 7);
        assert_eq!(pool.open(), 1);
    }
}
