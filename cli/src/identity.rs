//! Identities that open sealed answers: `voices keygen` writes a new one, protected by a
//! passphrase (the identity file is an age file encrypted with the passphrase, as
//! `age-keygen | age -p` writes it), and prints its public recipient for
//! `voices-server project key add`. The identity never goes to a server or a device.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{bail, Context};

/// The variable a passphrase may come from (scripts and tests) instead of the terminal.
pub const PASSPHRASE_VAR: &str = "VOICES_IDENTITY_PASSPHRASE";

/// Fewest characters of a new identity's passphrase.
const MIN_PASSPHRASE: usize = 12;

/// The largest scrypt work factor (log2 N) of an identity file we open. A second's work
/// on a fast machine is 2^18–2^20; 2^22 costs seconds and 4 GiB, and is where age's
/// documentation warns that larger values let a crafted file take hours.
const MAX_WORK_FACTOR: u8 = 22;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the identity (refused if the file exists).
    #[arg(long, short)]
    output: PathBuf,
}

pub fn keygen(args: KeygenArgs) -> anyhow::Result<()> {
    if args.output.exists() {
        bail!(
            "{} exists already; an identity is never overwritten (answers sealed to it would be lost)",
            args.output.display()
        );
    }
    let passphrase = passphrase("passphrase for the new identity")?;
    if passphrase.expose_secret().chars().count() < MIN_PASSPHRASE {
        bail!("a passphrase has at least {MIN_PASSPHRASE} characters");
    }
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let text = SecretString::from(format!(
        "# created: {}\n# public key: {recipient}\n{}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        identity.to_string().expose_secret()
    ));
    let encryptor = age::Encryptor::with_user_passphrase(passphrase);
    let mut file = Vec::new();
    let mut writer = encryptor.wrap_output(&mut file)?;
    writer.write_all(text.expose_secret().as_bytes())?;
    writer.finish()?;
    write_new(&args.output, &file)?;
    println!("{recipient}");
    eprintln!(
        "voices: identity written to {} (keep it and its passphrase safe: they open every answer sealed to {recipient}); add the key with `voices-server project key add {recipient} --project ID`",
        args.output.display()
    );
    Ok(())
}

/// Create `path` for this user only, refusing to replace a file.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// The identities of an identity file: passphrase-protected (asks for it), or plain
/// `AGE-SECRET-KEY-1…` lines (as `age-keygen` writes them).
pub fn read(path: &Path) -> anyhow::Result<Vec<age::x25519::Identity>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read identity {}", path.display()))?;
    let text = match age::Decryptor::new_buffered(&bytes[..]) {
        Ok(decryptor) if decryptor.is_scrypt() => {
            let passphrase = passphrase(&format!("passphrase of {}", path.display()))?;
            let mut identity = age::scrypt::Identity::new(passphrase);
            // age bounds the work it accepts by timing this machine now, so a busy machine
            // refuses an identity it wrote itself. The file is the reader's own: accept
            // any work factor a `voices keygen` or `age -p` on a fast machine writes.
            identity.set_max_work_factor(MAX_WORK_FACTOR);
            let mut reader = decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
            let mut text = String::new();
            reader.read_to_string(&mut text)?;
            text
        }
        Ok(_) => bail!(
            "{} is encrypted to a key, not a passphrase: give the identity itself",
            path.display()
        ),
        Err(_) => String::from_utf8(bytes).with_context(|| {
            format!(
                "{} is neither an age identity nor a passphrase-protected one",
                path.display()
            )
        })?,
    };
    let identities: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.parse::<age::x25519::Identity>().map_err(|e| {
                anyhow::anyhow!("{}: a line is not an age identity ({e})", path.display())
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if identities.is_empty() {
        bail!("{} holds no identity", path.display());
    }
    Ok(identities)
}

/// A passphrase from [`PASSPHRASE_VAR`], or typed on the terminal (one line of stdin).
fn passphrase(prompt: &str) -> anyhow::Result<SecretString> {
    if let Ok(value) = std::env::var(PASSPHRASE_VAR) {
        return Ok(SecretString::from(value));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt}: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        bail!("no passphrase: type it, or set {PASSPHRASE_VAR}");
    }
    Ok(SecretString::from(line))
}
