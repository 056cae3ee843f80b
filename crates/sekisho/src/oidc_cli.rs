//! `sekisho oidc client …`: what the admin API does for OpenID Connect clients, for scripts and
//! first setup. It calls the application's use cases, never the routes.

use anyhow::{Context, Result};
use clap::Subcommand;
use sekisho::config::{Config, ConfigArgs};
use sekisho::wiring;
use sekisho_app::oidc::{clients, metadata};
use sekisho_core::audit::{Actor, ClientInfo};
use std::io::Read;

#[derive(Subcommand)]
pub enum OidcCommand {
    /// Registered OpenID Connect clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client from RFC 7591 client metadata (a JSON file, `-` for standard input).
    /// Prints the client document; for the secret methods it holds `client_secret`, shown this
    /// once.
    Create {
        #[command(flatten)]
        config: ConfigArgs,
        /// The metadata document.
        #[arg(long, value_name = "FILE")]
        metadata: String,
    },
    /// List clients: ID, profile, authentication method, state, name.
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print a client's document (never its secret).
    Show {
        #[command(flatten)]
        config: ConfigArgs,
        client_id: String,
    },
    /// Disable a client: it can no longer sign customers in.
    Disable {
        #[command(flatten)]
        config: ConfigArgs,
        client_id: String,
    },
    /// Replace a client's secret; prints the document with the new `client_secret`.
    RotateSecret {
        #[command(flatten)]
        config: ConfigArgs,
        client_id: String,
    },
}

fn cli() -> ClientInfo {
    ClientInfo {
        ip: None,
        user_agent: Some("sekisho-cli".into()),
    }
}

fn print(doc: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(doc)?);
    Ok(())
}

async fn app(config: &ConfigArgs) -> Result<sekisho_server::AppState> {
    let c: Config = Config::load(config, std::env::vars())?;
    wiring::app_state(&c).await
}

pub async fn run(command: OidcCommand) -> Result<()> {
    let OidcCommand::Client { command } = command;
    let err = |e: sekisho_app::AppError| crate::admin_cli::api_error(&e.error);
    match command {
        ClientCommand::Create {
            config,
            metadata: file,
        } => {
            let mut text = String::new();
            if file == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?;
            }
            let state = app(&config).await?;
            let input = metadata::parse(&text).map_err(|e| crate::admin_cli::api_error(&e))?;
            let w = clients::create(state.app(), Actor::System, &cli(), input)
                .await
                .map_err(err)?;
            print(&w.document())?;
        }
        ClientCommand::List { config } => {
            let state = app(&config).await?;
            let all = clients::list(state.app()).await.map_err(err)?;
            println!(
                "{:<27}  {:<6}  {:<20}  {:<8}  name",
                "client_id", "profile", "auth", "state"
            );
            for c in &all {
                let m = &c.metadata;
                println!(
                    "{:<27}  {:<6}  {:<20}  {:<8}  {}",
                    c.client_id,
                    m.profile.as_str(),
                    m.token_endpoint_auth_method.as_str(),
                    if c.disabled { "disabled" } else { "active" },
                    m.client_name
                );
            }
        }
        ClientCommand::Show { config, client_id } => {
            let state = app(&config).await?;
            let c = clients::get(state.app(), &client_id).await.map_err(err)?;
            print(&c.document())?;
        }
        ClientCommand::Disable { config, client_id } => {
            let state = app(&config).await?;
            let c = clients::set_disabled(state.app(), Actor::System, &cli(), &client_id, true)
                .await
                .map_err(err)?;
            eprintln!(
                "Client {} ({}) is disabled.",
                c.client_id, c.metadata.client_name
            );
        }
        ClientCommand::RotateSecret { config, client_id } => {
            let state = app(&config).await?;
            let w = clients::rotate_secret(state.app(), Actor::System, &cli(), &client_id)
                .await
                .map_err(err)?;
            eprintln!("New client secret; the old one no longer works.");
            print(&w.document())?;
        }
    }
    Ok(())
}
