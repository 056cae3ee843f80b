//! The authenticator app in the security settings: 申込 (the key, then its first code),
//! コード再表示 (the key again after a current code) and 利用停止, each from its action's page
//! (`security_actions`) with the proof the other changes need.

use super::account::{change, prove, refused, signed_in_form, ActionForm, ProofForm};
use super::security_actions::Action;
use super::{error_page, status_of, Base, Ctx, Shown};
use crate::door::AppState;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use base64::Engine;
use sekisho_app::totp_enrol;
use sekisho_core::login::Login;
use sekisho_core::Error;
use sekisho_store::FactorState;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    base: Base,
    /// No wizard here: no steps line.
    steps: Option<&'static str>,
    /// The numbers of the two steps (none when the key is only shown again).
    numbers: [&'static str; 2],
    confirm_action: String,
    reveal: bool,
    qr_data_uri: String,
    /// The `otpauth:` URI: the link that opens the authenticator app on this device.
    otpauth_uri: String,
    secret: String,
    account_name: String,
    issuer: String,
    digits: u32,
    /// No wizard here: nothing to save and finish later.
    later: Option<String>,
    error: Option<Shown>,
}

async fn totp_view(
    state: &AppState,
    ctx: Ctx,
    login: &Login,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let f = match totp_enrol::totp_factor(state, login).await {
        Ok(Some(f)) if f.state != FactorState::Active => f,
        Ok(_) => return ctx.redirect("/account/security"),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let key = match totp_enrol::totp_key(state, login, &f) {
        Ok(k) => k,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.qr_svg.as_bytes());
    let page = TotpPage {
        base: ctx.base(state, "totp.title"),
        steps: None,
        numbers: ["1. ", "2. "],
        confirm_action: "/account/totp/confirm".into(),
        reveal: false,
        qr_data_uri: format!("data:image/svg+xml;base64,{b64}"),
        otpauth_uri: key.uri,
        secret: key.secret,
        account_name: key.account_name,
        issuer: key.issuer,
        digits: key.params.digits,
        later: None,
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

pub(super) async fn totp_start(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ProofForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let what = "authenticator app registration";
    let (p, t) = (&f.password, &f.trading_password);
    let at = Some(Action::AppApply);
    if let Err(e) = prove(&state, &ctx, &session, &login, p, t, what).await {
        return refused(&state, ctx, &session, &login, at, &e).await;
    }
    match totp_enrol::begin_totp(&state, &ctx.client, &login).await {
        Ok(_) => totp_view(&state, ctx, &login, StatusCode::OK, None).await,
        Err(e) => refused(&state, ctx, &session, &login, at, &e.error).await,
    }
}

#[derive(Deserialize)]
pub(super) struct OtpForm {
    csrf: String,
    otp: String,
}

pub(super) async fn totp_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<OtpForm>, FormRejection>,
) -> Response {
    let (ctx, _, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let otp: String = f.otp.trim().chars().take(64).collect();
    match totp_enrol::confirm_totp(&state, &ctx.client, &login, &otp).await {
        Ok(_) => ctx.redirect("/account/security?done=totp"),
        Err(e) => {
            let status = status_of(&e.error);
            totp_view(&state, ctx, &login, status, Some(&e.error)).await
        }
    }
}

pub(super) async fn totp_stop(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    change(
        state,
        ctx,
        form,
        "authenticator app removal",
        Some(Action::AppStop),
        "/account/security?done=stop",
        |s, c, _, l, f| async move {
            let otp: String = f.otp.trim().chars().take(64).collect();
            totp_enrol::stop_totp(&s, &c, &l, &otp)
                .await
                .map_err(|e| e.error)
        },
    )
    .await
}

/// コード再表示: after a fresh proof and a current code, the key again (for another device).
pub(super) async fn totp_reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let (p, t) = (&f.password, &f.trading_password);
    let what = "authenticator app key shown again";
    let at = Some(Action::AppReveal);
    if let Err(e) = prove(&state, &ctx, &session, &login, p, t, what).await {
        return refused(&state, ctx, &session, &login, at, &e).await;
    }
    let otp: String = f.otp.trim().chars().take(64).collect();
    let factor = match totp_enrol::reveal_totp(&state, &ctx.client, &login, &otp).await {
        Ok(f) => f,
        Err(e) => return refused(&state, ctx, &session, &login, at, &e.error).await,
    };
    let key = match totp_enrol::totp_key(&state, &login, &factor) {
        Ok(k) => k,
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.qr_svg.as_bytes());
    let page = TotpPage {
        base: ctx.base(&state, "totp.reveal_title"),
        steps: None,
        numbers: ["", ""],
        confirm_action: String::new(),
        reveal: true,
        qr_data_uri: format!("data:image/svg+xml;base64,{b64}"),
        otpauth_uri: key.uri,
        secret: key.secret,
        account_name: key.account_name,
        issuer: key.issuer,
        digits: key.params.digits,
        later: None,
        error: None,
    };
    ctx.render(StatusCode::OK, &page)
}
