//! The security settings page (登録情報照会): the login's methods with their state and actions.
//! Each change first asks for the password (or the trading password where the firm asks for
//! it), through the same `trading::reauthenticate` as the JSON API.

use super::{error_page, status_of, Base, Ctx, Shown, SESSION_COOKIE};
use crate::email_code;
use crate::hwtoken;
use crate::routes::factors;
use crate::state::AppState;
use crate::trading::Proof;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::{token, Error};
use sekisho_store::FactorState;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/security", get(security))
        .route("/account/totp", post(totp_start))
        .route("/account/totp/confirm", post(totp_confirm))
}

/// The active full session of the pages' cookie, if any (its idle deadline moved).
pub async fn session(state: &AppState, ctx: &Ctx) -> Option<Session> {
    let t = ctx.cookie(SESSION_COOKIE)?;
    let now = state.clock.now();
    let s = state
        .store
        .get_session(&token::hash(t))
        .await
        .ok()
        .flatten()
        .filter(|s| s.is_active(&state.settings.session, now))
        .filter(|s| s.purpose == SessionPurpose::Full)?;
    if now.0 - s.last_seen_at.0 >= 10 {
        let _ = state.store.touch_session(s.id, now).await;
    }
    Some(s)
}

async fn logged_in(state: &AppState, ctx: &Ctx) -> Option<(Session, Login)> {
    let s = session(state, ctx).await?;
    let login = state.store.get_login(&s.login_id).await.ok().flatten()?;
    Some((s, login))
}

/// One row of the methods table.
pub struct MethodRow {
    pub name: &'static str,
    pub state: &'static str,
    pub in_use: bool,
    pub detail: String,
    /// The 申込 action is offered (authenticator app not registered).
    pub apply: bool,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    base: Base,
    login_id: String,
    display_name: String,
    methods: Vec<MethodRow>,
    trading: bool,
    notice: Option<&'static str>,
    error: Option<Shown>,
}

async fn security(State(state): State<AppState>, ctx: Ctx) -> Response {
    let Some((_, login)) = logged_in(&state, &ctx).await else {
        return ctx.redirect("/login");
    };
    let notice = match super::query_param(&ctx.query, "done").as_deref() {
        Some("totp") => Some(ctx.tx().t("sec.done_totp")),
        _ => None,
    };
    security_view(&state, ctx, &login, StatusCode::OK, notice, None).await
}

async fn security_view(
    state: &AppState,
    ctx: Ctx,
    login: &Login,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<&Error>,
) -> Response {
    let tx = ctx.tx();
    let totp_state = match factors::totp_factor(state, login).await {
        Ok(Some(f)) if f.state == FactorState::Active => Some(true),
        Ok(Some(_)) => Some(false),
        Ok(None) => None,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let token = match hwtoken::registered_token(state, login.id).await {
        Ok(t) => t,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let email_in_use = login.second_factor == SecondFactor::Email || login.code_email.is_some();
    let state_word = |in_use: bool| {
        if in_use {
            tx.t("sec.in_use")
        } else {
            tx.t("sec.not_registered")
        }
    };
    let methods = vec![
        MethodRow {
            name: tx.t("sec.totp"),
            state: match totp_state {
                Some(true) => tx.t("sec.in_use"),
                Some(false) => tx.t("sec.pending"),
                None => tx.t("sec.not_registered"),
            },
            in_use: totp_state == Some(true),
            detail: String::new(),
            apply: totp_state != Some(true),
        },
        MethodRow {
            name: tx.t("sec.email"),
            state: state_word(email_in_use),
            in_use: email_in_use,
            detail: format!(
                "{}: {}",
                tx.t("sec.address"),
                email_code::masked(login.code_address())
            ),
            apply: false,
        },
        MethodRow {
            name: tx.t("sec.token"),
            state: state_word(token.is_some()),
            in_use: token.is_some(),
            detail: token
                .map(|t| format!("{}: {}", tx.t("sf.token_id"), t.token_id))
                .unwrap_or_default(),
            apply: false,
        },
    ];
    let trading = state.settings.trading_password_reauth
        && matches!(
            state.store.trading_password_hash(login.id).await,
            Ok(Some(_))
        );
    let page = SecurityPage {
        base: ctx.base(state, "sec.title"),
        login_id: login.login_id.clone(),
        display_name: login.display_name.clone(),
        methods,
        trading,
        notice,
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

#[derive(Deserialize)]
struct ProofForm {
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    trading_password: String,
}

fn some(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    base: Base,
    confirm_action: String,
    qr_data_uri: String,
    secret: String,
    account_name: String,
    issuer: String,
    digits: u32,
    error: Option<Shown>,
}

async fn totp_view(
    state: &AppState,
    ctx: Ctx,
    login: &Login,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let f = match factors::totp_factor(state, login).await {
        Ok(Some(f)) if f.state != FactorState::Active => f,
        Ok(_) => return ctx.redirect("/account/security"),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let key = match factors::totp_key(state, login, &f) {
        Ok(k) => k,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.qr_svg.as_bytes());
    let page = TotpPage {
        base: ctx.base(state, "totp.title"),
        confirm_action: "/account/totp/confirm".into(),
        qr_data_uri: format!("data:image/svg+xml;base64,{b64}"),
        secret: key.secret,
        account_name: key.account_name,
        issuer: key.issuer,
        digits: key.params.digits,
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

async fn totp_start(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ProofForm>, FormRejection>,
) -> Response {
    let Some((_, login)) = logged_in(&state, &ctx).await else {
        return ctx.redirect("/login");
    };
    let f = match super::login::accept(
        &state,
        &ctx,
        form,
        |f| &f.csrf,
        |_| Some(login.login_id.clone()),
    ) {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let proof = Proof {
        password: some(&f.password),
        trading_password: some(&f.trading_password),
    };
    match factors::start_totp(&state, &ctx.client, &login, proof).await {
        Ok(_) => totp_view(&state, ctx, &login, StatusCode::OK, None).await,
        Err(e) => {
            let status = status_of(&e.error);
            security_view(&state, ctx, &login, status, None, Some(&e.error)).await
        }
    }
}

#[derive(Deserialize)]
struct OtpForm {
    csrf: String,
    otp: String,
}

async fn totp_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<OtpForm>, FormRejection>,
) -> Response {
    let Some((_, login)) = logged_in(&state, &ctx).await else {
        return ctx.redirect("/login");
    };
    let f = match super::login::accept(
        &state,
        &ctx,
        form,
        |f| &f.csrf,
        |_| Some(login.login_id.clone()),
    ) {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let otp: String = f.otp.trim().chars().take(64).collect();
    match factors::confirm_totp(&state, &ctx.client, &login, &otp).await {
        Ok(_) => ctx.redirect("/account/security?done=totp"),
        Err(e) => {
            let status = status_of(&e.error);
            totp_view(&state, ctx, &login, status, Some(&e.error)).await
        }
    }
}
