//! Admin API for the audit trail and for API tokens.

use super::views;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, Client, Json, Path, Query, Staff};
use crate::tokens::issue_api_token;
use crate::web::csv_download;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use sekisho_app::audit_history::{history_page, history_row, AuditParams, CsvExport, HistoryRow};
use sekisho_core::audit::EventType;
use sekisho_core::{Error, Lang};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit))
        .route("/audit.csv", get(audit_csv))
        .route("/api-tokens", get(list_tokens).post(create_token))
        .route("/api-tokens/{id}", delete(revoke_token))
}

fn history_lang(p: &AuditParams, headers: &HeaderMap) -> Result<Lang, ApiError> {
    match &p.lang {
        Some(l) => Lang::parse(l)
            .ok_or_else(|| Error::InvalidRequest("lang must be ja or en".into()).into()),
        None => Ok(Lang::from_accept_language(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )),
    }
}

fn history_json(r: &HistoryRow<'_>) -> Value {
    let e = r.event;
    json!({
        "event_id": e.event_id,
        "time": e.time.to_rfc3339(),
        "login_id": e.login_id,
        "login_name": e.login_name,
        "event_group": r.group,
        "event_group_label": r.group_label,
        "event_type": e.event_type,
        "description": e.description,
        "summary": r.description,
        "actor": e.actor,
        "actor_label": r.actor,
        "error_code": e.error_code,
        "client_ip": e.client_ip,
        "user_agent": e.user_agent,
    })
}

async fn audit(
    State(state): State<AppState>,
    _staff: Staff,
    headers: HeaderMap,
    Query(p): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let lang = history_lang(&p, &headers)?;
    match p.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => return Ok(csv_download(CsvExport::new(&state, &p, lang)?).await?),
        Some(_) => return Err(Error::InvalidRequest("format must be json or csv".into()).into()),
    }
    let (events, next) = history_page(&state, &p).await?;
    let rows: Vec<Value> = events
        .iter()
        .map(|e| history_json(&history_row(e, lang)))
        .collect();
    Ok(axum::Json(json!({ "events": rows, "next_before": next })).into_response())
}

async fn audit_csv(
    State(state): State<AppState>,
    _staff: Staff,
    headers: HeaderMap,
    Query(p): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let lang = history_lang(&p, &headers)?;
    Ok(csv_download(CsvExport::new(&state, &p, lang)?).await?)
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
    let ev = state.event(
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
