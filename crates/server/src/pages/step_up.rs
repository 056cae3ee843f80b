//! The step-up confirmation page (お手続きの確認): the operation a relying app asked about,
//! shown prominently, confirmed with a fresh code of one of the login's second factors or
//! refused; then back to the app. The customer must be signed in with the same login; if not
//! signed in, the login page brings them back here.

use super::account::logged_in;
use super::login::accept;
use super::{error_page, percent_encode, status_of, Base, Ctx, Shown};
use crate::state::AppState;
use crate::step_up::{self, Confirmer};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use sekisho_core::login::Login;
use sekisho_core::step_up::{format_amount, ConfirmMethod, OperationKind, StepUpState};
use sekisho_core::{token, Error, Lang};
use sekisho_store::StepUpRequest;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/step-up/{id}", get(page))
        .route("/step-up/{id}/confirm", post(confirm))
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
    methods: Vec<MethodView>,
    confirm_action: String,
    refuse_action: String,
    error: Option<Shown>,
}

fn method_view(c: &Confirmer, lang: Lang, checked: bool) -> MethodView {
    let tx = super::Tx(lang);
    let (label, prompt) = match c.method() {
        ConfirmMethod::Totp => (tx.t("su.totp"), tx.t("sf.totp")),
        ConfirmMethod::Token => (tx.t("su.token"), tx.t("sf.token")),
    };
    MethodView {
        value: c.method().as_str(),
        label,
        prompt,
        token_id: c.token_id().map(str::to_owned),
        checked,
    }
}

fn time_in(t: sekisho_core::Timestamp) -> String {
    // Japan time: the firms and their customers read times in JST.
    let s = t.plus_secs(9 * 3600).to_rfc3339();
    format!(
        "{} {} JST",
        s.get(..10).unwrap_or(""),
        s.get(11..16).unwrap_or("")
    )
}

/// The request of `id` if the signed-in customer may answer it now; otherwise the page that
/// says why (or the login page, which comes back here).
async fn open(
    state: &AppState,
    ctx: Ctx,
    id: &str,
) -> Result<(Ctx, StepUpRequest, Login, Vec<Confirmer>), Response> {
    let found = match state.store.get_step_up(&token::hash(id)).await {
        Ok(f) => f,
        Err(_) => return Err(error_page(state, ctx, &Error::Internal)),
    };
    let Some(r) = found else {
        return Err(error_page(state, ctx, &Error::StepUpNotFound));
    };
    let Some((_, login)) = logged_in(state, &ctx).await else {
        let back = format!("/step-up/{}", percent_encode(id));
        return Err(ctx.redirect(&format!("/login?return_to={}", percent_encode(&back))));
    };
    let refused = match r.state_at(state.clock.now()) {
        StepUpState::Pending => None,
        StepUpState::Expired => Some(Error::StepUpExpired),
        StepUpState::Confirmed | StepUpState::Refused => Some(Error::StepUpFinished),
    };
    let refused = refused.or((login.id != r.login_pk).then_some(Error::StepUpOtherLogin));
    if let Some(e) = refused {
        let _ = step_up::fail(state, &ctx.client, &login.login_id, &e, "page refused").await;
        return Err(error_page(state, ctx, &e));
    }
    let kind = OperationKind::parse(&r.kind).unwrap_or(OperationKind::Other);
    let confirmers = match step_up::confirmers(state, &login, kind).await {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return Err(error_page(state, ctx, &Error::StepUpNoMethod)),
        Err(e) => return Err(error_page(state, ctx, &e.error)),
    };
    Ok((ctx, r, login, confirmers))
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
    let kind = OperationKind::parse(&r.kind).unwrap_or(OperationKind::Other);
    let chosen = chosen
        .or(confirmers.first().map(Confirmer::method))
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
        expires: time_in(r.expires_at),
        methods: confirmers
            .iter()
            .map(|c| method_view(c, lang, c.method() == chosen))
            .collect(),
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
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(lid.clone())) {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let method = ConfirmMethod::parse(&f.method);
    let Some(c) = confirmers.iter().find(|c| Some(c.method()) == method) else {
        let e = Error::InvalidRequest("method".into());
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
struct RefuseForm {
    csrf: String,
}

async fn refuse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Result<Form<RefuseForm>, FormRejection>,
) -> Response {
    let (ctx, r, login, _) = match open(&state, ctx, &id).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let lid = login.login_id.clone();
    if let Err(e) = accept(&state, &ctx, form, |f| &f.csrf, |_| Some(lid.clone())) {
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
