
CREATE INDEX responses_form_feed ON responses (project, form, feed_seq);
