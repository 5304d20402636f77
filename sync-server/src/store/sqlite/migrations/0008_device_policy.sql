-- What a project asks of its devices (`project policy`, `PUT …/device-policy`): the
-- idle time before the app locks and the days a sent, acknowledged response stays on
-- the device. NULL: the default (`DevicePolicy::DEFAULT`).
ALTER TABLE projects ADD COLUMN device_idle_lock_seconds INTEGER;
ALTER TABLE projects ADD COLUMN device_retention_days INTEGER;
