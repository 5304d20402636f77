//! `voices`: the form designer's command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decrypt;
mod form;
mod identity;

#[derive(Parser)]
#[command(
    name = "voices",
    version,
    about = "Voices: write, check and preview survey forms; open sealed answers"
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
    /// Make an identity for reading sealed answers (asks a passphrase; prints the public
    /// key to add with `voices-server project key add`).
    Keygen(identity::KeygenArgs),
    /// Open the sealed answers of an export or a pull with an identity; writes the clear
    /// version (exit 1 if some stayed sealed).
    Decrypt(decrypt::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Form(command) => form::run(command),
        Command::Keygen(args) => identity::keygen(args).map(|()| ExitCode::SUCCESS),
        Command::Decrypt(args) => decrypt::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("voices: {error:#}");
            ExitCode::from(2)
        }
    }
}
