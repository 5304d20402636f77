-- A project's referral directory (`PUT …/referrals`, `voices-server referrals publish`):
-- each publication a new version, kept; devices take the latest at each sync.
CREATE TABLE referral_directories (
    project TEXT NOT NULL REFERENCES projects(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (project, version)
);
