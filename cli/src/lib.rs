//! `voices`: the form designer's command-line tool, and the coordinator's for sealed
//! answers. The binary's body as a library, so the binary is one call and other crates'
//! tests (the app's sealed-answers test) run its commands as a person would; not a
//! library for programs (its errors are `anyhow`'s, said on stderr).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod decrypt;
mod form;
pub mod identity;

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

/// Run the command line `args` (the program's name first); its exit code: 0, 1 for a
/// finding (a form with errors, answers left sealed), 2 for an error, said on stderr.
pub fn run_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are printed on stdout and succeed, as clap's own exit does.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
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
