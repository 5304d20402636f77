//! The schema, as the list of migrations that build it. `PRAGMA user_version` counts how
//! many have run; [`super::Store::migrate`] applies the rest, each in its own transaction.

/// Schema changes in order. Never edit or reorder an entry once released: add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: forms, responses and what a respondent said.
    r#"
    CREATE TABLE form_versions (
        form_id     TEXT NOT NULL,
        version     TEXT NOT NULL,
        definition  TEXT NOT NULL,
        source      TEXT NOT NULL,
        added_at    TEXT NOT NULL,
        PRIMARY KEY (form_id, version)
    );
    CREATE TABLE responses (
        id            TEXT PRIMARY KEY,
        form_id       TEXT NOT NULL,
        form_version  TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('draft','finalized','queued','sent','refused')),
        language      TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        finalized_at  TEXT,
        edit_count    INTEGER NOT NULL DEFAULT 0,
        FOREIGN KEY (form_id, form_version) REFERENCES form_versions (form_id, version)
    );
    CREATE INDEX responses_by_form ON responses (form_id, form_version, status);
    CREATE TABLE answers (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        value        TEXT,
        updated_at   TEXT NOT NULL,
        PRIMARY KEY (response_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE consent (
        response_id   TEXT PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
        given         INTEGER NOT NULL,
        at            TEXT NOT NULL,
        text_version  TEXT NOT NULL
    );
    CREATE TABLE privacy_checks (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        group_path   TEXT NOT NULL,
        outcome      TEXT NOT NULL CHECK (outcome IN ('private','not_private','interrupted')),
        at           TEXT NOT NULL,
        PRIMARY KEY (response_id, group_path)
    );
    CREATE TABLE attachments (
        sha256      TEXT PRIMARY KEY,
        media_type  TEXT NOT NULL,
        size        INTEGER NOT NULL,
        added_at    TEXT NOT NULL
    );
    CREATE TABLE response_attachments (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        sha256       TEXT NOT NULL REFERENCES attachments (sha256),
        file_name    TEXT NOT NULL,
        PRIMARY KEY (response_id, path)
    );
    "#,
    // 2: what happened during an interview, what waits to be sent, and settings.
    r#"
    CREATE TABLE paradata (
        id           INTEGER PRIMARY KEY,
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        event        TEXT NOT NULL,
        path         TEXT,
        at           TEXT NOT NULL
    );
    CREATE INDEX paradata_by_response ON paradata (response_id, id);
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        record_kind  TEXT NOT NULL,
        record_id    TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending','sending','sent','failed')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        updated_at   TEXT NOT NULL,
        UNIQUE (record_kind, record_id)
    );
    CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    "#,
    // 3: sync. Revisions are built once and never changed or deleted (triggers hold
    // that); the outbox gains the acknowledgement states; the server link; form versions
    // the server offered; which attachments a server already has complete.
    r#"
    CREATE TABLE outbox_v3 (
        id           INTEGER PRIMARY KEY,
        record_kind  TEXT NOT NULL,
        record_id    TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending','sending','sent','quarantined','rejected','failed')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        reasons      TEXT NOT NULL DEFAULT '[]',
        updated_at   TEXT NOT NULL,
        UNIQUE (record_kind, record_id)
    );
    INSERT INTO outbox_v3 (id, record_kind, record_id, state, attempts, last_error, updated_at)
        SELECT id, record_kind, record_id, state, attempts, last_error, updated_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v3 RENAME TO outbox;
    CREATE TABLE revisions (
        seqno        INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        response_id  TEXT NOT NULL REFERENCES responses (id),
        actor        TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        body         TEXT NOT NULL,
        built_at     TEXT NOT NULL,
        ack          TEXT CHECK (ack IN ('accepted','duplicate','quarantined','rejected')),
        code         TEXT,
        reasons      TEXT NOT NULL DEFAULT '[]',
        attempts     INTEGER NOT NULL DEFAULT 0,
        acked_at     TEXT,
        UNIQUE (response_id, actor, seq)
    );
    CREATE INDEX revisions_by_response ON revisions (response_id, seqno);
    CREATE TRIGGER revisions_are_immutable
        BEFORE UPDATE OF id, response_id, actor, seq, body, built_at ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are immutable once built'); END;
    CREATE TRIGGER revisions_are_never_deleted
        BEFORE DELETE ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are never deleted'); END;
    CREATE TABLE device_link (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        server_url  TEXT NOT NULL,
        project     TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        enumerator  TEXT NOT NULL,
        token       TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        linked_at   TEXT NOT NULL
    );
    CREATE TABLE form_offers (
        form_id       TEXT NOT NULL,
        version       TEXT NOT NULL,
        title         TEXT NOT NULL,
        published_at  TEXT NOT NULL,
        seen          INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (form_id, version)
    );
    CREATE TABLE attachment_uploads (
        sha256       TEXT NOT NULL,
        destination  TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        PRIMARY KEY (sha256, destination)
    );
    "#,
    // 4: form documents exactly as the server publishes them (the bytes its SHA-256 names),
    // used as zstd dictionaries for uploads.
    r#"
    CREATE TABLE server_form_documents (
        form_id   TEXT NOT NULL,
        version   TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        document  TEXT NOT NULL,
        PRIMARY KEY (form_id, version)
    );
    "#,
    // 5: the SHA-256 of the server's self-signed certificate from the provisioning code,
    // which the device then trusts exactly (NULL: the public authorities decide).
    r#"
    ALTER TABLE device_link ADD COLUMN certificate_sha256 TEXT;
    "#,
    // 6: answers in the core's flat encoding (`voices_core::answer::FlatAnswers`): the
    // number of instances of a repeat is a value at `name[]`, where it was one row with
    // no value per instance (`/members[2]`). Those rows made as many instances as the
    // highest number among them, so that is the count. `rtrim` strips the number and
    // `]` from `/a[1]/members[2]`, leaving `/a[1]/members[`.
    r#"
    INSERT INTO answers (response_id, path, value, updated_at)
        SELECT response_id,
               rtrim(path, '0123456789]') || ']',
               CAST(MAX(CAST(substr(path, length(rtrim(path, '0123456789]')) + 1,
                                    length(path) - length(rtrim(path, '0123456789]')) - 1)
                             AS INTEGER)) AS TEXT),
               MAX(updated_at)
        FROM answers
        WHERE value IS NULL AND path LIKE '%]'
        GROUP BY response_id, rtrim(path, '0123456789]');
    DELETE FROM answers WHERE value IS NULL;
    "#,
    // 7: retention. A response the server acknowledged is purged from the device after
    // the project's retention period (`retention.rs`): its answers, consent, privacy
    // checks, paradata and files go, its revisions keep their ids and the SHA-256 of
    // their bodies, the bodies go. Only then may a body change, and only to empty.
    r#"
    ALTER TABLE responses ADD COLUMN purged_at TEXT;
    ALTER TABLE revisions ADD COLUMN body_sha256 TEXT;
    DROP TRIGGER revisions_are_immutable;
    CREATE TRIGGER revisions_are_immutable
        BEFORE UPDATE OF id, response_id, actor, seq, built_at ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are immutable once built'); END;
    CREATE TRIGGER revision_bodies_are_kept_until_purged
        BEFORE UPDATE OF body ON revisions
        WHEN NEW.body != '' OR NOT EXISTS
            (SELECT 1 FROM responses WHERE id = OLD.response_id AND purged_at IS NOT NULL)
        BEGIN SELECT RAISE(ABORT, 'a revision body is immutable until its response is purged'); END;
    "#,
    // 8: respondent-selection draws (`voices_core::response::SelectionRecord` as JSON), one
    // per selection field; a draw once shown is never made again, so it is never updated.
    r#"
    CREATE TABLE selections (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        field_path   TEXT NOT NULL,
        record       TEXT NOT NULL,
        PRIMARY KEY (response_id, field_path)
    );
    CREATE TRIGGER selections_are_final BEFORE UPDATE ON selections
    BEGIN
        SELECT RAISE(ABORT, 'a respondent selection is never drawn again');
    END;
    "#,
    // 9: how each interview ended (`voices_core::response::OutcomeRecord` as JSON); the
    // last outcome recorded stands.
    r#"
    CREATE TABLE outcomes (
        response_id  TEXT PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
        record       TEXT NOT NULL
    );
    "#,
    // 10: what the server sends back about this device's responses (the device feed):
    // each one's review state and transitions with their comments, and the answers the
    // enumerator and a coordinator both changed (shown until finalized again). The feed's
    // cursor is a setting.
    r#"
    CREATE TABLE returned (
        response_id   TEXT PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
        review_state  TEXT NOT NULL,
        reviews       TEXT NOT NULL,
        conflicts     TEXT NOT NULL DEFAULT '[]',
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX returned_by_state ON returned (review_state, updated_at);
    "#,
    // 11: the clear text of a revision whose sensitive and pii answers were sealed
    // (`sync::seal`): the device cannot open what it sent, and compares what it holds
    // with this. Kept with the revision, like the answers it repeats.
    r#"
    CREATE TABLE revision_clear (
        revision_id TEXT PRIMARY KEY REFERENCES revisions(id) ON DELETE CASCADE,
        body        TEXT NOT NULL
    );
    "#,
    // 12: the project's referral directory (`voices_core::referral::Directory` as JSON),
    // as the last sync found it: one row, replaced by each newer version, kept offline.
    r#"
    CREATE TABLE referral_directory (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        version       INTEGER NOT NULL,
        published_at  TEXT NOT NULL,
        document      TEXT NOT NULL,
        fetched_at    TEXT NOT NULL
    );
    "#,
    // 13: enumerator–respondent matching: what happened at each section with a `match`
    // rule (`voices_core::matching::MatchingRecord` as JSON: matched, handed over to
    // whom, or skipped); the last record of a section stands. (The enumerator profile the
    // rules read is a setting, kept at each sync like the device policy.)
    r#"
    CREATE TABLE matching (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        group_path   TEXT NOT NULL,
        record       TEXT NOT NULL,
        PRIMARY KEY (response_id, group_path)
    );
    "#,
    // 14: the files of sealed answers (`sync::seal`): a file answered to a `sensitive` or
    // `pii` question is sealed with age to the project's recipients once, as its revision
    // is built, and the sealed file (kept under its own SHA-256 in the attachments folder)
    // is what is uploaded, never the clear one (`clear_sha256`).
    r#"
    CREATE TABLE sealed_files (
        sha256        TEXT PRIMARY KEY,
        response_id   TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        clear_sha256  TEXT NOT NULL,
        size          INTEGER NOT NULL,
        added_at      TEXT NOT NULL
    );
    CREATE INDEX sealed_files_response ON sealed_files (response_id);
    "#,
    // 15: a minor's assent after the guardian's consent
    // (`voices_core::response::AssentRecord` as JSON), kept with the consent it follows.
    r#"
    ALTER TABLE consent ADD COLUMN assent TEXT;
    "#,
    // 16: which server confirmed each file complete *for which response*, in place of per
    // file: a server deletes the files of a withdrawn response that no kept response
    // names, and retention removes a purged response's files (and this record) here, so
    // the very same bytes attached to another response are checked with the server (and
    // sent when it lacks them) instead of taken as sent. What was sent carries over.
    r#"
    CREATE TABLE response_file_uploads (
        response_id   TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        sha256        TEXT NOT NULL,
        destination   TEXT NOT NULL,
        completed_at  TEXT NOT NULL,
        PRIMARY KEY (response_id, sha256, destination)
    );
    INSERT OR IGNORE INTO response_file_uploads (response_id, sha256, destination, completed_at)
        SELECT ra.response_id, u.sha256, u.destination, u.completed_at
        FROM attachment_uploads u JOIN response_attachments ra ON ra.sha256 = u.sha256;
    INSERT OR IGNORE INTO response_file_uploads (response_id, sha256, destination, completed_at)
        SELECT f.response_id, u.sha256, u.destination, u.completed_at
        FROM attachment_uploads u JOIN sealed_files f ON f.sha256 = u.sha256;
    DROP TABLE attachment_uploads;
    "#,
    // 17: a respondent's withdrawal, which the device feed brings (`withdrawn.rs`): the
    // response is purged as retention purges, its unsent revisions are refused
    // (`rejected` / `withdrawn`, never sent), and only this time stays to say so.
    r#"
    ALTER TABLE responses ADD COLUMN withdrawn_at TEXT;
    "#,
];
