//! Admin API for a login's familiar browsers: list, revoke one, revoke all.

use super::admin_logins::load;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Path, Staff};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use sekisho_app::login_admin;
use sekisho_core::audit::EventType;
use sekisho_core::Error;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/logins/{login_id}/devices", get(list).delete(revoke_all))
        .route("/logins/{login_id}/devices/{id}", delete(revoke_one))
}

async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = load(&state, &login_id).await?;
    let list = state
        .store
        .list_devices(login.id, state.clock.now())
        .await?;
    Ok(axum::Json(json!({
        "devices": list.iter().map(super::views::device).collect::<Vec<_>>(),
    })))
}

async fn revoke_one(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path((login_id, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let login = load(&state, &login_id).await?;
    let ev = state.event(
        EventType::DeviceRevoked,
        Some(&login.login_id),
        caller.actor(),
        &client,
        format!("familiar browser {id} revoked by operator"),
    );
    if !state
        .store
        .revoke_device(login.id, &id, state.clock.now(), &ev)
        .await?
    {
        return Err(Error::DeviceNotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_all(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let n = login_admin::revoke_all_devices(&state, &caller.staff(), &client, &login_id).await?;
    Ok(axum::Json(json!({ "revoked": n })))
}
