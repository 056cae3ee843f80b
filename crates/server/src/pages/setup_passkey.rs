//! Step 2 of the setup wizard for a `passkey` login: the customer registers a passkey through
//! the same ceremony as the security settings (`passkey::begin_registration` /
//! `finish_registration`). The open setup link is the proof of identity here, as it is for the
//! authenticator app's key; the ceremony is bound to the login, so it finishes only for it.

use super::login::accept;
use super::setup::{open_link, show, stage, Stage, StepTwo};
use super::{error_page, status_of, Base, Ctx, Shown};
use crate::door::AppState;
use crate::error::ApiError;
use crate::passkey;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sekisho_core::Error;
use serde::Deserialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::RegisterPublicKeyCredential;

#[derive(Template)]
#[template(path = "setup_passkey.html")]
struct PasskeyPage {
    base: Base,
    token: String,
    wizard: StepTwo,
    error: Option<Shown>,
}

pub(super) fn passkey_page(
    state: &AppState,
    ctx: Ctx,
    tok: &str,
    wizard: StepTwo,
    status: StatusCode,
    error: Option<Shown>,
) -> Response {
    let page = PasskeyPage {
        base: ctx.base(state, "setup.passkey_title"),
        token: tok.to_owned(),
        wizard,
        error,
    };
    ctx.render(status, &page)
}

#[derive(Deserialize)]
pub(super) struct BeginBody {
    csrf: String,
}

/// Begins the registration for the page's script while the wizard stands at this step.
pub(super) async fn begin(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    axum::Json(body): axum::Json<BeginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    ctx.check_csrf(&state.secrets, &body.csrf)?;
    let (link, login) = open_link(&state, &tok).await?;
    ctx.rate_limit(&state, Some(&login.login_id)).await?;
    if !matches!(stage(&state, &link, &login).await?, Stage::Passkey) {
        // The link is good, but not (or no longer) at a passkey step: nothing to register.
        return Err(
            Error::InvalidRequest("this setup step does not register a passkey".into()).into(),
        );
    }
    let (ceremony, options) = passkey::begin_registration(&state, &login).await?;
    Ok(axum::Json(
        json!({ "ceremony": ceremony, "options": options }),
    ))
}

#[derive(Deserialize)]
pub(super) struct FinishForm {
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    credential: String,
}

/// Finishes the registration: the passkey is stored (audited, mailed), the wizard moves on.
pub(super) async fn finish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<FinishForm>, FormRejection>,
) -> Response {
    let (link, login) = match open_link(&state, &tok).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let mut ctx = ctx;
    ctx.follow_login(login.lang);
    let id = login.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(id.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    if !matches!(stage(&state, &link, &login).await, Ok(Stage::Passkey)) {
        return ctx.redirect(&format!("/setup/{tok}"));
    }
    let result = async {
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(&f.credential).map_err(|_| Error::PasskeyInvalid)?;
        passkey::finish_registration(
            &state,
            &ctx.client,
            &login,
            &f.ceremony,
            &credential,
            &f.name,
        )
        .await
        .map_err(|e| e.error)
    }
    .await;
    match result {
        Ok(_) => ctx.redirect(&format!("/setup/{tok}")),
        Err(e) => {
            let shown = Some(Shown::new(&e, ctx.lang));
            show(&state, ctx, &tok, status_of(&e), shown).await
        }
    }
}
