ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE memberships ADD COLUMN role TEXT;
ALTER TABLE devices ADD COLUMN label TEXT;
ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN pending INTEGER;
CREATE INDEX devices_by_project ON devices (project, id);
CREATE INDEX tokens_by_user ON tokens (user_name);
CREATE TABLE reviews (
    project TEXT NOT NULL,
    response_id TEXT NOT NULL,
    state TEXT NOT NULL,
    comment TEXT,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reviews_by_response ON reviews (project, response_id);
CREATE TABLE response_index (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    review TEXT NOT NULL,
    conflicts INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    enumerator TEXT NOT NULL,
    device TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    lat REAL,
    lon REAL,
    UNIQUE (project, id)
);
CREATE INDEX ri_received ON response_index (project, form, received_at, id);
CREATE INDEX ri_updated ON response_index (project, form, updated_at, id);
CREATE INDEX ri_review ON response_index (project, form, review, received_at, id);
CREATE INDEX ri_status ON response_index (project, form, status, received_at, id);
CREATE INDEX ri_enumerator ON response_index (project, form, enumerator, received_at, id);
CREATE INDEX ri_device ON response_index (project, form, device, received_at, id);
CREATE INDEX ri_project_received ON response_index (project, received_at, id);
CREATE INDEX ri_project_review ON response_index (project, review);
CREATE INDEX ri_conflicts ON response_index (project) WHERE conflicts > 0;
CREATE INDEX ri_quarantined ON response_index (project) WHERE quarantined = 1;
CREATE INDEX ri_points ON response_index (project, form, lat, lon) WHERE lat IS NOT NULL;
CREATE VIRTUAL TABLE response_text USING fts5(
    open, pii, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE response_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    day TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, form, version, day, enumerator)
) WITHOUT ROWID;
CREATE TABLE choice_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    question TEXT NOT NULL,
    choice TEXT NOT NULL,
    sex TEXT NOT NULL,
    age_band TEXT NOT NULL,
    disability TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, form, version, question, choice, sex, age_band, disability)
) WITHOUT ROWID;
