//! The JSON API: one module per area, each with its own `router()`.

pub(crate) mod account;
pub(crate) mod admin_audit;
pub(crate) mod admin_devices;
pub(crate) mod admin_logins;
mod admin_mail;
mod admin_oidc_clients;
mod admin_oidc_logouts;
mod admin_operators;
pub(crate) mod admin_setup;
pub(crate) mod admin_tokens;
mod customer;
pub(crate) mod factors;
mod health;
mod login_token;
mod oidc;
pub(crate) mod passkeys;
mod step_up;
mod validate;
mod views;

use crate::door::AppState;
use axum::Router;

/// The customer-facing JSON API.
pub fn public() -> Router<AppState> {
    Router::new()
        .merge(customer::router())
        .merge(account::router())
        .merge(login_token::router())
        .merge(factors::router())
        .merge(passkeys::router())
        .merge(validate::router())
        .merge(step_up::router())
        .merge(oidc::router())
}

/// The admin API (nested under `/api/admin/v1`).
pub fn admin() -> Router<AppState> {
    admin_logins::router()
        .merge(admin_audit::router())
        .merge(admin_devices::router())
        .merge(admin_mail::router())
        .merge(admin_oidc_clients::router())
        .merge(admin_oidc_logouts::router())
        .merge(admin_operators::router())
        .merge(admin_tokens::router())
        .merge(admin_setup::router())
        .merge(passkeys::admin_router())
}

/// Health and metrics (every listener).
pub fn health() -> Router<AppState> {
    health::router()
}

/// Metrics and the OpenAPI description: open on the `admin_listen` address, or, on a listener
/// serving everything, `/metrics` for a `metrics` or `admin` API token or an operator.
pub fn ops(open: bool) -> Router<AppState> {
    health::ops(open)
}
