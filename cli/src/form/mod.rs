//! `voices form …`: one module per subcommand.

use std::process::ExitCode;

use clap::Subcommand;

mod schema;
mod stress;

#[derive(Subcommand)]
pub enum FormCommand {
    /// Print the form JSON Schema (for editors and other tools).
    Schema(schema::Args),
    /// Write a generated stress form (thousands of cross-referencing fields) for benchmarks.
    Stress(stress::Args),
}

pub fn run(command: FormCommand) -> anyhow::Result<ExitCode> {
    match command {
        FormCommand::Schema(args) => schema::run(args),
        FormCommand::Stress(args) => stress::run(args),
    }
}
