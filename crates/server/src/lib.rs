//! Sekisho's HTTP server: the JSON API for apps and desktop clients, the admin API, health,
//! metrics and the OpenAPI description. Handlers are thin: extract → call the app → render.

mod catalogue;
mod door;
mod error;
mod extract;
mod outbound;
mod pages;
mod rejection;
mod router;
mod routes;
mod serve;
mod tls;
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
pub use serve::Transport;
pub use tls::Tls;

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
    serve_with(listener, admin, state, Transport::default(), shutdown).await
}

/// [`serve_split`] with the transport's limits. When `shutdown` completes: no new connection
/// is accepted, each request in flight is answered (idle connections close), the mail sender
/// delivers what is due, all within `transport.shutdown_timeout`; then it returns. Mail still
/// undelivered stays in the outbox for the next start or another instance.
pub async fn serve_with(
    listener: TcpListener,
    admin: Option<TcpListener>,
    state: AppState,
    transport: Transport,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use router::Part;
    let mail_transport =
        mail::Transport::new(&state.settings.mail).map_err(std::io::Error::other)?;
    let (nudge, nudged) = tokio::sync::watch::channel(false);
    let sender = mail::spawn_sender(state.app().clone(), mail_transport, nudged);
    let backchannel_http = std::sync::Arc::new(
        outbound::HttpPoster::new(&state.settings.oidc).map_err(std::io::Error::other)?,
    );
    state.app().oidc_jwks.set_fetcher(std::sync::Arc::new(
        outbound::HttpJwks::new(&state.settings.oidc).map_err(std::io::Error::other)?,
    ));
    let (backchannel_stop, backchannel_stopped) = tokio::sync::watch::channel(false);
    let backchannel = sekisho_app::oidc::backchannel::spawn_sender(
        state.app().clone(),
        backchannel_http,
        backchannel_stopped,
    );
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let cap = transport.connection_cap(if admin.is_some() { 2 } else { 1 });
    let bound = transport.shutdown_timeout;
    let transport = std::sync::Arc::new(transport);
    let public_part = if admin.is_some() {
        Part::Public
    } else {
        Part::All
    };
    let public = serve::serve_listener(
        listener,
        router::router(state.clone(), public_part),
        transport.clone(),
        cap,
        stop.clone(),
    );
    let admin = admin.map(|l| {
        serve::serve_listener(
            l,
            router::router(state, Part::Admin),
            transport.clone(),
            cap,
            stop.clone(),
        )
    });
    let mut stopping = stop.clone();
    let finish = async move {
        let listeners = async move {
            match admin {
                None => public.await,
                Some(admin) => {
                    tokio::join!(public, admin);
                }
            }
        };
        // Mail other processes queued (the CLI's setup links) goes out while requests finish.
        let early = async {
            serve::stopped(&mut stopping).await;
            let _ = nudge.send(true);
        };
        tokio::join!(listeners, early);
        // Requests in flight have been answered (their codes committed): the sender delivers
        // what they queued, then ends.
        drop(nudge);
        let _ = sender.await;
        // Logouts still due stay in the outbox for the next start or another instance.
        let _ = backchannel_stop.send(true);
        let _ = backchannel.await;
    };
    let mut stopped = stop.clone();
    let deadline = async move {
        serve::stopped(&mut stopped).await;
        tokio::time::sleep(bound).await;
    };
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
        // The channel stays open: a closed channel is no stop signal.
        std::future::pending::<()>().await;
    });
    tokio::select! {
        _ = finish => {}
        _ = deadline => tracing::warn!(
            "shutdown took longer than server.shutdown_timeout_secs: the connections still open \
             are dropped and undelivered mail stays in the outbox for the next start"
        ),
    }
    Ok(())
}
