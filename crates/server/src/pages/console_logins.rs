//! The console's logins pages (issue 7): search with flags at a glance, create, and one login's
//! state with the operator's actions (the Change Credentials dialog is `console_credentials`).
//! Each action calls the same function as the admin API (`sekisho_app::login_admin`,
//! `setup_links`, `token_admin`), so the role checks, audit events and results are the API's.

use super::console::{base, signed_in, staff_form, Ct};
use super::{error_page, percent_encode, query_param, status_of, Base, Ctx, Shown};
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::AdminCaller;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use sekisho_app::login_admin::{self, LoginChange, LoginFlags, LoginSearch};
use sekisho_app::token_admin::{self, TokenChange};
use sekisho_core::login::Login;
use sekisho_store::TokenQuery;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/logins", get(list).post(create))
        .route("/admin/logins/new", get(new_page))
        .route("/admin/logins/{login_id}", get(detail))
        .route("/admin/logins/{login_id}/auth", post(set_auth))
        .route("/admin/logins/{login_id}/unlock", post(unlock))
        .route("/admin/logins/{login_id}/sessions/revoke", post(sessions))
        .route("/admin/logins/{login_id}/devices/revoke", post(devices))
        .route("/admin/logins/{login_id}/apps/revoke", post(app_revoke))
        .route("/admin/logins/{login_id}/token/assign", post(token_assign))
        .route(
            "/admin/logins/{login_id}/token/unassign",
            post(token_unassign),
        )
        .route(
            "/admin/logins/{login_id}/credentials",
            post(super::console_credentials::credentials),
        )
}

/// The flags the list and the detail show, in this order, by key (the admin API's names).
fn flag_list(f: &LoginFlags) -> [(&'static str, bool); 10] {
    [
        ("passkey_counter_regressed", f.passkey_counter_regressed),
        (
            "second_factor_not_registered",
            f.second_factor_not_registered,
        ),
        ("locked_password", f.locked_password),
        ("locked_second_factor", f.locked_second_factor),
        ("locked_token", f.locked_token),
        ("password_expired", f.password_expired),
        ("password_erased", f.password_erased),
        ("setup_link_pending", f.setup_link_pending),
        ("setup_link_expired", f.setup_link_expired),
        ("mfa_deadline_near", f.mfa_deadline_near),
    ]
}

/// A raised flag: its key (also its CSS class) and its words.
pub struct Flag {
    pub key: &'static str,
    pub label: &'static str,
}

fn flags(c: Ct, f: &LoginFlags) -> Vec<Flag> {
    flag_list(f)
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(key, _)| Flag {
            key,
            label: c.t(&format!("flag.{key}")),
        })
        .collect()
}

/// An error as the console shows it: for a refused form, the detail too (operators can act on
/// "choose password and/or second factor", customers are never shown these).
pub(super) fn shown(e: impl Into<crate::catalogue::Failure>, lang: sekisho_core::Lang) -> Shown {
    let e = e.into();
    let mut s = Shown::new(&e, lang);
    if let Some(d) = e.detail() {
        // No space after 。 in Japanese.
        s.message = match lang {
            sekisho_core::Lang::Ja => format!("{}({d})", s.message),
            sekisho_core::Lang::En => format!("{} ({d})", s.message),
        };
    }
    s
}

/// One row of the logins list.
pub struct LoginRow {
    pub login_id: String,
    pub href: String,
    pub display_name: String,
    pub email: String,
    pub second_factor: &'static str,
    pub flags: Vec<Flag>,
}

#[derive(Template)]
#[template(path = "admin_logins.html")]
struct ListPage {
    base: Base,
    c: Ct,
    q: String,
    rows: Vec<LoginRow>,
    next: Option<String>,
}

fn factor_label(c: Ct, f: &str) -> &'static str {
    c.t(&format!("factor.{f}"))
}

async fn list(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (ctx, _) = match signed_in(&state, ctx).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = query_param(&ctx.query, "q").unwrap_or_default();
    let after = query_param(&ctx.query, "after").filter(|a| !a.is_empty());
    let search = LoginSearch {
        q: Some(q.clone()).filter(|q| !q.trim().is_empty()),
        locked: None,
        after,
        limit: Some(20),
    };
    let page = match login_admin::search(&state, search).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let c = Ct(ctx.lang);
    let rows = page
        .rows
        .iter()
        .map(|o| LoginRow {
            href: format!("/admin/logins/{}", percent_encode(&o.login.login_id)),
            login_id: o.login.login_id.clone(),
            display_name: o.login.display_name.clone(),
            email: o.login.email.clone(),
            second_factor: factor_label(c, o.login.second_factor.as_str()),
            flags: flags(c, &o.flags),
        })
        .collect();
    let next = page.next_after.map(|n| {
        format!(
            "/admin/logins?q={}&after={}",
            percent_encode(&q),
            percent_encode(&n)
        )
    });
    let page = ListPage {
        base: base(&state, &ctx, "title.logins"),
        c,
        q,
        rows,
        next,
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "admin_login_new.html")]
struct NewPage {
    base: Base,
    c: Ct,
    f: CreateForm,
    factors: Vec<(&'static str, &'static str)>,
    error: Option<Shown>,
}

#[derive(Deserialize, Default)]
struct CreateForm {
    csrf: String,
    login_id: String,
    display_name: String,
    email: String,
    lang: String,
    second_factor: String,
    #[serde(default)]
    mfa_required: Option<String>,
}

/// The second factors an operator can choose, with their words.
fn factor_choices(c: Ct) -> Vec<(&'static str, &'static str)> {
    ["none", "email", "totp", "token", "passkey", "any"]
        .iter()
        .map(|f| (*f, factor_label(c, f)))
        .collect()
}

async fn new_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (ctx, _) = match signed_in(&state, ctx).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let c = Ct(ctx.lang);
    let page = NewPage {
        base: base(&state, &ctx, "title.login_new"),
        c,
        f: CreateForm {
            lang: "ja".into(),
            second_factor: "totp".into(),
            mfa_required: Some("on".into()),
            ..CreateForm::default()
        },
        factors: factor_choices(c),
        error: None,
    };
    ctx.render(StatusCode::OK, &page)
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Response {
    let (ctx, op, f) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let req = login_admin::NewLoginRequest {
        login_id: f.login_id.trim().to_owned(),
        email: f.email.trim().to_owned(),
        display_name: f.display_name.trim().to_owned(),
        lang: Some(f.lang.clone()),
        second_factor: Some(f.second_factor.clone()),
        mfa_required: Some(f.mfa_required.is_some()),
        password: None,
        temporary: None,
    };
    let caller = AdminCaller::Operator(op).staff();
    match login_admin::create_login(&state, &caller, &ctx.client, req).await {
        Ok(l) => {
            let to = format!("/admin/logins/{}?done=created", percent_encode(&l.login_id));
            ctx.redirect(&to)
        }
        Err(e) => {
            let c = Ct(ctx.lang);
            let page = NewPage {
                base: base(&state, &ctx, "title.login_new"),
                c,
                f,
                factors: factor_choices(c),
                error: Some(shown(&e.error, ctx.lang)),
            };
            ctx.render(status_of(&e.error), &page)
        }
    }
}

/// A row of the detail's sessions, browsers or tokens.
pub struct Item {
    pub label: String,
    pub detail: String,
}

/// A consent in the console: the client, what it receives and since when.
pub struct AppItem {
    pub client_id: String,
    pub label: String,
    pub detail: String,
}

/// A link just generated, shown once (⑤).
pub struct NewLink {
    /// Shown to an admin only; support's link is only mailed to the registered address.
    pub url: Option<String>,
    pub expires: String,
    pub emailed_to: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_login_detail.html")]
struct DetailPage {
    base: Base,
    c: Ct,
    login_id: String,
    action: String,
    display_name: String,
    email: String,
    lang: &'static str,
    second_factor: String,
    mfa_required: bool,
    failed_logins: i64,
    last_login: String,
    flags: Vec<Flag>,
    factors: Vec<(&'static str, &'static str)>,
    sessions: Vec<Item>,
    devices: Vec<Item>,
    /// Clients the customer consented to.
    apps: Vec<AppItem>,
    tokens: Vec<Item>,
    passkeys: Vec<super::console_passkeys::PasskeyRow>,
    recovery: String,
    notice: Option<String>,
    error: Option<Shown>,
    link: Option<NewLink>,
    is_admin: bool,
}

/// Renders one login's page with an optional outcome of the action just taken.
pub(super) async fn render_detail(
    state: &AppState,
    ctx: Ctx,
    is_admin: bool,
    login_id: &str,
    status: StatusCode,
    error: Option<Shown>,
    link: Option<NewLink>,
) -> Response {
    let (login, login_flags) = match login_admin::read_login(state, login_id).await {
        Ok(o) => (o.login, o.flags),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let c = Ct(ctx.lang);
    let items = match items(state, c, &login).await {
        Ok(x) => x,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let (passkeys, recovery) = match super::console_passkeys::section(state, c, &login).await {
        Ok(x) => x,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let notice = query_param(&ctx.query, "done")
        .map(|d| c.t(&format!("done.{d}")))
        .filter(|t| *t != "?")
        .map(|t| match query_param(&ctx.query, "cleared") {
            Some(cleared) => unlocked_notice(c, t, &cleared),
            None => t.to_owned(),
        });
    let (sessions, devices, tokens) = items;
    let apps = match sekisho_app::oidc::consent::list(state, login.id).await {
        Ok(list) => list
            .into_iter()
            .map(|a| AppItem {
                client_id: a.client_id.clone(),
                label: format!("{} ({})", a.client_name, a.client_id),
                detail: format!(
                    "{} — {}",
                    a.scopes.join(" "),
                    state.settings.zone.minutes(a.granted_at)
                ),
            })
            .collect(),
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let page = DetailPage {
        base: base(state, &ctx, "title.login_detail"),
        c,
        action: format!("/admin/logins/{}", percent_encode(&login.login_id)),
        login_id: login.login_id.clone(),
        display_name: login.display_name.clone(),
        email: login.email.clone(),
        lang: login.lang.as_str(),
        second_factor: login.second_factor.as_str().to_owned(),
        mfa_required: login.mfa_required,
        failed_logins: login.failed_logins,
        last_login: login
            .last_login_at
            .map(|t| state.settings.zone.minutes(t))
            .unwrap_or_default(),
        flags: flags(c, &login_flags),
        factors: factor_choices(c),
        sessions,
        devices,
        tokens,
        apps,
        passkeys,
        recovery,
        notice,
        error,
        link,
        is_admin,
    };
    ctx.render(status, &page)
}

type Items = (Vec<Item>, Vec<Item>, Vec<Item>);

/// The login's active sessions, familiar browsers and tokens.
async fn items(state: &AppState, c: Ct, login: &Login) -> Result<Items, ApiError> {
    let now = state.clock.now();
    let policy = &state.settings.session.policy();
    let sessions = state
        .store
        .list_sessions(login.id, now)
        .await?
        .into_iter()
        .filter(|s| s.is_active(policy, now))
        .map(|s| Item {
            label: format!(
                "{} {}",
                s.client_ip.unwrap_or_default(),
                s.user_agent.unwrap_or_default()
            ),
            detail: state.settings.zone.minutes(s.created_at),
        })
        .collect();
    let devices = state
        .store
        .list_devices(login.id, now)
        .await?
        .into_iter()
        .map(|d| Item {
            label: d.label,
            detail: state.settings.zone.minutes(d.expires_at),
        })
        .collect();
    let tokens = state
        .store
        .list_tokens(&TokenQuery {
            login_pk: Some(login.id),
            limit: 10,
            ..TokenQuery::default()
        })
        .await?
        .into_iter()
        .map(|t| Item {
            detail: if t.locked_at.is_some() {
                c.t("token.locked").to_owned()
            } else {
                c.t(&format!("token.{}", t.state.as_str())).to_owned()
            },
            label: t.token_id,
        })
        .collect();
    Ok((sessions, devices, tokens))
}

async fn detail(State(state): State<AppState>, ctx: Ctx, Path(login_id): Path<String>) -> Response {
    let (ctx, op) = match signed_in(&state, ctx).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let admin = op.role == sekisho_core::operator::OperatorRole::Admin;
    render_detail(&state, ctx, admin, &login_id, StatusCode::OK, None, None).await
}

/// After an action: back to the login's page with its notice, or the page with the refusal
/// (a support operator's `admin_role_required`, a token in the wrong state, …).
pub(super) async fn outcome<T>(
    state: &AppState,
    ctx: Ctx,
    is_admin: bool,
    login_id: &str,
    r: Result<T, impl Into<ApiError>>,
    done: &str,
) -> Response {
    match r.map_err(Into::into) {
        Ok(_) => {
            let to = format!("/admin/logins/{}?done={done}", percent_encode(login_id));
            ctx.redirect(&to)
        }
        Err(e) => {
            let shown = shown(&e.error, ctx.lang);
            let status = status_of(&e.error);
            render_detail(state, ctx, is_admin, login_id, status, Some(shown), None).await
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
struct AuthForm {
    csrf: String,
    second_factor: String,
    #[serde(default)]
    mfa_required: Option<String>,
}

async fn set_auth(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<AuthForm>, FormRejection>,
) -> Response {
    let (ctx, op, f) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let change = LoginChange {
        second_factor: Some(f.second_factor),
        mfa_required: Some(f.mfa_required.is_some()),
        ..LoginChange::default()
    };
    let r = login_admin::patch_login(&state, &caller, &ctx.client, &login_id, change).await;
    outcome(&state, ctx, caller.admin, &login_id, r, "auth").await
}

async fn unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (ctx, op, _) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    match login_admin::unlock_login(&state, &caller, &ctx.client, &login_id).await {
        // The desk is told which locks were cleared, so it knows the customer can log in.
        Ok(u) => {
            let cleared = u.cleared.names();
            let mut to = format!("/admin/logins/{}?done=unlocked", percent_encode(&login_id));
            if !cleared.is_empty() {
                to.push_str(&format!("&cleared={}", cleared.join(",")));
            }
            ctx.redirect(&to)
        }
        r => outcome(&state, ctx, caller.admin, &login_id, r, "unlocked").await,
    }
}

/// "The login was unlocked." followed by the locks cleared (`cleared`: names, comma-separated).
fn unlocked_notice(c: Ct, done: &str, cleared: &str) -> String {
    let names: Vec<&str> = cleared
        .split(',')
        .map(|n| c.t(&format!("lock.{n}")))
        .filter(|t| *t != "?")
        .collect();
    if names.is_empty() {
        return done.to_owned();
    }
    // Japanese runs on after 。 with no space and lists with 、; English needs both spaces.
    if c.0 == sekisho_core::Lang::Ja {
        format!("{done}{}{}", c.t("done.unlocked_what"), names.join("、"))
    } else {
        format!("{done} {} {}", c.t("done.unlocked_what"), names.join(", "))
    }
}

async fn sessions(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (ctx, op, _) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let r = login_admin::revoke_all_sessions(&state, &caller, &ctx.client, &login_id).await;
    outcome(&state, ctx, caller.admin, &login_id, r, "sessions").await
}

async fn devices(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (ctx, op, _) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let r = login_admin::revoke_all_devices(&state, &caller, &ctx.client, &login_id).await;
    outcome(&state, ctx, caller.admin, &login_id, r, "devices").await
}

#[derive(Deserialize)]
struct AppForm {
    csrf: String,
    client_id: String,
}

async fn app_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<AppForm>, FormRejection>,
) -> Response {
    let (ctx, op, f) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let r =
        login_admin::revoke_consent(&state, &caller, &ctx.client, &login_id, &f.client_id).await;
    outcome(&state, ctx, caller.admin, &login_id, r, "app").await
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    token_id: String,
}

async fn token_assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let (ctx, op, f) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let r =
        token_admin::assign_to(&state, &caller, &ctx.client, f.token_id.trim(), &login_id).await;
    outcome(&state, ctx, caller.admin, &login_id, r, "token_assigned").await
}

async fn token_unassign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let (ctx, op, f) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let token_id = f.token_id.trim();
    // The console's "revoke the token" keeps it usable for another customer, as the API's
    // `unassign`.
    let r = token_admin::refusable_change(
        &state,
        &caller,
        &ctx.client,
        token_id,
        TokenChange::Unassign,
    )
    .await;
    outcome(&state, ctx, caller.admin, &login_id, r, "token_unassigned").await
}
