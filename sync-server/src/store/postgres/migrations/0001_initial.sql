
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE memberships (
    user_name TEXT NOT NULL REFERENCES users(name),
    project TEXT NOT NULL REFERENCES projects(id),
    PRIMARY KEY (user_name, project)
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects(id),
    enumerator TEXT NOT NULL,
    code_hash TEXT UNIQUE,
    code_expires_at TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    user_name TEXT REFERENCES users(name),
    device_id TEXT REFERENCES devices(id),
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((user_name IS NULL) <> (device_id IS NULL))
);
CREATE INDEX tokens_by_device ON tokens (device_id);
CREATE TABLE form_versions (
    project TEXT NOT NULL REFERENCES projects(id),
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    document TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (project, form, version)
);
CREATE TABLE revisions (
    arrival BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX revisions_by_response ON revisions (project, response_id, arrival);
CREATE TABLE feeds (
    project TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE responses (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    device TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    state TEXT NOT NULL,
    quarantine TEXT NOT NULL,
    conflict BOOLEAN NOT NULL,
    review_state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    feed_seq BIGINT NOT NULL,
    PRIMARY KEY (project, id),
    UNIQUE (project, feed_seq)
);
