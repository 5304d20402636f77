-- Counts kept for every filter of the responses table, for the map, and for coordinators
-- limited to teams (docs/console.md, "Counts"). Each is kept by triggers on
-- `response_index`, so whatever writes the index (an ingest, a review, a withdrawal)
-- keeps them: a row counts the index rows with those values. Rows that fall to zero
-- stay (they add nothing to a sum).
CREATE TABLE response_facets (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    day TEXT NOT NULL,
    enumerator TEXT NOT NULL,
    device TEXT NOT NULL,
    status TEXT NOT NULL,
    review TEXT NOT NULL,
    conflicted INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, form, version, day, enumerator, device, status, review,
        conflicted, quarantined)
) WITHOUT ROWID;
CREATE INDEX response_facets_by_device ON response_facets (project, device);
INSERT INTO response_facets
    SELECT project, form, version, substr(received_at, 1, 10), enumerator, device, status,
        review, conflicts > 0, quarantined, COUNT(*)
    FROM response_index GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
CREATE TRIGGER response_facets_insert AFTER INSERT ON response_index BEGIN
    INSERT INTO response_facets VALUES (NEW.project, NEW.form, NEW.version,
        substr(NEW.received_at, 1, 10), NEW.enumerator, NEW.device, NEW.status, NEW.review,
        NEW.conflicts > 0, NEW.quarantined, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER response_facets_delete AFTER DELETE ON response_index BEGIN
    UPDATE response_facets SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND version = OLD.version AND day = substr(OLD.received_at, 1, 10)
        AND enumerator = OLD.enumerator AND device = OLD.device AND status = OLD.status
        AND review = OLD.review AND conflicted = (OLD.conflicts > 0)
        AND quarantined = OLD.quarantined;
END;
CREATE TRIGGER response_facets_update AFTER UPDATE ON response_index
WHEN OLD.form IS NOT NEW.form OR OLD.version IS NOT NEW.version
    OR OLD.received_at IS NOT NEW.received_at OR OLD.enumerator IS NOT NEW.enumerator
    OR OLD.device IS NOT NEW.device OR OLD.status IS NOT NEW.status
    OR OLD.review IS NOT NEW.review OR (OLD.conflicts > 0) IS NOT (NEW.conflicts > 0)
    OR OLD.quarantined IS NOT NEW.quarantined
BEGIN
    UPDATE response_facets SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND version = OLD.version AND day = substr(OLD.received_at, 1, 10)
        AND enumerator = OLD.enumerator AND device = OLD.device AND status = OLD.status
        AND review = OLD.review AND conflicted = (OLD.conflicts > 0)
        AND quarantined = OLD.quarantined;
    INSERT INTO response_facets VALUES (NEW.project, NEW.form, NEW.version,
        substr(NEW.received_at, 1, 10), NEW.enumerator, NEW.device, NEW.status, NEW.review,
        NEW.conflicts > 0, NEW.quarantined, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
-- The map's cells at the precisions shown without the pii grant (0, 1 and 2 decimals),
-- the whole project's; finer points and a limited coordinator's are grouped from the
-- index.
CREATE TABLE map_cells (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    places INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, form, places, lat, lon)
) WITHOUT ROWID;
INSERT INTO map_cells
    SELECT project, form, p.value, ROUND(lat, p.value), ROUND(lon, p.value), COUNT(*)
    FROM response_index, (SELECT 0 AS value UNION ALL SELECT 1 UNION ALL SELECT 2) p
    WHERE lat IS NOT NULL AND lon IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
CREATE TRIGGER map_cells_insert AFTER INSERT ON response_index
WHEN NEW.lat IS NOT NULL AND NEW.lon IS NOT NULL BEGIN
    INSERT INTO map_cells
        SELECT NEW.project, NEW.form, value, ROUND(NEW.lat, value), ROUND(NEW.lon, value), 1
        FROM (SELECT 0 AS value UNION ALL SELECT 1 UNION ALL SELECT 2) WHERE true
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER map_cells_delete AFTER DELETE ON response_index
WHEN OLD.lat IS NOT NULL AND OLD.lon IS NOT NULL BEGIN
    UPDATE map_cells SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND places = 0 AND lat = ROUND(OLD.lat, 0) AND lon = ROUND(OLD.lon, 0);
    UPDATE map_cells SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND places = 1 AND lat = ROUND(OLD.lat, 1) AND lon = ROUND(OLD.lon, 1);
    UPDATE map_cells SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND places = 2 AND lat = ROUND(OLD.lat, 2) AND lon = ROUND(OLD.lon, 2);
END;
CREATE TRIGGER map_cells_update AFTER UPDATE ON response_index
WHEN OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon OR OLD.form IS NOT NEW.form BEGIN
    UPDATE map_cells SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND places = 0 AND lat = ROUND(OLD.lat, 0) AND lon = ROUND(OLD.lon, 0)
        AND OLD.lat IS NOT NULL AND OLD.lon IS NOT NULL;
    UPDATE map_cells SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND places = 1 AND lat = ROUND(OLD.lat, 1) AND lon = ROUND(OLD.lon, 1)
        AND OLD.lat IS NOT NULL AND OLD.lon IS NOT NULL;
    UPDATE map_cells SET n = n - 1 WHERE project = OLD.project AND form = OLD.form
        AND places = 2 AND lat = ROUND(OLD.lat, 2) AND lon = ROUND(OLD.lon, 2)
        AND OLD.lat IS NOT NULL AND OLD.lon IS NOT NULL;
    INSERT INTO map_cells
        SELECT NEW.project, NEW.form, value, ROUND(NEW.lat, value), ROUND(NEW.lon, value), 1
        FROM (SELECT 0 AS value UNION ALL SELECT 1 UNION ALL SELECT 2)
        WHERE NEW.lat IS NOT NULL AND NEW.lon IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
-- The dashboard's choice tallies by starting device, for coordinators limited to teams
-- (the ingest writes them beside `choice_counts`; the migration's backfill fills them for
-- the responses already stored).
CREATE TABLE device_choice_counts (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    device TEXT NOT NULL,
    question TEXT NOT NULL,
    choice TEXT NOT NULL,
    sex TEXT NOT NULL,
    age_band TEXT NOT NULL,
    disability TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project, device, form, version, question, choice, sex, age_band,
        disability)
) WITHOUT ROWID;
