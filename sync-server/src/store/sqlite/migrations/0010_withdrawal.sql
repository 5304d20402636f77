-- A respondent's withdrawal (`POST …/responses/{id}/withdraw`): when, by which
-- coordinator, why, and when its answers were purged (the project's
-- `withdrawn_keep_days` after the withdrawal; NULL: the default). A withdrawn response
-- leaves the console's index and counts; the row and its revision ids stay so a device
-- sending the same revisions again is answered as before (exactly once).
ALTER TABLE responses ADD COLUMN withdrawn_at TEXT;
ALTER TABLE responses ADD COLUMN withdrawn_by TEXT;
ALTER TABLE responses ADD COLUMN withdrawn_reason TEXT;
ALTER TABLE responses ADD COLUMN purged_at TEXT;
ALTER TABLE projects ADD COLUMN withdrawn_keep_days INTEGER;
CREATE INDEX responses_withdrawn ON responses (project, withdrawn_at) WHERE withdrawn_at IS NOT NULL;
