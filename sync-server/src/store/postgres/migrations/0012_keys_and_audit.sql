-- Sealed answers and who read what (issue 12), as SQLite's migration 12.
CREATE TABLE project_keys (
    project TEXT NOT NULL REFERENCES projects(id),
    recipient TEXT NOT NULL,
    label TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (project, recipient)
);
ALTER TABLE memberships ADD COLUMN read_pii BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE FUNCTION voices_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION voices_audit_log_append_only();
