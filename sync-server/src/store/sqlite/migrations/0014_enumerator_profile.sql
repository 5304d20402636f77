-- Enumerator–respondent matching and neutral presentation: each device's enumerator
-- profile (sex, language codes space-separated, home area; NULL: unknown), which the
-- device reads at each sync (`GET …/device-profile`), and the project's neutral name,
-- which the app shows instead of its own (window title, lists, reminders).
ALTER TABLE devices ADD COLUMN enumerator_sex TEXT;
ALTER TABLE devices ADD COLUMN enumerator_languages TEXT;
ALTER TABLE devices ADD COLUMN enumerator_area TEXT;
ALTER TABLE projects ADD COLUMN neutral_name TEXT;
