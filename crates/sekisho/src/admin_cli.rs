//! The administration commands (`api-token`, `tokens`, `login`, `operator`, `keys`,
//! `audit`): what the admin API does, for scripts and first setup, through the application's
//! use cases.

use crate::load;
use anyhow::{Context, Result};
use clap::Subcommand;
use sekisho::config::ConfigArgs;
use sekisho::wiring;
use sekisho_app::system::{OsRandom, SystemClock};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::Clock;

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
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
pub(crate) enum TokensCommand {
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
pub(crate) enum LoginCommand {
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
pub(crate) enum OperatorCommand {
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
pub(crate) enum KeysCommand {
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
    /// Re-seal every secret kept at rest (app and token secrets, signing keys, queued mails,
    /// …) under a new master key, in batches, while the instances keep serving with both keys
    /// (docs/operations.md); with --finish, check that no value is left under another key.
    RotateMaster(crate::rotate_master::RotateMaster),
}

pub(crate) async fn api_token(command: TokenCommand) -> Result<()> {
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

pub(crate) async fn login(command: LoginCommand) -> Result<()> {
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

pub(crate) async fn operator(command: OperatorCommand) -> Result<()> {
    match command {
        OperatorCommand::Create { config, name, role } => {
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let secrets = wiring::secrets(&c, store.as_ref(), &SystemClock, &OsRandom).await?;
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

pub(crate) async fn keys(command: KeysCommand) -> Result<()> {
    let cli = ClientInfo {
        ip: None,
        user_agent: Some("sekisho-cli".into()),
    };
    match command {
        KeysCommand::RotateMaster(a) => return crate::rotate_master::rotate_master(a).await,
        KeysCommand::Rotate { config, alg } => {
            let Some(alg) = sekisho_app::keys::Alg::parse(&alg) else {
                anyhow::bail!("unknown algorithm {alg:?} (EdDSA, ES256, PS256, RS256)");
            };
            let c = load(&config)?;
            let store = wiring::store(&c).await?;
            let secrets = wiring::secrets(&c, store.as_ref(), &SystemClock, &OsRandom).await?;
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

pub(crate) fn api_error(e: &sekisho_core::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{} [{}]{}",
        e.message(sekisho_core::Lang::En),
        e.code(),
        e.detail().map(|d| format!(" ({d})")).unwrap_or_default()
    )
}

pub(crate) async fn tokens(command: TokensCommand) -> Result<()> {
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
    let store = wiring::store(&c).await?;
    let secrets = wiring::secrets(&c, store.as_ref(), &SystemClock, &OsRandom).await?;
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
