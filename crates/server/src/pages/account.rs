//! The security settings page (登録情報照会): the login's methods with their state and actions
//! (申込, 利用停止), login notifications, familiar browsers and sessions with revoke, and the
//! password change. Each change first asks for the password (or the trading password where the
//! firm asks for it) through the same `trading::reauthenticate` as the JSON API; a successful
//! proof counts as a fresh re-authentication of the session for five minutes.

use super::login::accept;
use super::security_actions::{self, Action, Carried, Step};
use super::{error_page, status_of, Base, Ctx, Shown, SESSION_COOKIE};
use crate::auth;

use crate::code_address;
use crate::devices;
use crate::door::AppState;
use crate::email_code;
use crate::hwtoken;
use crate::notify;
use crate::trading::{self, Proof};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use sekisho_app::totp_enrol;
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::FactorState;
use serde::Deserialize;

/// How long a proof counts as a fresh re-authentication.
const FRESH_SECS: i64 = 300;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/security", get(security))
        .route(
            "/account/security/{action}",
            get(super::security_actions::page),
        )
        .route("/account/reauth", post(reauth))
        .route("/account/totp", post(super::account_app::totp_start))
        .route(
            "/account/totp/confirm",
            post(super::account_app::totp_confirm),
        )
        .route("/account/totp/stop", post(super::account_app::totp_stop))
        .route(
            "/account/totp/reveal",
            post(super::account_app::totp_reveal),
        )
        .route("/account/notifications", post(notifications))
        .route("/account/devices/revoke", post(device_revoke))
        .route("/account/sessions/revoke", post(session_revoke))
        .route("/account/apps/revoke", post(app_revoke))
        .route("/account/password", post(password))
        .route(
            "/account/recovery-codes",
            post(super::settings::recovery_codes),
        )
        .route(
            "/account/code-address",
            post(super::settings::code_address_start),
        )
        .route(
            "/account/code-address/confirm",
            post(super::settings::code_address_confirm),
        )
        .route(
            "/account/trading-password",
            post(super::settings::trading_password),
        )
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
        .filter(|s| s.is_active(&state.settings.session.policy(), now))
        .filter(|s| s.purpose == SessionPurpose::Full)?;
    if now.0 - s.last_seen_at.0 >= 10 {
        let _ = state.store.touch_session(s.id, now).await;
    }
    Some(s)
}

pub(super) async fn logged_in(state: &AppState, ctx: &Ctx) -> Option<(Session, Login)> {
    let s = session(state, ctx).await?;
    let login = state.store.get_login(&s.login_id).await.ok().flatten()?;
    Some((s, login))
}

/// The signed-in customer and their checked form (form token, rate limits for the login), or
/// the page that turns the request away (the login page, or the error).
pub(super) async fn signed_in_form<T>(
    state: &AppState,
    ctx: Ctx,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> &str,
) -> Result<(Ctx, Session, Login, T), Response> {
    let Some((session, login)) = logged_in(state, &ctx).await else {
        return Err(ctx.redirect("/login"));
    };
    let mut ctx = ctx;
    ctx.follow_login(login.lang);
    let id = login.login_id.clone();
    match accept(state, &ctx, form, csrf, |_| Some(id.clone())).await {
        Ok(f) => Ok((ctx, session, login, f)),
        Err(e) => Err(error_page(state, ctx, &e)),
    }
}

/// One row of the methods table.
pub struct MethodRow {
    /// Which method (`totp`, `email`, `token`, `recovery_code`): the row's actions follow it.
    pub kind: &'static str,
    pub name: &'static str,
    pub state: &'static str,
    pub in_use: bool,
    pub detail: String,
    /// 申込 is offered (authenticator app not registered).
    pub apply: bool,
    /// 利用停止 is offered (authenticator app in use).
    pub stop: bool,
}

/// A familiar browser or a session as listed.
pub struct Row {
    pub id: String,
    pub label: String,
    pub when: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    base: Base,
    login_id: String,
    display_name: String,
    methods: Vec<MethodRow>,
    trading: bool,
    /// A trading password is set (its change asks for it; else the login password).
    trading_set: bool,
    /// The code delivery address waiting for its confirmation code.
    pending_address: String,
    /// Recovery codes exist (the action reads 再発行 and warns about the old set).
    recovery_set: bool,
    fresh: bool,
    notify_on: bool,
    /// The customer's passkeys (none: the page recommends one).
    passkeys: usize,
    devices: Vec<Row>,
    sessions: Vec<Row>,
    /// Clients the customer consented to (label: name and what they receive).
    apps: Vec<Row>,
    notice: Option<&'static str>,
    error: Option<Shown>,
}

/// A time as the customer reads it: the firm's zone, named (`2026-05-28 20:26 JST`).
pub(super) fn date(state: &AppState, t: Timestamp) -> String {
    state.settings.zone.minutes(t)
}

async fn security(State(state): State<AppState>, mut ctx: Ctx) -> Response {
    let Some((session, login)) = logged_in(&state, &ctx).await else {
        return ctx.redirect("/login");
    };
    ctx.follow_login(login.lang);
    let tx = ctx.tx();
    let notice = match super::query_param(&ctx.query, "done").as_deref() {
        Some("totp") => Some(tx.t("sec.done_totp")),
        Some("reauth") => Some(tx.t("sec.done_reauth")),
        Some("stop") => Some(tx.t("sec.done_stop")),
        Some("notify") => Some(tx.t("sec.done_notify")),
        Some("device") => Some(tx.t("sec.done_device")),
        Some("session") => Some(tx.t("sec.done_session")),
        Some("app") => Some(tx.t("sec.done_app")),
        Some("password") => Some(tx.t("sec.done_password")),
        Some("address_sent") => Some(tx.t("sec.address_sent")),
        Some("address") => Some(tx.t("sec.done_address")),
        Some("trading") => Some(tx.t("sec.done_trading")),
        _ => None,
    };
    security_view(&state, ctx, &session, &login, StatusCode::OK, notice, None).await
}

pub(super) async fn security_view(
    state: &AppState,
    ctx: Ctx,
    session: &Session,
    login: &Login,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<Shown>,
) -> Response {
    let tx = ctx.tx();
    let now = state.clock.now();
    let totp_state = match totp_enrol::totp_factor(state, login).await {
        Ok(Some(f)) if f.state == FactorState::Active => Some(true),
        Ok(Some(_)) => Some(false),
        Ok(None) => None,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let token = match hwtoken::registered_token(state, login.id).await {
        Ok(t) => t,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let passkeys = match crate::passkey::list(state, login.id).await {
        Ok(k) => k.len(),
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
    let recovery = match state.store.recovery_status(login.id).await {
        Ok(r) => r,
        Err(_) => return error_page(state, ctx, &Error::Internal),
    };
    let pending_address = match code_address::pending(state, login).await {
        Ok(p) => p.map(|p| p.address).unwrap_or_default(),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let methods = vec![
        MethodRow {
            kind: "totp",
            name: tx.t("sec.totp"),
            state: match totp_state {
                Some(true) => tx.t("sec.in_use"),
                Some(false) => tx.t("sec.pending"),
                None => tx.t("sec.not_registered"),
            },
            in_use: totp_state == Some(true),
            detail: String::new(),
            apply: totp_state != Some(true),
            stop: totp_state == Some(true),
        },
        MethodRow {
            kind: "email",
            name: tx.t("sec.email"),
            state: state_word(email_in_use),
            in_use: email_in_use,
            detail: format!(
                "{}: {}",
                tx.t("sec.address"),
                email_code::masked(login.code_address())
            ),
            apply: false,
            stop: false,
        },
        MethodRow {
            kind: "token",
            name: tx.t("sec.token"),
            state: state_word(token.is_some()),
            in_use: token.is_some(),
            detail: token
                .map(|t| format!("{}: {}", tx.t("sf.token_id"), t.token_id))
                .unwrap_or_default(),
            apply: false,
            stop: false,
        },
        MethodRow {
            kind: "recovery_code",
            name: tx.t("sec.recovery"),
            state: state_word(recovery.as_ref().is_some_and(|r| r.remaining > 0)),
            in_use: recovery.as_ref().is_some_and(|r| r.remaining > 0),
            detail: match &recovery {
                Some(r) if r.locked_at.is_some() => tx.t("sec.recovery_locked").to_owned(),
                Some(r) => format!(
                    "{}: {} / {}",
                    tx.t("sec.recovery_left"),
                    r.remaining,
                    sekisho_core::recovery::COUNT
                ),
                None => String::new(),
            },
            apply: true,
            stop: false,
        },
    ];
    let trading_set = matches!(
        state.store.trading_password_hash(login.id).await,
        Ok(Some(_))
    );
    let trading = state.settings.trading_password.reauth && trading_set;
    let devices = match state.store.list_devices(login.id, now).await {
        Ok(list) => list
            .into_iter()
            .map(|d| Row {
                id: d.uid,
                label: d.label,
                when: date(state, d.last_used_at),
                current: false,
            })
            .collect(),
        Err(_) => return error_page(state, ctx, &Error::Internal),
    };
    let sessions = match state.store.list_sessions(login.id, now).await {
        Ok(list) => list
            .into_iter()
            .filter(|s| s.purpose == SessionPurpose::Full)
            .map(|s| Row {
                id: s.id.to_string(),
                label: format!(
                    "{} ({})",
                    devices_label(s.user_agent.as_deref()),
                    s.client_ip.clone().unwrap_or_else(|| "-".into())
                ),
                when: date(state, s.created_at),
                current: s.id == session.id,
            })
            .collect(),
        Err(_) => return error_page(state, ctx, &Error::Internal),
    };
    let apps = match sekisho_app::oidc::consent::list(state, login.id).await {
        Ok(list) => list
            .into_iter()
            .map(|c| Row {
                id: c.client_id,
                label: format!(
                    "{} ({})",
                    c.client_name,
                    c.scopes
                        .iter()
                        .filter(|s| *s != "openid")
                        .map(|s| super::i18n::scope_label(tx, s))
                        .collect::<Vec<_>>()
                        .join(if ctx.lang == sekisho_core::Lang::Ja {
                            "、"
                        } else {
                            ", "
                        })
                ),
                when: date(state, c.granted_at),
                current: false,
            })
            .collect(),
        Err(_) => return error_page(state, ctx, &Error::Internal),
    };
    let page = SecurityPage {
        base: ctx.base(state, "sec.title"),
        login_id: login.login_id.clone(),
        display_name: login.display_name.clone(),
        methods,
        trading,
        trading_set,
        pending_address,
        recovery_set: recovery.is_some(),
        fresh: super::is_fresh(state, session.id, now).await,
        notify_on: notify::wants_login_notice(state, login),
        passkeys,
        devices,
        sessions,
        apps,
        notice,
        error,
    };
    ctx.render(status, &page)
}

fn devices_label(ua: Option<&str>) -> String {
    sekisho_core::device::label(ua)
}

#[derive(Deserialize)]
pub(super) struct ProofForm {
    pub csrf: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub trading_password: String,
}

fn some(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// The proof a change needs: a fresh re-authentication of this session, or the (trading)
/// password given with the form, which then makes the session fresh.
pub(super) async fn prove(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    login: &Login,
    password: &str,
    trading_password: &str,
    what: &str,
) -> Result<(), Error> {
    let now = state.clock.now();
    if super::is_fresh(state, session.id, now).await {
        return Ok(());
    }
    if password.is_empty() && trading_password.is_empty() {
        return Err(Error::InvalidRequest(String::new()));
    }
    let proof = Proof {
        password: some(password),
        trading_password: some(trading_password),
    };
    trading::reauthenticate(state, &ctx.client, login, proof, what)
        .await
        .map_err(|e| e.error)?;
    super::mark_fresh(state, session.id, now.plus_secs(FRESH_SECS)).await
}

/// Shows the action's page (or the settings page) again with `e`; a missing proof reads as
/// "confirm first".
pub(super) async fn refused(
    state: &AppState,
    ctx: Ctx,
    session: &Session,
    login: &Login,
    at: Option<Action>,
    e: &Error,
) -> Response {
    let shown = reauth_shown(&ctx, e);
    let kept = Carried::default();
    refused_with(state, ctx, session, login, at, status_of(e), shown, kept).await
}

/// How a refusal reads; a missing proof as "confirm first".
fn reauth_shown(ctx: &Ctx, e: &Error) -> Shown {
    match e {
        Error::InvalidRequest(d) if d.is_empty() => Shown {
            message: ctx.tx().t("sec.reauth_first").to_owned(),
            code: "",
        },
        _ => Shown::new(e, ctx.lang),
    }
}

/// Shows the action's page (or the settings page) again with a message, keeping what was typed
/// (`kept`) in its form.
#[allow(clippy::too_many_arguments)]
pub(super) async fn refused_with(
    state: &AppState,
    ctx: Ctx,
    session: &Session,
    login: &Login,
    at: Option<Action>,
    status: StatusCode,
    shown: Shown,
    kept: Carried,
) -> Response {
    match at {
        Some(a) => {
            let step = Step::Input(kept);
            security_actions::view(
                state,
                ctx,
                session,
                login,
                a,
                status,
                step,
                None,
                Some(shown),
            )
            .await
        }
        None => security_view(state, ctx, session, login, status, None, Some(shown)).await,
    }
}

async fn reauth(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ProofForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let what = "security settings";
    let (p, t) = (&f.password, &f.trading_password);
    match prove(&state, &ctx, &session, &login, p, t, what).await {
        Ok(()) => ctx.redirect("/account/security?done=reauth"),
        Err(e) => refused(&state, ctx, &session, &login, None, &e).await,
    }
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    pub csrf: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub trading_password: String,
    #[serde(default)]
    pub otp: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    on: String,
    /// A new code delivery address.
    #[serde(default)]
    pub address: String,
    /// Sent by an action's confirmation step.
    #[serde(default)]
    confirmed: String,
}

/// Runs a change after the form, the proof and the session checks, then goes to `done`. A
/// change made from an action's page (`at`) that is confirmed first shows its confirmation
/// step (carrying what was typed) unless the form comes from that step; its refusals come
/// back on the action's page.
pub(super) async fn change<F, Fut>(
    state: AppState,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
    what: &'static str,
    at: Option<Action>,
    done: &'static str,
    run: F,
) -> Response
where
    F: FnOnce(AppState, sekisho_core::audit::ClientInfo, Session, Login, ActionForm) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let (p, t) = (f.password.clone(), f.trading_password.clone());
    let typed = || Carried {
        otp: f.otp.trim().chars().take(16).collect(),
        address: f.address.trim().chars().take(320).collect(),
    };
    let again = |ctx: Ctx, e: &Error, kept: Carried| {
        let shown = reauth_shown(&ctx, e);
        refused_with(&state, ctx, &session, &login, at, status_of(e), shown, kept)
    };
    if let Err(e) = prove(&state, &ctx, &session, &login, &p, &t, what).await {
        return again(ctx, &e, typed()).await;
    }
    if let Some(a) = at.filter(|a| a.confirmed_first() && f.confirmed.is_empty()) {
        let carried = typed();
        if a == Action::Address {
            if let Err(e) = sekisho_core::validate::EmailAddress::parse(&carried.address) {
                return again(ctx, &e, carried).await;
            }
        }
        let status = StatusCode::OK;
        let step = Step::Confirm(carried);
        return security_actions::view(&state, ctx, &session, &login, a, status, step, None, None)
            .await;
    }
    let kept = typed();
    let client = ctx.client.clone();
    match run(state.clone(), client, session.clone(), login.clone(), f).await {
        Ok(()) => ctx.redirect(done),
        Err(e) => again(ctx, &e, kept).await,
    }
}

async fn notifications(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    change(
        state,
        ctx,
        form,
        "login notification change",
        Some(Action::Notify),
        "/account/security?done=notify",
        |s, c, _, l, f| async move {
            notify::set_login_notice(&s, &c, &l, f.on == "1")
                .await
                .map(|_| ())
                .map_err(|e| e.error)
        },
    )
    .await
}

async fn device_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    change(
        state,
        ctx,
        form,
        "familiar browser revocation",
        None,
        "/account/security?done=device",
        |s, c, _, l, f| async move {
            devices::revoke_device_for(&s, &c, &l, f.id.trim())
                .await
                .map_err(|e| e.error)
        },
    )
    .await
}

async fn session_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    change(
        state,
        ctx,
        form,
        "session revocation",
        None,
        "/account/security?done=session",
        |s, c, _, l, f| async move {
            let now = s.clock.now();
            let id: i64 = f.id.trim().parse().map_err(|_| Error::SessionInvalid)?;
            // Only the login's own sessions.
            let found = s
                .store
                .list_sessions(l.id, now)
                .await
                .map_err(|_| Error::Internal)?
                .into_iter()
                .find(|x| x.id == id)
                .ok_or(Error::SessionInvalid)?;
            auth::logout(&s, &c, &found).await.map_err(|e| e.error)
        },
    )
    .await
}

async fn app_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    change(
        state,
        ctx,
        form,
        "app disconnection",
        None,
        "/account/security?done=app",
        |s, c, _, l, f| async move {
            sekisho_app::oidc::consent::revoke(
                &s,
                &l,
                f.id.trim(),
                sekisho_core::audit::Actor::SelfService,
                &c,
            )
            .await
            .map_err(|e| e.error)
        },
    )
    .await
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn password(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match signed_in_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    if f.new_password != f.confirm_password {
        let shown = Shown {
            message: ctx.tx().t("pc.mismatch").to_owned(),
            code: "",
        };
        let status = StatusCode::BAD_REQUEST;
        let at = Some(Action::Password);
        let kept = Carried::default();
        return refused_with(&state, ctx, &session, &login, at, status, shown, kept).await;
    }
    if f.current_password.len() > 1024 || f.new_password.len() > 1024 {
        let e = Error::InvalidRequest("password too long".into());
        return refused(&state, ctx, &session, &login, Some(Action::Password), &e).await;
    }
    // The current password is the proof; the customer's other sessions end.
    let (cur, new) = (&f.current_password, &f.new_password);
    match auth::change_password(&state, &ctx.client, &session, cur, new).await {
        Ok(_) => ctx.redirect("/account/security?done=password"),
        Err(e) => {
            refused(
                &state,
                ctx,
                &session,
                &login,
                Some(Action::Password),
                &e.error,
            )
            .await
        }
    }
}
