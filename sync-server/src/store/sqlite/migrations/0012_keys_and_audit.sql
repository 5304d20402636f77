-- Sealed answers and who read what (issue 12).
-- The public keys (age X25519 recipients) a project's devices seal sensitive and pii
-- answers to. Never a secret key: the server holds none. A retired key is kept so the
-- record says who could read what was sealed while it was current.
CREATE TABLE project_keys (
    project TEXT NOT NULL REFERENCES projects(id),
    recipient TEXT NOT NULL,
    label TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (project, recipient)
);
-- Reading pii is a grant of its own, per membership, off unless given.
ALTER TABLE memberships ADD COLUMN read_pii INTEGER NOT NULL DEFAULT 0;
-- The access audit: append-only (the triggers refuse changes and deletions).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    project TEXT,
    target TEXT,
    detail TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_log_by_project ON audit_log (project, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
