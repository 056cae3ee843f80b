//! The step-up confirmation page (お手続きの確認): the operation a relying app asked about,
//! shown prominently, confirmed with one of the login's passkeys (offered first: a ceremony
//! begun for this very request) or a fresh code of a second factor (a link away), or refused;
//! then back to the app. The customer must be signed in with the same login; if not signed in,
//! the login page brings them back here.

use super::account::logged_in;
use super::login::accept;
use super::{error_page, percent_encode, status_of, Base, Ctx, Shown};
use crate::door::AppState;
use crate::error::ApiError;
use crate::passkey;
use crate::step_up::{self, Confirmer};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use sekisho_core::login::Login;
use sekisho_core::step_up::{format_amount, ConfirmMethod, StepUpState};
use sekisho_core::{token, Error, Lang};
use sekisho_store::StepUpRequest;
use serde::Deserialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::PublicKeyCredential;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/step-up/{id}", get(page))
        .route("/step-up/{id}/confirm", post(confirm))
        .route("/step-up/{id}/passkey", post(passkey_submit))
        .route("/step-up/{id}/passkey/begin", post(passkey_begin))
        .route("/step-up/{id}/refuse", post(refuse))
}

/// Whether `r` is this page's own path (`/step-up/sksu_…`), the one place besides the firm's
/// allow-list the login page may return to.
pub fn is_own_page(r: &str) -> bool {
    r.strip_prefix("/step-up/").is_some_and(|id| {
        id.starts_with(step_up::ID_PREFIX)
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// One confirming method as offered.
struct MethodView {
    value: &'static str,
    label: &'static str,
    prompt: &'static str,
    token_id: Option<String>,
    checked: bool,
}

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpPage {
    base: Base,
    kind_label: &'static str,
    amount: Option<String>,
    description: String,
    login_id: String,
    audience: String,
    expires: String,
    /// The code methods (behind a link when a passkey is offered).
    methods: Vec<MethodView>,
    /// A passkey is offered (first).
    passkey: bool,
    /// The code form starts open (a code was just tried).
    codes_open: bool,
    passkey_begin: String,
    passkey_action: String,
    confirm_action: String,
    refuse_action: String,
    error: Option<Shown>,
}

fn method_view(c: &Confirmer, lang: Lang, checked: bool) -> MethodView {
    let tx = super::Tx(lang);
    let (label, prompt) = match c.method() {
        ConfirmMethod::Totp => (tx.t("su.totp"), tx.t("sf.totp")),
        ConfirmMethod::Token => (tx.t("su.token"), tx.t("sf.token")),
        ConfirmMethod::Passkey => (tx.t("su.passkey"), tx.t("su.passkey_prompt")),
    };
    MethodView {
        value: c.method().as_str(),
        label,
        prompt,
        token_id: c.token_id().map(str::to_owned),
        checked,
    }
}

/// Why a request cannot be answered by the current visitor.
enum Closed {
    /// Not signed in: the login page comes back here.
    SignedOut,
    /// Signed in, but refused for this reason.
    Refused(Error),
}

/// The request of `id` if the signed-in customer may answer it now, with the factors that may
/// confirm it; failures other than not being signed in are audited (`step_up_failed`).
async fn pending(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
) -> Result<(StepUpRequest, Login, Vec<Confirmer>), Closed> {
    let found = state
        .store
        .get_step_up(&token::hash(id))
        .await
        .map_err(|_| Closed::Refused(Error::Internal))?;
    let Some(r) = found else {
        return Err(Closed::Refused(Error::StepUpNotFound));
    };
    let Some((_, login)) = logged_in(state, ctx).await else {
        return Err(Closed::SignedOut);
    };
    let refused = match r.state_at(state.clock.now()) {
        StepUpState::Pending => None,
        StepUpState::Expired => Some(Error::StepUpExpired),
        StepUpState::Confirmed | StepUpState::Refused => Some(Error::StepUpFinished),
    };
    let refused = refused.or((login.id != r.login_pk).then_some(Error::StepUpOtherLogin));
    if let Some(e) = refused {
        let _ = step_up::fail(state, &ctx.client, &login.login_id, &e, "page refused").await;
        return Err(Closed::Refused(e));
    }
    let confirmers = step_up::confirmers(state, &login, r.kind)
        .await
        .map_err(|e| Closed::Refused(e.error))?;
    Ok((r, login, confirmers))
}

/// Why a pending request has no factor that may confirm it (audited): a passkey when the
/// firm requires one for this kind, else no usable method.
async fn unanswerable(state: &AppState, ctx: &Ctx, r: &StepUpRequest, login: &Login) -> Error {
    let e = if state.settings.step_up.policy().requires_passkey(r.kind) {
        Error::StepUpPasskeyRequired
    } else {
        Error::StepUpNoMethod
    };
    let _ = step_up::fail(state, &ctx.client, &login.login_id, &e, "no usable factor").await;
    e
}

/// The request of `id` if the signed-in customer may answer it now; otherwise the page that
/// says why (or the login page, which comes back here).
async fn open(
    state: &AppState,
    ctx: Ctx,
    id: &str,
) -> Result<(Ctx, StepUpRequest, Login, Vec<Confirmer>), Response> {
    match pending(state, &ctx, id).await {
        Ok((r, login, confirmers)) if confirmers.is_empty() => {
            match unanswerable(state, &ctx, &r, &login).await {
                Error::StepUpPasskeyRequired => Err(passkey_required_page(state, ctx, id)),
                e => Err(error_page(state, ctx, &e)),
            }
        }
        Ok((r, login, confirmers)) => Ok((ctx, r, login, confirmers)),
        Err(Closed::SignedOut) => {
            let back = format!("/step-up/{}", percent_encode(id));
            Err(ctx.redirect(&format!("/login?return_to={}", percent_encode(&back))))
        }
        Err(Closed::Refused(e)) => Err(error_page(state, ctx, &e)),
    }
}

#[derive(Template)]
#[template(path = "step_up_passkey_required.html")]
struct PasskeyRequiredPage {
    base: Base,
    error: Shown,
    refuse_action: String,
}

/// Only a passkey confirms this kind and the customer has none: the way to the security
/// settings, where passkeys are registered, and the way back to the app, which hears that
/// the operation was not confirmed (an app inside an OpenID Connect flow gets
/// `access_denied` instead of waiting for the request to expire).
fn passkey_required_page(state: &AppState, ctx: Ctx, id: &str) -> Response {
    let e = Error::StepUpPasskeyRequired;
    let page = PasskeyRequiredPage {
        base: ctx.base(state, "su.title"),
        error: Shown::new(&e, ctx.lang),
        refuse_action: format!("/step-up/{}/refuse", percent_encode(id)),
    };
    ctx.render(status_of(&e), &page)
}

fn render(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    r: &StepUpRequest,
    confirmers: &[Confirmer],
    chosen: Option<ConfirmMethod>,
    error: Option<&Error>,
) -> Response {
    let lang = ctx.lang;
    let kind = r.kind;
    let passkey = confirmers
        .iter()
        .any(|c| c.method() == ConfirmMethod::Passkey);
    let codes_open = chosen.is_some_and(ConfirmMethod::is_code);
    let chosen = chosen
        .filter(|m| m.is_code())
        .or(confirmers
            .iter()
            .map(Confirmer::method)
            .find(|m| m.is_code()))
        .unwrap_or(ConfirmMethod::Totp);
    let page = StepUpPage {
        base: ctx.base(state, "su.title"),
        kind_label: kind.label(lang),
        amount: match (&r.amount, &r.currency) {
            (Some(a), Some(c)) => Some(format_amount(a, c)),
            _ => None,
        },
        description: r.description.clone(),
        login_id: r.login_id.clone(),
        audience: r.audience.clone(),
        expires: state.settings.zone.minutes(r.expires_at),
        methods: confirmers
            .iter()
            .filter(|c| c.method().is_code())
            .map(|c| method_view(c, lang, c.method() == chosen))
            .collect(),
        passkey,
        codes_open,
        passkey_begin: format!("/step-up/{}/passkey/begin", percent_encode(id)),
        passkey_action: format!("/step-up/{}/passkey", percent_encode(id)),
        confirm_action: format!("/step-up/{}/confirm", percent_encode(id)),
        refuse_action: format!("/step-up/{}/refuse", percent_encode(id)),
        error: error.map(|e| Shown::new(e, lang)),
    };
    let status = error.map(status_of).unwrap_or(StatusCode::OK);
    ctx.render(status, &page)
}

async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    match open(&state, ctx, &id).await {
        Ok((ctx, r, _, confirmers)) => render(&state, ctx, &id, &r, &confirmers, None, None),
        Err(page) => page,
    }
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    otp: String,
}

/// Back to the app through the hop that may leave this origin (`/login/return`).
fn back(ctx: Ctx, r: &StepUpRequest) -> Response {
    ctx.redirect(&format!(
        "/login/return?to={}",
        percent_encode(&r.return_to)
    ))
}

async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let (ctx, r, login, confirmers) = match open(&state, ctx, &id).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let lid = login.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(lid.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let method = ConfirmMethod::parse(&f.method).filter(|m| m.is_code());
    let Some(c) = confirmers.iter().find(|c| Some(c.method()) == method) else {
        let kind = r.kind;
        let e = if state.settings.step_up.policy().requires_passkey(kind) {
            Error::StepUpPasskeyRequired
        } else {
            Error::InvalidRequest("method".into())
        };
        let _ = step_up::fail(&state, &ctx.client, &login.login_id, &e, "method refused").await;
        return render(&state, ctx, &id, &r, &confirmers, None, Some(&e));
    };
    if f.otp.len() > 64 {
        let e = Error::SecondFactorInvalid;
        return render(&state, ctx, &id, &r, &confirmers, method, Some(&e));
    }
    if let Err(e) = c.check(&state, &ctx.client, &login.login_id, &f.otp).await {
        return render(&state, ctx, &id, &r, &confirmers, method, Some(&e.error));
    }
    match step_up::confirm(&state, &ctx.client, &id, &r, c.method()).await {
        Ok(()) => back(ctx, &r),
        Err(e) => error_page(&state, ctx, &e.error),
    }
}

#[derive(Deserialize)]
struct BeginBody {
    csrf: String,
}

/// Begins a passkey ceremony for this request (the page's script): the options for
/// `navigator.credentials.get`, for the login's passkeys, bound to this request.
async fn passkey_begin(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<BeginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    ctx.check_csrf(&state.secrets, &body.csrf)?;
    let (r, login, confirmers) = match pending(&state, &ctx, &id).await {
        Ok(v) => v,
        Err(Closed::SignedOut) => return Err(Error::SessionInvalid.into()),
        Err(Closed::Refused(e)) => return Err(e.into()),
    };
    ctx.rate_limit(&state, Some(&login.login_id)).await?;
    if !confirmers
        .iter()
        .any(|c| c.method() == ConfirmMethod::Passkey)
    {
        return Err(Error::FactorNotRegistered.into());
    }
    let bound = step_up::passkey_binding(&r.id_hash);
    let (ceremony, options) =
        passkey::begin_authentication(&state, Some(&login), Some(bound)).await?;
    Ok(axum::Json(
        json!({ "ceremony": ceremony, "options": options }),
    ))
}

#[derive(Deserialize)]
struct PasskeyForm {
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

/// Finishes the passkey ceremony: the assertion must verify (`passkey::finish_authentication`),
/// come from a ceremony begun for this request and be of this login's passkey; then the same
/// single-use answer and proof as the codes.
async fn passkey_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Result<Form<PasskeyForm>, FormRejection>,
) -> Response {
    let (ctx, r, login, confirmers) = match open(&state, ctx, &id).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let lid = login.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(lid.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    if !confirmers
        .iter()
        .any(|c| c.method() == ConfirmMethod::Passkey)
    {
        let e = Error::FactorNotRegistered;
        return render(&state, ctx, &id, &r, &confirmers, None, Some(&e));
    }
    let checked = async {
        let credential: PublicKeyCredential =
            serde_json::from_str(&f.credential).map_err(|_| Error::PasskeyInvalid)?;
        let v = passkey::finish_authentication(&state, &ctx.client, &f.ceremony, &credential)
            .await
            .map_err(|e| e.error)?;
        let bound = step_up::passkey_binding(&r.id_hash);
        if v.bound_to.as_deref() != Some(bound.as_str()) || v.login.id != r.login_pk {
            // A genuine assertion, but from a ceremony begun for something else: no replay.
            let e = Error::PasskeyCeremonyInvalid;
            let _ = step_up::fail(
                &state,
                &ctx.client,
                &login.login_id,
                &e,
                "passkey ceremony not begun for this request",
            )
            .await;
            return Err(e);
        }
        Ok(())
    }
    .await;
    if let Err(e) = checked {
        return render(&state, ctx, &id, &r, &confirmers, None, Some(&e));
    }
    match step_up::confirm(&state, &ctx.client, &id, &r, ConfirmMethod::Passkey).await {
        Ok(()) => back(ctx, &r),
        Err(e) => error_page(&state, ctx, &e.error),
    }
}

#[derive(Deserialize)]
struct RefuseForm {
    csrf: String,
}

/// Refuses the request and goes back to the app; also from the page that says only a passkey
/// would confirm it (so `pending`, which lets a request without usable factors through).
async fn refuse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Result<Form<RefuseForm>, FormRejection>,
) -> Response {
    let (r, login) = match pending(&state, &ctx, &id).await {
        Ok((r, login, _)) => (r, login),
        Err(Closed::SignedOut) => {
            let back = format!("/step-up/{}", percent_encode(&id));
            return ctx.redirect(&format!("/login?return_to={}", percent_encode(&back)));
        }
        Err(Closed::Refused(e)) => return error_page(&state, ctx, &e),
    };
    let lid = login.login_id.clone();
    if let Err(e) = accept(&state, &ctx, form, |f| &f.csrf, |_| Some(lid.clone())).await {
        return error_page(&state, ctx, &e);
    }
    match step_up::refuse(&state, &ctx.client, &r).await {
        Ok(()) => back(ctx, &r),
        Err(e) => error_page(&state, ctx, &e.error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_step_up_paths_count_as_own_pages() {
        assert!(is_own_page("/step-up/sksu_AbC-9_x"));
        assert!(!is_own_page("/step-up/"));
        assert!(!is_own_page("/step-up/other"));
        assert!(!is_own_page("/step-up/sksu_a/../../evil"));
        assert!(!is_own_page("//evil.example/step-up/sksu_a"));
        assert!(!is_own_page("https://evil.example/step-up/sksu_a"));
    }
}
