//! The customer's own second factors: the authenticator app's enrolment (申込), confirmation,
//! "show the code again" (コード再表示), "stop using" (利用停止), and the factor list.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Customer, Json};
use crate::mail::notices::Notice;
use crate::notify;
use crate::recovery;
use crate::totp::{self, OnSuccess};
use crate::trading::{self, Proof};
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::Router;
use sekisho_core::audit::{Actor, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::Login;
use sekisho_core::otp;
use sekisho_core::session::SessionPurpose;
use sekisho_core::Error;
use sekisho_store::{FactorState, NewOtpFactor, OtpFactor, StoreError};
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
        return Err(Error::PasswordChangeRequired.into());
    }
    Ok(state
        .store
        .get_login(&session.login_id)
        .await?
        .ok_or(Error::SessionInvalid)?)
}

pub(crate) async fn totp_factor(
    state: &AppState,
    login: &Login,
) -> Result<Option<OtpFactor>, ApiError> {
    Ok(state
        .store
        .otp_factors(login.id)
        .await?
        .into_iter()
        .find(|f| f.method == "totp"))
}

/// The key as the customer's app needs it: shown at enrolment and on "show the code again" only.
pub(crate) struct TotpKey {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
    /// Issuer shown in the app.
    pub issuer: String,
    /// Account name shown in the app.
    pub account_name: String,
    /// Parameters.
    pub params: otp::OtpParams,
}

pub(crate) fn totp_key(
    state: &AppState,
    login: &Login,
    f: &OtpFactor,
) -> Result<TotpKey, ApiError> {
    let secret = totp::open_secret(state, f)?;
    let s = &state.settings.totp;
    let account = s.account_name.replace("{login_id}", &login.login_id);
    let p = totp::params(f);
    let uri = otp::otpauth_uri(&s.issuer, &account, &secret, p);
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|_| ApiError::from(Error::Internal))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build();
    Ok(TotpKey {
        secret: otp::base32_encode(&secret),
        uri,
        qr_svg: qr,
        issuer: s.issuer.clone(),
        account_name: account,
        params: p,
    })
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

/// Starts the authenticator app's enrolment (申込) after a fresh proof: a pending factor with a
/// new key, which `confirm_totp` activates with a first code.
pub(crate) async fn start_totp(
    state: &AppState,
    client: &sekisho_core::audit::ClientInfo,
    login: &Login,
    proof: Proof<'_>,
) -> Result<OtpFactor, ApiError> {
    // Enrolment needs a fresh proof (login or trading password), not only a session.
    trading::reauthenticate(
        state,
        client,
        login,
        proof,
        "authenticator app registration",
    )
    .await?;
    begin_totp(state, client, login).await
}

/// Starts an enrolment for a caller already proven: after `start_totp`'s re-authentication, or
/// in the setup wizard, whose open setup link is the proof.
pub(crate) async fn begin_totp(
    state: &AppState,
    client: &sekisho_core::audit::ClientInfo,
    login: &Login,
) -> Result<OtpFactor, ApiError> {
    if totp::active_totp(state, login.id).await?.is_some() {
        return Err(Error::FactorAlreadyRegistered.into());
    }
    let now = state.clock.now();
    let secret = otp::generate_secret(state.rng.as_ref());
    let uid = hex_id(state);
    let nonce: [u8; 12] = random_bytes(state.rng.as_ref());
    let sealed = state
        .secrets
        .seal(&secret, &totp::secret_aad(&uid), nonce)
        .ok_or(Error::Internal)?;
    let p = state.settings.totp.params;
    let new = NewOtpFactor {
        uid,
        login_pk: login.id,
        method: "totp".into(),
        label: "authenticator app".into(),
        secret_enc: sealed,
        algorithm: p.algorithm.as_str().into(),
        digits: p.digits,
        period: p.period,
        now,
        expires_at: now.plus_secs(state.settings.totp.enrolment_secs),
    };
    let ev = state.event(
        EventType::FactorEnrolmentStarted,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app enrolment started",
    );
    let f = match state.store.put_pending_totp(&new, &ev).await {
        Ok(f) => f,
        Err(StoreError::Conflict) => return Err(Error::FactorAlreadyRegistered.into()),
        Err(e) => return Err(e.into()),
    };
    Ok(f)
}

/// Activates a pending authenticator app with its first code (the enrolment's confirmation).
pub(crate) async fn confirm_totp(
    state: &AppState,
    client: &sekisho_core::audit::ClientInfo,
    login: &Login,
    otp: &str,
) -> Result<OtpFactor, ApiError> {
    let f = totp_factor(state, login)
        .await?
        .ok_or(Error::FactorNotRegistered)?;
    if f.state == FactorState::Active {
        return Err(Error::FactorAlreadyRegistered.into());
    }
    if f.expires_at.is_some_and(|e| state.clock.now() >= e) {
        return Err(Error::EnrolmentExpired.into());
    }
    let ev = state.event(
        EventType::FactorAdded,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app registered (TOTP)",
    );
    totp::check_code(
        state,
        client,
        &login.login_id,
        Actor::SelfService,
        &f,
        otp,
        OnSuccess {
            activate: true,
            audit: Some(ev),
        },
    )
    .await?;
    notify::send(state, login, &Notice::FactorAdded("totp")).await;
    Ok(f)
}

fn hex_id(state: &AppState) -> String {
    let b: [u8; 12] = random_bytes(state.rng.as_ref());
    b.iter().map(|x| format!("{x:02x}")).collect()
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

/// "Show the code again" (コード再表示): a current code of the active app unlocks its key (for a
/// second device).
pub(crate) async fn reveal_totp(
    state: &AppState,
    client: &sekisho_core::audit::ClientInfo,
    login: &Login,
    otp: &str,
) -> Result<OtpFactor, ApiError> {
    let f = totp::active_totp(state, login.id)
        .await?
        .ok_or(Error::FactorNotRegistered)?;
    let ev = state.event(
        EventType::FactorRevealed,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app key shown again (another device)",
    );
    totp::check_code(
        state,
        client,
        &login.login_id,
        Actor::SelfService,
        &f,
        otp,
        OnSuccess {
            activate: false,
            audit: Some(ev),
        },
    )
    .await?;
    Ok(f)
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

/// Stops using the authenticator app (利用停止): an active one needs a current code.
pub(crate) async fn stop_totp(
    state: &AppState,
    client: &sekisho_core::audit::ClientInfo,
    login: &Login,
    code: &str,
) -> Result<(), ApiError> {
    let f = totp_factor(state, login)
        .await?
        .ok_or(Error::FactorNotRegistered)?;
    if f.state == FactorState::Active {
        totp::check_code(
            state,
            client,
            &login.login_id,
            Actor::SelfService,
            &f,
            code,
            OnSuccess {
                activate: false,
                audit: None,
            },
        )
        .await?;
    }
    let ev = state.event(
        EventType::FactorRemoved,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "authenticator app removed by the customer (利用停止)",
    );
    if state.store.delete_otp_factor(f.id, &ev).await? && f.state == FactorState::Active {
        notify::send(state, login, &Notice::FactorRemoved("totp")).await;
    }
    Ok(())
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
        "reauthentication": if trading && state.settings.trading_password_reauth {
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
