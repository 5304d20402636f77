
CREATE TABLE attachments (
    project TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL,
    complete BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (project, sha256)
);
CREATE TABLE attachment_chunks (
    project TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (project, sha256, "offset")
);
