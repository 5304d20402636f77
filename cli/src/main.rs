//! `voices`: the form designer's command-line tool (see the library for its commands).

use std::process::ExitCode;

fn main() -> ExitCode {
    voices_cli::run_args(std::env::args_os())
}
