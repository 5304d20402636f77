//! `voices form schema`: the JSON Schema of the form format, embedded at build time
//! so the binary always prints the schema its own parser agrees with.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

pub const FORM_SCHEMA: &str = include_str!("../../../schemas/form.schema.json");

#[derive(clap::Args)]
pub struct Args {
    /// Write the schema to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.output {
        Some(path) => std::fs::write(&path, FORM_SCHEMA)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(FORM_SCHEMA.as_bytes())
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
