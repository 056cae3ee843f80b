//! The security settings' changes of credentials other than the authenticator app: recovery
//! codes (generated after a re-authentication and shown once), the code delivery address
//! (JTG: changed with the proof the firm asks for, effective only once the confirmation code
//! sent to the new address comes back) and the trading password (its current value, or the
//! login password for the first one). Each calls the same functions as the JSON API
//! (`recovery`, `code_address`, `trading`).

use super::account::{change, prove, refused, refused_with, signed_in_form, ActionForm, ProofForm};
use super::security_actions::{Action, Carried};
use super::{Base, Shown};
use crate::code_address;
use crate::door::AppState;
use crate::recovery;
use crate::trading::{self, Proof};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sekisho_core::audit::Actor;
use sekisho_core::validate::EmailAddress;
use sekisho_core::Error;
use serde::Deserialize;

/// The new recovery codes, shown once (the pages are never cached).
#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    base: Base,
    /// Whose codes, and from when (on the printout too).
    login_id: String,
    created: String,
    codes: Vec<String>,
    /// An earlier set existed and stopped working.
    replaced: bool,
}

/// Generates a new set of recovery codes after the proof (発行 / 再発行).
pub(super) async fn recovery_codes(
    State(state): State<AppState>,
    ctx: super::Ctx,
    form: Result<Form<ProofForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let (p, t) = (&f.password, &f.trading_password);
    let what = "recovery code generation";
    let at = Some(Action::Recovery);
    if let Err(e) = prove(&state, &ctx, &session, &login, p, t, what).await {
        return refused(&state, ctx, &session, &login, at, &e).await;
    }
    let replaced = matches!(state.store.recovery_status(login.id).await, Ok(Some(_)));
    match recovery::generate(&state, &ctx.client, &login).await {
        Ok((codes, created_at)) => {
            let page = RecoveryCodesPage {
                base: ctx.base(&state, "rc.title"),
                login_id: login.login_id.clone(),
                created: super::account::date(&state, created_at),
                codes,
                replaced,
            };
            ctx.render(StatusCode::OK, &page)
        }
        Err(e) => refused(&state, ctx, &session, &login, at, &e.error).await,
    }
}

/// Asks for a new code delivery address: after the proof, a confirmation code goes there.
pub(super) async fn code_address_start(
    State(state): State<AppState>,
    ctx: super::Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    change(
        state,
        ctx,
        form,
        "code delivery address change",
        Some(Action::Address),
        "/account/security/address?done=address_sent",
        |s, c, _, l, f| async move {
            if f.address.len() > 320 {
                return Err(Error::InvalidRequest("address too long".into()));
            }
            let address = EmailAddress::parse(f.address.trim())?;
            if address.as_str() == l.code_address() {
                // Codes already go there: nothing to confirm.
                return Ok(());
            }
            code_address::request(&s, &c, &l, address.as_str())
                .await
                .map(|_| ())
                .map_err(|e| e.error)
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    csrf: String,
    code: String,
}

/// The confirmation code from the new address: the address becomes the delivery address.
pub(super) async fn code_address_confirm(
    State(state): State<AppState>,
    ctx: super::Ctx,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let code: String = f.code.trim().chars().take(64).collect();
    match code_address::confirm(&state, &ctx.client, &login, &code).await {
        Ok(_) => ctx.redirect("/account/security?done=address"),
        Err(e) => {
            refused(
                &state,
                ctx,
                &session,
                &login,
                Some(Action::Address),
                &e.error,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TradingForm {
    csrf: String,
    #[serde(default)]
    current_trading_password: String,
    #[serde(default)]
    password: String,
    new_trading_password: String,
    confirm_trading_password: String,
}

/// 取引パスワード変更: the current trading password (the login password for the first one).
pub(super) async fn trading_password(
    State(state): State<AppState>,
    ctx: super::Ctx,
    form: Result<Form<TradingForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    if f.new_trading_password != f.confirm_trading_password {
        let shown = Shown {
            message: ctx.tx().t("pc.mismatch").to_owned(),
            code: "",
        };
        let status = StatusCode::BAD_REQUEST;
        let at = Some(Action::Trading);
        let kept = Carried::default();
        return refused_with(&state, ctx, &session, &login, at, status, shown, kept).await;
    }
    let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let (password, current) = (some(&f.password), some(&f.current_trading_password));
    let proof = Proof {
        password: password.as_deref(),
        trading_password: current.as_deref(),
    };
    let result = match trading::reauthenticate_for_change(&state, &ctx.client, &login, proof).await
    {
        Ok(()) => {
            let new = &f.new_trading_password;
            trading::set(&state, &ctx.client, &login, new, Actor::SelfService).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ctx.redirect("/account/security?done=trading"),
        Err(e) => {
            refused(
                &state,
                ctx,
                &session,
                &login,
                Some(Action::Trading),
                &e.error,
            )
            .await
        }
    }
}
