//! Passkeys in the JSON API: login with a passkey (second step or passwordless), the
//! customer's own passkeys (register after re-authentication, list, rename, remove), and the
//! operators' view of a login's passkeys (counter, backup flags, counter regression).

use super::admin_logins::load;
use super::customer::session_json;
use super::factors::me;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Customer, Json, Path, Staff};
use crate::passkey;
use crate::passkey_login;
use crate::trading::{self, Proof};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use sekisho_app::throttle::{self, Subject};
use sekisho_core::audit::Actor;
use serde::Deserialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login/passkey/begin", post(login_begin))
        .route("/api/v1/login/passkey/finish", post(login_finish))
        .route("/api/v1/me/passkeys", get(list))
        .route("/api/v1/me/passkeys/register/begin", post(register_begin))
        .route("/api/v1/me/passkeys/register/finish", post(register_finish))
        .route("/api/v1/me/passkeys/{id}", delete(remove).patch(rename))
}

/// The admin API's routes (nested under `/api/admin/v1`).
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/logins/{login_id}/passkeys", get(admin_list))
        .route("/logins/{login_id}/passkeys/{id}", delete(admin_remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginBody {
    #[serde(default)]
    challenge: Option<String>,
}

async fn login_begin(
    State(state): State<AppState>,
    Client(client): Client,
    Json(body): Json<BeginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    if body.challenge.is_none() {
        // A passwordless begin needs no credentials yet writes a ceremony: the address pays.
        throttle::attempt(&state, &client, Subject::Anyone).await?;
    }
    let (ceremony, options) = passkey_login::begin(&state, body.challenge.as_deref()).await?;
    Ok(axum::Json(json!({
        "ceremony": ceremony,
        "options": options,
        "finish_url": "/api/v1/login/passkey/finish",
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFinishBody {
    #[serde(default)]
    challenge: Option<String>,
    ceremony: String,
    credential: PublicKeyCredential,
}

async fn login_finish(
    State(state): State<AppState>,
    Client(client): Client,
    Json(body): Json<LoginFinishBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let issued = passkey_login::finish(
        &state,
        &client,
        body.challenge.as_deref(),
        &body.ceremony,
        &body.credential,
    )
    .await?;
    Ok(session_json(&state, &issued))
}

async fn list(
    State(state): State<AppState>,
    Customer(session): Customer,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    let keys = passkey::list(&state, login.id).await?;
    Ok(axum::Json(json!({
        "passkeys": keys.iter().map(|p| super::views::passkey(p, false)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBeginBody {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    trading_password: Option<String>,
}

async fn register_begin(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<RegisterBeginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    trading::reauthenticate(
        &state,
        &client,
        &login,
        Proof {
            password: body.password.as_deref(),
            trading_password: body.trading_password.as_deref(),
        },
        "passkey registration",
    )
    .await?;
    let (ceremony, options) = passkey::begin_registration(&state, &login).await?;
    Ok(axum::Json(json!({
        "ceremony": ceremony,
        "options": options,
        "finish_url": "/api/v1/me/passkeys/register/finish",
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinishBody {
    ceremony: String,
    name: String,
    credential: RegisterPublicKeyCredential,
}

async fn register_finish(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<RegisterFinishBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let login = me(&state, &session).await?;
    let p = passkey::finish_registration(
        &state,
        &client,
        &login,
        &body.ceremony,
        &body.credential,
        &body.name,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(super::views::passkey(&p, false)),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Path(id): Path<i64>,
    Json(body): Json<RenameBody>,
) -> Result<StatusCode, ApiError> {
    let login = me(&state, &session).await?;
    passkey::rename(&state, &client, &login, id, &body.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let login = me(&state, &session).await?;
    passkey::remove(&state, &client, &login, id, Actor::SelfService).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_list(
    State(state): State<AppState>,
    Staff(_caller): Staff,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = load(&state, &login_id).await?;
    let keys = passkey::list(&state, login.id).await?;
    Ok(axum::Json(json!({
        "login_id": login.login_id,
        "passkeys": keys.iter().map(|p| super::views::passkey(p, true)).collect::<Vec<_>>(),
    })))
}

async fn admin_remove(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path((login_id, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    passkey::operator_remove(&state, &caller.staff(), &client, &login_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
