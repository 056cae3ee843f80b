//! Sekisho's HTTP server: the JSON API for apps and desktop clients, the admin API, health,
//! metrics and the OpenAPI description. Handlers are thin: parse → call core/store → render.

mod auth;
mod code_address;
mod devices;
mod email_code;
mod error;
mod extract;
mod hashing;
mod hwtoken;
pub mod mail;
mod metrics;
mod notify;
mod pages;
mod routes;
mod state;
pub mod system;
pub mod token_inventory;
pub mod tokens;
pub mod totp;
pub mod trading;

pub use error::ApiError;
pub use hashing::HashPool;
pub use state::{AppState, PagesSettings, Settings, TokenSettings, TotpSettings};

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The OpenAPI 3.1 description of every JSON endpoint.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Builds the router with all endpoints and layers.
pub fn router(state: AppState) -> axum::Router {
    routes::router(state)
}

/// Serves `state` on `listener` until `shutdown` completes, with the mail sender running beside.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let transport = mail::Transport::new(&state.settings.mail).map_err(std::io::Error::other)?;
    let sender = mail::spawn_sender(state.clone(), transport);
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // Mail not yet sent stays in the outbox for the next start (or another instance).
    sender.abort();
    served
}
