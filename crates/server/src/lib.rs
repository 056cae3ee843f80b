//! Sekisho's HTTP server: the JSON API for apps and desktop clients, the admin API, health,
//! metrics and the OpenAPI description. Handlers are thin: extract → call the app → render.

mod catalogue;
mod door;
mod error;
mod extract;
mod pages;
mod router;
mod routes;
mod web;

pub use web::{operator_setup_url, setup_link_url};

// The doors reach the use cases by their module names, as before the application layer moved
// into its own crate.
use sekisho_app::{
    auth, code_address, devices, email_code, hwtoken, login, mail, notify, operators, passkey,
    passkey_login, recovery, step_up, token_inventory, tokens, totp, trading,
};

pub use catalogue::{DoorError, Failure};
pub use door::AppState;
pub use error::ApiError;

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The OpenAPI 3.1 description of every JSON endpoint.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Builds the router with all endpoints and layers.
pub fn router(state: AppState) -> axum::Router {
    router::router(state, router::Part::All)
}

/// Serves `state` on `listener` until `shutdown` completes, with the mail sender running beside.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_split(listener, None, state, shutdown).await
}

/// Like [`serve`], with an optional second listener (`admin_listen`) that alone serves the admin
/// API; the public listener then answers 404 for `/api/admin/…`.
pub async fn serve_split(
    listener: TcpListener,
    admin: Option<TcpListener>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use router::Part;
    let transport = mail::Transport::new(&state.settings.mail).map_err(std::io::Error::other)?;
    let sender = mail::spawn_sender(state.app().clone(), transport);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let public_part = if admin.is_some() {
        Part::Public
    } else {
        Part::All
    };
    let public = axum::serve(
        listener,
        router::router(state.clone(), public_part)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    let served = match admin {
        None => public.await,
        Some(admin) => {
            let admin = axum::serve(
                admin,
                router::router(state, Part::Admin)
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stopped(stop_rx));
            tokio::try_join!(async move { public.await }, async move { admin.await }).map(|_| ())
        }
    };
    // Mail not yet sent stays in the outbox for the next start (or another instance).
    sender.abort();
    served
}
