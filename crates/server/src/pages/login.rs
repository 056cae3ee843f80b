//! The login pages: login ID and password, the second factor, the forced password change, and
//! logout. Each calls the JSON API's domain functions (`auth`, `email_code`).

use super::policy::PolicyView;
use super::{
    clear_cookie, cookie, error_page, percent_encode, query_param, status_of, Base, Ctx, Flow,
    Shown, Step, FLOW_COOKIE, SESSION_COOKIE,
};
use super::{DoorError, Failure};
use crate::auth;
use crate::door::AppState;
use crate::email_code;
use crate::login::{self, LoginExtras};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use sekisho_app::flow::LoginStep;
use sekisho_app::{AppError, ErrorContext};
use sekisho_core::flow::Factor;
use sekisho_core::session::SessionPurpose;
use sekisho_core::{token, Error};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/login/token/register",
            get(super::token_login::register_page).post(super::token_login::register_submit),
        )
        .route("/login", get(login_page).post(login_submit))
        .route(
            "/login/second-factor",
            get(second_factor_page).post(second_factor_submit),
        )
        .route("/login/second-factor/resend", post(resend))
        .route(
            "/login/token/resync",
            get(super::token_login::resync_page).post(super::token_login::resync_submit),
        )
        .route(
            "/login/password-change",
            get(password_change_page).post(password_change_submit),
        )
        .route("/login/return", get(back_to_app))
        .route("/logout", post(logout))
}

/// Where a finished login goes. A form's answer may only redirect within this origin
/// (`form-action 'self'` covers every redirect after a form), so an app's `return_to` is
/// reached through `/login/return`: a page that checks the allow-list again and moves on by a
/// meta refresh (a new navigation), with a link for browsers that do not refresh.
pub(super) fn destination(return_to: Option<&str>) -> String {
    match return_to {
        Some(r) => format!("/login/return?to={}", percent_encode(r)),
        None => HOME.to_owned(),
    }
}

async fn back_to_app(State(state): State<AppState>, ctx: Ctx) -> Response {
    let to = query_param(&ctx.query, "to").unwrap_or_default();
    if !super::login_return_allowed(&state, &to) {
        return error_page(&state, ctx, DoorError::ReturnToNotAllowed);
    }
    // Only a logged-in customer is told so (a bookmarked or replayed hop after logout or
    // expiry gets the login page, which comes back here).
    if super::account::session(&state, &ctx).await.is_none() {
        return ctx.redirect(&format!(
            "/login?done=ended&return_to={}",
            percent_encode(&to)
        ));
    }
    let page = ReturnPage {
        base: ctx.base(&state, "return.title"),
        to,
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "return.html")]
struct ReturnPage {
    base: Base,
    to: String,
}

/// Where a finished login goes: the flow's `return_to`, else the security settings.
const HOME: &str = "/account/security";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    base: Base,
    login_id: String,
    return_to: String,
    notice: Option<&'static str>,
    error: Option<Shown>,
}

async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let query = ctx.query.clone();
    let return_to = query_param(&query, "return_to").unwrap_or_default();
    if !return_to.is_empty() && !super::login_return_allowed(&state, &return_to) {
        return error_page(&state, ctx, DoorError::ReturnToNotAllowed);
    }
    let notice = match query_param(&query, "done").as_deref() {
        Some("password") => Some(ctx.tx().t("login.changed")),
        Some("logout") => Some(ctx.tx().t("login.logged_out")),
        Some("ended") => Some(ctx.tx().t("login.ended")),
        _ if super::oidc::passkey_request(&state, Some(&return_to))
            .await
            .is_some() =>
        {
            Some(ctx.tx().t("pk.oidc_needed"))
        }
        _ => None,
    };
    let page = LoginPage {
        base: ctx.base(&state, "login.title"),
        // An OpenID Connect client's `login_hint`.
        login_id: query_param(&query, "login_hint").unwrap_or_default(),
        return_to,
        notice,
        error: None,
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    login_id: String,
    password: String,
    #[serde(default)]
    return_to: String,
}

/// Checks what every form needs: its shape, the form token, the rate limits.
pub(super) async fn accept<T>(
    state: &AppState,
    ctx: &Ctx,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> &str,
    login_id: impl Fn(&T) -> Option<String>,
) -> Result<T, Failure> {
    let Form(f) = form.map_err(|r| Error::InvalidRequest(r.body_text()))?;
    ctx.check_csrf(&state.secrets, csrf(&f))?;
    ctx.rate_limit(state, login_id(&f).as_deref()).await?;
    Ok(f)
}

async fn login_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let f = match accept(
        &state,
        &ctx,
        form,
        |f| &f.csrf,
        |f| Some(f.login_id.clone()),
    )
    .await
    {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let return_to = Some(f.return_to.clone()).filter(|r| !r.is_empty());
    if let Some(r) = &return_to {
        if !super::login_return_allowed(&state, r) {
            return error_page(&state, ctx, DoorError::ReturnToNotAllowed);
        }
    }
    if f.login_id.len() > 256 || f.password.len() > 1024 {
        let e = Error::InvalidCredentials;
        return login_again(&state, ctx, &f, &e);
    }
    // An app that asks for a passkey gets one: no familiar-browser skip of the second step.
    let passkey_for = super::oidc::passkey_request(&state, return_to.as_deref()).await;
    let device = ctx
        .cookie(crate::web::DEVICE_COOKIE)
        .filter(|_| passkey_for.is_none())
        .map(str::to_owned);
    let extras = LoginExtras {
        otp: None,
        device_token: device.as_deref(),
        recovery_code: None,
    };
    let result = login::password_login(&state, &ctx.client, &f.login_id, &f.password, extras).await;
    // As long as the longest step it may wait at; the domain still refuses an expired
    // challenge or password-change session itself.
    let s = &state.settings;
    let longest = s
        .session
        .challenge_timeout_secs
        .max(s.email_code.login_timeout_secs)
        .max(s.email_code.ttl_secs)
        .max(s.session.password_change_timeout_secs);
    let flow_expires = state.clock.now().plus_secs(longest);
    let step = match result {
        Ok(LoginStep::Done(issued)) => {
            ctx.set_cookie(cookie(SESSION_COOKIE, &issued.token, None));
            return ctx.redirect(&destination(return_to.as_deref()));
        }
        Ok(LoginStep::SecondFactor(o)) => Step::SecondFactor {
            challenge: o.challenge,
            methods: o.methods,
            token_id: o.token_id,
            sent_to: None,
            to_delivery_address: false,
        },
        Ok(LoginStep::EmailCodeSent(o)) => Step::SecondFactor {
            challenge: o.challenge,
            methods: o.methods,
            token_id: None,
            sent_to: Some(o.sent_to),
            to_delivery_address: o.to_delivery_address,
        },
        // A token login without its token: the challenge waits for 利用開始登録.
        Ok(LoginStep::TokenRegistrationRequired(o)) => Step::SecondFactor {
            challenge: o.challenge,
            methods: vec![Factor::TokenRegistration],
            token_id: None,
            sent_to: None,
            to_delivery_address: false,
        },
        Ok(LoginStep::PasswordChangeRequired(o)) => Step::PasswordChange {
            token: o.token,
            reason: o.reason.as_str().to_owned(),
        },
        Err(e) => return login_refused(&state, ctx, &f, &e),
    };
    let path = match (&step, &passkey_for) {
        // The app asked for a passkey: the passkey page (without codes), or how to get one.
        (Step::SecondFactor { methods, .. }, Some(handle)) => {
            if !methods.contains(&Factor::Passkey) {
                return super::oidc::passkey_required_page(&state, ctx, handle);
            }
            "/login/passkey"
        }
        // A passkey, when the login may use one, is asked for first (codes remain a link away).
        (Step::SecondFactor { methods, .. }, None) if methods.first() == Some(&Factor::Passkey) => {
            "/login/passkey"
        }
        (Step::SecondFactor { .. }, None) => "/login/second-factor",
        (Step::PasswordChange { .. }, _) => "/login/password-change",
    };
    let flow = Flow {
        login_id: f.login_id.trim().to_owned(),
        return_to,
        step,
        expires_at: flow_expires,
    };
    let t = match super::put_flow(&state, &flow).await {
        Ok(t) => t,
        Err(e) => return error_page(&state, ctx, &e),
    };
    ctx.set_cookie(cookie(FLOW_COOKIE, &t, None));
    ctx.redirect(path)
}

/// Like [`login_again`], with what the refusal carries for the customer: while an operator's
/// setup link is waiting (`second_factor_not_initialized` after the right password), where to
/// go and until when (CQG: "Second factor authentication must be initialized (visit …)").
fn login_refused(state: &AppState, ctx: Ctx, f: &LoginForm, e: &AppError) -> Response {
    let expires = match e.context.as_deref() {
        Some(ErrorContext::SetupLinkPending { expires_at, .. }) => Some(*expires_at),
        _ => None,
    };
    let Some(expires) = expires else {
        return login_again(state, ctx, f, &e.error);
    };
    let mut shown = Shown::new(&e.error, ctx.lang);
    let hint = format!(
        "{}{}",
        ctx.tx().t("login.setup_hint"),
        state.settings.zone.minutes(expires)
    );
    shown.message = ctx.tx().sentences(&[&shown.message, &hint]);
    let page = LoginPage {
        base: ctx.base(state, "login.title"),
        login_id: f.login_id.chars().take(256).collect(),
        return_to: f.return_to.clone(),
        notice: None,
        error: Some(shown),
    };
    ctx.render(status_of(&e.error), &page)
}

fn login_again(state: &AppState, ctx: Ctx, f: &LoginForm, e: &Error) -> Response {
    let mut shown = Shown::new(e, ctx.lang);
    // A locked login answers every password like a wrong one (no password oracle): the
    // customer learns of the lock from the notice mail, which this points to. Shown with every
    // `invalid_credentials`, so it tells nothing about this login.
    if *e == Error::InvalidCredentials {
        let hint = ctx.tx().t("login.locked_hint");
        shown.message = ctx.tx().sentences(&[&shown.message, hint]);
    }
    let page = LoginPage {
        base: ctx.base(state, "login.title"),
        login_id: f.login_id.chars().take(256).collect(),
        return_to: f.return_to.clone(),
        notice: None,
        error: Some(shown),
    };
    ctx.render(status_of(e), &page)
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    base: Base,
    /// The method this page asks for (one of the challenge's methods).
    method: String,
    /// The other methods the customer may switch to.
    others: Vec<FactorChoice>,
    sent_to: String,
    /// Where the code went, in words: the registered address or the separate delivery address.
    email_intro: &'static str,
    token_id: String,
    remember: bool,
    /// A passkey may answer too (a link to the passkey page).
    passkey: bool,
    /// An answer with `method` may succeed: the code form is shown.
    open: bool,
    /// Another e-mail code may be sent in this login attempt: the re-issue button is shown.
    resend: bool,
    /// The login can no longer go on (its challenge ended, the login is locked): only the way
    /// back to the start is shown.
    ended: bool,
    notice: Option<String>,
    error: Option<Shown>,
}

/// Another way to finish the login, as the second-factor page links to it.
struct FactorChoice {
    method: String,
    label: &'static str,
}

/// The words of a method on the choice links; a method without words here (a new one, such as
/// passkeys, until it adds its own and its branch in `second_factor.html`) is not offered.
fn choice_label(tx: super::Tx, method: Factor) -> Option<&'static str> {
    match method {
        Factor::Email => Some(tx.t("sf.use_email")),
        Factor::RecoveryCode => Some(tx.t("sf.use_recovery")),
        Factor::Token => Some(tx.t("sf.use_token")),
        Factor::Totp => Some(tx.t("sf.use_totp")),
        Factor::Passkey | Factor::TokenRegistration => None,
    }
}

/// The login in progress; its login's language from now on (unless the customer chose one).
pub(super) async fn current_flow(state: &AppState, ctx: &mut Ctx) -> Option<Flow> {
    let flow = super::get_flow(state, ctx.cookie(FLOW_COOKIE)).await?;
    if let Ok(Some(login)) = state.store.get_login(&flow.login_id).await {
        ctx.follow_login(login.lang);
    }
    Some(flow)
}

/// The methods offered for the flow's challenge, as the domain computes them (the flow's own
/// list when the challenge can no longer be read; submitting then says why), and the one asked
/// for: `wanted` if offered, else the first (the login's configured method).
async fn factor_choice(
    state: &AppState,
    flow: &Flow,
    wanted: Option<&str>,
) -> (Factor, Vec<Factor>) {
    let Step::SecondFactor {
        challenge, methods, ..
    } = &flow.step
    else {
        return (Factor::Totp, Vec::new());
    };
    let offered = login::challenge_methods(state, challenge)
        .await
        .unwrap_or_else(|_| methods.clone());
    let method = wanted
        .and_then(Factor::parse)
        .filter(|w| offered.contains(w))
        // The passkey has its own page (which links here for the codes), so the codes page
        // opens on the first code method.
        .or_else(|| {
            offered
                .iter()
                .find(|m| **m != Factor::Passkey)
                .or(offered.first())
                .copied()
        })
        .unwrap_or(Factor::Totp);
    (method, offered)
}

async fn second_factor_view(
    state: &AppState,
    ctx: Ctx,
    flow: &Flow,
    wanted: Option<&str>,
    status: StatusCode,
    notice: Option<String>,
    error: Option<&Error>,
) -> Response {
    let Step::SecondFactor {
        challenge,
        token_id,
        sent_to,
        to_delivery_address,
        ..
    } = &flow.step
    else {
        return ctx.redirect("/login");
    };
    let (method, offered) = factor_choice(state, flow, wanted).await;
    if method == Factor::TokenRegistration {
        return ctx.redirect("/login/token/register");
    }
    if method == Factor::Passkey {
        return ctx.redirect("/login/passkey");
    }
    // No form that cannot succeed: a locked factor, a spent e-mail code or an ended login shows
    // why and what to do next instead (the state's own error, which says it).
    let (answerable, ended) = match login::answerable(state, challenge, method).await {
        Ok(a) => (a, None),
        Err(e) => {
            let closed = login::Answerable {
                closed: Some(e.error.clone()),
                resend: false,
            };
            (closed, Some(e.error))
        }
    };
    let open = answerable.closed.is_none();
    let error = answerable.closed.as_ref().or(error);
    let tx = ctx.tx();
    let others = offered
        .iter()
        .filter(|m| **m != method)
        .filter_map(|m| {
            choice_label(tx, *m).map(|label| FactorChoice {
                method: m.as_str().to_owned(),
                label,
            })
        })
        .collect();
    let page = SecondFactorPage {
        base: ctx.base(state, "sf.title"),
        remember: method != Factor::RecoveryCode && state.settings.devices.allows(method.as_str()),
        method: method.as_str().to_owned(),
        others,
        sent_to: sent_to.clone().unwrap_or_default(),
        email_intro: tx.t(if *to_delivery_address {
            "sf.email_delivery"
        } else {
            "sf.email"
        }),
        token_id: token_id.clone().unwrap_or_default(),
        passkey: offered.contains(&Factor::Passkey) && ended.is_none(),
        open,
        resend: answerable.resend,
        ended: ended.is_some(),
        notice,
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

async fn second_factor_page(State(state): State<AppState>, mut ctx: Ctx) -> Response {
    let flow = current_flow(&state, &mut ctx).await;
    let notice = match query_param(&ctx.query, "done").as_deref() {
        Some("resync") => Some(ctx.tx().t("resync.done").to_owned()),
        Some("registered") => Some(ctx.tx().t("tr.done").to_owned()),
        _ => None,
    };
    let wanted = query_param(&ctx.query, "method");
    match flow {
        Some(flow) => {
            let w = wanted.as_deref();
            second_factor_view(&state, ctx, &flow, w, StatusCode::OK, notice, None).await
        }
        None => ctx.redirect("/login"),
    }
}

#[derive(Deserialize)]
struct SecondFactorForm {
    csrf: String,
    otp: String,
    /// The method chosen on the page (the configured one when absent).
    #[serde(default)]
    method: String,
    #[serde(default)]
    remember: Option<String>,
}

async fn second_factor_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<SecondFactorForm>, FormRejection>,
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
    let otp: String = f.otp.trim().chars().take(64).collect();
    let (method, _) = factor_choice(&state, &flow, Some(f.method.as_str())).await;
    let result = if method == Factor::RecoveryCode {
        login::complete_with_recovery_code(&state, &ctx.client, challenge, &otp).await
    } else {
        let remember = f.remember.is_some();
        let m = Some(method.as_str());
        login::complete_second_factor_with(&state, &ctx.client, challenge, m, &otp, remember).await
    };
    match result {
        Ok(issued) => {
            // The challenge is single-use in the domain already; the flow ends with it.
            super::end_flow(&state, ctx.cookie(FLOW_COOKIE)).await;
            ctx.set_cookie(clear_cookie(FLOW_COOKIE));
            ctx.set_cookie(cookie(SESSION_COOKIE, &issued.token, None));
            if let Some(d) = &issued.device {
                ctx.set_cookie(crate::web::device_cookie(d, state.clock.now()));
            }
            ctx.redirect(&destination(flow.return_to.as_deref()))
        }
        Err(e) => {
            let status = status_of(&e.error);
            let m = Some(method.as_str());
            second_factor_view(&state, ctx, &flow, m, status, None, Some(&e.error)).await
        }
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn resend(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let Some(flow) = current_flow(&state, &mut ctx).await else {
        return error_page(&state, ctx, DoorError::LoginFlowExpired);
    };
    let login_id = flow.login_id.clone();
    if let Err(e) = accept(&state, &ctx, form, |f| &f.csrf, |_| Some(login_id.clone())).await {
        return error_page(&state, ctx, &e);
    }
    let Step::SecondFactor { challenge, .. } = &flow.step else {
        return ctx.redirect("/login");
    };
    match email_code::resend(&state, &ctx.client, challenge).await {
        Ok(_) => {
            let notice = sekisho_core::email_code::resent_notice(ctx.lang).to_owned();
            let m = Some(email_code::METHOD);
            second_factor_view(&state, ctx, &flow, m, StatusCode::OK, Some(notice), None).await
        }
        Err(e) => {
            let status = status_of(&e.error);
            let m = Some(email_code::METHOD);
            second_factor_view(&state, ctx, &flow, m, status, None, Some(&e.error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "password_change.html")]
struct PasswordChangePage {
    base: Base,
    /// Why, then what to do: two sentences (no space between them in Japanese).
    intro: String,
    login_id: String,
    policy: PolicyView,
    error: Option<Shown>,
}

async fn password_change_view(
    state: &AppState,
    ctx: Ctx,
    flow: &Flow,
    status: StatusCode,
    error: Option<Shown>,
) -> Response {
    let Step::PasswordChange { reason, .. } = &flow.step else {
        return ctx.redirect("/login");
    };
    let has_second_factor = match state.store.get_login(&flow.login_id).await {
        Ok(Some(l)) => l.has_second_factor(),
        _ => false,
    };
    let reason = match reason.as_str() {
        "expired" => ctx.tx().t("pc.reason.expired"),
        _ => ctx.tx().t("pc.reason.temporary"),
    };
    let page = PasswordChangePage {
        base: ctx.base(state, "pc.title"),
        intro: ctx.tx().sentences(&[reason, ctx.tx().t("pc.intro")]),
        login_id: flow.login_id.clone(),
        policy: PolicyView::new(
            &state.settings.password_policy,
            has_second_factor,
            &flow.login_id,
            &ctx.tx(),
            error.as_ref(),
        ),
        error,
    };
    ctx.render(status, &page)
}

async fn password_change_page(State(state): State<AppState>, mut ctx: Ctx) -> Response {
    match current_flow(&state, &mut ctx).await {
        Some(flow) => password_change_view(&state, ctx, &flow, StatusCode::OK, None).await,
        None => ctx.redirect("/login"),
    }
}

#[derive(Deserialize)]
struct PasswordChangeForm {
    csrf: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn password_change_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<PasswordChangeForm>, FormRejection>,
) -> Response {
    let Some(flow) = current_flow(&state, &mut ctx).await else {
        return error_page(&state, ctx, DoorError::LoginFlowExpired);
    };
    let login_id = flow.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(login_id.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let Step::PasswordChange { token: t, .. } = &flow.step else {
        return ctx.redirect("/login");
    };
    if f.new_password != f.confirm_password {
        let shown = Shown {
            message: ctx.tx().t("pc.mismatch").to_owned(),
            code: "",
        };
        return password_change_view(&state, ctx, &flow, StatusCode::BAD_REQUEST, Some(shown))
            .await;
    }
    if f.current_password.len() > 1024 || f.new_password.len() > 1024 {
        let e = Error::InvalidRequest(String::new());
        let shown = Shown::new(&e, ctx.lang);
        return password_change_view(&state, ctx, &flow, status_of(&e), Some(shown)).await;
    }
    let now = state.clock.now();
    let session = match state.store.get_session(&token::hash(t)).await {
        Ok(Some(s))
            if s.is_active(&state.settings.session.policy(), now)
                && s.purpose == SessionPurpose::PasswordChange =>
        {
            s
        }
        _ => return error_page(&state, ctx, DoorError::LoginFlowExpired),
    };
    let result = auth::change_password(
        &state,
        &ctx.client,
        &session,
        &f.current_password,
        &f.new_password,
    )
    .await;
    match result {
        Ok(_) => {
            super::end_flow(&state, ctx.cookie(FLOW_COOKIE)).await;
            ctx.set_cookie(clear_cookie(FLOW_COOKIE));
            let back = match &flow.return_to {
                Some(r) => format!("/login?done=password&return_to={}", percent_encode(r)),
                None => "/login?done=password".to_owned(),
            };
            ctx.redirect(&back)
        }
        Err(e) => {
            let shown = Shown::new(&e.error, ctx.lang);
            password_change_view(&state, ctx, &flow, status_of(&e.error), Some(shown)).await
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    if let Err(e) = accept(&state, &ctx, form, |f| &f.csrf, |_| None).await {
        return error_page(&state, ctx, &e);
    }
    if let Some(s) = super::account::session(&state, &ctx).await {
        if let Err(e) = auth::logout(&state, &ctx.client, &s).await {
            return error_page(&state, ctx, &e.error);
        }
    }
    ctx.set_cookie(clear_cookie(SESSION_COOKIE));
    ctx.redirect("/login?done=logout")
}
