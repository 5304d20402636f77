//! `voices`: the form designer's command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod form;

#[derive(Parser)]
#[command(
    name = "voices",
    version,
    about = "Voices: write, check and preview survey forms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with form documents.
    #[command(subcommand)]
    Form(form::FormCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Form(command) => form::run(command),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("voices: {error:#}");
            ExitCode::from(2)
        }
    }
}
