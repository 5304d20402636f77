-- Counts kept for every filter of the responses table, for the map, and for coordinators
-- limited to teams (as SQLite's migration 15; docs/console.md, "Counts"). Each is kept by
-- statement triggers on `response_index`, which sum a statement's changed rows (taken
-- away as they were, added as they are) into one upsert in key order, so whatever writes
-- the index (an ingest, a review, a withdrawal) keeps them. Rows that fall to zero stay
-- (they add nothing to a sum).
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
    n BIGINT NOT NULL,
    PRIMARY KEY (project, form, version, day, enumerator, device, status, review,
        conflicted, quarantined)
);
CREATE INDEX response_facets_by_device ON response_facets (project, device);
INSERT INTO response_facets
    SELECT project, form, version, left(received_at, 10), enumerator, device, status,
        review, (conflicts > 0)::int, quarantined, COUNT(*)
    FROM response_index GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
-- The map's cells at the precisions shown without the pii grant (0, 1 and 2 decimals),
-- the whole project's; finer points and a limited coordinator's are grouped from the
-- index.
CREATE TABLE map_cells (
    project TEXT NOT NULL,
    form TEXT NOT NULL,
    places INTEGER NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (project, form, places, lat, lon)
);
INSERT INTO map_cells
    SELECT project, form, p, ROUND(lat::numeric, p)::float8, ROUND(lon::numeric, p)::float8,
        COUNT(*)
    FROM response_index, generate_series(0, 2) p
    WHERE lat IS NOT NULL AND lon IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
-- Each trigger takes the statement's changed rows, +1 as they are now and -1 as they
-- were (transition tables are visible only in the trigger's own function, so each
-- function spells its statements out).
CREATE FUNCTION kept_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO response_facets AS f
        SELECT project, form, version, left(received_at, 10), enumerator, device, status,
            review, (conflicts > 0)::int, quarantined, SUM(d)
        FROM (SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, 1 AS d FROM new_rows) c
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING SUM(d) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ON CONFLICT (project, form, version, day, enumerator, device, status, review,
        conflicted, quarantined) DO UPDATE SET n = f.n + excluded.n;
    INSERT INTO map_cells AS m
        SELECT project, form, p, ROUND(lat::numeric, p)::float8,
            ROUND(lon::numeric, p)::float8, SUM(d)
        FROM (SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, 1 AS d FROM new_rows) c, generate_series(0, 2) p
        WHERE lat IS NOT NULL AND lon IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project, form, places, lat, lon) DO UPDATE SET n = m.n + excluded.n;
    RETURN NULL;
END $$;
CREATE FUNCTION kept_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO response_facets AS f
        SELECT project, form, version, left(received_at, 10), enumerator, device, status,
            review, (conflicts > 0)::int, quarantined, SUM(d)
        FROM (SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, -1 AS d FROM old_rows
            UNION ALL SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, 1 AS d FROM new_rows) c
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING SUM(d) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ON CONFLICT (project, form, version, day, enumerator, device, status, review,
        conflicted, quarantined) DO UPDATE SET n = f.n + excluded.n;
    INSERT INTO map_cells AS m
        SELECT project, form, p, ROUND(lat::numeric, p)::float8,
            ROUND(lon::numeric, p)::float8, SUM(d)
        FROM (SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, -1 AS d FROM old_rows
            UNION ALL SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, 1 AS d FROM new_rows) c, generate_series(0, 2) p
        WHERE lat IS NOT NULL AND lon IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project, form, places, lat, lon) DO UPDATE SET n = m.n + excluded.n;
    RETURN NULL;
END $$;
CREATE FUNCTION kept_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO response_facets AS f
        SELECT project, form, version, left(received_at, 10), enumerator, device, status,
            review, (conflicts > 0)::int, quarantined, SUM(d)
        FROM (SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, -1 AS d FROM old_rows) c
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING SUM(d) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ON CONFLICT (project, form, version, day, enumerator, device, status, review,
        conflicted, quarantined) DO UPDATE SET n = f.n + excluded.n;
    INSERT INTO map_cells AS m
        SELECT project, form, p, ROUND(lat::numeric, p)::float8,
            ROUND(lon::numeric, p)::float8, SUM(d)
        FROM (SELECT project, form, version, received_at, enumerator, device, status, review, conflicts, quarantined, lat, lon, -1 AS d FROM old_rows) c, generate_series(0, 2) p
        WHERE lat IS NOT NULL AND lon IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project, form, places, lat, lon) DO UPDATE SET n = m.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER kept_counts_insert AFTER INSERT ON response_index
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kept_counts_inserted();
CREATE TRIGGER kept_counts_update AFTER UPDATE ON response_index
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kept_counts_updated();
CREATE TRIGGER kept_counts_delete AFTER DELETE ON response_index
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kept_counts_deleted();
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
    n BIGINT NOT NULL,
    PRIMARY KEY (project, device, form, version, question, choice, sex, age_band,
        disability)
);
