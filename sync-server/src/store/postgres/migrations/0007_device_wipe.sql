-- A device revoked with wipe: from then on every call it makes is answered
-- `device_wipe`, and the app erases its data when it sees that answer.
ALTER TABLE devices ADD COLUMN wipe_requested_at TEXT;
