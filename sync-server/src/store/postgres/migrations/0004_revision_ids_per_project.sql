
ALTER TABLE revisions DROP CONSTRAINT revisions_pkey;
ALTER TABLE revisions ADD PRIMARY KEY (project, id);
