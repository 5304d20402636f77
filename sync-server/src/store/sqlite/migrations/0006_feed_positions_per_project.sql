
CREATE TABLE responses_feed_per_project (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    device TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    state TEXT NOT NULL,
    quarantine TEXT NOT NULL,
    conflict INTEGER NOT NULL,
    review_state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    feed_seq INTEGER NOT NULL,
    PRIMARY KEY (project, id),
    UNIQUE (project, feed_seq)
);
INSERT INTO responses_feed_per_project
    (project, id, form, version, device, enumerator, state, quarantine, conflict,
     review_state, received_at, updated_at, feed_seq)
    SELECT project, id, form, version, device, enumerator, state, quarantine, conflict,
     review_state, received_at, updated_at, feed_seq
    FROM responses ORDER BY feed_seq;
DROP TABLE responses;
ALTER TABLE responses_feed_per_project RENAME TO responses;
CREATE INDEX responses_form_feed ON responses (project, form, feed_seq);
