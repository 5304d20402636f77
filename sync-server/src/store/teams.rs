//! Teams of devices, and coordinators limited to them (docs/console.md, Teams): the
//! types both backends return, the name rule, and the one SQL condition every read of
//! responses adds for a limited coordinator, so a read path cannot filter differently
//! from another.
//!
//! A team belongs to a project and holds devices (and so their enumerators); a device
//! may be in several teams. A coordinator's membership is unlimited unless an admin
//! limits it to teams; it then sees the responses started by those teams' devices and
//! nothing else. Admins always see everything.

use serde::Serialize;

use super::COORDINATOR_ACTOR_PREFIX;
use crate::{Error, Result};

/// A team as stored, with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    /// Device ids, sorted.
    pub devices: Vec<String>,
    /// The people limited to this team (user names), sorted.
    pub coordinators: Vec<String>,
}

/// A team as a membership names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamRef {
    pub id: i64,
    pub name: String,
}

/// Whose responses a reader sees in a project.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every response of the project: admins, and people not limited to teams.
    #[default]
    Project,
    /// Only the responses started by devices of the teams this person (a user name) is
    /// limited to in the project; none when those teams are empty or deleted.
    TeamsOf(String),
}

impl Scope {
    /// The user whose teams limit the reads, `None` for the whole project.
    pub fn limited_to(&self) -> Option<&str> {
        match self {
            Scope::Project => None,
            Scope::TeamsOf(user) => Some(user),
        }
    }
}

/// The condition that the response whose starting device is in `device_column` is one
/// the scope sees: started by a device of the limited user's teams, or by that user
/// (`user:NAME`: a response they entered themselves). `project` and `user` are the
/// placeholders of the project and of the limited user. Only added for
/// [`Scope::TeamsOf`].
pub fn scope_condition(device_column: &str, project: &str, user: &str) -> String {
    format!(
        "({device_column} IN (SELECT td.device FROM team_devices td \
         JOIN membership_teams mt ON mt.team_id = td.team_id \
         WHERE mt.project = {project} AND mt.user_name = {user}) \
         OR {device_column} = '{COORDINATOR_ACTOR_PREFIX}' || {user})"
    )
}

/// The longest team name, in characters.
pub const MAX_TEAM_NAME: usize = 80;

/// A team name as stored: trimmed, not empty, at most [`MAX_TEAM_NAME`] characters, no
/// control characters.
pub fn team_name(text: &str) -> Result<String> {
    let name = text.trim();
    if name.is_empty() {
        return Err(Error::Invalid("a team needs a name".into()));
    }
    if name.chars().count() > MAX_TEAM_NAME {
        return Err(Error::Invalid(format!(
            "a team name has at most {MAX_TEAM_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "a team name cannot hold control characters (line breaks, tabs)".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A limit as the audit records it: the team ids, or `unlimited`.
pub fn limit_detail(teams: Option<&[i64]>) -> String {
    match teams {
        None => "unlimited".into(),
        Some(ids) => format!(
            "teams={}",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

/// What became of a change to a team's members or a coordinator's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamChange {
    Done,
    /// No such team in the project.
    UnknownTeam,
    /// No such device in the project.
    UnknownDevice,
    /// The person is not a member of the project.
    NotMember,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_names_are_trimmed_and_bounded() {
        assert_eq!(team_name("  North  ").unwrap(), "North");
        assert!(team_name("   ").is_err());
        assert!(team_name("a\nb").is_err());
        assert!(team_name(&"é".repeat(MAX_TEAM_NAME)).is_ok());
        assert!(team_name(&"é".repeat(MAX_TEAM_NAME + 1)).is_err());
    }

    #[test]
    fn the_scope_condition_names_the_limited_users_teams() {
        assert_eq!(Scope::Project.limited_to(), None);
        assert_eq!(Scope::TeamsOf("lena".into()).limited_to(), Some("lena"));
        let sql = scope_condition("r.device", "?1", "?4");
        assert!(sql.starts_with("(r.device IN (SELECT td.device FROM team_devices td"));
        assert!(sql.ends_with(
            "WHERE mt.project = ?1 AND mt.user_name = ?4) OR r.device = 'user:' || ?4)"
        ));
    }

    #[test]
    fn the_audit_names_a_limit_by_team_ids() {
        assert_eq!(limit_detail(None), "unlimited");
        assert_eq!(limit_detail(Some(&[3, 7])), "teams=3,7");
    }
}
