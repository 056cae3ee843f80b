//! `sekisho`: the login and multi-factor authentication server for financial online services.

mod oidc_cli;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sekisho::config::{self, Config, ConfigArgs};
use sekisho::wiring;
use sekisho_app::system::{OsRandom, SystemClock};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::Clock;

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
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
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
enum TokenCommand {
    /// Create a token; the bearer token is printed on the last line, once.
    Create {
        #[command(flatten)]
        config: ConfigArgs,
        /// A name saying who uses the token.
        #[arg(long)]
        name: String,
        /// `admin` (the whole admin API) or `validate` (OTP validation only).
        #[arg(long)]
        scope: String,
    },
    /// List tokens (without secrets).
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Revoke a token by ID.
    Revoke {
        #[command(flatten)]
        config: ConfigArgs,
        /// Token ID (from `list`).
        id: i64,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Import a seed file (PSKC by .xml/.pskc/.pskcxml, OATH CSV by .csv, either by its content
    /// for .txt): all its tokens, or none if any entry is rejected (unless --skip-rejected).
    Import {
        #[command(flatten)]
        config: ConfigArgs,
        /// The seed file.
        file: std::path::PathBuf,
        /// Pre-shared AES key of an encrypted PSKC file, in hex.
        #[arg(long, value_name = "HEX", conflicts_with = "passphrase")]
        psk_hex: Option<String>,
        /// Passphrase of a PBKDF2-protected PSKC file.
        #[arg(long, value_name = "P")]
        passphrase: Option<String>,
        /// Label stored with the tokens (default: the file name).
        #[arg(long)]
        batch: Option<String>,
        /// Import the usable entries even if some are rejected.
        #[arg(long)]
        skip_rejected: bool,
        /// Accept secrets under 128 bits (RFC 4226 R6 asks for 128): test tokens only.
        #[arg(long)]
        allow_short_secrets: bool,
    },
}

#[derive(Subcommand)]
enum LoginCommand {
    /// Make a setup link for a login (replacing its older unused ones); prints the URL on the
    /// last line. With --send-email the setup mail is queued for the login's registered
    /// address (the running server delivers it).
    SetupLink {
        #[command(flatten)]
        config: ConfigArgs,
        /// The login ID.
        login_id: String,
        /// The link does not set the password.
        #[arg(long)]
        no_password: bool,
        /// The link does not register the second factor.
        #[arg(long)]
        no_second_factor: bool,
        /// Lifetime in seconds (60 to 2592000; default 7 days).
        #[arg(long, value_name = "SECS")]
        expires_in_secs: Option<i64>,
        /// Queue the setup mail with the link and its expiry.
        #[arg(long)]
        send_email: bool,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Create an operator; prints the one-time setup URL (valid 72 hours) on the last line.
    Create {
        #[command(flatten)]
        config: ConfigArgs,
        /// Operator name (a-z, 0-9, `.`, `_`, `-`).
        name: String,
        /// `admin` (everything) or `support` (search, view, unlock, revoke).
        #[arg(long)]
        role: String,
    },
    /// List operators.
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new signing key; it signs with its algorithm from now on, older keys stay
    /// published until retired. Prints the new key ID on the last line.
    Rotate {
        #[command(flatten)]
        config: ConfigArgs,
        /// The algorithm: EdDSA (step-up proofs and OpenID Connect), ES256, PS256 or RS256.
        #[arg(long, default_value = "EdDSA")]
        alg: String,
    },
    /// List signing keys (newest last) with their state.
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Retire a key: it is no longer published, so proofs it signed no longer verify.
    Retire {
        #[command(flatten)]
        config: ConfigArgs,
        /// Key ID (`kid`, from `list`).
        kid: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole hash chain of the audit trail; print the count and OK, or name the first
    /// broken record and exit with status 1.
    Verify {
        #[command(flatten)]
        config: ConfigArgs,
        /// Records read per query.
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
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
        Command::Audit {
            command: AuditCommand::Verify { config, page_size },
        } => audit_verify(&load(&config)?, page_size).await,
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

async fn api_token(command: TokenCommand) -> Result<()> {
    let cli = ClientInfo {
        ip: None,
        user_agent: Some("sekisho-cli".into()),
    };
    match command {
        TokenCommand::Create {
            config,
            name,
            scope,
        } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let (secret, t) = sekisho_app::tokens::issue_api_token(
                store.as_ref(),
                &OsRandom,
                SystemClock.now(),
                &name,
                &scope,
                Actor::System,
                &cli,
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    e.error.message(sekisho_core::Lang::En)
                        + &e.error
                            .detail()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default()
                )
            })?;
            eprintln!(
                "Created API token {} \"{}\" with scope {}. It is shown only now:",
                t.id, t.name, t.scope
            );
            println!("{secret}");
        }
        TokenCommand::List { config } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            println!(
                "{:>5}  {:<10}  {:<20}  {:<25}  name",
                "id", "scope", "created", "revoked"
            );
            for t in store
                .list_api_tokens()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!(
                    "{:>5}  {:<10}  {:<20}  {:<25}  {}",
                    t.id,
                    t.scope,
                    t.created_at.to_rfc3339(),
                    t.revoked_at
                        .map(|r| r.to_rfc3339())
                        .unwrap_or_else(|| "-".into()),
                    t.name
                );
            }
        }
        TokenCommand::Revoke { config, id } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let ev = NewAuditEvent::new(
                SystemClock.now(),
                EventType::ApiTokenRevoked,
                None,
                Actor::System,
                &cli,
                format!("API token {id} revoked (CLI)"),
            );
            match store
                .revoke_api_token(id, SystemClock.now(), &ev)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                None => anyhow::bail!("no API token with id {id}"),
                Some(false) => println!("API token {id} was already revoked"),
                Some(true) => println!("API token {id} revoked"),
            }
        }
    }
    Ok(())
}

async fn login(command: LoginCommand) -> Result<()> {
    let LoginCommand::SetupLink {
        config,
        login_id,
        no_password,
        no_second_factor,
        expires_in_secs,
        send_email,
    } = command;
    let c = load(&config)?;
    let state = wiring::app_state(&c).await?;
    // The CLI runs with the data folder's keys: an admin's reach (the URL is printed).
    let caller = sekisho_app::staff::StaffCaller {
        actor: Actor::System,
        admin: true,
    };
    let link = sekisho_app::setup_links::issue(
        state.app(),
        &caller,
        &ClientInfo {
            ip: None,
            user_agent: Some("sekisho-cli".into()),
        },
        &login_id,
        sekisho_app::setup_links::SetupLinkRequest {
            password: !no_password,
            second_factor: !no_second_factor,
            expires_in_secs,
            send_email,
        },
    )
    .await
    .map_err(|e| api_error(&e.error))?;
    eprintln!(
        "Setup link for {} (password: {}, second factor: {}), valid until {}{}:",
        link.login_id,
        link.password,
        link.second_factor,
        link.expires_at.to_rfc3339(),
        link.email_sent_to
            .as_deref()
            .map(|to| format!("; setup mail queued for {to}"))
            .unwrap_or_default()
    );
    let token = link.token.unwrap_or_default();
    println!(
        "{}",
        sekisho_server::setup_link_url(&c.settings.public_url, &token)
    );
    Ok(())
}

async fn operator(command: OperatorCommand) -> Result<()> {
    match command {
        OperatorCommand::Create { config, name, role } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let secrets = sekisho_core::secret_box::SecretBox::new("k1", &wiring::master_key(&c)?);
            let created = sekisho_app::operators::create_operator(
                store.as_ref(),
                &secrets,
                &OsRandom,
                SystemClock.now(),
                &name,
                &role,
                Actor::System,
                &ClientInfo {
                    ip: None,
                    user_agent: Some("sekisho-cli".into()),
                },
            )
            .await
            .map_err(|e| api_error(&e.error))?;
            eprintln!(
                "Created operator {} with role {}. Open this one-time setup link before {} to set the password and the authenticator app:",
                created.operator.name,
                created.operator.role,
                created.expires_at.to_rfc3339()
            );
            println!(
                "{}",
                sekisho_server::operator_setup_url(&c.settings.public_url, &created.setup_token)
            );
        }
        OperatorCommand::List { config } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            println!("{:<10}  {:<8}  {:<8}  name", "role", "locked", "disabled");
            for o in store
                .list_operators()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!(
                    "{:<10}  {:<8}  {:<8}  {}",
                    o.role,
                    o.locked_at.is_some(),
                    o.disabled,
                    o.name
                );
            }
        }
    }
    Ok(())
}

async fn keys(command: KeysCommand) -> Result<()> {
    let cli = ClientInfo {
        ip: None,
        user_agent: Some("sekisho-cli".into()),
    };
    match command {
        KeysCommand::Rotate { config, alg } => {
            let Some(alg) = sekisho_app::keys::Alg::parse(&alg) else {
                anyhow::bail!("unknown algorithm {alg:?} (EdDSA, ES256, PS256, RS256)");
            };
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let secrets = sekisho_core::secret_box::SecretBox::new("k1", &wiring::master_key(&c)?);
            let k = sekisho_app::keys::create_key(
                store.as_ref(),
                &secrets,
                &OsRandom,
                SystemClock.now(),
                Actor::System,
                &cli,
                alg,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "Created signing key {} ({}). It signs with {} from now on; older keys stay published until `sekisho keys retire`.",
                k.kid, k.algorithm, k.algorithm
            );
            println!("{}", k.kid);
        }
        KeysCommand::List { config } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let keys = store
                .signing_keys()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            // The newest key of each algorithm that is not retired signs with it.
            let signing = |k: &sekisho_store::SigningKey| {
                keys.iter()
                    .rev()
                    .find(|o| o.retired_at.is_none() && o.algorithm == k.algorithm)
                    .is_some_and(|o| o.kid == k.kid)
            };
            println!("{:<10}  {:<5}  {:<25}  kid", "state", "alg", "created");
            for k in &keys {
                let state = match (&k.retired_at, signing(k)) {
                    (Some(_), _) => "retired",
                    (None, true) => "signing",
                    (None, false) => "published",
                };
                println!(
                    "{state:<10}  {:<5}  {:<25}  {}",
                    k.algorithm,
                    k.created_at.to_rfc3339(),
                    k.kid
                );
            }
        }
        KeysCommand::Retire { config, kid } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let now = SystemClock.now();
            let ev = sekisho_core::audit::NewAuditEvent::new(
                now,
                sekisho_core::audit::EventType::SigningKeyRetired,
                None,
                Actor::System,
                &cli,
                format!("signing key {kid} retired"),
            );
            match store
                .retire_signing_key(&kid, now, &ev)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                None => anyhow::bail!("no signing key {kid}"),
                Some(false) => eprintln!("Key {kid} was already retired."),
                Some(true) => eprintln!("Retired key {kid}; it is no longer published."),
            }
        }
    }
    Ok(())
}

async fn audit_verify(c: &Config, page_size: u32) -> Result<()> {
    let store = wiring::store(c).await?;
    let r = store
        .verify_audit_chain(page_size)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if r.unchained > 0 {
        println!(
            "{} records before id {} predate the chain and are not verified",
            r.unchained, r.chain_start
        );
    }
    match r.broken {
        None => {
            println!("{} chained records verified", r.verified);
            println!("OK");
            Ok(())
        }
        Some(b) => {
            println!("{} chained records verified before the break", r.verified);
            println!(
                "BROKEN at event {}{}: {}",
                b.id,
                b.time
                    .map(|t| format!(" ({})", t.to_rfc3339()))
                    .unwrap_or_default(),
                b.reason
            );
            std::process::exit(1);
        }
    }
}

fn api_error(e: &sekisho_core::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{} [{}]{}",
        e.message(sekisho_core::Lang::En),
        e.code(),
        e.detail().map(|d| format!(" ({d})")).unwrap_or_default()
    )
}

async fn tokens(command: TokensCommand) -> Result<()> {
    use sekisho_app::token_inventory::{
        batch_label, import_seed_file, psk_from_hex, ImportReport, ImportRequest, SeedFormat,
    };
    use sekisho_core::import::Decryption;
    let TokensCommand::Import {
        config,
        file,
        psk_hex,
        passphrase,
        batch,
        skip_rejected,
        allow_short_secrets,
    } = command;
    let c = load(&config)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_txt = name.to_ascii_lowercase().ends_with(".txt");
    let by_name = SeedFormat::from_file_name(&name);
    if by_name.is_none() && !is_txt {
        anyhow::bail!(
            "{name}: the file name must end in .xml, .pskc, .pskcxml (PSKC), .csv or .txt (either)"
        );
    }
    let decryption = match (psk_hex, passphrase) {
        (Some(k), _) => {
            Decryption::PreSharedKey(psk_from_hex(&k).map_err(|e| api_error(&e.error))?)
        }
        (None, Some(p)) => Decryption::Passphrase(p),
        (None, None) => Decryption::None,
    };
    let batch = batch_label(batch.as_deref().unwrap_or(&name)).map_err(|e| api_error(&e.error))?;
    let meta =
        std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?;
    if meta.len() > sekisho_core::import::MAX_FILE_BYTES as u64 {
        anyhow::bail!(
            "{} is larger than {} bytes; split it",
            file.display(),
            sekisho_core::import::MAX_FILE_BYTES
        );
    }
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    // multiOTP ships both formats as .txt: the content says which, as the HTTP import's
    // Content-Type would.
    let format = by_name.unwrap_or_else(|| SeedFormat::sniff(&bytes));
    let key = wiring::master_key(&c)?;
    let secrets = sekisho_core::secret_box::SecretBox::new("k1", &key);
    let store = wiring::store(&c).await?;
    let cli = ClientInfo {
        ip: None,
        user_agent: Some("sekisho-cli".into()),
    };
    let print = |r: &ImportReport| {
        for id in &r.imported {
            println!("imported   {id}");
        }
        for id in &r.duplicates {
            println!("duplicate  {id} (already in the inventory, skipped)");
        }
        for x in &r.rejected {
            println!(
                "rejected   {} {}: {}",
                x.location,
                x.token_id.as_deref().unwrap_or("-"),
                x.reason
            );
        }
        eprintln!(
            "batch {}: {} imported, {} duplicates skipped, {} rejected",
            r.batch,
            r.imported.len(),
            r.duplicates.len(),
            r.rejected.len()
        );
    };
    match import_seed_file(
        store.as_ref(),
        &secrets,
        &OsRandom,
        SystemClock.now(),
        ImportRequest {
            bytes,
            format,
            decryption,
            batch,
            skip_rejected,
            allow_short_secrets,
        },
        Actor::System,
        &cli,
    )
    .await
    {
        Ok(report) => {
            print(&report);
            Ok(())
        }
        Err(e) => {
            if let Some(sekisho_app::ErrorContext::ImportRejected(report)) = e.context.as_deref() {
                for x in &report.rejected {
                    println!(
                        "rejected   {} {}: {}",
                        x.location,
                        x.token_id.as_deref().unwrap_or("-"),
                        x.reason
                    );
                }
                if skip_rejected {
                    eprintln!("nothing imported: every entry was rejected");
                } else {
                    eprintln!("nothing imported; fix the file or use --skip-rejected");
                }
            }
            Err(api_error(&e.error))
        }
    }
}
