//! `voices form …`: one module per subcommand.

use std::process::ExitCode;

use clap::Subcommand;

mod check;
mod preview;
mod schema;
mod stress;
mod xlsform;

#[derive(Subcommand)]
pub enum FormCommand {
    /// Check forms: every problem as file:line:col: pointer: message; exit 1 on errors.
    Check(check::Args),
    /// Show what an enumerator would see given some answers: visible, required, invalid, calculated.
    Preview(preview::Args),
    /// Print the form JSON Schema (for editors and other tools).
    Schema(schema::Args),
    /// Write a generated stress form (thousands of cross-referencing fields) for benchmarks.
    Stress(stress::Args),
    /// Import an XLSForm (.xlsx, .xls or pyxform markdown) as a Voices form.
    Import(xlsform::ImportArgs),
    /// Export a Voices form as an XLSForm .xlsx.
    Export(xlsform::ExportArgs),
}

pub fn run(command: FormCommand) -> anyhow::Result<ExitCode> {
    match command {
        FormCommand::Check(args) => check::run(args),
        FormCommand::Preview(args) => preview::run(args),
        FormCommand::Schema(args) => schema::run(args),
        FormCommand::Stress(args) => stress::run(args),
        FormCommand::Import(args) => xlsform::run_import(args),
        FormCommand::Export(args) => xlsform::run_export(args),
    }
}
