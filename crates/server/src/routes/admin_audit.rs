//! Admin API for the audit trail and for API tokens.

use super::views;
use crate::auth::event;
use crate::error::ApiError;
use crate::extract::{Admin, Client, Json, Path, Query};
use crate::state::AppState;
use crate::tokens::issue_api_token;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::{Error, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit))
        .route("/api-tokens", get(list_tokens).post(create_token))
        .route("/api-tokens/{id}", delete(revoke_token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    login_id: Option<String>,
    event_type: Option<String>,
    actor_kind: Option<String>,
    actor_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

fn time_param(name: &str, v: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    v.map(|s| {
        Timestamp::parse_rfc3339(&s).ok_or_else(|| {
            ApiError::from(Error::InvalidRequest(format!(
                "{name} must be an RFC 3339 time such as 2026-05-22T12:02:20Z"
            )))
        })
    })
    .transpose()
}

async fn audit(
    State(state): State<AppState>,
    _admin: Admin,
    Query(p): Query<AuditParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let event_type = p
        .event_type
        .map(|t| {
            EventType::parse(&t).ok_or_else(|| {
                let all: Vec<_> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                ApiError::from(Error::InvalidRequest(format!(
                    "event_type must be one of {}",
                    all.join(", ")
                )))
            })
        })
        .transpose()?;
    if let Some(k) = &p.actor_kind {
        if !["self", "operator", "api_token", "system"].contains(&k.as_str()) {
            return Err(Error::InvalidRequest(
                "actor_kind must be one of self, operator, api_token, system".into(),
            )
            .into());
        }
    }
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AuditFilter {
        login_id: p.login_id.map(|l| l.to_ascii_lowercase()),
        event_type,
        actor_kind: p.actor_kind,
        actor_id: p.actor_id,
        since: time_param("since", p.since)?,
        until: time_param("until", p.until)?,
        before_id: p.before,
        limit,
    };
    let events = state.store.query_audit(&filter).await?;
    let next = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.event_id))
        .flatten();
    Ok(axum::Json(json!({ "events": events, "next_before": next })))
}

async fn list_tokens(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<axum::Json<Value>, ApiError> {
    let tokens = state.store.list_api_tokens().await?;
    Ok(axum::Json(json!({
        "api_tokens": tokens.iter().map(views::api_token).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    name: String,
    scope: String,
}

async fn create_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (secret, stored) = issue_api_token(
        state.store.as_ref(),
        state.rng.as_ref(),
        state.clock.now(),
        &body.name,
        &body.scope,
        caller.actor(),
        &client,
    )
    .await?;
    let mut v = views::api_token(&stored);
    v["token"] = Value::String(secret);
    Ok((StatusCode::CREATED, axum::Json(v)))
}

async fn revoke_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let ev = event(
        &state,
        EventType::ApiTokenRevoked,
        None,
        caller.actor(),
        &client,
        format!("API token {id} revoked"),
    );
    let revoked = state
        .store
        .revoke_api_token(id, state.clock.now(), &ev)
        .await?;
    state.api_tokens.forget(id);
    match revoked {
        None => Err(Error::ApiTokenNotFound.into()),
        Some(_) => Ok(StatusCode::NO_CONTENT),
    }
}
