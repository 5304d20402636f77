//! The PostgreSQL schema: migrations applied in order inside one transaction under an
//! advisory lock (several servers may start at once), each recorded in
//! `voices_schema_migrations`.

use postgres::Client;

use super::Attempt;
use crate::store::shared;

/// Schema migrations, applied in order and recorded in `voices_schema_migrations`.
/// Append-only: never edit a migration that has shipped; add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("0001_initial.sql"),
    include_str!("0002_attachments.sql"),
    // 3: exports read one form's responses in feed order.
    include_str!("0003_responses_by_form.sql"),
    // 4: revision ids are unique per project, not across projects: a project is the
    // tenant boundary, so a device of one project must not be able to block or dedupe
    // another project's revision by choosing its id (SQLite's migration 4 does the same).
    // Ids stored so far were unique globally, so they stay unique per project.
    include_str!("0004_revision_ids_per_project.sql"),
    // 5: the coordinator console (as SQLite's migration 5). The table index's text
    // columns sort byte-wise (`COLLATE "C"`), as SQLite's do, so both backends page in
    // the same order; free text is one tsvector per response, pii words weighted `A` and
    // the others `D`, so one GIN index answers searches with and without pii.
    include_str!("0005_console.sql"),
    // 6: nothing to do (feed positions were per project here from the start); kept so
    // the numbers stay aligned with SQLite's migration 6.
    include_str!("0006_feed_positions_per_project.sql"),
    // 7: a device revoked with wipe (`device revoke --wipe`, the console's choice): its
    // calls are answered `device_wipe` and the app erases its data.
    include_str!("0007_device_wipe.sql"),
    // 8: the device policy of a project (idle lock, retention on the device).
    include_str!("0008_device_policy.sql"),
    // 9: sending a response back to its enumerator (as SQLite's migration 9): review
    // decisions keep field comments and a send-back's context; a device pulls its own
    // responses on an index of project, device and feed position.
    include_str!("0009_send_back.sql"),
    // 10: a respondent's withdrawal: who marked it and when, why, and when its answers
    // were purged; how long a project keeps withdrawn responses.
    include_str!("0010_withdrawal.sql"),
    // 11: a project's referral directory, in versions.
    include_str!("0011_referral_directory.sql"),
    // 12: sealed answers and the access audit (as SQLite's migration 12).
    include_str!("0012_keys_and_audit.sql"),
    // 13: teams of devices, and coordinators limited to teams.
    include_str!("0013_teams.sql"),
    // 14: the enumerator profile of a device and the neutral name of a project.
    include_str!("0014_enumerator_profile.sql"),
    // 15: counts kept for the console's filters, map and teams (as SQLite's migration
    // 15): `response_facets` and `map_cells`, kept by statement triggers on
    // `response_index`; `device_choice_counts`, written by the ingest and filled by
    // `backfill_device_tallies`.
    include_str!("0015_kept_facets.sql"),
    // 16: an index of review state and update time, for the table's review queue (the
    // received responses by last change).
    include_str!("0016_review_by_update.sql"),
];

/// The migration after which `console::backfill` writes the console's projection of
/// the responses already stored.
const CONSOLE_MIGRATION: usize = 5;

/// The migration after which `console::backfill_device_tallies` fills the dashboard's
/// tallies by device.
const DEVICE_TALLIES_MIGRATION: usize = 15;

/// The schema version this build migrates to (the number of migrations).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Advisory lock key serializing migrations across server processes starting at once.
const MIGRATION_LOCK: i64 = 0x766f_6963_6573_6d31; // "voicesm1"

pub(super) fn migrate(c: &mut Client) -> Attempt<()> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS voices_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let applied: i64 = tx
        .query_one("SELECT count(*) FROM voices_schema_migrations", &[])?
        .try_get(0)?;
    let applied = applied as usize;
    shared::check_schema_version(applied, MIGRATIONS.len())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.batch_execute(sql)?;
        if i + 1 == CONSOLE_MIGRATION {
            super::console::backfill(&mut tx)?;
        }
        if i + 1 == DEVICE_TALLIES_MIGRATION {
            super::console::backfill_device_tallies(&mut tx)?;
        }
        tx.execute(
            "INSERT INTO voices_schema_migrations (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::PostgresStore;
    use crate::store::Store;

    /// Migrations are append-only: a shipped one is never edited (databases that ran it
    /// would differ from new ones). Its SHA-256 as shipped; add new ones at the end.
    #[test]
    fn shipped_migrations_are_unchanged() {
        let shipped = [
            "ce717cd4869d906aaf001466e6137f3770d659ab40b35319848ede38341386af",
            "ae79e3ed076c20900835464dac229220d003b158e85fad5db69ef629c9aa77fb",
            "a94f046daf0e7abcf9621581faca71eb4d5245f9ea7ef0f51b4067bc2d42fbfe",
            "6afe62993b31479da161dff0d94efb5548d636de7a28033b6acda7e09675159b",
            "81d24daccf603e1201e2e89bbde86b69ef145243b24cd7c09f9a2a72d35aa4ee",
            "f5424497101d68361315259566e6af66e6f94959e24b448a0171cf80c549b268",
        ];
        let now: Vec<String> = MIGRATIONS
            .iter()
            .map(|sql| crate::auth::sha256_hex(sql.as_bytes()))
            .collect();
        assert_eq!(now[..shipped.len()], shipped);
    }

    /// Migration 4 moves the primary key of `revisions` to (project, id): a database
    /// written at schema 3 keeps every revision in arrival order and then takes an id
    /// again in another project, not twice in the same one.
    #[test]
    fn scoping_revision_ids_per_project_keeps_stored_revisions_in_order() {
        let admin = std::env::var("VOICES_TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "VOICES_TEST_DATABASE_URL is not set: run `scripts/with-postgres.sh cargo test -p voices-server`"
                )
            });
        let (server, _) = admin
            .split('?')
            .next()
            .and_then(|base| base.rsplit_once('/'))
            .expect("VOICES_TEST_DATABASE_URL names a database");
        let name = format!("voices_upgrade_{}", std::process::id());
        let url = format!("{server}/{name}");
        let mut admin_client = Client::connect(&admin, postgres::NoTls).unwrap();
        // A leftover of an interrupted run is dropped first (one statement each: neither
        // may run inside a multi-statement transaction).
        admin_client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin_client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();

        let mut old = Client::connect(&url, postgres::NoTls).unwrap();
        old.batch_execute(
            "CREATE TABLE voices_schema_migrations (
                 version INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .unwrap();
        for (i, sql) in MIGRATIONS[..3].iter().enumerate() {
            old.batch_execute(sql).unwrap();
            old.execute(
                "INSERT INTO voices_schema_migrations (version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .unwrap();
        }
        let insert = "INSERT INTO revisions
            (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
            VALUES ($1, $2, 'r1', 'a', 1, 'sha', $3, 'dev', 'now') ON CONFLICT DO NOTHING";
        // Ids that sort the other way round than they arrived.
        for id in ["z", "m", "a"] {
            old.execute(insert, &[&id, &"p1", &format!("body {id}")])
                .unwrap();
        }
        drop(old);

        let store = PostgresStore::open_with_pool_size(&url, 2).unwrap();
        assert_eq!(
            store.revisions_of("p1", "r1").unwrap(),
            ["body z", "body m", "body a"]
        );
        drop(store);
        let mut upgraded = Client::connect(&url, postgres::NoTls).unwrap();
        let applied: i64 = upgraded
            .query_one("SELECT count(*) FROM voices_schema_migrations", &[])
            .unwrap()
            .get(0);
        assert_eq!(applied as usize, SCHEMA_VERSION);
        assert_eq!(
            upgraded
                .execute(insert, &[&"z", &"p2", &"elsewhere"])
                .unwrap(),
            1
        );
        assert_eq!(
            upgraded.execute(insert, &[&"z", &"p1", &"again"]).unwrap(),
            0
        );
        drop(upgraded);
        let _ = admin_client.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"));
    }
}
