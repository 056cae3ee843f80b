//! The customer's JSON API: login, logout, own account, password change; and token
//! introspection for relying apps.

use super::views;
use crate::auth;
use crate::door::AppState;
use crate::email_code;
use crate::error::{pending_login, ApiError};
use crate::extract::{ApiCaller, Client, Customer, Json};
use crate::login;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sekisho_app::throttle::{self, Subject};
use sekisho_core::session::SessionPurpose;
use sekisho_core::{token, Error, Lang};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/login/second-factor", post(second_factor))
        .route("/api/v1/login/email-code/resend", post(resend_code))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/introspect", post(introspect))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    login_id: String,
    password: String,
    /// One-time code sent with ID and password by desktop clients (one-shot login).
    otp: Option<String>,
    /// A familiar browser's token held by an app (browsers send the cookie instead).
    device_token: Option<String>,
    /// A recovery code in place of the second factor (one-shot login).
    recovery_code: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    if body.login_id.len() > 256
        || body.password.len() > 1024
        || too_long(&body.otp)
        || too_long(&body.recovery_code)
    {
        return Err(Error::InvalidRequest("login_id, password or otp too long".into()).into());
    }
    let cookie = crate::web::device_from_cookie_header(
        headers.get(header::COOKIE).and_then(|v| v.to_str().ok()),
    );
    let extras = login::LoginExtras {
        otp: body.otp.as_deref(),
        device_token: body.device_token.as_deref().or(cookie.as_deref()),
        recovery_code: body.recovery_code.as_deref(),
    };
    throttle::attempt(&state, &client, Subject::Login(&body.login_id)).await?;
    let step =
        login::password_login(&state, &client, &body.login_id, &body.password, extras).await?;
    let issued = pending_login(step)?;
    Ok(session_json(&state, &issued))
}

fn too_long(otp: &Option<String>) -> bool {
    otp.as_ref().is_some_and(|o| o.len() > 64)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondFactorBody {
    challenge: String,
    /// The code of the challenge's method.
    #[serde(default)]
    otp: Option<String>,
    /// A recovery code instead of `otp`.
    #[serde(default)]
    recovery_code: Option<String>,
    /// Which of the challenge's methods `otp` answers (`totp` or `token`); the login's
    /// configured one when absent.
    #[serde(default)]
    method: Option<String>,
    /// "Don't ask again on this browser" (familiar browser).
    #[serde(default)]
    remember_device: bool,
}

async fn second_factor(
    State(state): State<AppState>,
    Client(client): Client,
    Json(body): Json<SecondFactorBody>,
) -> Result<Response, ApiError> {
    if body.challenge.len() > 256
        || too_long(&body.otp)
        || too_long(&body.recovery_code)
        || too_long(&body.method)
    {
        return Err(Error::InvalidRequest("challenge or otp too long".into()).into());
    }
    // The address first (an unknown challenge costs it too), then the challenge's login ID.
    throttle::attempt(&state, &client, Subject::Anyone).await?;
    let (_, waiting) = login::open_challenge(&state, &body.challenge).await?;
    throttle::attempt_login_only(&state, &waiting.login_id).await?;
    let issued = match (&body.otp, &body.recovery_code) {
        (None, Some(code)) => {
            login::complete_with_recovery_code(&state, &client, &body.challenge, code).await?
        }
        (Some(otp), None) => {
            login::complete_second_factor_with(
                &state,
                &client,
                &body.challenge,
                body.method.as_deref(),
                otp,
                body.remember_device,
            )
            .await?
        }
        _ => {
            return Err(
                Error::InvalidRequest("send exactly one of otp and recovery_code".into()).into(),
            )
        }
    };
    let axum::Json(mut v) = session_json(&state, &issued);
    if body.remember_device {
        v["device_remembered"] = json!(issued.device.is_some());
    }
    let Some(d) = &issued.device else {
        return Ok(axum::Json(v).into_response());
    };
    v["device_token"] = json!(d.token);
    v["device"] = views::device(&d.device);
    let cookie = crate::web::device_cookie(d, state.clock.now());
    let mut res = axum::Json(v).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendBody {
    challenge: String,
}

async fn resend_code(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    Json(body): Json<ResendBody>,
) -> Result<axum::Json<Value>, ApiError> {
    if body.challenge.len() > 256 {
        return Err(Error::InvalidRequest("challenge too long".into()).into());
    }
    let (expires, sent_to) = email_code::resend(&state, &client, &body.challenge).await?;
    let lang = Lang::from_accept_language(
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    Ok(axum::Json(json!({
        "resent": true,
        "sent_to": sent_to,
        "code_expires_at": expires.to_rfc3339(),
        "message": sekisho_core::email_code::resent_notice(lang),
    })))
}

pub(crate) fn session_json(state: &AppState, issued: &login::Issued) -> axum::Json<Value> {
    let s = &issued.session;
    let reminder = issued.mfa_reminder.map(|d| {
        let now = state.clock.now();
        json!({
            "mandatory_from": d.to_rfc3339(),
            "days_left": (d.0 - now.0).max(0) / 86_400,
            "deadline_near": state.settings.mfa.deadline_near(now),
            "enrol_url": "/api/v1/me/totp",
        })
    });
    let mut v = json!({
        "session_token": issued.token,
        "token_type": "Bearer",
        "login_id": s.login_id,
        "methods": s.methods,
        "expires_at": s.expires_at.to_rfc3339(),
        "idle_expires_at": s.idle_expires_at(&state.settings.session.policy()).to_rfc3339(),
        "idle_timeout_secs": state.settings.session.idle_timeout_secs,
    });
    if let Some(r) = reminder {
        v["mfa_reminder"] = r;
    }
    axum::Json(v)
}

async fn logout(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
) -> Result<StatusCode, ApiError> {
    auth::logout(&state, &client, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(
    State(state): State<AppState>,
    Customer(session): Customer,
) -> Result<axum::Json<Value>, ApiError> {
    if session.purpose != SessionPurpose::Full {
        return Err(crate::catalogue::DoorError::PasswordChangeRequired.into());
    }
    let login = state
        .store
        .get_login(&session.login_id)
        .await?
        .ok_or(Error::SessionInvalid)?;
    let policy = &state.settings.password_policy;
    Ok(axum::Json(json!({
        "login_id": login.login_id,
        "display_name": login.display_name,
        "email": login.email,
        "lang": login.lang.as_str(),
        "second_factor": login.second_factor.as_str(),
        "mfa_required": login.mfa_required,
        "password_changed_at": login.password_changed_at.map(|t| t.to_rfc3339()),
        "password_expires_at": views::password_expires_at(&login, policy).map(|t| t.to_rfc3339()),
        "last_login_at": login.last_login_at.map(|t| t.to_rfc3339()),
        "session": views::session(&session, &state.settings.session.policy()),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    Client(client): Client,
    Customer(session): Customer,
    Json(body): Json<ChangePassword>,
) -> Result<axum::Json<Value>, ApiError> {
    if body.current_password.len() > 1024 || body.new_password.len() > 1024 {
        return Err(Error::InvalidRequest("password too long".into()).into());
    }
    let full = auth::change_password(
        &state,
        &client,
        &session,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(axum::Json(
        json!({ "changed": true, "login_required": !full }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntrospectBody {
    token: String,
}

async fn introspect(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(body): Json<IntrospectBody>,
) -> Result<axum::Json<Value>, ApiError> {
    // A scraper's token reads numbers, not who is logged in.
    if caller.0.scope == sekisho_core::token::ApiScope::Metrics {
        return Err(Error::InsufficientScope.into());
    }
    let now = state.clock.now();
    let session = state
        .store
        .get_session(&token::hash(&body.token))
        .await?
        .filter(|s| s.is_active(&state.settings.session.policy(), now))
        // A restricted password-change token is not a login as far as relying apps know.
        .filter(|s| s.purpose == SessionPurpose::Full);
    Ok(axum::Json(match session {
        None => json!({ "active": false }),
        Some(s) => json!({
            "active": true,
            "login_id": s.login_id,
            "purpose": s.purpose,
            "methods": s.methods,
            "auth_time": s.created_at.to_rfc3339(),
            "expires_at": s.expires_at.to_rfc3339(),
            "idle_expires_at": s.idle_expires_at(&state.settings.session.policy()).to_rfc3339(),
        }),
    }))
}
