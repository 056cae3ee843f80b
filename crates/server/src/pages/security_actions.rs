//! The security settings' actions, each on its own short page, as the seeds' banks show them
//! (Hokuyo, Gungin: 入力 → 確認 → 完了). The settings page lists the methods with their state and
//! one button per action; an action's page asks only for what that action needs (and the
//! password while the session is not freshly re-authenticated), a change that stops or
//! redirects something is shown once more for confirmation before it is made, and the outcome
//! returns to the settings page with its notice. A refusal comes back on the action's own page.

use super::account::logged_in;
use super::policy::PolicyView;
use super::{error_page, Base, Ctx, Shown};
use crate::code_address;
use crate::door::AppState;
use crate::email_code;
use crate::notify;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use sekisho_core::login::Login;
use sekisho_core::session::Session;

/// One action of the settings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// 申込: register an authenticator app.
    AppApply,
    /// コード再表示: the app's key again, for another device.
    AppReveal,
    /// 利用停止: stop using the app.
    AppStop,
    /// The address e-mail codes go to.
    Address,
    /// Login notifications on or off.
    Notify,
    /// 発行 / 再発行 of recovery codes.
    Recovery,
    /// パスワード変更.
    Password,
    /// 取引パスワード変更.
    Trading,
}

impl Action {
    const ALL: [Action; 8] = [
        Action::AppApply,
        Action::AppReveal,
        Action::AppStop,
        Action::Address,
        Action::Notify,
        Action::Recovery,
        Action::Password,
        Action::Trading,
    ];

    /// Its page: `/account/security/{slug}`.
    pub(super) fn slug(self) -> &'static str {
        match self {
            Action::AppApply => "app-apply",
            Action::AppReveal => "app-reveal",
            Action::AppStop => "app-stop",
            Action::Address => "address",
            Action::Notify => "notifications",
            Action::Recovery => "recovery-codes",
            Action::Password => "password",
            Action::Trading => "trading-password",
        }
    }

    fn parse(slug: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// Where its form goes.
    fn post(self) -> &'static str {
        match self {
            Action::AppApply => "/account/totp",
            Action::AppReveal => "/account/totp/reveal",
            Action::AppStop => "/account/totp/stop",
            Action::Address => "/account/code-address",
            Action::Notify => "/account/notifications",
            Action::Recovery => "/account/recovery-codes",
            Action::Password => "/account/password",
            Action::Trading => "/account/trading-password",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Action::AppApply => "act.app_apply",
            Action::AppReveal => "act.app_reveal",
            Action::AppStop => "act.app_stop",
            Action::Address => "act.address",
            Action::Notify => "act.notify",
            Action::Recovery => "act.recovery",
            Action::Password => "sec.password_change",
            Action::Trading => "sec.trading_change",
        }
    }

    /// A change shown once more for confirmation before it is made (it stops a factor or
    /// changes where codes or notices go).
    pub(super) fn confirmed_first(self) -> bool {
        matches!(self, Action::AppStop | Action::Address | Action::Notify)
    }

    /// The password itself is the proof (the form asks for the current one anyway).
    fn own_proof(self) -> bool {
        matches!(self, Action::Password | Action::Trading)
    }
}

/// What the confirmation step carries from the input step (and the input step keeps after a
/// refusal).
#[derive(Default)]
pub(super) struct Carried {
    pub otp: String,
    pub address: String,
}

/// Which step of an action's page.
pub(super) enum Step {
    /// 入力, with what was typed before a refusal.
    Input(Carried),
    /// 確認, carrying what was typed.
    Confirm(Carried),
}

#[derive(Template)]
#[template(path = "security_action.html")]
struct ActionPage {
    base: Base,
    /// The action's slug (the template's branches follow it).
    action: &'static str,
    post: &'static str,
    /// 入力 → 確認 → 完了 is shown (actions with a confirmation step).
    steps: bool,
    /// The confirmation step.
    confirm: bool,
    confirm_text: String,
    confirm_label: &'static str,
    submit_label: &'static str,
    /// The password (or trading password) is asked with the form.
    proof: bool,
    trading: bool,
    trading_set: bool,
    login_id: String,
    notify_on: bool,
    address: String,
    pending_address: String,
    new_address: String,
    otp: String,
    recovery_set: bool,
    policy: PolicyView,
    trading_policy: PolicyView,
    notice: Option<&'static str>,
    error: Option<Shown>,
}

/// `GET /account/security/{action}`.
pub(super) async fn page(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Path(slug): Path<String>,
) -> Response {
    let Some((session, login)) = logged_in(&state, &ctx).await else {
        return ctx.redirect("/login");
    };
    ctx.follow_login(login.lang);
    let Some(action) = Action::parse(&slug) else {
        return ctx.redirect("/account/security");
    };
    let notice = match super::query_param(&ctx.query, "done").as_deref() {
        Some("address_sent") => Some(ctx.tx().t("sec.address_sent")),
        _ => None,
    };
    let status = StatusCode::OK;
    let step = Step::Input(Carried::default());
    view(
        &state, ctx, &session, &login, action, status, step, notice, None,
    )
    .await
}

/// The action's page at `step`; with a refusal, the input step again saying why.
#[allow(clippy::too_many_arguments)]
pub(super) async fn view(
    state: &AppState,
    ctx: Ctx,
    session: &Session,
    login: &Login,
    action: Action,
    status: StatusCode,
    step: Step,
    notice: Option<&'static str>,
    error: Option<Shown>,
) -> Response {
    let tx = ctx.tx();
    let now = state.clock.now();
    let trading_set = matches!(
        state.store.trading_password_hash(login.id).await,
        Ok(Some(_))
    );
    let pending_address = match code_address::pending(state, login).await {
        Ok(p) => p.map(|p| p.address).unwrap_or_default(),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let recovery_set = matches!(state.store.recovery_status(login.id).await, Ok(Some(_)));
    let notify_on = notify::wants_login_notice(state, login);
    let fresh = super::is_fresh(state, session.id, now).await;
    let (confirm, carried) = match step {
        Step::Input(c) => (false, c),
        Step::Confirm(c) => (true, c),
    };
    let confirm_text = match action {
        Action::AppStop => tx.t("act.app_stop_confirm").to_owned(),
        Action::Address => tx.t("act.address_confirm").to_owned(),
        Action::Notify if notify_on => tx.t("act.notify_off_confirm").to_owned(),
        Action::Notify => tx.t("act.notify_on_confirm").to_owned(),
        _ => String::new(),
    };
    let submit_label = match action {
        Action::AppApply => tx.t("sec.apply"),
        Action::AppReveal => tx.t("sec.reveal"),
        Action::Recovery if recovery_set => tx.t("sec.regenerate"),
        Action::Recovery => tx.t("sec.generate"),
        Action::Password => tx.t("pc.submit"),
        Action::Trading => tx.t("sec.trading_submit"),
        Action::Notify if notify_on => tx.t("sec.turn_off"),
        Action::Notify => tx.t("sec.turn_on"),
        // The others go on to their confirmation.
        _ => tx.t("act.next"),
    };
    let confirm_label = match action {
        Action::AppStop => tx.t("act.app_stop_do"),
        Action::Address => tx.t("act.address_do"),
        _ => tx.t("act.confirm_do"),
    };
    let page = ActionPage {
        base: ctx.base(state, action.title()),
        action: action.slug(),
        post: action.post(),
        steps: action.confirmed_first(),
        confirm,
        confirm_text,
        confirm_label,
        submit_label,
        proof: !fresh && !action.own_proof(),
        trading: state.settings.trading_password.reauth && trading_set,
        trading_set,
        login_id: login.login_id.clone(),
        notify_on,
        address: email_code::masked(login.code_address()),
        pending_address,
        new_address: carried.address,
        // A one-time code is carried to the confirmation only, never typed in again for the
        // customer.
        otp: if confirm { carried.otp } else { String::new() },
        recovery_set,
        policy: {
            let p = &state.settings.password_policy;
            let rules = p.rules(login.has_second_factor());
            PolicyView::of("policy", rules, &login.login_id, ctx.lang, None)
        },
        trading_policy: {
            let p = &state.settings.password_policy;
            let rules = p.trading_rules(login.has_second_factor());
            PolicyView::of("trading-policy", rules, &login.login_id, ctx.lang, None)
        },
        notice,
        error,
    };
    ctx.render(status, &page)
}
