//! The customer's own account settings: the code delivery address (認証コード受信用メールアドレス)
//! and familiar browsers.

use super::factors::me;
use crate::code_address;
use crate::devices;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Customer, Json, Path};
use crate::notify;
use crate::trading::{self, Proof};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;

use sekisho_core::login::Login;
use sekisho_core::validate::EmailAddress;
use sekisho_core::Error;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/me/code-address",
            get(read_address).put(set_address).delete(remove_address),
        )
        .route("/api/v1/me/code-address/confirm", post(confirm_address))
        .route(
            "/api/v1/me/notifications",
            get(read_notifications).put(set_notifications),
        )
        .route("/api/v1/me/devices", get(list_devices))
        .route("/api/v1/me/devices/{id}", delete(revoke_device))
}

fn check_len(s: &str) -> Result<(), ApiError> {
    if s.len() > 1024 {
        return Err(Error::InvalidRequest("field too long".into()).into());
    }
    Ok(())
}

async fn address_view(state: &AppState, login: &Login) -> Result<Value, ApiError> {
    let pending = code_address::pending(state, login).await?;
    Ok(json!({
        "registered_email": login.email,
        "code_email": login.code_email,
        "delivers_to": login.code_address(),
        "pending": pending.map(|p| json!({
            "address": p.address,
            "expires_at": p.expires_at.to_rfc3339(),
        })),
    }))
}

async fn read_address(
    State(state): State<AppState>,
    Customer(session): Customer,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    Ok(axum::Json(address_view(&state, &login).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetAddressBody {
    address: String,
    /// The login password (or, where the firm asks for it, the trading password below).
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    trading_password: Option<String>,
}

async fn set_address(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<SetAddressBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_len(&body.address)?;
    let login = me(&state, &session).await?;
    let address = EmailAddress::parse(&body.address)?;
    let what = "code delivery address change";
    let proof = Proof {
        password: body.current_password.as_deref(),
        trading_password: body.trading_password.as_deref(),
    };
    trading::reauthenticate(&state, &client, &login, proof, what).await?;
    if address.as_str() == login.code_address() {
        // Already where codes go: nothing to confirm.
        return Ok(axum::Json(address_view(&state, &login).await?));
    }
    code_address::request(&state, &client, &login, address.as_str()).await?;
    let mut view = address_view(&state, &login).await?;
    view["confirm_url"] = json!("/api/v1/me/code-address/confirm");
    Ok(axum::Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    code: String,
}

async fn confirm_address(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<ConfirmBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_len(&body.code)?;
    let login = me(&state, &session).await?;
    code_address::confirm(&state, &client, &login, &body.code).await?;
    let login = me(&state, &session).await?;
    Ok(axum::Json(address_view(&state, &login).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveAddressBody {
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    trading_password: Option<String>,
}

async fn remove_address(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<RemoveAddressBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    let what = "code delivery address removal";
    let proof = Proof {
        password: body.current_password.as_deref(),
        trading_password: body.trading_password.as_deref(),
    };
    trading::reauthenticate(&state, &client, &login, proof, what).await?;
    code_address::remove(&state, &client, &login).await?;
    let login = me(&state, &session).await?;
    Ok(axum::Json(address_view(&state, &login).await?))
}

async fn list_devices(
    State(state): State<AppState>,
    Customer(session): Customer,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    let list = state
        .store
        .list_devices(login.id, state.clock.now())
        .await?;
    Ok(axum::Json(json!({
        "devices": list.iter().map(super::views::device).collect::<Vec<_>>(),
    })))
}

async fn revoke_device(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let login = me(&state, &session).await?;
    devices::revoke_device_for(&state, &client, &login, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read_notifications(
    State(state): State<AppState>,
    Customer(session): Customer,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    Ok(axum::Json(
        json!({ "login": notify::wants_login_notice(&state, &login) }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationsBody {
    login: bool,
}

async fn set_notifications(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<NotificationsBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    let updated = notify::set_login_notice(&state, &client, &login, body.login).await?;
    Ok(axum::Json(
        json!({ "login": notify::wants_login_notice(&state, &updated) }),
    ))
}
