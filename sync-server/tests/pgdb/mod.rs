//! Throwaway PostgreSQL databases for the tests: one fresh database per test, so tests
//! run in parallel without seeing each other's rows. The server comes from
//! `scripts/with-postgres.sh`, which sets `VOICES_TEST_DATABASE_URL`; without it the
//! PostgreSQL tests fail (they are never skipped).

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The administrative URL from the environment, or a failure saying how to get one.
pub fn admin_url() -> String {
    match std::env::var("VOICES_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "VOICES_TEST_DATABASE_URL is not set: the PostgreSQL tests need a server. Run them as \
             `scripts/with-postgres.sh cargo test -p voices-server` (or `make test`), which starts \
             a throwaway PostgreSQL and sets it"
        ),
    }
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{database}?{q}"),
        None => format!("{host_part}/{database}"),
    }
}

/// A database that exists while this value lives.
pub struct TestDatabase {
    pub url: String,
    pub name: String,
    admin: String,
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        let admin = admin_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "voices_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            nanos
        );
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
            panic!("cannot connect to VOICES_TEST_DATABASE_URL ({admin}): {e}")
        });
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        TestDatabase {
            url: with_database(&admin, &name),
            name,
            admin,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: the whole server is thrown away after the run anyway.
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
