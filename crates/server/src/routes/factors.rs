//! The customer's own second factors: the authenticator app's enrolment (申込), confirmation,
//! "show the code again" (コード再表示), "stop using" (利用停止), and the factor list.

use crate::catalogue::DoorError;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Customer, Json};
use crate::recovery;
use crate::trading::{self, Proof};
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::Router;
use sekisho_app::totp_enrol::{
    confirm_totp, reveal_totp, start_totp, stop_totp, totp_factor, totp_key,
};
use sekisho_core::audit::Actor;
use sekisho_core::login::Login;
use sekisho_core::session::SessionPurpose;
use sekisho_core::Error;
use sekisho_store::{FactorState, OtpFactor};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/factors", get(list))
        .route("/api/v1/me/totp", post(enrol).delete(stop_using))
        .route("/api/v1/me/totp/confirm", post(confirm))
        .route("/api/v1/me/totp/reveal", post(reveal))
        .route("/api/v1/me/trading-password", put(change_trading_password))
        .route("/api/v1/me/recovery-codes", post(generate_recovery_codes))
}

pub(crate) async fn me(
    state: &AppState,
    session: &sekisho_core::session::Session,
) -> Result<Login, ApiError> {
    if session.purpose != SessionPurpose::Full {
        return Err(DoorError::PasswordChangeRequired.into());
    }
    Ok(state
        .store
        .get_login(&session.login_id)
        .await?
        .ok_or(Error::SessionInvalid)?)
}

fn key_json(state: &AppState, login: &Login, f: &OtpFactor) -> Result<Value, ApiError> {
    let k = totp_key(state, login, f)?;
    let p = k.params;
    Ok(json!({
        "factor_id": f.uid,
        "state": f.state.as_str(),
        "secret": k.secret,
        "otpauth_uri": k.uri,
        "qr_svg": k.qr_svg,
        "issuer": k.issuer,
        "account_name": k.account_name,
        "type": "totp",
        "algorithm": p.algorithm.as_str(),
        "digits": p.digits,
        "period": p.period,
        "expires_at": f.expires_at.map(|t| t.to_rfc3339()),
    }))
}

/// The fresh proof an enrolment needs: the login password, or the trading password where the
/// firm asks for it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    trading_password: Option<String>,
}

impl PasswordBody {
    fn proof(&self) -> Proof<'_> {
        Proof {
            password: self.password.as_deref(),
            trading_password: self.trading_password.as_deref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OtpBody {
    otp: String,
}

fn check_len(s: &str) -> Result<(), ApiError> {
    if s.len() > 1024 {
        return Err(Error::InvalidRequest("field too long".into()).into());
    }
    Ok(())
}

async fn enrol(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<PasswordBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    let f = start_totp(&state, &client, &login, body.proof()).await?;
    Ok(axum::Json(key_json(&state, &login, &f)?))
}

async fn confirm(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<OtpBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_len(&body.otp)?;
    let login = me(&state, &session).await?;
    let f = confirm_totp(&state, &client, &login, &body.otp).await?;
    Ok(axum::Json(
        json!({ "factor_id": f.uid, "method": "totp", "state": "active" }),
    ))
}

async fn reveal(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<OtpBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_len(&body.otp)?;
    let login = me(&state, &session).await?;
    let f = reveal_totp(&state, &client, &login, &body.otp).await?;
    Ok(axum::Json(key_json(&state, &login, &f)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StopBody {
    /// A current code; not needed to drop an unconfirmed enrolment.
    #[serde(default)]
    otp: Option<String>,
}

async fn stop_using(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<StopBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let code = body.otp.unwrap_or_default();
    check_len(&code)?;
    let login = me(&state, &session).await?;
    stop_totp(&state, &client, &login, &code).await?;
    Ok(axum::Json(
        json!({ "method": "totp", "state": "not_registered" }),
    ))
}

async fn list(
    State(state): State<AppState>,
    Customer(session): Customer,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    let now = state.clock.now();
    let totp = totp_factor(&state, &login)
        .await?
        .filter(|f| f.state == FactorState::Active || f.expires_at.is_some_and(|e| now < e));
    let totp = match totp {
        Some(f) => json!({
            "method": "totp",
            "factor_id": f.uid,
            "label": f.label,
            "state": f.state.as_str(),
            "locked": f.locked_at.is_some(),
            "created_at": f.created_at.to_rfc3339(),
            "last_used_at": f.last_used_at.map(|t| t.to_rfc3339()),
        }),
        None => json!({ "method": "totp", "state": "not_registered" }),
    };
    let policy = &state.settings.password_policy;
    let trading = state.store.trading_password_hash(login.id).await?.is_some();
    let recovery_codes = match state.store.recovery_status(login.id).await? {
        Some(r) => json!({
            "state": "active",
            "remaining": r.remaining,
            "total": sekisho_core::recovery::COUNT,
            "created_at": r.created_at.to_rfc3339(),
            "locked": r.locked_at.is_some(),
        }),
        None => json!({ "state": "not_registered", "remaining": 0 }),
    };
    Ok(axum::Json(json!({
        "second_factor": login.second_factor.as_str(),
        "mfa_required": login.mfa_required,
        "trading_password_set": trading,
        "reauthentication": if trading && state.settings.trading_password.reauth {
            "trading_password"
        } else {
            "password"
        },
        "factors": [
            {
                "method": "password",
                "state": if login.password_hash.is_some() { "active" } else { "not_registered" },
                "created_at": login.password_changed_at.map(|t| t.to_rfc3339()),
                "expires_at": super::views::password_expires_at(&login, policy).map(|t| t.to_rfc3339()),
                "locked": login.is_locked(),
            },
            totp,
        ],
        "recovery_codes": recovery_codes,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TradingPasswordBody {
    /// The current trading password, when one is set.
    #[serde(default)]
    current_trading_password: Option<String>,
    /// The login password, when no trading password is set yet.
    #[serde(default)]
    password: Option<String>,
    new_trading_password: String,
}

/// Sets or changes the customer's trading password (取引パスワード変更).
async fn change_trading_password(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<TradingPasswordBody>,
) -> Result<axum::http::StatusCode, ApiError> {
    let login = me(&state, &session).await?;
    let proof = Proof {
        password: body.password.as_deref(),
        trading_password: body.current_trading_password.as_deref(),
    };
    trading::reauthenticate_for_change(&state, &client, &login, proof).await?;
    trading::set(
        &state,
        &client,
        &login,
        &body.new_trading_password,
        Actor::SelfService,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Generates ten recovery codes, shown only in this answer; an earlier set stops working.
async fn generate_recovery_codes(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<PasswordBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = me(&state, &session).await?;
    trading::reauthenticate(
        &state,
        &client,
        &login,
        body.proof(),
        "recovery code generation",
    )
    .await?;
    let (codes, created_at) = recovery::generate(&state, &client, &login).await?;
    Ok(axum::Json(json!({
        "codes": codes,
        "remaining": codes.len(),
        "created_at": created_at.to_rfc3339(),
        "method": recovery::METHOD,
    })))
}
