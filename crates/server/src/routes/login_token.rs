//! The token steps of a login in progress: start-of-use registration (利用開始登録) and
//! resynchronisation (同期ズレ補正), both after the password, with the login's challenge.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Json};
use crate::hwtoken;
use crate::login;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use sekisho_app::throttle::{self, Subject};
use sekisho_core::Error;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login/token/register", post(register))
        .route("/api/v1/login/token/resync", post(resync))
}

fn check_lengths(fields: &[&str]) -> Result<(), ApiError> {
    if fields.iter().any(|f| f.len() > 256) {
        return Err(Error::InvalidRequest("a field is too long".into()).into());
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    challenge: String,
    token_id: String,
    otp1: String,
    otp2: String,
}

async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    Json(body): Json<RegisterBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_lengths(&[&body.challenge, &body.token_id, &body.otp1, &body.otp2])?;
    throttle::attempt(&state, &client, Subject::Anyone).await?;
    let (ch, login) = login::open_challenge(&state, &body.challenge).await?;
    throttle::attempt_login_only(&state, &login.login_id).await?;
    if !ch.methods.iter().any(|m| m == login::TOKEN_REGISTER) {
        return Err(Error::ChallengeInvalid.into());
    }
    let t = hwtoken::register(
        &state,
        &client,
        &login,
        &body.token_id,
        &body.otp1,
        &body.otp2,
    )
    .await?;
    Ok(axum::Json(json!({
        "token_id": t.token_id,
        "registered_at": t.registered_at.map(|r| r.to_rfc3339()),
        "challenge": body.challenge,
        "second_factor_url": "/api/v1/login/second-factor",
        "expires_at": ch.expires_at.to_rfc3339(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResyncBody {
    challenge: String,
    otp1: String,
    otp2: String,
}

async fn resync(
    State(state): State<AppState>,
    Client(client): Client,
    Json(body): Json<ResyncBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_lengths(&[&body.challenge, &body.otp1, &body.otp2])?;
    throttle::attempt(&state, &client, Subject::Anyone).await?;
    let (ch, login) = login::open_challenge(&state, &body.challenge).await?;
    throttle::attempt_login_only(&state, &login.login_id).await?;
    let t = hwtoken::resync(&state, &client, &login, &body.otp1, &body.otp2).await?;
    Ok(axum::Json(json!({
        "token_id": t.token_id,
        "resynchronised": true,
        "challenge": body.challenge,
        "second_factor_url": "/api/v1/login/second-factor",
        "expires_at": ch.expires_at.to_rfc3339(),
    })))
}
