//! Running the `voices-server` binary in the command-line tests (`cli_*.rs`): one
//! invocation on a data directory, and its output read as accepted or refused.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The passphrase the tests give commands that ask for one.
pub const PASSWORD: &str = "a long enough passphrase";

/// `voices-server --data-dir DIR ARGS…`, with `VOICES_PASSWORD` set to `password`
/// or unset.
pub fn run(dir: &Path, password: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_voices-server"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null());
    match password {
        Some(p) => command.env("VOICES_PASSWORD", p),
        None => command.env_remove("VOICES_PASSWORD"),
    };
    command.output().unwrap()
}

/// Standard output of a command that must succeed.
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error of a command that must fail.
pub fn refused(output: Output) -> String {
    assert!(
        !output.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}
