//! The SQLite schema: migrations applied in order, the version recorded in
//! `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::shared;
use crate::Result;

/// Schema migrations, applied in order and recorded in `PRAGMA user_version`.
/// Append-only: never edit a migration that has shipped; add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("0001_initial.sql"),
    include_str!("0002_attachments.sql"),
    // 3: exports read one form's responses in feed order.
    include_str!("0003_responses_by_form.sql"),
    // 4: revision ids are unique per project, not across projects: a project is the
    // tenant boundary, so a device of one project must not be able to block or dedupe
    // another project's revision by choosing its id (PostgreSQL's migration 4 does the
    // same). SQLite cannot change a primary key, so the table is rebuilt; rowids are
    // copied because they are the arrival order `revisions_of` reads.
    include_str!("0004_revision_ids_per_project.sql"),
    // 5: the coordinator console. People get a display name, can be disabled and have a
    // role per project; devices a label and their last contact; review decisions are
    // kept; and each response has a row in `response_index` (filters and sort keys, on
    // indexes for the table's keysets), its answers in the full-text index
    // `response_text` (same rowid; contentless, so the text is not stored twice) and its
    // share of the dashboard's counts. All of it is written by the ingest in the
    // transaction that writes the response; `backfill` fills it for existing responses.
    include_str!("0005_console.sql"),
    // 6: feed positions are counted per project, as on PostgreSQL (its `feeds` table):
    // a global count let a coordinator read other projects' activity from the gaps
    // between their own positions. The constraint moves from `UNIQUE (feed_seq)` to
    // `UNIQUE (project, feed_seq)` (SQLite rebuilds the table for that). Positions
    // already handed out are kept as they are, and each project's next position follows
    // its own highest one, so every cursor a device or coordinator holds still means
    // "after this row of my project" and no row is skipped or repeated.
    include_str!("0006_feed_positions_per_project.sql"),
    // 7: a device revoked with wipe (`device revoke --wipe`, the console's choice): its
    // calls are answered `device_wipe` and the app erases its data.
    include_str!("0007_device_wipe.sql"),
    // 8: the device policy of a project (idle lock, retention on the device).
    include_str!("0008_device_policy.sql"),
    // 9: sending a response back to its enumerator. A review decision keeps its comments
    // on single answers (`fields`, JSON by flat path) and, for a send-back, the response's
    // context then (`context`, a JSON version vector: the resubmission's diff starts
    // there); a device pulls its own responses on an index of project, device and feed
    // position.
    include_str!("0009_send_back.sql"),
    // 10: a respondent's withdrawal: who marked it and when, why, and when its answers
    // were purged; how long a project keeps withdrawn responses.
    include_str!("0010_withdrawal.sql"),
    // 11: a project's referral directory, in versions.
    include_str!("0011_referral_directory.sql"),
    // 12: sealed answers and the access audit: the project's recipient keys (public
    // only), the pii grant per membership, and the append-only `audit_log`.
    include_str!("0012_keys_and_audit.sql"),
    // 13: teams of devices, and coordinators limited to teams.
    include_str!("0013_teams.sql"),
    // 14: the enumerator profile of a device and the neutral name of a project.
    include_str!("0014_enumerator_profile.sql"),
    // 15: counts kept for the console's filters, map and teams (docs/console.md,
    // "Counts"): `response_facets` (index rows by every filter the table has, so a
    // filtered total and a limited coordinator's overview are sums of a few rows) and
    // `map_cells` (the map's coarse cells), both kept by triggers on `response_index`,
    // so every path that writes the index keeps them; `device_choice_counts` (the
    // dashboard's tallies by starting device), written by the ingest beside
    // `choice_counts` and filled by `backfill_device_tallies`.
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

pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    shared::check_schema_version(applied, MIGRATIONS.len())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        if i + 1 == CONSOLE_MIGRATION {
            super::console::backfill(&tx)?;
        }
        if i + 1 == DEVICE_TALLIES_MIGRATION {
            super::console::backfill_device_tallies(&tx)?;
        }
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;

    /// Migrations are append-only: a shipped one is never edited (databases that ran it
    /// would differ from new ones). Its SHA-256 as shipped; add new ones at the end.
    #[test]
    fn shipped_migrations_are_unchanged() {
        let shipped = [
            "763372e6b82e8d5964fb28f3ecd78cfb550a5ac133ed3ec9638013056ad3d43b",
            "dc7f7045f4cfc2f933e11034a4bce98b6c724f632aadceefa0358c6ee188a60f",
            "a94f046daf0e7abcf9621581faca71eb4d5245f9ea7ef0f51b4067bc2d42fbfe",
            "89a426f6143f6cf92fd3bf763d2febc1e01e317ba318440277499a60bb4a8aa7",
            "6271660488b2f2cc282da3a5a51d000f464649f555da2f8dbc097b0412ad9935",
            "9ac74c5ed4c3e924c30e9cdf3665f8e8f90eb2ad1f54f2f0ac338b571075fb63",
        ];
        let now: Vec<String> = MIGRATIONS
            .iter()
            .map(|sql| crate::auth::sha256_hex(sql.as_bytes()))
            .collect();
        assert_eq!(now[..shipped.len()], shipped);
    }

    /// Migration 4 rebuilds `revisions`: a database written before it keeps every
    /// revision, in arrival order, and then accepts an id again in another project.
    #[test]
    fn scoping_revision_ids_per_project_keeps_stored_revisions_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let insert = "INSERT INTO revisions
            (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
            VALUES (?1, 'p1', 'r1', 'a', ?2, 'sha', ?3, 'dev', 'now')";
        // Ids that sort the other way round than they arrived.
        for (seq, id) in ["z", "m", "a"].iter().enumerate() {
            conn.execute(insert, params![id, seq as i64, format!("body {id}")])
                .unwrap();
        }

        migrate(&mut conn).unwrap();

        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let bodies: Vec<String> = conn
            .prepare("SELECT body FROM revisions WHERE project = 'p1' AND response_id = 'r1' ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(bodies, ["body z", "body m", "body a"]);
        let same_id_elsewhere = "INSERT INTO revisions
            (id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
            VALUES ('z', ?1, 'r1', 'a', 0, 'sha', 'body', 'dev', 'now') ON CONFLICT (project, id) DO NOTHING";
        assert_eq!(conn.execute(same_id_elsewhere, ["p2"]).unwrap(), 1);
        assert_eq!(conn.execute(same_id_elsewhere, ["p1"]).unwrap(), 0);
    }

    /// Migration 6 counts feed positions per project without renumbering: positions
    /// handed out before it stay, so a cursor a device or coordinator holds reads on
    /// from the same row, and each project's next position follows its own last one.
    #[test]
    fn feed_positions_per_project_keep_the_cursors_already_handed_out() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        let insert = "INSERT INTO responses (project, id, form, version, device, enumerator,
                state, quarantine, conflict, review_state, received_at, updated_at, feed_seq)
            VALUES (?1, ?2, 'f', '1', 'd', 'e', 's', '[]', 0, 'received', 'now', 'now', ?3)";
        // One global count, interleaved between the projects.
        for (project, id, seq) in [
            ("p1", "a", 1),
            ("p2", "b", 2),
            ("p1", "c", 3),
            ("p2", "d", 4),
        ] {
            conn.execute(insert, params![project, id, seq]).unwrap();
        }

        migrate(&mut conn).unwrap();

        let feed = |conn: &Connection, project: &str, after: i64| -> Vec<(String, i64)> {
            conn.prepare(
                "SELECT id, feed_seq FROM responses WHERE project = ?1 AND feed_seq > ?2
                 ORDER BY feed_seq",
            )
            .unwrap()
            .query_map(params![project, after], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
        };
        assert_eq!(feed(&conn, "p1", 0), [("a".into(), 1), ("c".into(), 3)]);
        assert_eq!(feed(&conn, "p2", 2), [("d".into(), 4)]);
        assert_eq!(
            crate::store::sqlite::last_feed_position(&conn, "p1").unwrap(),
            3
        );
        assert_eq!(
            crate::store::sqlite::last_feed_position(&conn, "p3").unwrap(),
            0
        );
        // p1's next position follows its own last one, although p2 already used it.
        conn.execute(insert, params!["p1", "e", 4]).unwrap();
        assert!(conn.execute(insert, params!["p1", "f", 4]).is_err());
        // A cursor held from before (p1 at 3) reads exactly the new row.
        assert_eq!(feed(&conn, "p1", 3), [("e".into(), 4)]);
    }
}
