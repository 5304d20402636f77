//! `voices-server user …`: an admin's commands for people's accounts (add, password,
//! sessions, disable and enable, memberships, the pii grant). The binary's module (not
//! the library's): it calls the same store and account functions as the API's handlers.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Subcommand;
use voices_server::auth;
use voices_server::store::access::AuditAction;
use voices_server::store::{Role, Store, UserChanges};

use crate::{say, CLI_ACTOR};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from VOICES_PASSWORD or the first line of stdin.
    Add {
        name: String,
        #[arg(long, value_parser = ["admin", "designer", "coordinator"])]
        role: String,
        /// Projects the user works in (repeatable; admins see every project).
        #[arg(long = "project")]
        projects: Vec<String>,
    },
    /// Set a new password (from VOICES_PASSWORD or stdin) and end every session the
    /// user holds.
    Password { name: String },
    /// End every session the user holds (they sign in again).
    RevokeSessions { name: String },
    /// Disable the account: no sign-in, and every session stops working at once.
    Disable { name: String },
    /// Enable a disabled account again (the user signs in anew).
    Enable { name: String },
    /// Take the user out of a project; their next request there is refused.
    RemoveMembership {
        name: String,
        #[arg(long)]
        project: String,
    },
    /// Let a member read pii answers in a project (a grant of its own: no role has it;
    /// admins always may). `--revoke` takes it back.
    GrantPii {
        name: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        revoke: bool,
    },
}

pub fn run(store: Arc<dyn Store>, command: &UserCommand, now: &str) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            projects,
        } => {
            let role = Role::parse(role).context("unknown role")?;
            let hash = auth::hash_password(&read_password()?)?;
            store.add_user(name, role, &hash, now)?;
            for p in projects {
                store.add_membership(name, p)?;
            }
            println!("added {} `{name}`", role.as_str());
            Ok(())
        }
        UserCommand::Password { name } => {
            if !voices_server::accounts::reset_password(store.as_ref(), name, &read_password()?)? {
                bail!("there is no user `{name}`");
            }
            say(&format!(
                "new password for `{name}`; their sessions were ended"
            ))
        }
        UserCommand::RevokeSessions { name } => {
            if store.find_user(name)?.is_none() {
                bail!("there is no user `{name}`");
            }
            let ended = store.revoke_user_tokens(name, now)?;
            say(&format!("ended {ended} sessions of `{name}`"))
        }
        UserCommand::Disable { name } | UserCommand::Enable { name } => {
            let disable = matches!(command, UserCommand::Disable { .. });
            let changes = UserChanges {
                disabled: Some(disable),
                ..UserChanges::default()
            };
            if store.update_user(name, &changes, now)?.is_none() {
                bail!("there is no user `{name}`");
            }
            say(&if disable {
                format!("disabled `{name}`; their sessions were ended")
            } else {
                format!("enabled `{name}`")
            })
        }
        UserCommand::RemoveMembership { name, project } => {
            if !store.remove_membership(name, project)? {
                bail!("`{name}` is not a member of project `{project}`");
            }
            say(&format!("`{name}` is no longer a member of `{project}`"))
        }
        UserCommand::GrantPii {
            name,
            project,
            revoke,
        } => {
            if !store.set_pii_grant(name, project, !revoke)? {
                bail!("`{name}` is not a member of project `{project}`");
            }
            voices_server::audit::record(
                store.as_ref(),
                CLI_ACTOR,
                AuditAction::GrantPii,
                Some(project),
                Some(name),
                format!("read_pii={}", !revoke),
                true,
            )?;
            say(&if *revoke {
                format!("`{name}` may no longer read pii in `{project}`")
            } else {
                format!("`{name}` may read pii in `{project}`")
            })
        }
    }
}

/// A new password from VOICES_PASSWORD or the first line of stdin, held to the same
/// rule as every password ([`auth::check_new_password`]).
fn read_password() -> anyhow::Result<String> {
    let password = match std::env::var("VOICES_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            if std::io::stdin().is_terminal() {
                eprint!("password: ");
                std::io::stderr().flush()?;
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    auth::check_new_password(&password)?;
    Ok(password)
}
