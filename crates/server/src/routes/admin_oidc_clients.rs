//! Admin API for OpenID Connect clients (admin role only): register, read, list, change,
//! disable and enable, rotate the secret, delete. The body of a registration or change is RFC
//! 7591 client metadata; the answer is the registered document with `client_id`, and
//! `client_secret` only when one was just made.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, Client, Json, Path};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use sekisho_app::oidc::clients::{self, WithSecret};
use sekisho_app::oidc::metadata;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oidc/clients", get(list).post(create))
        .route(
            "/oidc/clients/{client_id}",
            get(read).patch(update).delete(remove),
        )
        .route("/oidc/clients/{client_id}/disable", post(disable))
        .route("/oidc/clients/{client_id}/enable", post(enable))
        .route("/oidc/clients/{client_id}/rotate-secret", post(rotate))
}

fn view(c: &clients::Client) -> Value {
    serde_json::to_value(c.document()).unwrap_or_else(|_| json!({}))
}

fn with_secret(w: &WithSecret) -> Value {
    serde_json::to_value(w.document()).unwrap_or_else(|_| json!({}))
}

async fn list(State(state): State<AppState>, _admin: Admin) -> Result<axum::Json<Value>, ApiError> {
    let all = clients::list(&state).await?;
    Ok(axum::Json(
        json!({ "clients": all.iter().map(view).collect::<Vec<_>>() }),
    ))
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let input = metadata::parse(&body.to_string())?;
    let w = clients::create(&state, caller.actor(), &client, input).await?;
    Ok((StatusCode::CREATED, axum::Json(with_secret(&w))))
}

async fn read(
    State(state): State<AppState>,
    _admin: Admin,
    Path(client_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(view(&clients::get(&state, &client_id).await?)))
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(client_id): Path<String>,
    Json(body): Json<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let input = metadata::parse(&body.to_string())?;
    let w = clients::update(&state, caller.actor(), &client, &client_id, input).await?;
    Ok(axum::Json(with_secret(&w)))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(client_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    clients::delete(&state, caller.actor(), &client, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(client_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let c = clients::set_disabled(&state, caller.actor(), &client, &client_id, true).await?;
    Ok(axum::Json(view(&c)))
}

async fn enable(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(client_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let c = clients::set_disabled(&state, caller.actor(), &client, &client_id, false).await?;
    Ok(axum::Json(view(&c)))
}

async fn rotate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(client_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let w = clients::rotate_secret(&state, caller.actor(), &client, &client_id).await?;
    Ok(axum::Json(with_secret(&w)))
}
