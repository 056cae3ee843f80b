//! 利用開始登録 during a login (Shoko Chukin FX): a login that must use a token and has none
//! registered gives its password, then the token ID and two consecutive codes of the token
//! (`hwtoken::register`, as `POST /api/v1/login/token/register`); the login then goes on with
//! a new code of the token at the second-factor page, on the same challenge. Also 同期ズレ補正
//! (resynchronisation) of a token that is out of step, from the token prompt.

use super::login::{accept, current_flow};
use super::{error_page, status_of, Base, Ctx, Flow, Shown, Step};
use crate::catalogue::DoorError;
use crate::door::AppState;
use crate::hwtoken;
use crate::login;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sekisho_core::flow::Factor;
use sekisho_core::Error;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "token_register.html")]
struct RegisterPage {
    base: Base,
    error: Option<Shown>,
}

fn view(state: &AppState, ctx: Ctx, status: StatusCode, error: Option<&Error>) -> Response {
    let page = RegisterPage {
        base: ctx.base(state, "tr.title"),
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

pub(super) async fn register_page(State(state): State<AppState>, mut ctx: Ctx) -> Response {
    match current_flow(&state, &mut ctx).await {
        Some(_) => view(&state, ctx, StatusCode::OK, None),
        None => ctx.redirect("/login"),
    }
}

#[derive(Deserialize)]
pub(super) struct RegisterForm {
    csrf: String,
    token_id: String,
    otp1: String,
    otp2: String,
}

pub(super) async fn register_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<RegisterForm>, FormRejection>,
) -> Response {
    let Some(flow) = current_flow(&state, &mut ctx).await else {
        return error_page(&state, ctx, DoorError::LoginFlowExpired);
    };
    let login_id = flow.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(login_id.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let Step::SecondFactor { challenge, .. } = &flow.step else {
        return ctx.redirect("/login");
    };
    let cut = |s: &str| -> String { s.trim().chars().take(64).collect() };
    let (id, otp1, otp2) = (cut(&f.token_id), cut(&f.otp1), cut(&f.otp2));
    let result = match login::open_challenge(&state, challenge).await {
        Ok((ch, login)) if ch.methods.iter().any(|m| m == login::TOKEN_REGISTER) => {
            hwtoken::register(&state, &ctx.client, &login, &id, &otp1, &otp2)
                .await
                .map(|_| ())
        }
        Ok(_) => Err(Error::ChallengeInvalid.into()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ctx.redirect("/login/second-factor?done=registered"),
        Err(e) => view(&state, ctx, status_of(&e.error), Some(&e.error)),
    }
}

#[derive(Template)]
#[template(path = "resync.html")]
struct ResyncPage {
    base: Base,
    token_id: String,
    error: Option<Shown>,
}

fn resync_view(
    state: &AppState,
    ctx: Ctx,
    flow: &Flow,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let Step::SecondFactor {
        token_id: Some(token_id),
        ..
    } = &flow.step
    else {
        return ctx.redirect("/login/second-factor");
    };
    let page = ResyncPage {
        base: ctx.base(state, "resync.title"),
        token_id: token_id.clone(),
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

/// Resynchronising is for a token that is out of step, not locked: a locked token (or an ended
/// login) goes to the code page, which says why and what to do.
async fn token_answerable(state: &AppState, flow: &Flow) -> bool {
    let Step::SecondFactor { challenge, .. } = &flow.step else {
        return false;
    };
    login::answerable(state, challenge, Factor::Token)
        .await
        .is_ok_and(|a| a.closed.is_none())
}

const TOKEN_PAGE: &str = "/login/second-factor?method=token";

pub(super) async fn resync_page(State(state): State<AppState>, mut ctx: Ctx) -> Response {
    match current_flow(&state, &mut ctx).await {
        Some(flow) if token_answerable(&state, &flow).await => {
            resync_view(&state, ctx, &flow, StatusCode::OK, None)
        }
        Some(_) => ctx.redirect(TOKEN_PAGE),
        None => ctx.redirect("/login"),
    }
}

#[derive(Deserialize)]
pub(super) struct ResyncForm {
    csrf: String,
    otp1: String,
    otp2: String,
}

/// 同期ズレ補正 with two consecutive codes (the JSON API's `hwtoken::resync`), then back to the
/// second factor with the same challenge.
pub(super) async fn resync_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<ResyncForm>, FormRejection>,
) -> Response {
    let Some(flow) = current_flow(&state, &mut ctx).await else {
        return error_page(&state, ctx, DoorError::LoginFlowExpired);
    };
    let login_id = flow.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(login_id.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let Step::SecondFactor { challenge, .. } = &flow.step else {
        return ctx.redirect("/login");
    };
    let (otp1, otp2): (String, String) = (
        f.otp1.trim().chars().take(64).collect(),
        f.otp2.trim().chars().take(64).collect(),
    );
    let result = match login::open_challenge(&state, challenge).await {
        Ok((_, login)) => hwtoken::resync(&state, &ctx.client, &login, &otp1, &otp2)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ctx.redirect("/login/second-factor?done=resync"),
        Err(_) if !token_answerable(&state, &flow).await => ctx.redirect(TOKEN_PAGE),
        Err(e) => {
            let status = status_of(&e.error);
            resync_view(&state, ctx, &flow, status, Some(&e.error))
        }
    }
}
