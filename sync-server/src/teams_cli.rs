//! `voices-server teams …`: an admin's commands for teams (docs/console.md, Teams), by
//! team name: list, add, rename, delete, put devices in and take them out, limit a
//! coordinator to teams and lift the limit. The binary's module (not the library's): it
//! calls the same store methods as the API's handlers.

use anyhow::{bail, Context};
use clap::Subcommand;
use voices_server::audit;
use voices_server::store::access::AuditAction;
use voices_server::store::{teams, Role, Store, Team, TeamChange};

#[derive(Subcommand)]
pub enum TeamsCommand {
    /// List the project's teams with their devices and the coordinators limited to them.
    List {
        #[arg(long)]
        project: String,
    },
    /// Add a team (of no devices yet).
    Add {
        name: String,
        #[arg(long)]
        project: String,
    },
    /// Rename a team.
    Rename {
        name: String,
        new_name: String,
        #[arg(long)]
        project: String,
    },
    /// Delete a team: its devices leave it, and coordinators limited to it lose it (they
    /// stay limited, to their other teams or to nothing).
    Delete {
        name: String,
        #[arg(long)]
        project: String,
    },
    /// Put devices in a team.
    AddDevice {
        team: String,
        #[arg(required = true)]
        devices: Vec<String>,
        #[arg(long)]
        project: String,
    },
    /// Take devices out of a team.
    RemoveDevice {
        team: String,
        #[arg(required = true)]
        devices: Vec<String>,
        #[arg(long)]
        project: String,
    },
    /// Limit a coordinator to these teams: they then read only the responses of the
    /// teams' devices (replaces an earlier limit).
    Limit {
        user: String,
        #[arg(required = true)]
        teams: Vec<String>,
        #[arg(long)]
        project: String,
    },
    /// Lift a coordinator's limit: they read every response of the project again.
    Unlimit {
        user: String,
        #[arg(long)]
        project: String,
    },
}

fn find(all: &[Team], name: &str, project: &str) -> anyhow::Result<i64> {
    all.iter()
        .find(|t| t.name == name.trim())
        .map(|t| t.id)
        .with_context(|| format!("project `{project}` has no team named `{}`", name.trim()))
}

fn project_teams(store: &dyn Store, project: &str) -> anyhow::Result<Vec<Team>> {
    if !store.project_exists(project)? {
        bail!("there is no project `{project}`");
    }
    Ok(store.teams(project)?)
}

fn refused(change: TeamChange, what: &str, project: &str) -> anyhow::Result<()> {
    match change {
        TeamChange::Done => Ok(()),
        TeamChange::UnknownTeam => bail!("project `{project}` has no such team"),
        TeamChange::UnknownDevice => bail!("project `{project}` has no device `{what}`"),
        TeamChange::NotMember => bail!("`{what}` is not a member of project `{project}`"),
    }
}

/// Run a `teams` command; `actor` is whom the audit names for it.
pub fn run(
    store: &dyn Store,
    command: &TeamsCommand,
    now: &str,
    actor: &str,
    say: impl Fn(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let record = |action: AuditAction, project: &str, target: &str, detail: String| {
        audit::record(
            store,
            actor,
            action,
            Some(project),
            Some(target),
            detail,
            true,
        )
    };
    match command {
        TeamsCommand::List { project } => {
            let all = project_teams(store, project)?;
            if all.is_empty() {
                return say(&format!("project `{project}` has no teams"));
            }
            for team in all {
                say(&format!(
                    "{}\tdevices: {}\tlimited coordinators: {}",
                    team.name,
                    if team.devices.is_empty() {
                        "none".to_owned()
                    } else {
                        team.devices.join(", ")
                    },
                    if team.coordinators.is_empty() {
                        "none".to_owned()
                    } else {
                        team.coordinators.join(", ")
                    },
                ))?;
            }
            Ok(())
        }
        TeamsCommand::Add { name, project } => {
            project_teams(store, project)?;
            let name = teams::team_name(name)?;
            let team = store.add_team(project, &name, now)?;
            record(
                AuditAction::AddTeam,
                project,
                &team.id.to_string(),
                format!("name={name}"),
            )?;
            say(&format!("added team `{name}` to `{project}`"))
        }
        TeamsCommand::Rename {
            name,
            new_name,
            project,
        } => {
            let id = find(&project_teams(store, project)?, name, project)?;
            let new_name = teams::team_name(new_name)?;
            store.rename_team(project, id, &new_name)?;
            record(
                AuditAction::RenameTeam,
                project,
                &id.to_string(),
                format!("name={new_name}"),
            )?;
            say(&format!("renamed team `{}` to `{new_name}`", name.trim()))
        }
        TeamsCommand::Delete { name, project } => {
            let id = find(&project_teams(store, project)?, name, project)?;
            store.delete_team(project, id)?;
            record(
                AuditAction::DeleteTeam,
                project,
                &id.to_string(),
                String::new(),
            )?;
            say(&format!("deleted team `{}`", name.trim()))
        }
        TeamsCommand::AddDevice {
            team,
            devices,
            project,
        }
        | TeamsCommand::RemoveDevice {
            team,
            devices,
            project,
        } => {
            let member = matches!(command, TeamsCommand::AddDevice { .. });
            let id = find(&project_teams(store, project)?, team, project)?;
            for device in devices {
                refused(
                    store.set_team_device(project, id, device, member)?,
                    device,
                    project,
                )?;
                let detail = format!("{} {device}", if member { "added" } else { "removed" });
                record(AuditAction::TeamDevice, project, &id.to_string(), detail)?;
            }
            say(&format!(
                "{} team `{}`: {}",
                if member { "added to" } else { "removed from" },
                team.trim(),
                devices.join(", ")
            ))
        }
        TeamsCommand::Limit {
            user,
            teams,
            project,
        } => {
            let all = project_teams(store, project)?;
            let ids = teams
                .iter()
                .map(|t| find(&all, t, project))
                .collect::<anyhow::Result<Vec<i64>>>()?;
            refuse_admin(store, user)?;
            refused(
                store.limit_member(user, project, Some(&ids))?,
                user,
                project,
            )?;
            record(
                AuditAction::LimitTeams,
                project,
                user,
                teams::limit_detail(Some(&ids)),
            )?;
            say(&format!(
                "`{user}` now reads only the responses of {} in `{project}`",
                teams.join(", ")
            ))
        }
        TeamsCommand::Unlimit { user, project } => {
            project_teams(store, project)?;
            refused(store.limit_member(user, project, None)?, user, project)?;
            record(
                AuditAction::LimitTeams,
                project,
                user,
                teams::limit_detail(None),
            )?;
            say(&format!(
                "`{user}` reads every response of `{project}` again"
            ))
        }
    }
}

fn refuse_admin(store: &dyn Store, user: &str) -> anyhow::Result<()> {
    match store.find_user(user)? {
        None => bail!("there is no user `{user}`"),
        Some(u) if u.role == Role::Admin => {
            bail!("`{user}` is an admin, and admins read every response")
        }
        Some(_) => Ok(()),
    }
}
