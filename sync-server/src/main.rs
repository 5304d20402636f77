//! `voices-server`: the sync server and its admin commands.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use voices_core::sync::protocol::ProvisioningCode;
use voices_server::http::load::{self, RequestLimits};
use voices_server::serve::{self, ServeOptions, TlsFiles};
use voices_server::store::access::{AuditAction, AuditQuery};
use voices_server::store::postgres::PostgresStore;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Published, Role, Store, UserChanges};
use voices_server::{app, auth, metrics_app, AppState};

mod profile_cli;
mod teams_cli;

/// Ingest allocates and frees many small strings per record on several threads at once;
/// mimalloc does that with far less contention and fewer page faults than the system
/// allocator (profiled: a quarter of ingest CPU time was in malloc/free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "voices-server", version, about = "The Voices sync server")]
struct Cli {
    /// Directory of the embedded SQLite database (created on first start).
    #[arg(
        long,
        global = true,
        default_value = "./voices-data",
        env = "VOICES_DATA_DIR"
    )]
    data_dir: PathBuf,
    /// Database URL instead of the embedded database: `postgres://USER@HOST:PORT/DB`
    /// (several servers may share one PostgreSQL database) or `sqlite://PATH`. TLS to
    /// PostgreSQL: `?sslmode=disable|prefer|require|verify-full&sslrootcert=CA.pem`.
    #[arg(long, global = true, env = "VOICES_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8470", env = "VOICES_LISTEN")]
        listen: SocketAddr,
        /// Log as JSON lines instead of text.
        #[arg(long)]
        json_logs: bool,
        /// Offer and accept only gzip (and plain) upload bodies, not zstd: for a proxy in
        /// front of the server that must read bodies and knows no zstd. Apps follow the
        /// capabilities in `/api/v1/info`.
        #[arg(long, env = "VOICES_NO_ZSTD")]
        no_zstd: bool,
        /// The address devices reach this server at (`https://survey.example.org`), for
        /// the provisioning codes made in the console; without it, the address the
        /// browser used.
        #[arg(long, env = "VOICES_PUBLIC_URL")]
        public_url: Option<String>,
        /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key. A
        /// self-signed certificate's fingerprint goes into provisioning codes (give the
        /// same file to `device add --tls-cert`) and devices pin it.
        #[arg(
            long,
            value_name = "FILE",
            env = "VOICES_TLS_CERT",
            requires = "tls_key"
        )]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(
            long,
            value_name = "FILE",
            env = "VOICES_TLS_KEY",
            requires = "tls_cert"
        )]
        tls_key: Option<PathBuf>,
        /// Seconds a client has to send a request's headers (and finish the TLS handshake);
        /// idle connections close after it too.
        #[arg(long, value_name = "SECONDS", default_value_t = serve::DEFAULT_HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_read_timeout: u64,
        /// Seconds from a request's arrival to its answer (408 after that); streamed
        /// exports and downloads may take longer to send.
        #[arg(long, value_name = "SECONDS", default_value_t = load::DEFAULT_REQUEST_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=86400))]
        request_timeout: u64,
        /// Requests handled at once; more wait up to 2 s, then get 503 with Retry-After.
        #[arg(long, value_name = "N", default_value_t = load::DEFAULT_MAX_REQUESTS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
        max_requests: usize,
        /// Connections open at once; more wait in the system's accept queue.
        #[arg(long, value_name = "N", default_value_t = serve::DEFAULT_MAX_CONNECTIONS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        max_connections: usize,
        /// The server is reached through a reverse proxy that appends the client's address
        /// to `X-Forwarded-For`: sign-in throttling then counts that address instead of
        /// the proxy's. Only with a proxy that does so (docs/deploy.md).
        #[arg(long, env = "VOICES_BEHIND_PROXY")]
        behind_proxy: bool,
        /// Largest attachment (photo, audio, video) a device may upload, in bytes; a
        /// larger declared size is refused before any byte is stored.
        #[arg(long, value_name = "BYTES", env = "VOICES_MAX_ATTACHMENT_BYTES", default_value_t = voices_core::sync::protocol::DEFAULT_MAX_ATTACHMENT_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
        max_attachment_bytes: u64,
        /// Seconds a shutdown (SIGTERM, SIGINT) waits for requests in flight.
        #[arg(long, value_name = "SECONDS", default_value_t = serve::DEFAULT_SHUTDOWN_GRACE.as_secs())]
        shutdown_grace: u64,
        /// Also serve `/metrics` without credentials on this loopback address (e.g.
        /// 127.0.0.1:9470), for a Prometheus on the same host; on the API's port
        /// `/metrics` needs an admin. Only a loopback address is accepted.
        #[arg(long, value_name = "ADDRESS", env = "VOICES_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
    },
    /// Accounts of people (admins, designers, coordinators).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Projects: every form, device and response belongs to one.
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Enumerator devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Form versions.
    Form {
        #[command(subcommand)]
        command: FormCommand,
    },
    /// The project's referral directory (the services a referral step lists).
    Referrals {
        #[command(subcommand)]
        command: ReferralsCommand,
    },
    /// Teams of devices, and coordinators limited to them (they then read only their
    /// teams' responses).
    Teams {
        #[command(subcommand)]
        command: teams_cli::TeamsCommand,
    },
    /// Export a form's responses (CSV zip as in ODK Central, JSON or GeoJSON), streamed.
    Export {
        #[arg(long)]
        project: String,
        #[arg(long)]
        form: String,
        #[arg(long, value_parser = ["csv", "json", "geojson"], default_value = "csv")]
        format: String,
        /// Only responses changed after this pull cursor.
        #[arg(long, default_value_t = 0)]
        since: i64,
        /// Include fields marked `pii`.
        #[arg(long)]
        include_pii: bool,
        /// Choice labels instead of choice names (CSV).
        #[arg(long)]
        labels: bool,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// The access audit (who signed in, read, searched, exported, reviewed, edited,
    /// managed devices and keys), oldest first; every filter given must match.
    Audit {
        #[arg(long)]
        project: Option<String>,
        /// A person's name, or a device id.
        #[arg(long)]
        actor: Option<String>,
        /// sign_in, sign_in_failed, read_response, search, export, review, edit,
        /// add_device, revoke_device, add_key, retire_key, grant_pii, open_sealed,
        /// add_team, rename_team, delete_team, team_device, limit_teams.
        #[arg(long)]
        action: Option<String>,
        /// From this time (RFC 3339, UTC: 2026-12-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Before this time.
        #[arg(long)]
        until: Option<String>,
        /// After this record number (the `next` of a previous page).
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from VOICES_PASSWORD or the first line of stdin.
    Add {
        name: String,
        #[arg(long, value_parser = ["admin", "designer", "coordinator"])]
        role: String,
        /// Projects the user works in (repeatable; admins see every project).
        #[arg(long = "project")]
        projects: Vec<String>,
    },
    /// Set a new password (from VOICES_PASSWORD or stdin) and end every session the
    /// user holds.
    Password { name: String },
    /// End every session the user holds (they sign in again).
    RevokeSessions { name: String },
    /// Disable the account: no sign-in, and every session stops working at once.
    Disable { name: String },
    /// Enable a disabled account again (the user signs in anew).
    Enable { name: String },
    /// Take the user out of a project; their next request there is refused.
    RemoveMembership {
        name: String,
        #[arg(long)]
        project: String,
    },
    /// Let a member read pii answers in a project (a grant of its own: no role has it;
    /// admins always may). `--revoke` takes it back.
    GrantPii {
        name: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        revoke: bool,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    Add {
        id: String,
        #[arg(long)]
        title: Option<String>,
    },
    /// Show or set what the project asks of its devices (the apps take it at their next
    /// sync): the idle time before the app locks, and how long a response stays on the
    /// device after the server acknowledged it. Without options: print the policy.
    Policy {
        id: String,
        /// Lock the app after this many minutes without use (default 5).
        #[arg(long)]
        idle_lock_minutes: Option<u32>,
        /// Remove a response's answers and files from the device this many days after
        /// the server acknowledged it; 0 removes them at once (default 30).
        #[arg(long)]
        retention_days: Option<u32>,
        /// Keep a response whose respondent withdrew this many days (for the audit)
        /// before its answers are purged; 0 purges them at once (default 30).
        #[arg(long)]
        withdrawn_keep_days: Option<u32>,
    },
    /// Show or set how the app presents the project: a neutral name it shows instead of
    /// its own (window title, the name on screen, reminders), from the devices' next
    /// sync. Without options: print it.
    Presentation {
        id: String,
        /// The neutral name ("Field notes"); "" removes it.
        #[arg(long)]
        neutral_name: Option<String>,
    },
    /// The public keys devices seal sensitive and pii answers to (`voices keygen` makes
    /// one; the server never holds the identity that opens them).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Add a recipient (`age1…`): devices seal to it from their next form pull on.
    Add {
        recipient: String,
        #[arg(long)]
        project: String,
        /// Whose key it is ("data manager, 2026").
        #[arg(long, default_value = "")]
        label: String,
    },
    /// The project's keys, retired ones too.
    List {
        #[arg(long)]
        project: String,
    },
    /// Stop sealing new answers to a key (what was sealed to it still opens with its
    /// identity).
    Retire {
        recipient: String,
        #[arg(long)]
        project: String,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Register a device and print its one-time provisioning code (text and QR code).
    Add {
        #[arg(long)]
        project: String,
        #[arg(long)]
        enumerator: String,
        /// Device id (default: a random one).
        #[arg(long)]
        id: Option<String>,
        /// A name people recognise the device by ("Tablet 4"), listed in the console.
        #[arg(long)]
        label: Option<String>,
        /// The server address as the device will reach it. The app accepts `http://` only
        /// for this machine (loopback); elsewhere use `https://`.
        #[arg(long, default_value = "http://127.0.0.1:8470")]
        server: String,
        /// The certificate the server serves (`serve --tls-cert`): when it is self-signed,
        /// the code carries its SHA-256 fingerprint and the device trusts exactly it.
        #[arg(long, value_name = "FILE", env = "VOICES_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// Pin --tls-cert even if it is not self-signed (a private certificate authority
        /// the devices do not know).
        #[arg(long, requires = "tls_cert")]
        pin_certificate: bool,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        valid_days: i64,
        /// Also write the QR code as a PNG picture to FILE (to print, or to send to the
        /// device, whose app reads the code from a photo or screenshot).
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// The enumerator's profile, which sections' matching rules read on the device.
        #[command(flatten)]
        profile: profile_cli::ProfileOptions,
    },
    /// Show or change the enumerator profile of a device (sex, languages, home area),
    /// which sections' matching rules read; the device takes it at its next sync.
    Profile {
        id: String,
        #[command(flatten)]
        profile: profile_cli::ProfileOptions,
    },
    /// Revoke a device and all its tokens.
    Revoke {
        id: String,
        /// Also have the app erase everything on the device at its next contact: forms,
        /// interviews and responses not yet sent are lost.
        #[arg(long)]
        wipe: bool,
    },
}

#[derive(Subcommand)]
enum FormCommand {
    /// Check and publish a form version (JSON) in a project.
    Publish {
        file: PathBuf,
        #[arg(long)]
        project: String,
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

#[derive(Subcommand)]
enum ReferralsCommand {
    /// Check and publish a referral directory (JSON, docs/forms.md) as the project's next
    /// version; devices take it at their next sync.
    Publish {
        file: PathBuf,
        #[arg(long)]
        project: String,
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

fn open_store(cli: &Cli) -> anyhow::Result<Arc<dyn Store>> {
    let path = match &cli.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PostgresStore::open(url)
                .context("cannot open the PostgreSQL database given by --database-url")?;
            return Ok(Arc::new(store));
        }
        Some(url) => match url.strip_prefix("sqlite://") {
            Some(path) => PathBuf::from(path),
            None => bail!(
                "unsupported --database-url `{url}`: use `postgres://USER@HOST:PORT/DB` or `sqlite://PATH`; \
                 leave it out to use {}/voices.sqlite3",
                cli.data_dir.display()
            ),
        },
        None => {
            std::fs::create_dir_all(&cli.data_dir).with_context(|| {
                format!("cannot create the data directory {}", cli.data_dir.display())
            })?;
            cli.data_dir.join("voices.sqlite3")
        }
    };
    let store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A new password from VOICES_PASSWORD or the first line of stdin, held to the same
/// rule as every password ([`auth::check_new_password`]).
fn read_password() -> anyhow::Result<String> {
    let password = match std::env::var("VOICES_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            if std::io::stdin().is_terminal() {
                eprint!("password: ");
                std::io::stderr().flush()?;
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    auth::check_new_password(&password)?;
    Ok(password)
}

fn print_qr(text: &str) -> anyhow::Result<()> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).context("cannot make a QR code")?;
    let image = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    say(&image)
}

/// Pixels per QR module in `--qr-png` pictures: big enough to survive printing and a
/// phone photo of the print.
const QR_PNG_MODULE_PIXELS: u32 = 8;

/// The QR code of `text` as a black-on-white PNG with the standard 4-module quiet zone.
fn qr_png(text: &str) -> anyhow::Result<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).context("cannot make a QR code")?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * QR_PNG_MODULE_PIXELS;
    let picture = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / QR_PNG_MODULE_PIXELS, y / QR_PNG_MODULE_PIXELS);
        let inside =
            (quiet..quiet + modules).contains(&mx) && (quiet..quiet + modules).contains(&my);
        let dark = inside
            && colors[((my - quiet) * modules + (mx - quiet)) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut png, image::ImageFormat::Png)
        .context("cannot encode the QR code as PNG")?;
    Ok(png.into_inner())
}

/// Print a line; a closed stdout (`| head`) is an error, not a panic.
fn say(text: &str) -> anyhow::Result<()> {
    writeln!(std::io::stdout().lock(), "{text}").context("cannot write to stdout")
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let now = voices_server::now_text();
    match &cli.command {
        Command::Serve {
            listen,
            json_logs,
            no_zstd,
            public_url,
            tls_cert,
            tls_key,
            header_read_timeout,
            request_timeout,
            max_requests,
            max_connections,
            behind_proxy,
            shutdown_grace,
            metrics_listen,
            max_attachment_bytes,
        } => {
            if let Some(address) = metrics_listen.filter(|a| !a.ip().is_loopback()) {
                bail!(
                    "--metrics-listen {address}: the metrics listener needs no credentials, so \
                     it serves only a loopback address (127.0.0.1:PORT or [::1]:PORT); to read \
                     the metrics from elsewhere, use /metrics on the API's port with an admin's \
                     token"
                );
            }
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let builder = tracing_subscriber::fmt().with_env_filter(filter);
            if *json_logs {
                builder.json().init();
            } else {
                builder.init();
            }
            let store = open_store(&cli)?;
            let mut state = AppState::new(store).with_request_limits(RequestLimits::new(
                Duration::from_secs(*request_timeout),
                *max_requests,
            ));
            if *no_zstd {
                state = state.without_zstd();
            }
            state.behind_proxy = *behind_proxy;
            state.limits.max_attachment_bytes = *max_attachment_bytes;
            state = state.with_public_url(public_url.clone());
            let options = ServeOptions {
                tls: match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => Some(TlsFiles {
                        cert: cert.clone(),
                        key: key.clone(),
                    }),
                    _ => None,
                },
                header_read_timeout: Duration::from_secs(*header_read_timeout),
                max_connections: *max_connections,
                shutdown_grace: Duration::from_secs(*shutdown_grace),
                ..ServeOptions::new(*listen)
            };
            run_server(state, options, *metrics_listen)
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    projects,
                },
        } => {
            let store = open_store(&cli)?;
            let role = Role::parse(role).context("unknown role")?;
            let hash = auth::hash_password(&read_password()?)?;
            store.add_user(name, role, &hash, &now)?;
            for p in projects {
                store.add_membership(name, p)?;
            }
            println!("added {} `{name}`", role.as_str());
            Ok(())
        }
        Command::User {
            command: UserCommand::Password { name },
        } => {
            let store = open_store(&cli)?;
            if !voices_server::accounts::reset_password(store.as_ref(), name, &read_password()?)? {
                bail!("there is no user `{name}`");
            }
            say(&format!(
                "new password for `{name}`; their sessions were ended"
            ))
        }
        Command::User {
            command: UserCommand::RevokeSessions { name },
        } => {
            let store = open_store(&cli)?;
            if store.find_user(name)?.is_none() {
                bail!("there is no user `{name}`");
            }
            let ended = store.revoke_user_tokens(name, &now)?;
            say(&format!("ended {ended} sessions of `{name}`"))
        }
        Command::User {
            command: UserCommand::Disable { name } | UserCommand::Enable { name },
        } => {
            let store = open_store(&cli)?;
            let disable = matches!(
                &cli.command,
                Command::User {
                    command: UserCommand::Disable { .. }
                }
            );
            let changes = UserChanges {
                disabled: Some(disable),
                ..UserChanges::default()
            };
            if store.update_user(name, &changes, &now)?.is_none() {
                bail!("there is no user `{name}`");
            }
            say(&if disable {
                format!("disabled `{name}`; their sessions were ended")
            } else {
                format!("enabled `{name}`")
            })
        }
        Command::User {
            command: UserCommand::RemoveMembership { name, project },
        } => {
            let store = open_store(&cli)?;
            if !store.remove_membership(name, project)? {
                bail!("`{name}` is not a member of project `{project}`");
            }
            say(&format!("`{name}` is no longer a member of `{project}`"))
        }
        Command::Project {
            command: ProjectCommand::Key { command },
        } => {
            let store = open_store(&cli)?;
            keys_command(store.as_ref(), command, &now)
        }
        Command::User {
            command:
                UserCommand::GrantPii {
                    name,
                    project,
                    revoke,
                },
        } => {
            let store = open_store(&cli)?;
            if !store.set_pii_grant(name, project, !revoke)? {
                bail!("`{name}` is not a member of project `{project}`");
            }
            voices_server::audit::record(
                store.as_ref(),
                CLI_ACTOR,
                AuditAction::GrantPii,
                Some(project),
                Some(name),
                format!("read_pii={}", !revoke),
                true,
            )?;
            say(&if *revoke {
                format!("`{name}` may no longer read pii in `{project}`")
            } else {
                format!("`{name}` may read pii in `{project}`")
            })
        }
        Command::Audit {
            project,
            actor,
            action,
            since,
            until,
            after,
            limit,
            json,
        } => {
            let store = open_store(&cli)?;
            let action = match action {
                Some(name) => Some(AuditAction::parse(name).with_context(|| {
                    let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                    format!("--action is one of {}, not `{name}`", known.join(", "))
                })?),
                None => None,
            };
            let query = AuditQuery {
                project: project.clone(),
                actor: actor.clone(),
                action,
                since: since.clone(),
                until: until.clone(),
                after: *after,
                limit: *limit,
            };
            for entry in store.audit(&query)? {
                if *json {
                    println!("{}", serde_json::to_string(&entry)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        entry.id,
                        entry.at,
                        entry.actor,
                        entry.action,
                        entry.project.as_deref().unwrap_or("-"),
                        entry.target.as_deref().unwrap_or("-"),
                        entry.outcome,
                        entry.detail
                    );
                }
            }
            Ok(())
        }
        Command::Project {
            command: ProjectCommand::Add { id, title },
        } => {
            let store = open_store(&cli)?;
            store.add_project(id, title.as_deref().unwrap_or(id), &now)?;
            println!("added project `{id}`");
            Ok(())
        }
        Command::Project {
            command:
                ProjectCommand::Policy {
                    id,
                    idle_lock_minutes,
                    retention_days,
                    withdrawn_keep_days,
                },
        } => {
            let store = open_store(&cli)?;
            let Some(mut policy) = store.device_policy(id)? else {
                bail!("there is no project `{id}`");
            };
            let changing = idle_lock_minutes.is_some() || retention_days.is_some();
            if let Some(minutes) = idle_lock_minutes {
                policy.idle_lock_seconds = minutes.saturating_mul(60);
            }
            if let Some(days) = retention_days {
                policy.retention_days = *days;
            }
            if changing {
                policy.check().map_err(|e| anyhow::anyhow!(e))?;
                store.set_device_policy(id, &policy)?;
            }
            if let Some(days) = withdrawn_keep_days {
                voices_server::withdraw::set_keep_days(store.as_ref(), id, *days)?;
            }
            let keep = store.withdrawn_keep_days(id)?.unwrap_or_default();
            println!(
                "project `{id}`: the app locks after {} s without use; a response leaves the device {} day(s) after it was acknowledged; a withdrawn response is purged {keep} day(s) after its withdrawal",
                policy.idle_lock_seconds, policy.retention_days
            );
            Ok(())
        }
        Command::Device {
            command:
                DeviceCommand::Add {
                    project,
                    enumerator,
                    id,
                    label,
                    server,
                    valid_days,
                    qr_png: png_path,
                    tls_cert,
                    pin_certificate,
                    profile,
                },
        } => {
            // Checked before the device is made, so a wrong profile leaves nothing behind.
            let profile = profile.apply(&Default::default())?;
            let pin = match tls_cert {
                Some(path) => {
                    let certificate = serve::tls::certificate_info(path)?;
                    (certificate.self_signed || *pin_certificate).then_some(certificate.sha256)
                }
                None => None,
            };
            let store = open_store(&cli)?;
            let registered = voices_server::accounts::register_labelled_device(
                store.as_ref(),
                project,
                enumerator,
                id.as_deref(),
                label.as_deref(),
                *valid_days,
            )?;
            let (id, expires) = (&registered.device.id, &registered.code_expires_at);
            if !profile.is_empty() {
                store.set_device_profile(Some(project.as_str()), id, &profile)?;
                say(&format!(
                    "enumerator profile: {}",
                    profile_cli::describe(&profile)
                ))?;
            }
            let text = ProvisioningCode {
                server: server.clone(),
                project: project.clone(),
                code: registered.code,
                certificate_sha256: pin,
            }
            .to_text();
            say(&format!(
                "device `{id}` for {enumerator} in project `{project}`"
            ))?;
            say(&format!(
                "one-time provisioning code (valid until {expires}):\n{text}\n"
            ))?;
            print_qr(&text)?;
            if let Some(path) = png_path {
                std::fs::write(path, qr_png(&text)?).with_context(|| {
                    format!("cannot write the QR code picture {}", path.display())
                })?;
                say(&format!("QR code picture: {}", path.display()))?;
            }
            Ok(())
        }
        Command::Device {
            command: DeviceCommand::Profile { id, profile },
        } => {
            let store = open_store(&cli)?;
            profile_cli::device_profile(store.as_ref(), id, profile, say)
        }
        Command::Project {
            command: ProjectCommand::Presentation { id, neutral_name },
        } => {
            let store = open_store(&cli)?;
            profile_cli::presentation(store.as_ref(), id, neutral_name.as_deref(), say)
        }
        Command::Device {
            command: DeviceCommand::Revoke { id, wipe },
        } => {
            let store = open_store(&cli)?;
            let revoked = if *wipe {
                store.revoke_device_with_wipe(id, &now)?
            } else {
                store.revoke_device(id, &now)?
            };
            if !revoked {
                bail!("there is no device `{id}`");
            }
            if *wipe {
                println!(
                    "revoked device `{id}` and its tokens; it erases its data at its next contact (responses it has not sent are lost)"
                );
            } else {
                println!("revoked device `{id}` and its tokens");
            }
            Ok(())
        }
        Command::Export {
            project,
            form,
            format,
            since,
            include_pii,
            labels,
            output,
        } => {
            let store = open_store(&cli)?;
            let options = voices_server::export::Options {
                project: project.clone(),
                form: form.clone(),
                format: voices_server::export::Format::parse(format).context("unknown format")?,
                since: *since,
                include_pii: *include_pii,
                labels: *labels,
                filter: None,
                scope: voices_server::store::Scope::Project,
            };
            let count = match output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    voices_server::export::export(
                        store.as_ref(),
                        &options,
                        std::io::BufWriter::new(file),
                    )?
                }
                None => voices_server::export::export(
                    store.as_ref(),
                    &options,
                    std::io::BufWriter::new(std::io::stdout().lock()),
                )?,
            };
            eprintln!("exported {count} responses");
            Ok(())
        }
        Command::Form {
            command: FormCommand::Publish { file, project, by },
        } => {
            let store = open_store(&cli)?;
            publish_file(store.as_ref(), file, project, by)
        }
        Command::Teams { command } => {
            let store = open_store(&cli)?;
            teams_cli::run(store.as_ref(), command, &now, CLI_ACTOR, say)
        }
        Command::Referrals {
            command: ReferralsCommand::Publish { file, project, by },
        } => {
            let store = open_store(&cli)?;
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match voices_server::referrals::publish(store.as_ref(), project, &text, by)? {
                Ok((published, Published::New)) => println!(
                    "published referral directory version {} in `{project}`",
                    published.version
                ),
                Ok((published, Published::AlreadyIdentical)) => println!(
                    "referral directory version {} in `{project}` already has these services",
                    published.version
                ),
                Err(voices_server::referrals::Refused::UnknownProject) => {
                    bail!("there is no project `{project}`")
                }
                Err(voices_server::referrals::Refused::Invalid(problems)) => {
                    bail!("{}: {}", file.display(), problems.join("; "))
                }
            }
            Ok(())
        }
    }
}

fn publish_file(store: &dyn Store, file: &Path, project: &str, by: &str) -> anyhow::Result<()> {
    let document =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    match voices_server::publish::publish(store, project, &document, by) {
        Ok((form, Published::New)) => {
            println!(
                "published form `{}` version `{}` in `{project}`",
                form.id, form.version
            )
        }
        Ok((form, Published::AlreadyIdentical)) => println!(
            "form `{}` version `{}` was already published with this content",
            form.id, form.version
        ),
        Err(e) => bail!("{}: {e}", file.display()),
    }
    Ok(())
}

/// Who the audit names for what an operator does with this command on the server.
const CLI_ACTOR: &str = "cli";

fn keys_command(store: &dyn Store, command: &KeyCommand, now: &str) -> anyhow::Result<()> {
    match command {
        KeyCommand::Add {
            recipient,
            project,
            label,
        } => {
            let key = voices_server::keys::add(store, project, recipient, label, CLI_ACTOR, now)?;
            say(&format!(
                "project `{project}` seals sensitive and pii answers to {} from the devices' next form pull",
                key.recipient
            ))
        }
        KeyCommand::List { project } => {
            for key in store.project_keys(project)? {
                println!(
                    "{}\t{}\tadded {} by {}\t{}",
                    key.recipient,
                    match &key.retired_at {
                        Some(at) => format!("retired {at}"),
                        None => "current".to_owned(),
                    },
                    key.added_at,
                    key.added_by,
                    key.label
                );
            }
            Ok(())
        }
        KeyCommand::Retire { recipient, project } => {
            voices_server::keys::retire(store, project, recipient, CLI_ACTOR, now)?;
            say(&format!(
                "retired {recipient} in `{project}`: devices stop sealing to it at their next form pull"
            ))
        }
    }
}

fn run_server(
    mut state: AppState,
    options: ServeOptions,
    metrics_listen: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let runtime = serve::runtime()?;
    runtime.block_on(async move {
        let bound = serve::bind(options).await?;
        // One signal stops both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            serve::shutdown_signal().await;
            let _ = stop.send(true);
        });
        // Withdrawn responses are purged when their project's days are over, checked
        // hourly (and at each withdrawal or change of the days).
        let purging = state.store.clone();
        tokio::spawn(async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3_600));
            loop {
                hourly.tick().await;
                let store = purging.clone();
                let purged = tokio::task::spawn_blocking(move || {
                    voices_server::withdraw::purge_all(store.as_ref(), chrono::Utc::now())
                })
                .await;
                match purged {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(purged = n, "withdrawn responses purged"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "purging withdrawn responses failed"),
                    Err(e) => tracing::warn!(error = %e, "purging withdrawn responses failed"),
                }
            }
        });
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let metrics_server = match metrics_listen {
            Some(address) => {
                let metrics = serve::bind(ServeOptions::new(address)).await?;
                tracing::info!(address = %metrics.address, "metrics listening (HTTP, loopback)");
                Some(tokio::spawn(metrics.serve(
                    metrics_app(state.clone()),
                    until_stopped(stopped.clone()),
                )))
            }
            None => None,
        };
        match &bound.certificate {
            Some(certificate) => tracing::info!(
                address = %bound.address,
                certificate_sha256 = %certificate.sha256,
                self_signed = certificate.self_signed,
                "voices-server listening (HTTPS)"
            ),
            None => tracing::info!(address = %bound.address, "voices-server listening (HTTP)"),
        }
        state.pinned_certificate = bound
            .certificate
            .as_ref()
            .filter(|c| c.self_signed)
            .map(|c| c.sha256.clone());
        bound.serve(app(state), until_stopped(stopped)).await;
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_png_draws_every_module_black_on_white_with_a_quiet_zone() {
        let text = "voices1:eyJzZXJ2ZXIiOiJodHRwOi8vMTI3LjAuMC4xOjg0NzAifQ";
        let png = qr_png(text).unwrap();
        let picture = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .unwrap()
            .to_luma8();
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width() as u32;
        let side = (modules + 8) * QR_PNG_MODULE_PIXELS;
        assert_eq!(picture.dimensions(), (side, side));
        // The quiet zone is white; each module's centre pixel has the module's colour.
        assert_eq!(picture.get_pixel(1, 1).0, [255]);
        let colors = code.to_colors();
        for my in 0..modules {
            for mx in 0..modules {
                let centre = |m: u32| (m + 4) * QR_PNG_MODULE_PIXELS + QR_PNG_MODULE_PIXELS / 2;
                let dark = colors[(my * modules + mx) as usize] == qrcode::Color::Dark;
                let pixel = picture.get_pixel(centre(mx), centre(my)).0[0];
                assert_eq!(pixel == 0, dark, "module ({mx}, {my})");
            }
        }
    }
}
