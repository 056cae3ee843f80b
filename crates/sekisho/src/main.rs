//! `sekisho`: the login and multi-factor authentication server for financial online services.

mod admin_cli;
mod audit_cli;
mod oidc_cli;
mod rotate_master;

use admin_cli::{
    api_token, keys, login, operator, tokens, KeysCommand, LoginCommand, OperatorCommand,
    TokenCommand, TokensCommand,
};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sekisho::config::{self, Config, ConfigArgs};
use sekisho::wiring;

#[derive(Parser)]
#[command(
    name = "sekisho",
    version,
    about = "Login and MFA server for financial online services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (SQLite in ./sekisho-data by default).
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
        /// Address to listen on (overrides `listen`).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Manage API tokens for apps and scripts.
    ApiToken {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the hardware/software token inventory.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Logins: what the console's Change Credentials does, for scripts.
    Login {
        #[command(subcommand)]
        command: LoginCommand,
    },
    /// Manage operators (the firm's staff who use the admin console and API).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// OpenID Connect: registered clients.
    Oidc {
        #[command(subcommand)]
        command: oidc_cli::OidcCommand,
    },
    /// Manage the signing keys: step-up proofs (EdDSA) and OpenID Connect (EdDSA, ES256, PS256,
    /// RS256), published at /oidc/jwks and /.well-known/jwks.json.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the audit trail, or archive its oldest records.
    Audit {
        #[command(subcommand)]
        command: audit_cli::AuditCommand,
    },
    /// Write a consistent copy of the SQLite database while servers keep running (PostgreSQL:
    /// use pg_dump). The copy holds sealed secrets; keep the master key apart from it.
    Backup {
        #[command(flatten)]
        config: ConfigArgs,
        /// The file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Make the configured (absent) SQLite database from a backup and verify its audit chain.
    /// The master key of the server the backup came from must be in place first.
    Restore {
        #[command(flatten)]
        config: ConfigArgs,
        /// The backup written by `sekisho backup`.
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
    },
    /// Show configuration keys.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print every configuration key as a Markdown table.
    Keys,
    /// Load the configuration and report errors.
    Check {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

fn load(args: &ConfigArgs) -> Result<Config> {
    Config::load(args, std::env::vars())
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { mut config, listen } => {
            config.listen = listen;
            let config = load(&config)?;
            init_logging(&config);
            serve(config).await
        }
        Command::ApiToken { command } => api_token(command).await,
        Command::Tokens { command } => tokens(command).await,
        Command::Login { command } => login(command).await,
        Command::Operator { command } => operator(command).await,
        Command::Oidc { command } => oidc_cli::run(command).await,
        Command::Keys { command } => keys(command).await,
        Command::Audit { command } => audit_cli::run(command).await,
        Command::Backup { config, to } => {
            let b = sekisho::backup::backup(&load(&config)?, &to).await?;
            println!("backup written: {} ({} bytes)", b.file.display(), b.bytes);
            println!("keep the master key apart from it: the backup cannot be read without it");
            Ok(())
        }
        Command::Restore { config, from } => {
            let r = sekisho::backup::restore(&load(&config)?, &from).await?;
            println!(
                "restored {} into {}; {} chained audit records verified",
                from.display(),
                r.database.display(),
                r.verified
            );
            println!("OK");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Keys,
        } => {
            print!("{}", config::keys_markdown());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { config },
        } => {
            // Loading checks every setting.
            let c = load(&config)?;
            println!(
                "configuration OK (database: {})",
                c.database_url()?.split('?').next().unwrap_or("")
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<()> {
    let transport = wiring::transport(&config)?;
    // The data folder holds the database, the master key and the mail (setup links, codes):
    // folders this creates are the server user's alone (0700), as are the files in them.
    for (dir, what) in [
        (config.data_dir.clone(), "data folder"),
        (config.outbox_dir(), "mail outbox"),
    ] {
        private_dir(&dir).with_context(|| format!("cannot create the {what} {}", dir.display()))?;
    }
    let state = wiring::app_state(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        database = %config.database_url()?.split('?').next().unwrap_or(""),
        preset = %config.settings.password.preset.as_str(),
        "Sekisho is serving"
    );
    let admin = match &config.admin_listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on admin_listen {addr}"))?;
            tracing::info!(admin_listen = %l.local_addr()?, "the admin API is served only here");
            Some(l)
        }
        None => None,
    };
    // The way in, for whoever just started the server: the customers' login page and the
    // operators' console (on the admin listener when there is one). `public_url` defaults to
    // `http://<listen>`; a port chosen by the system (`:0`) is named as bound.
    let mut public = config.settings.public_url.trim_end_matches('/').to_owned();
    if public == format!("http://{}", config.listen).trim_end_matches('/') {
        public = format!("http://{}", listener.local_addr()?);
    }
    let console = match &admin {
        Some(l) => format!("http://{}/admin", l.local_addr()?),
        None => format!("{public}/admin"),
    };
    tracing::info!("customer login page: {public}/login");
    tracing::info!("operator console: {console}");
    sekisho_server::serve_with(listener, admin, state, transport, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
