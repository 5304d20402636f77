
CREATE TABLE revisions_by_project (
    id TEXT NOT NULL,
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
);
INSERT INTO revisions_by_project
    (rowid, id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at)
    SELECT rowid, id, project, response_id, actor, seq, sha256, body, uploaded_by, received_at
    FROM revisions ORDER BY rowid;
DROP TABLE revisions;
ALTER TABLE revisions_by_project RENAME TO revisions;
CREATE INDEX revisions_by_response ON revisions (project, response_id);
