//! OTP validation for systems that check the password themselves and ask Sekisho only for the
//! second factor (as privacyIDEA's `/validate/check` is used). Same replay, drift and lock rules
//! as the login.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Json, ValidateCaller};
use crate::totp::{self, OnSuccess};
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use sekisho_app::throttle;
use sekisho_core::audit::EventType;
use sekisho_core::validate::LoginId;
use sekisho_core::Error;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/validate", post(validate))
}

/// The answer to an accepted code (a struct, not a `json!` map: this is the hot path).
#[derive(Serialize)]
struct Valid {
    valid: bool,
    login_id: String,
    method: &'static str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    login_id: String,
    otp: String,
}

async fn validate(
    State(state): State<AppState>,
    ValidateCaller(caller): ValidateCaller,
    Client(client): Client,
    Json(body): Json<Body>,
) -> Result<axum::Json<Valid>, ApiError> {
    if body.login_id.len() > 256 || body.otp.len() > 64 {
        return Err(Error::InvalidRequest("login_id or otp too long".into()).into());
    }
    // An unknown login answers like a wrong code, so the endpoint lists no login IDs.
    let id = LoginId::parse(&body.login_id).map_err(|_| Error::SecondFactorInvalid)?;
    // One read: the login and its active authenticator app.
    let login = state
        .store
        .code_target(id.as_str())
        .await?
        .ok_or(Error::SecondFactorInvalid)?;
    if login.disabled {
        return Err(Error::LoginDisabled.into());
    }
    let f = login.totp.ok_or(Error::SecondFactorNotInitialized)?;
    // Only wrong codes take from the login ID's bucket; while it is spent every code waits.
    throttle::validate_may_try(&state, login.validate_tat_ms)?;
    let ev = state.event(
        EventType::OtpValidated,
        Some(&login.login_id),
        caller.actor(),
        &client,
        "authenticator app code validated",
    );
    let checked = totp::check_code(
        &state,
        &client,
        &login.login_id,
        caller.actor(),
        &f,
        &body.otp,
        OnSuccess {
            activate: false,
            audit: Some(ev),
        },
    )
    .await;
    if let Err(e) = checked {
        if e.error == Error::SecondFactorInvalid || e.error == Error::SecondFactorLocked {
            throttle::validate_failed(&state, &login.login_id).await?;
        }
        return Err(e.into());
    }
    Ok(axum::Json(Valid {
        valid: true,
        login_id: login.login_id,
        method: "totp",
    }))
}
