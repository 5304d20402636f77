//! `voices form stress`: write a generated stress form (see `voices_core::stress`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Number of fields (at least the five metadata fields are always present).
    #[arg(long, default_value_t = 2000)]
    fields: usize,
    /// Seed; the same fields and seed always give the same form.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the form to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Beyond this the form is no longer useful for benchmarks and only fills the disk.
const MAX_FIELDS: usize = 1_000_000;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.fields <= MAX_FIELDS,
        "--fields {} is more than {MAX_FIELDS}",
        args.fields
    );
    let form = voices_core::stress::generate(args.fields, args.seed);
    let mut json = serde_json::to_string_pretty(&form).context("cannot serialize the form")?;
    json.push('\n');
    match args.output {
        Some(path) => std::fs::write(&path, json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(json.as_bytes())
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
