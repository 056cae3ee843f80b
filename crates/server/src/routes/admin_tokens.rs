//! Admin API for the token inventory: import seed files, list, read, assign, unassign, revoke
//! (失効), unlock.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, Client, Json, Path, Query};
use crate::token_inventory::{
    batch_label, import_seed_file, psk_from_hex, ImportRequest, SeedFormat,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use sekisho_app::token_admin::{self, TokenChange};
use sekisho_core::import::{normalize_token_id, Decryption, MAX_FILE_BYTES};
use sekisho_core::validate::LoginId;
use sekisho_core::Error;
use sekisho_store::{OtpToken, TokenQuery, TokenState};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/tokens/import",
            // Seed files are larger than API bodies: this route alone takes up to the parser's
            // own limit.
            post(import).layer(DefaultBodyLimit::max(MAX_FILE_BYTES)),
        )
        .route("/tokens", get(list))
        .route("/tokens/{token_id}", get(read))
        .route("/tokens/{token_id}/assign", post(assign))
        .route("/tokens/{token_id}/unassign", post(unassign))
        .route("/tokens/{token_id}/revoke", post(revoke))
        .route("/tokens/{token_id}/unlock", post(unlock))
}

fn ts(t: Option<sekisho_core::Timestamp>) -> Value {
    t.map(|t| Value::String(t.to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// The state an operator sees: a lock shows as `locked` over `assigned`.
fn shown_state(t: &OtpToken) -> &'static str {
    match t.state {
        TokenState::Assigned if t.locked_at.is_some() => "locked",
        s => s.as_str(),
    }
}

/// A token as the admin API shows it; never its secret.
pub(crate) fn view(t: &OtpToken) -> Value {
    let mut v = json!({
        "token_id": t.token_id,
        "kind": t.kind,
        "algorithm": t.algorithm,
        "digits": t.digits,
        "state": shown_state(t),
        "login_id": t.login_id,
        "failed_attempts": t.failed_attempts,
        "locked_at": ts(t.locked_at),
        "batch": t.batch,
        "imported_at": t.imported_at.to_rfc3339(),
        "assigned_at": ts(t.assigned_at),
        "registered_at": ts(t.registered_at),
        "revoked_at": ts(t.revoked_at),
        "last_used_at": ts(t.last_used_at),
        "valid_from": ts(t.valid_from),
        "valid_until": ts(t.valid_until),
        "max_transactions": t.max_transactions,
        "transactions": t.transactions,
    });
    if let Some(o) = v.as_object_mut() {
        if t.kind == sekisho_core::otp::OtpKind::Hotp {
            o.insert("counter".into(), t.counter.into());
        } else {
            o.insert("period".into(), t.period.into());
            o.insert("drift".into(), t.drift.into());
        }
    }
    v
}

async fn load(state: &AppState, token_id: &str) -> Result<OtpToken, ApiError> {
    Ok(token_admin::named_token(state, token_id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    /// The pre-shared AES key in hex (PSKC §6.1).
    psk_hex: Option<String>,
    /// The passphrase for a PBKDF2-protected file (PSKC §6.2).
    passphrase: Option<String>,
    /// A label stored with every token (default: `import-<time>`).
    batch: Option<String>,
    /// Import the usable entries even if some are rejected.
    skip_rejected: Option<bool>,
    /// Accept secrets under 128 bits (test tokens only).
    allow_short_secrets: Option<bool>,
}

async fn import(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Query(p): Query<ImportParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::from(crate::catalogue::DoorError::PayloadTooLarge)
        }
        _ => Error::InvalidRequest(r.body_text()).into(),
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = SeedFormat::from_content_type(content_type).ok_or_else(|| {
        Error::InvalidRequest(
            "Content-Type must be application/pskc+xml, application/xml or text/xml (PSKC) \
             or text/csv (OATH CSV)"
                .into(),
        )
    })?;
    let decryption = match (p.psk_hex, p.passphrase) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidRequest("give psk_hex or passphrase, not both".into()).into())
        }
        (Some(k), None) => Decryption::PreSharedKey(psk_from_hex(&k)?),
        (None, Some(pass)) if !pass.is_empty() => Decryption::Passphrase(pass),
        _ => Decryption::None,
    };
    if format == SeedFormat::Csv && decryption != Decryption::None {
        return Err(Error::TokenFileKey("CSV files are not encrypted".into()).into());
    }
    let now = state.clock.now();
    let batch = match p.batch {
        Some(b) => batch_label(&b)?,
        None => format!("import-{}", now.to_rfc3339()),
    };
    let report = import_seed_file(
        state.store.as_ref(),
        &state.secrets,
        state.rng.as_ref(),
        now,
        ImportRequest {
            bytes: body.to_vec(),
            format,
            decryption,
            batch,
            skip_rejected: p.skip_rejected.unwrap_or(false),
            allow_short_secrets: p.allow_short_secrets.unwrap_or(false),
        },
        caller.actor(),
        &client,
    )
    .await?;
    Ok(axum::Json(serde_json::to_value(report).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    state: Option<String>,
    login_id: Option<String>,
    batch: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let (token_state, locked) = match p.state.as_deref() {
        None => (None, None),
        Some("locked") => (Some(TokenState::Assigned), Some(true)),
        Some("assigned") => (Some(TokenState::Assigned), Some(false)),
        Some(s) => (
            Some(TokenState::parse(s).ok_or_else(|| {
                Error::InvalidRequest("state must be in_stock, assigned, locked or revoked".into())
            })?),
            None,
        ),
    };
    let login_pk = match p.login_id.as_deref() {
        None => None,
        Some(l) => {
            let id = LoginId::parse(l).map_err(|_| Error::LoginNotFound)?;
            let login = state
                .store
                .get_login(id.as_str())
                .await?
                .ok_or(Error::LoginNotFound)?;
            Some(login.id)
        }
    };
    let tokens = state
        .store
        .list_tokens(&TokenQuery {
            state: token_state,
            locked,
            login_pk,
            batch: p.batch,
            after: p.after.and_then(|a| normalize_token_id(&a)),
            limit,
        })
        .await?;
    let next = (tokens.len() == limit as usize)
        .then(|| tokens.last().map(|t| t.token_id.clone()))
        .flatten();
    Ok(axum::Json(json!({
        "tokens": tokens.iter().map(view).collect::<Vec<_>>(),
        "next_after": next,
    })))
}

async fn read(
    State(state): State<AppState>,
    _admin: Admin,
    Path(token_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(view(&load(&state, &token_id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    login_id: String,
}

async fn assign(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(token_id): Path<String>,
    Json(body): Json<AssignBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let staff = caller.staff();
    let token = token_admin::assign_to(&state, &staff, &client, &token_id, &body.login_id).await?;
    Ok(axum::Json(view(&token)))
}

/// An unassignment or revocation: `token_state_conflict` when the token's state refuses it.
async fn refusable(
    state: AppState,
    caller: Admin,
    client: Client,
    token_id: String,
    kind: TokenChange,
) -> Result<axum::Json<Value>, ApiError> {
    let staff = caller.0.staff();
    let token = token_admin::refusable_change(&state, &staff, &client.0, &token_id, kind).await?;
    Ok(axum::Json(view(&token)))
}

async fn unassign(
    State(state): State<AppState>,
    caller: Admin,
    client: Client,
    Path(token_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    refusable(state, caller, client, token_id, TokenChange::Unassign).await
}

async fn revoke(
    State(state): State<AppState>,
    caller: Admin,
    client: Client,
    Path(token_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    refusable(state, caller, client, token_id, TokenChange::Revoke).await
}

async fn unlock(
    State(state): State<AppState>,
    caller: Admin,
    client: Client,
    Path(token_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let staff = caller.0.staff();
    let (token, was_locked) =
        token_admin::change(&state, &staff, &client.0, &token_id, TokenChange::Unlock).await?;
    let mut v = view(&token);
    if let Some(o) = v.as_object_mut() {
        o.insert("was_locked".into(), was_locked.into());
    }
    Ok(axum::Json(v))
}
