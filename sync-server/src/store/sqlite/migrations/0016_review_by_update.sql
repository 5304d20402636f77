-- The responses table filtered by review state and sorted by update time (the received
-- responses last changed, the console's review queue) reads its page from this index in
-- order, instead of passing every response reviewed since on the update-time index.
CREATE INDEX ri_review_updated ON response_index (project, form, review, updated_at, id);
