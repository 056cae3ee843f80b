//! Step 2 of the setup wizard for logins that do not use the authenticator app: for e-mail
//! codes, the address the codes go to is confirmed with a code sent there (the same confirmation
//! as a change of the delivery address, `code_address`); for a token, its start-of-use
//! registration (利用開始登録, Shoko Chukin FX) with the token ID and two consecutive codes
//! (`hwtoken::register`, as the JSON API's token registration).

use super::login::accept;
use super::setup::{open_link, show, stage, Stage, StepTwo};
use super::{error_page, status_of, Base, Ctx, Shown};
use crate::code_address;
use crate::door::AppState;
use crate::email_code::masked;
use crate::hwtoken;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sekisho_core::login::Login;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "setup_email.html")]
struct EmailPage {
    base: Base,
    token: String,
    /// Where codes go (masked: a setup link may be opened by someone else).
    address: String,
    /// A confirmation code was sent and can still be entered.
    sent: bool,
    wizard: StepTwo,
    error: Option<Shown>,
}

pub(super) async fn email_page(
    state: &AppState,
    ctx: Ctx,
    tok: &str,
    login: &Login,
    wizard: StepTwo,
    status: StatusCode,
    error: Option<Shown>,
) -> Response {
    let sent = match code_address::pending(state, login).await {
        Ok(p) => p.is_some_and(|p| p.address == login.code_address()),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let page = EmailPage {
        base: ctx.base(state, "setup.email_title"),
        token: tok.to_owned(),
        address: masked(login.code_address()),
        sent,
        wizard,
        error,
    };
    ctx.render(status, &page)
}

#[derive(Template)]
#[template(path = "setup_token.html")]
struct TokenPage {
    base: Base,
    token: String,
    wizard: StepTwo,
    error: Option<Shown>,
}

pub(super) fn token_page(
    state: &AppState,
    ctx: Ctx,
    tok: &str,
    wizard: StepTwo,
    status: StatusCode,
    error: Option<Shown>,
) -> Response {
    let page = TokenPage {
        base: ctx.base(state, "setup.token_title"),
        token: tok.to_owned(),
        wizard,
        error,
    };
    ctx.render(status, &page)
}

/// The open link's login when the wizard stands at `want`, with its checked form; otherwise the
/// page that turns the request away (the wizard as it stands, or the error).
async fn at_stage<T>(
    state: &AppState,
    ctx: Ctx,
    tok: &str,
    want: fn(&Stage) -> bool,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> &str,
) -> Result<(Ctx, Login, T), Response> {
    let (link, login) = match open_link(state, tok).await {
        Ok(x) => x,
        Err(e) => return Err(error_page(state, ctx, &e)),
    };
    let mut ctx = ctx;
    ctx.follow_login(login.lang);
    let id = login.login_id.clone();
    let f = match accept(state, &ctx, form, csrf, |_| Some(id.clone())).await {
        Ok(f) => f,
        Err(e) => return Err(error_page(state, ctx, &e)),
    };
    match stage(state, &link, &login).await {
        Ok(s) if want(&s) => Ok((ctx, login, f)),
        _ => Err(ctx.redirect(&format!("/setup/{tok}"))),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// Sends (or sends again) the confirmation code to the address codes go to.
pub(super) async fn send_email_code(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let is_email = |s: &Stage| matches!(s, Stage::Email);
    let (ctx, login, _) = match at_stage(&state, ctx, &tok, is_email, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    match code_address::request(&state, &ctx.client, &login, login.code_address()).await {
        Ok(_) => ctx.redirect(&format!("/setup/{tok}")),
        Err(e) => {
            let shown = Some(Shown::new(&e.error, ctx.lang));
            show(&state, ctx, &tok, status_of(&e.error), shown).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    csrf: String,
    code: String,
}

/// The code from the mail: the address becomes the login's confirmed delivery address.
pub(super) async fn confirm_email(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let is_email = |s: &Stage| matches!(s, Stage::Email);
    let (ctx, login, f) = match at_stage(&state, ctx, &tok, is_email, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let code: String = f.code.trim().chars().take(64).collect();
    match code_address::confirm(&state, &ctx.client, &login, &code).await {
        Ok(_) => ctx.redirect(&format!("/setup/{tok}")),
        Err(e) => {
            let shown = Some(Shown::new(&e.error, ctx.lang));
            show(&state, ctx, &tok, status_of(&e.error), shown).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    csrf: String,
    token_id: String,
    otp1: String,
    otp2: String,
}

/// 利用開始登録: binds the token to the login after two consecutive codes.
pub(super) async fn register_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let is_token = |s: &Stage| matches!(s, Stage::Token);
    let (ctx, login, f) = match at_stage(&state, ctx, &tok, is_token, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let cut = |s: &str| -> String { s.trim().chars().take(64).collect() };
    let (id, otp1, otp2) = (cut(&f.token_id), cut(&f.otp1), cut(&f.otp2));
    match hwtoken::register(&state, &ctx.client, &login, &id, &otp1, &otp2).await {
        Ok(_) => ctx.redirect(&format!("/setup/{tok}")),
        Err(e) => {
            let shown = Some(Shown::new(&e.error, ctx.lang));
            show(&state, ctx, &tok, status_of(&e.error), shown).await
        }
    }
}
