//! Passkeys on the hosted pages: the second step answered with a passkey (`/login/passkey`),
//! passwordless login from the login page (a button, and the browser's autofill through a
//! conditional request), and the customer's passkeys in the security settings
//! (`/account/passkeys`: register after re-authentication, rename, remove).
//!
//! A ceremony begins by `fetch` (`…/begin`, form token in the JSON body) and finishes as an
//! ordinary form post carrying the authenticator's answer, so cookies, redirects and errors
//! work as on every other page. Without JavaScript the pages say that passkeys need it.

use super::account::session as page_session;
use super::login::{accept, destination};
use super::{
    clear_cookie, cookie, error_page, status_of, Base, Ctx, Shown, Step, FLOW_COOKIE,
    SESSION_COOKIE,
};
use crate::catalogue::DoorError;
use crate::door::AppState;
use crate::error::ApiError;
use crate::passkey;
use crate::passkey_login;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use sekisho_core::audit::Actor;
use sekisho_core::flow::Factor;
use sekisho_core::login::Login;
use sekisho_core::session::Session;
use sekisho_core::{Error, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/passkey", get(step_page).post(step_submit))
        .route("/login/passkey/begin", post(login_begin))
        .route("/login/passkey/passwordless", post(passwordless_submit))
        .route(
            "/account/passkeys",
            get(settings_page).post(register_submit),
        )
        .route("/account/passkeys/begin", post(register_begin))
        .route("/account/passkeys/rename", post(rename_submit))
        .route("/account/passkeys/remove", post(remove_submit))
}

/// The pages' words about passkeys (keys `pk.*`), Japanese and English.
pub fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "pk.title" => ("パスキーによる認証", "Verify with a passkey"),
        "pk.step" => (
            "パスワードの確認が完了しました。ご登録のパスキー(スマートフォンやパソコンの生体認証・画面ロック)で本人確認を行ってください。",
            "Your password is correct. Now confirm it is you with your passkey (your phone's or computer's fingerprint, face or screen lock).",
        ),
        "pk.use" => ("パスキーで認証する", "Use my passkey"),
        "pk.use_code" => ("ワンタイムパスワード等で認証する", "Use a one-time code instead"),
        "pk.or_passkey" => ("パスキーで認証する場合はこちら", "Use a passkey instead"),
        "pk.needs_js" => (
            "パスキーのご利用には、ブラウザのJavaScriptを有効にしてください。",
            "Passkeys need JavaScript to be enabled in your browser.",
        ),
        "pk.unsupported" => (
            "このブラウザではパスキーをご利用いただけません。",
            "This browser cannot use passkeys.",
        ),
        "pk.cancelled" => (
            "パスキーの操作が中止されました。もう一度お試しください。",
            "The passkey request was cancelled. Please try again.",
        ),
        "pk.login" => ("パスキーでログイン", "Log in with a passkey"),
        "pk.login_hint" => (
            "パスキーを登録済みの方は、ログインIDとパスワードの入力なしでログインできます。",
            "If you have registered a passkey, you can log in without typing your ID and password.",
        ),
        "pk.settings" => ("パスキーの管理", "Passkeys"),
        "pk.intro" => (
            "パスキーは、フィッシングに強い認証方法です。スマートフォンやパソコンの生体認証・画面ロックでログインできます。複数登録できます。",
            "Passkeys resist phishing: you log in with your phone's or computer's fingerprint, face or screen lock. You can register several.",
        ),
        "pk.nudge" => (
            "ワンタイムパスワードより安全なパスキーの登録をおすすめします。",
            "We recommend registering a passkey: it is safer than one-time codes.",
        ),
        "pk.none" => ("パスキーは登録されていません。", "No passkey is registered."),
        "pk.name" => ("パスキーの名前", "Passkey name"),
        "pk.name_hint" => ("例:iPhone、会社のパソコン", "For example: iPhone, office laptop"),
        "pk.register" => ("パスキーを登録する", "Register a passkey"),
        "pk.reauth_first" => (
            "パスキーの登録・変更・削除の前に、セキュリティ設定画面でパスワードを再入力してください。",
            "Before adding, renaming or removing passkeys, enter your password again on the security settings page.",
        ),
        "pk.to_security" => ("セキュリティ設定へ", "Back to security settings"),
        "pk.created" => ("登録日時", "Registered"),
        "pk.last_used" => ("最終利用日時", "Last used"),
        "pk.never" => ("未使用", "Never"),
        "pk.synced" => ("同期パスキー", "Synced passkey"),
        "pk.suspended" => (
            "利用停止中(複製の疑い)",
            "Suspended (may have been copied)",
        ),
        "pk.rename" => ("名前を変更", "Rename"),
        "pk.remove" => ("削除", "Remove"),
        "pk.done_added" => ("パスキーを登録しました。", "Your passkey has been registered."),
        "pk.done_renamed" => ("パスキーの名前を変更しました。", "The passkey has been renamed."),
        "pk.done_removed" => ("パスキーを削除しました。", "The passkey has been removed."),
        "pk.in_use" => ("パスキー登録数", "Passkeys registered"),
        "pk.oidc_title" => ("パスキーによるログインが必要です", "A passkey is required"),
        "pk.oidc_needed" => (
            "このアプリへのログインには、パスキーが必要です。「パスキーでログイン」を押すか、ログインIDとパスワードを入力してから、ご登録のパスキーで本人確認を行ってください。",
            "This app requires a passkey. Choose “Log in with a passkey”, or enter your login ID and password and then confirm it is you with your passkey.",
        ),
        "pk.oidc_how" => ("パスキーの登録方法", "How to register a passkey"),
        "pk.oidc_step1" => (
            "下の「パスキーを登録する」から、ログインID・パスワードと二段階認証(認証アプリ・メールなど)でログインします。",
            "Choose “Register a passkey” below and log in with your login ID, password and second factor (authenticator app, e-mail code, etc.).",
        ),
        "pk.oidc_step2" => (
            "「パスキーの管理」画面で、お使いのスマートフォンやパソコンをパスキーとして登録します。",
            "On the Passkeys page, register your phone or computer as a passkey.",
        ),
        "pk.oidc_step3" => (
            "アプリに戻り、もう一度ログインしてください。",
            "Go back to the app and log in again.",
        ),
        "pk.oidc_back" => ("ログインせずにアプリに戻る", "Back to the app without logging in"),
        _ => (
            // Unknown keys show as "?" (the templates test catches them).
            "?", "?",
        ),
    }
}

fn some_json(v: &str) -> Result<Value, Error> {
    serde_json::from_str(v).map_err(|_| Error::PasskeyInvalid)
}

// ---- the second step ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "passkey_step.html")]
struct StepPage {
    base: Base,
    /// Codes may answer too (a link to the code page).
    codes: bool,
    error: Option<Shown>,
}

async fn flow_challenge(state: &AppState, ctx: &Ctx) -> Option<(super::Flow, String, bool)> {
    let flow = super::get_flow(state, ctx.cookie(FLOW_COOKIE)).await?;
    let Step::SecondFactor {
        challenge, methods, ..
    } = &flow.step
    else {
        return None;
    };
    if !methods.contains(&Factor::Passkey) {
        return None;
    }
    // Codes may answer too, unless the app the login is for asked for a passkey.
    let codes = methods
        .iter()
        .any(|m| !matches!(m, Factor::Passkey | Factor::RecoveryCode))
        && super::oidc::passkey_request(state, flow.return_to.as_deref())
            .await
            .is_none();
    let c = challenge.clone();
    Some((flow, c, codes))
}

fn step_view(state: &AppState, ctx: Ctx, codes: bool, error: Option<&Error>) -> Response {
    let status = error.map(status_of).unwrap_or(StatusCode::OK);
    let page = StepPage {
        base: ctx.base(state, "pk.title"),
        codes,
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    ctx.render(status, &page)
}

async fn step_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    match flow_challenge(&state, &ctx).await {
        Some((_, _, codes)) => step_view(&state, ctx, codes, None),
        None => ctx.redirect("/login"),
    }
}

#[derive(Deserialize)]
struct BeginBody {
    csrf: String,
    /// `second` (after the password) or `passwordless`.
    mode: String,
}

/// Begins a login ceremony for the page's script: the options for `navigator.credentials.get`.
async fn login_begin(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Json(body): axum::Json<BeginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    ctx.check_csrf(&state.secrets, &body.csrf)?;
    ctx.rate_limit(&state, None).await?;
    let (ceremony, options) = if body.mode == "second" {
        let (_, challenge, _) = flow_challenge(&state, &ctx)
            .await
            .ok_or(DoorError::LoginFlowExpired)?;
        passkey_login::begin(&state, Some(&challenge)).await?
    } else {
        passkey_login::begin(&state, None).await?
    };
    Ok(axum::Json(
        json!({ "ceremony": ceremony, "options": options }),
    ))
}

#[derive(Deserialize)]
struct FinishForm {
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    return_to: String,
}

async fn step_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<FinishForm>, FormRejection>,
) -> Response {
    let Some((flow, challenge, codes)) = flow_challenge(&state, &ctx).await else {
        return error_page(&state, ctx, DoorError::LoginFlowExpired);
    };
    let login_id = flow.login_id.clone();
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| Some(login_id.clone())).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    if f.credential.is_empty() {
        // No script ran: say what passkeys need.
        return step_view(&state, ctx, codes, Some(&Error::PasskeyInvalid));
    }
    let result = async {
        let credential: PublicKeyCredential =
            serde_json::from_value(some_json(&f.credential)?).map_err(|_| Error::PasskeyInvalid)?;
        passkey_login::finish(
            &state,
            &ctx.client,
            Some(&challenge),
            &f.ceremony,
            &credential,
        )
        .await
    }
    .await;
    match result {
        Ok(issued) => {
            super::end_flow(&state, ctx.cookie(FLOW_COOKIE)).await;
            ctx.set_cookie(clear_cookie(FLOW_COOKIE));
            ctx.set_cookie(cookie(SESSION_COOKIE, &issued.token, None));
            ctx.redirect(&destination(flow.return_to.as_deref()))
        }
        Err(e) => step_view(&state, ctx, codes, Some(&e.error)),
    }
}

async fn passwordless_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<FinishForm>, FormRejection>,
) -> Response {
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| None).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let return_to = Some(f.return_to.clone()).filter(|r| !r.is_empty());
    if let Some(r) = &return_to {
        // As the password form: an app's address, a step-up or an OpenID Connect request.
        if !super::login_return_allowed(&state, r) {
            return error_page(&state, ctx, DoorError::ReturnToNotAllowed);
        }
    }
    let result = async {
        let credential: PublicKeyCredential =
            serde_json::from_value(some_json(&f.credential)?).map_err(|_| Error::PasskeyInvalid)?;
        passkey_login::finish(&state, &ctx.client, None, &f.ceremony, &credential).await
    }
    .await;
    match result {
        Ok(issued) => {
            ctx.set_cookie(cookie(SESSION_COOKIE, &issued.token, None));
            ctx.redirect(&destination(return_to.as_deref()))
        }
        Err(e) => error_page(&state, ctx, &e.error),
    }
}

// ---- the customer's passkeys ------------------------------------------------------------

struct KeyRow {
    id: i64,
    name: String,
    created: String,
    last_used: String,
    synced: bool,
    suspended: bool,
}

#[derive(Template)]
#[template(path = "passkey_settings.html")]
struct SettingsPage {
    base: Base,
    keys: Vec<KeyRow>,
    fresh: bool,
    notice: Option<&'static str>,
    error: Option<Shown>,
}

fn when(state: &AppState, t: Option<Timestamp>, tx: super::i18n::Tx) -> String {
    t.map(|t| super::account::date(state, t))
        .unwrap_or_else(|| tx.t("pk.never").to_owned())
}

async fn settings_view(
    state: &AppState,
    ctx: Ctx,
    session: &Session,
    login: &Login,
    notice: Option<&'static str>,
    error: Option<&Error>,
) -> Response {
    let tx = ctx.tx();
    let keys = match passkey::list(state, login.id).await {
        Ok(k) => k,
        Err(e) => return error_page(state, ctx, &e.error),
    };
    let page = SettingsPage {
        base: ctx.base(state, "pk.settings"),
        keys: keys
            .iter()
            .map(|k| KeyRow {
                id: k.id,
                name: k.name.clone(),
                created: super::account::date(state, k.created_at),
                last_used: when(state, k.last_used_at, tx),
                synced: k.backup_state,
                suspended: k.counter_regressed_at.is_some(),
            })
            .collect(),
        fresh: super::is_fresh(state, session.id, state.clock.now()).await,
        notice,
        error: error.map(|e| Shown::new(e, ctx.lang)),
    };
    let status = error.map(status_of).unwrap_or(StatusCode::OK);
    ctx.render(status, &page)
}

async fn signed_in(state: &AppState, ctx: &Ctx) -> Option<(Session, Login)> {
    let s = page_session(state, ctx).await?;
    let login = state.store.get_login(&s.login_id).await.ok().flatten()?;
    Some((s, login))
}

async fn settings_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let Some((session, login)) = signed_in(&state, &ctx).await else {
        return ctx.redirect("/login");
    };
    let tx = ctx.tx();
    let notice = match super::query_param(&ctx.query, "done").as_deref() {
        Some("added") => Some(tx.t("pk.done_added")),
        Some("renamed") => Some(tx.t("pk.done_renamed")),
        Some("removed") => Some(tx.t("pk.done_removed")),
        _ => None,
    };
    settings_view(&state, ctx, &session, &login, notice, None).await
}

#[derive(Deserialize)]
struct RegisterBeginBody {
    csrf: String,
}

/// Begins a registration for the page's script: needs a fresh re-authentication.
async fn register_begin(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Json(body): axum::Json<RegisterBeginBody>,
) -> Result<axum::Json<Value>, ApiError> {
    ctx.check_csrf(&state.secrets, &body.csrf)?;
    let (session, login) = signed_in(&state, &ctx).await.ok_or(Error::SessionInvalid)?;
    ctx.rate_limit(&state, Some(&login.login_id)).await?;
    if !super::is_fresh(&state, session.id, state.clock.now()).await {
        return Err(Error::CurrentPasswordInvalid.into());
    }
    let (ceremony, options) = passkey::begin_registration(&state, &login).await?;
    Ok(axum::Json(
        json!({ "ceremony": ceremony, "options": options }),
    ))
}

#[derive(Deserialize)]
struct RegisterForm {
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    credential: String,
}

/// The signed-in, re-authenticated customer and their checked form, or the page that turns
/// the request away.
async fn fresh_form<T>(
    state: &AppState,
    ctx: Ctx,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> &str,
) -> Result<(Ctx, Session, Login, T), Response> {
    let Some((session, login)) = signed_in(state, &ctx).await else {
        return Err(ctx.redirect("/login"));
    };
    let id = login.login_id.clone();
    let f = match accept(state, &ctx, form, csrf, |_| Some(id.clone())).await {
        Ok(f) => f,
        Err(e) => return Err(error_page(state, ctx, &e)),
    };
    if !super::is_fresh(state, session.id, state.clock.now()).await {
        return Err(ctx.redirect("/account/passkeys"));
    }
    Ok((ctx, session, login, f))
}

async fn register_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<RegisterForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match fresh_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = async {
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(some_json(&f.credential)?).map_err(|_| Error::PasskeyInvalid)?;
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
        Ok(_) => ctx.redirect("/account/passkeys?done=added"),
        Err(e) => settings_view(&state, ctx, &session, &login, None, Some(&e)).await,
    }
}

#[derive(Deserialize)]
struct KeyForm {
    csrf: String,
    id: i64,
    #[serde(default)]
    name: String,
}

async fn rename_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<KeyForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match fresh_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match passkey::rename(&state, &ctx.client, &login, f.id, &f.name).await {
        Ok(()) => ctx.redirect("/account/passkeys?done=renamed"),
        Err(e) => settings_view(&state, ctx, &session, &login, None, Some(&e.error)).await,
    }
}

async fn remove_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<KeyForm>, FormRejection>,
) -> Response {
    let (ctx, session, login, f) = match fresh_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match passkey::remove(&state, &ctx.client, &login, f.id, Actor::SelfService).await {
        Ok(()) => ctx.redirect("/account/passkeys?done=removed"),
        Err(e) => settings_view(&state, ctx, &session, &login, None, Some(&e.error)).await,
    }
}
