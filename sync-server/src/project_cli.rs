//! `voices-server project …`: an admin's commands for projects (add, the device policy,
//! the presentation, recipient keys). The binary's module (not the library's).

use std::sync::Arc;

use anyhow::bail;
use clap::Subcommand;
use voices_server::store::Store;

use crate::{profile_cli, say, CLI_ACTOR};

#[derive(Subcommand)]
pub enum ProjectCommand {
    Add {
        id: String,
        #[arg(long)]
        title: Option<String>,
    },
    /// Show or set what the project asks of its devices (the apps take it at their next
    /// sync): the idle time before the app locks, and how long a response stays on the
    /// device after the server acknowledged it. Without options: print the policy.
    Policy {
        id: String,
        /// Lock the app after this many minutes without use (default 5).
        #[arg(long)]
        idle_lock_minutes: Option<u32>,
        /// Remove a response's answers and files from the device this many days after
        /// the server acknowledged it; 0 removes them at once (default 30).
        #[arg(long)]
        retention_days: Option<u32>,
        /// Keep a response whose respondent withdrew this many days (for the audit)
        /// before its answers are purged; 0 purges them at once (default 30).
        #[arg(long)]
        withdrawn_keep_days: Option<u32>,
    },
    /// Show or set how the app presents the project: a neutral name it shows instead of
    /// its own (window title, the name on screen, reminders), from the devices' next
    /// sync. Without options: print it.
    Presentation {
        id: String,
        /// The neutral name ("Field notes"); "" removes it.
        #[arg(long)]
        neutral_name: Option<String>,
    },
    /// The public keys devices seal sensitive and pii answers to (`voices keygen` makes
    /// one; the server never holds the identity that opens them).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Add a recipient (`age1…`): devices seal to it from their next form pull on.
    Add {
        recipient: String,
        #[arg(long)]
        project: String,
        /// Whose key it is ("data manager, 2026").
        #[arg(long, default_value = "")]
        label: String,
    },
    /// The project's keys, retired ones too.
    List {
        #[arg(long)]
        project: String,
    },
    /// Stop sealing new answers to a key (what was sealed to it still opens with its
    /// identity).
    Retire {
        recipient: String,
        #[arg(long)]
        project: String,
    },
}

pub fn run(store: Arc<dyn Store>, command: &ProjectCommand, now: &str) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Key { command } => keys_command(store.as_ref(), command, now),
        ProjectCommand::Add { id, title } => {
            store.add_project(id, title.as_deref().unwrap_or(id), now)?;
            println!("added project `{id}`");
            Ok(())
        }
        ProjectCommand::Policy {
            id,
            idle_lock_minutes,
            retention_days,
            withdrawn_keep_days,
        } => {
            let Some(mut policy) = store.device_policy(id)? else {
                bail!("there is no project `{id}`");
            };
            let changing = idle_lock_minutes.is_some() || retention_days.is_some();
            if let Some(minutes) = idle_lock_minutes {
                policy.idle_lock_seconds = minutes.saturating_mul(60);
            }
            if let Some(days) = retention_days {
                policy.retention_days = *days;
            }
            if changing {
                policy.check().map_err(|e| anyhow::anyhow!(e))?;
                store.set_device_policy(id, &policy)?;
            }
            if let Some(days) = withdrawn_keep_days {
                voices_server::withdraw::set_keep_days(store.as_ref(), id, *days)?;
            }
            let keep = store.withdrawn_keep_days(id)?.unwrap_or_default();
            println!(
                "project `{id}`: the app locks after {} s without use; a response leaves the device {} day(s) after it was acknowledged; a withdrawn response is purged {keep} day(s) after its withdrawal",
                policy.idle_lock_seconds, policy.retention_days
            );
            Ok(())
        }
        ProjectCommand::Presentation { id, neutral_name } => {
            profile_cli::presentation(store.as_ref(), id, neutral_name.as_deref(), say)
        }
    }
}

fn keys_command(store: &dyn Store, command: &KeyCommand, now: &str) -> anyhow::Result<()> {
    match command {
        KeyCommand::Add {
            recipient,
            project,
            label,
        } => {
            let key = voices_server::keys::add(store, project, recipient, label, CLI_ACTOR, now)?;
            say(&format!(
                "project `{project}` seals sensitive and pii answers to {} from the devices' next form pull",
                key.recipient
            ))
        }
        KeyCommand::List { project } => {
            for key in store.project_keys(project)? {
                println!(
                    "{}\t{}\tadded {} by {}\t{}",
                    key.recipient,
                    match &key.retired_at {
                        Some(at) => format!("retired {at}"),
                        None => "current".to_owned(),
                    },
                    key.added_at,
                    key.added_by,
                    key.label
                );
            }
            Ok(())
        }
        KeyCommand::Retire { recipient, project } => {
            voices_server::keys::retire(store, project, recipient, CLI_ACTOR, now)?;
            say(&format!(
                "retired {recipient} in `{project}`: devices stop sealing to it at their next form pull"
            ))
        }
    }
}
