-- Teams (docs/console.md, Teams): a team belongs to a project and holds devices (and so
-- their enumerators); a coordinator's membership can be limited to teams, and then reads
-- only the responses those devices started. `teams_only` is kept on the membership
-- rather than inferred from its teams, so deleting a coordinator's last team leaves
-- them limited to nothing, never unlimited.
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (project, name)
);
CREATE TABLE team_devices (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    device TEXT NOT NULL REFERENCES devices(id),
    PRIMARY KEY (team_id, device)
);
CREATE INDEX team_devices_by_device ON team_devices (device);
ALTER TABLE memberships ADD COLUMN teams_only INTEGER NOT NULL DEFAULT 0;
CREATE TABLE membership_teams (
    user_name TEXT NOT NULL,
    project TEXT NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (user_name, project, team_id)
);
CREATE INDEX membership_teams_by_team ON membership_teams (team_id);
