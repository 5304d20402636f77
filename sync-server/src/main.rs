//! `voices-server`: the sync server and its admin commands.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use voices_server::http::load::{self, RequestLimits};
use voices_server::serve::{self, ServeOptions, TlsFiles};
use voices_server::store::access::{AuditAction, AuditQuery};
use voices_server::store::postgres::PostgresStore;
use voices_server::store::sqlite::SqliteStore;
use voices_server::store::{Published, Store};
use voices_server::{app, metrics_app, AppState};

mod device_cli;
mod profile_cli;
mod project_cli;
mod teams_cli;
mod user_cli;

/// Ingest allocates and frees many small strings per record on several threads at once;
/// mimalloc does that with far less contention and fewer page faults than the system
/// allocator (profiled: a quarter of ingest CPU time was in malloc/free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "voices-server", version, about = "The Voices sync server")]
pub(crate) struct Cli {
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
        command: user_cli::UserCommand,
    },
    /// Projects: every form, device and response belongs to one.
    Project {
        #[command(subcommand)]
        command: project_cli::ProjectCommand,
    },
    /// Enumerator devices.
    Device {
        #[command(subcommand)]
        command: device_cli::DeviceCommand,
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

pub(crate) fn open_store(cli: &Cli) -> anyhow::Result<Arc<dyn Store>> {
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

/// Print a line; a closed stdout (`| head`) is an error, not a panic.
pub(crate) fn say(text: &str) -> anyhow::Result<()> {
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
        Command::User { command } => user_cli::run(open_store(&cli)?, command, &now),
        Command::Project { command } => project_cli::run(open_store(&cli)?, command, &now),
        Command::Device { command } => device_cli::run(&cli, command, &now),
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
pub(crate) const CLI_ACTOR: &str = "cli";

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
