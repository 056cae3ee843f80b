//! OTP validation for systems that check the password themselves and ask Sekisho only for the
//! second factor (as privacyIDEA's `/validate/check` is used): the login's authenticator app,
//! or else its registered hardware or software token. Same replay, drift, lock and validity
//! rules as the login, through the same checks.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Json, ValidateCaller};
use crate::hwtoken;
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
    // The authenticator app if there is one, else the registered hardware or software token
    // (read only then: the app is the common case and comes with the login's read).
    let token = match &login.totp {
        Some(_) => None,
        None => Some(
            hwtoken::registered_token(&state, login.login_pk)
                .await?
                .ok_or(Error::SecondFactorNotInitialized)?,
        ),
    };
    // Only wrong codes take from the login ID's bucket; while it is spent every code waits.
    throttle::validate_may_try(&state, login.validate_tat_ms)?;
    let (checked, method) = match (&login.totp, &token) {
        (Some(f), _) => {
            let ev = state.event(
                EventType::OtpValidated,
                Some(&login.login_id),
                caller.actor(),
                &client,
                "authenticator app code validated",
            );
            let on_success = OnSuccess {
                activate: false,
                audit: Some(ev),
            };
            let actor = caller.actor();
            let id = &login.login_id;
            let r = totp::check_code(&state, &client, id, actor, f, &body.otp, on_success).await;
            (r, "totp")
        }
        (None, Some(t)) => {
            let ev = state.event(
                EventType::OtpValidated,
                Some(&login.login_id),
                caller.actor(),
                &client,
                format!("token {} code validated", t.token_id),
            );
            let actor = caller.actor();
            let id = &login.login_id;
            let r = hwtoken::check_code(&state, &client, id, actor, t, &body.otp, Some(ev)).await;
            (r, "token")
        }
        (None, None) => return Err(Error::SecondFactorNotInitialized.into()),
    };
    if let Err(e) = checked {
        if e.error == Error::SecondFactorInvalid || e.error == Error::SecondFactorLocked {
            throttle::validate_failed(&state, &login.login_id).await?;
        }
        return Err(e.into());
    }
    Ok(axum::Json(Valid {
        valid: true,
        login_id: login.login_id,
        method,
    }))
}
