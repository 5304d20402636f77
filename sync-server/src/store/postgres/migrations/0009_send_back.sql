ALTER TABLE reviews ADD COLUMN fields TEXT, ADD COLUMN context TEXT;
CREATE INDEX responses_by_device ON responses (project, device, feed_seq);
