//! The setup wizard (as CQG's MY.CQG shows it): from an operator's setup link, 1. set the
//! password (the policy shown and checked as the customer types, and by the server) → 2.1
//! register the authenticator app's key → 2.2 validate a code → finish. The step is derived from
//! what is stored (the password set after the link was made, the app active), so reloading or
//! going back is safe; the link is marked used when the wizard finishes, and an expired, used or
//! replaced link gets a page that says whom to contact.

use super::login::accept;
use super::policy::PolicyView;
use super::{error_page, status_of, Base, Ctx, Shown};
use crate::auth;
use crate::door::AppState;
use crate::totp;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use sekisho_app::setup_links::{self, link_hash};
use sekisho_app::totp_enrol;
use sekisho_core::audit::{Actor, EventType};
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::Error;
use sekisho_store::{FactorState, SetupLink};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup/{token}", get(wizard))
        .route("/setup/{token}/password", post(set_password))
        .route("/setup/{token}/totp", post(confirm_totp))
        .route(
            "/setup/{token}/email/send",
            post(super::setup_second::send_email_code),
        )
        .route(
            "/setup/{token}/email",
            post(super::setup_second::confirm_email),
        )
        .route(
            "/setup/{token}/token",
            post(super::setup_second::register_token),
        )
        .route("/setup/{token}/later", get(later))
        .route("/setup/{token}/passkey", post(super::setup_passkey::finish))
        .route(
            "/setup/{token}/passkey/begin",
            post(super::setup_passkey::begin),
        )
}

/// Where the wizard stands.
pub(super) enum Stage {
    Password,
    Totp,
    /// Step 2 of an e-mail code login: the address codes go to, confirmed with a code.
    Email,
    /// Step 2 of a token login: 利用開始登録 (token ID and two consecutive codes).
    Token,
    /// Step 2 of a `passkey` login: a passkey registered (none usable yet).
    Passkey,
    Done,
}

pub(super) async fn open_link(state: &AppState, tok: &str) -> Result<(SetupLink, Login), Error> {
    if tok.len() > 128 {
        return Err(Error::SetupLinkInvalid);
    }
    let link = state
        .store
        .find_setup_link(&link_hash(state, tok))
        .await
        .map_err(|_| Error::Internal)?
        .filter(|l| l.is_open(state.clock.now()))
        .ok_or(Error::SetupLinkInvalid)?;
    let login = state
        .store
        .get_login(&link.login_id)
        .await
        .map_err(|_| Error::Internal)?
        .filter(|l| !l.disabled)
        .ok_or(Error::SetupLinkInvalid)?;
    Ok((link, login))
}

pub(super) async fn stage(
    state: &AppState,
    link: &SetupLink,
    login: &Login,
) -> Result<Stage, Error> {
    let password_done = !login.password_temporary
        && login.password_hash.is_some()
        && login
            .password_changed_at
            .is_some_and(|t| t >= link.created_at);
    if link.set_password && !password_done {
        return Ok(Stage::Password);
    }
    // Step 2 follows the login's second factor: the authenticator app's key; for e-mail codes
    // the address they go to, confirmed with a code (done once it is the login's confirmed
    // delivery address); for a token its start-of-use registration.
    if !link.set_second_factor {
        return Ok(Stage::Done);
    }
    match login.second_factor {
        SecondFactor::Email if login.code_email.is_none() => return Ok(Stage::Email),
        SecondFactor::Token => {
            let registered = crate::hwtoken::registered_token(state, login.id)
                .await
                .map_err(|e| e.error)?
                .is_some();
            if !registered {
                return Ok(Stage::Token);
            }
        }
        SecondFactor::Passkey => {
            let usable = crate::passkey::list(state, login.id)
                .await
                .map_err(|e| e.error)?
                .iter()
                .any(|p| p.counter_regressed_at.is_none());
            if !usable {
                return Ok(Stage::Passkey);
            }
        }
        _ => {}
    }
    let app = matches!(login.second_factor, SecondFactor::Totp | SecondFactor::Any);
    if app {
        let active = totp::active_totp(state, login.id)
            .await
            .map_err(|e| e.error)?
            .is_some();
        if !active {
            return Ok(Stage::Totp);
        }
    }
    Ok(Stage::Done)
}

/// What every second-step page of the wizard shows around its own form.
pub(super) struct StepTwo {
    /// The steps line with the password step done; none when the link sets no password (the
    /// page is then the wizard's only step).
    pub steps: Option<&'static str>,
    /// 保存して終了 (CQG 2.2): once the password is set, the customer may stop here and finish
    /// this step later with the same link; where that is said.
    pub later: Option<String>,
}

fn step_two(ctx: &Ctx, tok: &str, link: &SetupLink, steps: &str) -> StepTwo {
    if !link.set_password {
        return StepTwo {
            steps: None,
            later: None,
        };
    }
    StepTwo {
        steps: Some(ctx.tx().t(steps)),
        later: Some(format!("/setup/{tok}/later")),
    }
}

#[derive(Template)]
#[template(path = "setup_later.html")]
struct LaterPage {
    base: Base,
    token: String,
    /// The link's end, in the firm's time zone.
    until: String,
}

/// 保存して終了: the password is kept (it was stored at step 1); the second step waits for the
/// same link until it expires, which the page says.
async fn later(State(state): State<AppState>, ctx: Ctx, Path(tok): Path<String>) -> Response {
    let (link, login) = match open_link(&state, &tok).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let mut ctx = ctx;
    ctx.follow_login(login.lang);
    match stage(&state, &link, &login).await {
        Ok(Stage::Password | Stage::Done) | Err(_) => ctx.redirect(&format!("/setup/{tok}")),
        Ok(_) if !link.set_password => ctx.redirect(&format!("/setup/{tok}")),
        Ok(_) => {
            let page = LaterPage {
                base: ctx.base(&state, "setup.later_title"),
                token: tok,
                until: state.settings.zone.minutes(link.expires_at),
            };
            ctx.render(StatusCode::OK, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "setup_password.html")]
struct PasswordPage {
    base: Base,
    /// The wizard's steps for this login's second factor (none for a password-only link).
    steps: Option<&'static str>,
    token: String,
    login_id: String,
    policy: PolicyView,
    error: Option<Shown>,
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    base: Base,
    /// The wizard's steps, the password one done.
    steps: Option<&'static str>,
    /// The numbers of the two steps on this page ("2.1 ", "2.2 " in the wizard).
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
    /// 保存して終了 (the wizard after its password step).
    later: Option<String>,
    error: Option<Shown>,
}

#[derive(Template)]
#[template(path = "setup_done.html")]
struct DonePage {
    base: Base,
}

async fn wizard(State(state): State<AppState>, ctx: Ctx, Path(tok): Path<String>) -> Response {
    show(&state, ctx, &tok, StatusCode::OK, None).await
}

pub(super) async fn show(
    state: &AppState,
    ctx: Ctx,
    tok: &str,
    status: StatusCode,
    shown: Option<Shown>,
) -> Response {
    let (link, login) = match open_link(state, tok).await {
        Ok(x) => x,
        Err(e) => return error_page(state, ctx, &e),
    };
    let mut ctx = ctx;
    ctx.follow_login(login.lang);
    match stage(state, &link, &login).await {
        Err(e) => error_page(state, ctx, &e),
        Ok(Stage::Password) => {
            // A link that sets only the password has no steps to number.
            let steps = match (link.set_second_factor, login.second_factor) {
                (false, _) => None,
                (true, SecondFactor::Email) => Some("setup.steps_email"),
                (true, SecondFactor::Token) => Some("setup.steps_token"),
                (true, SecondFactor::Passkey) => Some("setup.steps_passkey"),
                _ => Some("setup.steps"),
            };
            let page = PasswordPage {
                steps: steps.map(|k| ctx.tx().t(k)),
                base: ctx.base(state, "setup.password_title"),
                token: tok.to_owned(),
                login_id: login.login_id.clone(),
                policy: PolicyView::new(
                    &state.settings.password_policy,
                    link.set_second_factor,
                    &login.login_id,
                    &ctx.tx(),
                    shown.as_ref(),
                ),
                error: shown,
            };
            ctx.render(status, &page)
        }
        Ok(Stage::Totp) => totp_page(state, ctx, tok, &link, &login, status, shown).await,
        Ok(Stage::Email) => {
            let wizard = step_two(&ctx, tok, &link, "setup.steps_email_done");
            super::setup_second::email_page(state, ctx, tok, &login, wizard, status, shown).await
        }
        Ok(Stage::Token) => {
            let wizard = step_two(&ctx, tok, &link, "setup.steps_token_done");
            super::setup_second::token_page(state, ctx, tok, wizard, status, shown)
        }
        Ok(Stage::Passkey) => {
            let wizard = step_two(&ctx, tok, &link, "setup.steps_passkey_done");
            super::setup_passkey::passkey_page(state, ctx, tok, wizard, status, shown)
        }
        Ok(Stage::Done) => {
            let ev = state.event(
                EventType::SetupLinkUsed,
                Some(&login.login_id),
                Actor::SelfService,
                &ctx.client,
                {
                    let by = setup_links::creator(&link);
                    let (kind, id) = by.parts();
                    format!("setup wizard finished (link made by {kind} {id})")
                },
            );
            // A second finish (reload) finds the link used and shows the invalid-link page.
            match state
                .store
                .finish_setup_link(link.id, state.clock.now(), &ev)
                .await
            {
                Ok(true) => {
                    let page = DonePage {
                        base: ctx.base(state, "setup.done_title"),
                    };
                    ctx.render(StatusCode::OK, &page)
                }
                Ok(false) => error_page(state, ctx, &Error::SetupLinkInvalid),
                Err(_) => error_page(state, ctx, &Error::Internal),
            }
        }
    }
}

async fn totp_page(
    state: &AppState,
    ctx: Ctx,
    tok: &str,
    link: &SetupLink,
    login: &Login,
    status: StatusCode,
    error: Option<Shown>,
) -> Response {
    // A pending enrolment that is still good is shown again; otherwise a new one begins.
    let pending = match totp_enrol::totp_factor(state, login).await {
        Ok(Some(f))
            if f.state != FactorState::Active
                && f.expires_at.is_none_or(|e| state.clock.now() < e) =>
        {
            Some(f)
        }
        Ok(_) => None,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let f = match pending {
        Some(f) => f,
        None => match totp_enrol::begin_totp(state, &ctx.client, login).await {
            Ok(f) => f,
            Err(e) => return error_page(state, ctx, &e.error),
        },
    };
    let key = match totp_enrol::totp_key(state, login, &f) {
        Ok(k) => k,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.qr_svg.as_bytes());
    // Step 2 of the wizard when the link also set the password (step 1, shown done in the
    // steps line); the only steps otherwise.
    let wizard = step_two(&ctx, tok, link, "setup.steps_totp");
    let numbers = if link.set_password {
        ["2.1 ", "2.2 "]
    } else {
        ["1. ", "2. "]
    };
    let page = TotpPage {
        base: ctx.base(state, "totp.title"),
        steps: wizard.steps,
        numbers,
        confirm_action: format!("/setup/{tok}/totp"),
        reveal: false,
        qr_data_uri: format!("data:image/svg+xml;base64,{b64}"),
        otpauth_uri: key.uri,
        secret: key.secret,
        account_name: key.account_name,
        issuer: key.issuer,
        digits: key.params.digits,
        later: wizard.later,
        error,
    };
    ctx.render(status, &page)
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    new_password: String,
    confirm_password: String,
}

async fn set_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<PasswordForm>, FormRejection>,
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
    if !matches!(stage(&state, &link, &login).await, Ok(Stage::Password)) {
        return ctx.redirect(&format!("/setup/{tok}"));
    }
    if f.new_password != f.confirm_password {
        let shown = Shown {
            message: ctx.tx().t("pc.mismatch").to_owned(),
            code: "",
        };
        return show(&state, ctx, &tok, StatusCode::BAD_REQUEST, Some(shown)).await;
    }
    if f.new_password.len() > 1024 {
        let e = Error::InvalidRequest("password too long".into());
        let shown = Shown::new(&e, ctx.lang);
        return show(&state, ctx, &tok, status_of(&e), Some(shown)).await;
    }
    // The password the newcomer chooses: the same policy and history checks as any change.
    let hash = match auth::new_password_hash(&state, &login, &f.new_password).await {
        Ok(h) => h,
        Err(e) => {
            let shown = Shown::new(&e.error, ctx.lang);
            return show(&state, ctx, &tok, status_of(&e.error), Some(shown)).await;
        }
    };
    match setup_links::set_password(&state, &ctx.client, &link, &login, &hash).await {
        Ok(()) => ctx.redirect(&format!("/setup/{tok}")),
        Err(_) => error_page(&state, ctx, &Error::Internal),
    }
}

#[derive(Deserialize)]
struct OtpForm {
    csrf: String,
    otp: String,
}

async fn confirm_totp(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<OtpForm>, FormRejection>,
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
    if !matches!(stage(&state, &link, &login).await, Ok(Stage::Totp)) {
        return ctx.redirect(&format!("/setup/{tok}"));
    }
    let otp: String = f.otp.trim().chars().take(64).collect();
    match totp_enrol::confirm_totp(&state, &ctx.client, &login, &otp).await {
        Ok(_) => ctx.redirect(&format!("/setup/{tok}")),
        Err(e) => {
            let shown = Some(Shown::new(&e.error, ctx.lang));
            totp_page(&state, ctx, &tok, &link, &login, status_of(&e.error), shown).await
        }
    }
}
