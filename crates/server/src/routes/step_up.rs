//! The step-up API for relying apps: ask a customer to confirm one operation, read the answer
//! and (once) the signed proof; and the public key set that verifies proofs.

use crate::catalogue::DoorError;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Json, Path, StepUpCaller};
use crate::step_up::{self, Operation};
use crate::web::{percent_encode, return_to_allowed};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sekisho_core::audit::EventType;
use sekisho_core::step_up::{check_amount, check_description, OperationKind, StepUpState};
use sekisho_core::validate::LoginId;
use sekisho_core::{token, Error};
use sekisho_store::{NewStepUp, StepUpRequest};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/step-up", post(create))
        .route("/api/v1/step-up/{id}", get(read))
        .route("/.well-known/jwks.json", get(jwks))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmountBody {
    value: String,
    currency: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationBody {
    kind: String,
    description: String,
    #[serde(default)]
    amount: Option<AmountBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    login_id: String,
    operation: OperationBody,
    return_to: String,
}

async fn create(
    State(state): State<AppState>,
    StepUpCaller(caller): StepUpCaller,
    Client(client): Client,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let kind = OperationKind::parse(&body.operation.kind).ok_or_else(|| {
        Error::InvalidRequest(
            "operation.kind must be withdrawal, withdrawal_account_change, large_order or other"
                .into(),
        )
    })?;
    check_description(&body.operation.description)?;
    if let Some(a) = &body.operation.amount {
        check_amount(&a.value, &a.currency)?;
    }
    if !return_to_allowed(&body.return_to, &state.settings.pages.return_to_allowlist) {
        return Err(DoorError::ReturnToNotAllowed.into());
    }
    let id = LoginId::parse(&body.login_id).map_err(|_| Error::LoginNotFound)?;
    let login = state
        .store
        .get_login(id.as_str())
        .await?
        .ok_or(Error::LoginNotFound)?;
    if login.disabled {
        return Err(Error::LoginDisabled.into());
    }
    let (rid, hash) = step_up::new_id(state.rng.as_ref());
    let now = state.clock.now();
    let new = NewStepUp {
        id_hash: hash,
        login_pk: login.id,
        login_id: login.login_id.clone(),
        kind,
        description: body.operation.description.clone(),
        amount: body.operation.amount.map(|a| (a.value, a.currency)),
        api_token_id: caller.0.id,
        audience: caller.0.name.clone(),
        return_to: body.return_to.clone(),
        now,
        expires_at: now.plus_secs(state.settings.step_up.request_ttl_secs),
    };
    let ev = state.event(
        EventType::StepUpRequested,
        Some(&login.login_id),
        caller.actor(),
        &client,
        format!(
            "{} requested by {}: {}",
            kind.as_str(),
            caller.0.name,
            new.description
        ),
    );
    let r = state.store.create_step_up(&new, &ev).await?;
    let mut v = view(&rid, &r, now);
    v["url"] = Value::String(page_url(&state, &rid));
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// The confirmation page of request `id`.
pub fn page_url(state: &AppState, id: &str) -> String {
    format!(
        "{}/step-up/{}",
        state.settings.public_url.trim_end_matches('/'),
        percent_encode(id)
    )
}

fn view(id: &str, r: &StepUpRequest, now: sekisho_core::Timestamp) -> Value {
    let st = r.state_at(now);
    let mut v = json!({
        "id": id,
        "state": st.as_str(),
        "login_id": r.login_id,
        "operation": Operation::of(r),
        "return_to": r.return_to,
        "created_at": r.created_at.to_rfc3339(),
        "expires_at": r.expires_at.to_rfc3339(),
    });
    if let Some(m) = &r.method {
        v["method"] = Value::String(m.as_str().into());
    }
    if let Some(t) = r.answered_at {
        v["answered_at"] = Value::String(t.to_rfc3339());
    }
    if st == StepUpState::Confirmed {
        v["proof_taken"] = Value::Bool(r.proof_taken_at.is_some());
    }
    v
}

async fn read(
    State(state): State<AppState>,
    StepUpCaller(caller): StepUpCaller,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let hash = token::hash(&id);
    // Only the app (API token) that asked may read the answer.
    let r = state
        .store
        .get_step_up(&hash)
        .await?
        .filter(|r| r.api_token_id == caller.0.id)
        .ok_or(Error::StepUpNotFound)?;
    let now = state.clock.now();
    let mut v = view(&id, &r, now);
    if r.state == StepUpState::Confirmed {
        if let Some(sealed) = state.store.take_step_up_proof(&hash, now).await? {
            let jws = state
                .secrets
                .open(&sealed, &step_up::proof_aad(&hash))
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(Error::Internal)?;
            v["proof"] = Value::String(jws);
            v["proof_taken"] = Value::Bool(true);
        }
    }
    Ok(axum::Json(v))
}

async fn jwks(State(state): State<AppState>, Client(client): Client) -> Result<Response, ApiError> {
    let set = step_up::jwks(&state, &client).await?;
    let mut res = axum::Json(set).into_response();
    // Verifiers may cache the set briefly; after a rotation the new key signs at once, so a
    // verifier that meets an unknown `kid` fetches the set again.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    Ok(res)
}
