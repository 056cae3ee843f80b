//! The operator console (issue 7), server-rendered under `/admin` in Japanese and English with
//! the customer pages' framework (layout, form tokens, rate limits, strict headers). Served only
//! where the admin API is (see `routes::Part`). Every action calls the same domain functions as
//! the admin API (`operators::setup_password`, `setup_confirm`, `login`, `logout`).
//!
//! The operator session lives in its own cookie, [`ADMIN_COOKIE`] (host-only, Secure, HttpOnly,
//! SameSite=Strict).

use super::login::accept;
use super::{error_page, Base, Ctx, Shown};
use crate::operators;
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use sekisho_core::Error;
use sekisho_store::OperatorSession;
use serde::Deserialize;

/// The console's session cookie (an operator session token).
pub const ADMIN_COOKIE: &str = "__Host-sekisho_admin";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/login", get(login_page).post(login_submit))
        .route("/admin/logout", post(logout))
        .route("/admin/setup/{token}", get(setup_page))
        .route("/admin/setup/{token}/password", post(setup_password))
        .route("/admin/setup/{token}/confirm", post(setup_confirm))
}

/// The console's words are looked up like the customer pages' ones (this table is their
/// continuation, see [`super::i18n`]).
pub use super::i18n::Tx as Ct;

/// The console's own words in Japanese and English.
pub(super) fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "title.login" => ("オペレーターログイン", "Operator login"),
        "title.home" => ("オペレーターコンソール", "Operator console"),
        "title.setup" => ("オペレーター初期設定", "Operator setup"),
        "title.setup_totp" => ("認証アプリの登録", "Register the authenticator app"),
        "title.setup_done" => ("初期設定完了", "Setup complete"),
        "name" => ("オペレーター名", "Operator name"),
        "password" => ("パスワード", "Password"),
        "new_password" => ("新しいパスワード", "New password"),
        "confirm_password" => ("新しいパスワード(確認)", "New password (again)"),
        "mismatch" => (
            "確認用のパスワードが一致しません。",
            "The two passwords do not match.",
        ),
        "otp" => (
            "認証アプリのワンタイムパスワード(6桁)",
            "One-time password from the authenticator app (6 digits)",
        ),
        "login" => ("ログイン", "Log in"),
        "logout" => ("ログアウト", "Log out"),
        "logged_out" => ("ログアウトしました。", "You have logged out."),
        "next" => ("次へ", "Next"),
        "confirm" => ("登録する", "Register"),
        "setup.steps" => (
            "1. パスワード設定 → 2. 認証アプリの登録 → 3. 完了",
            "1. Password → 2. Authenticator app → 3. Done",
        ),
        "setup.step1" => ("パスワードの設定", "Set your password"),
        "setup.scan" => (
            "認証アプリ(Google Authenticator など)でQRコードを読み取ってください。",
            "Scan the QR code with your authenticator app (Google Authenticator or similar).",
        ),
        "setup.manual" => (
            "読み取れない場合は次のキーを手入力してください",
            "If you cannot scan it, type in this key",
        ),
        "setup.qr_alt" => (
            "認証アプリ登録用QRコード",
            "QR code for the authenticator app",
        ),
        "setup.enter" => (
            "アプリに表示されたワンタイムパスワードを入力してください。",
            "Enter the one-time password the app shows.",
        ),
        "setup.done" => (
            "初期設定が完了しました。ログインしてください。",
            "Setup is complete. Please log in.",
        ),
        "to_login" => ("ログイン画面へ", "To the login page"),
        "signed_in_as" => ("ログイン中のオペレーター", "Signed in as"),
        "role" => ("権限", "Role"),
        "role.admin" => ("管理者", "Administrator"),
        "role.support" => ("サポート", "Support"),
        _ => ("?", "?"),
    }
}

/// The layout's parts with a console title.
fn base(state: &AppState, ctx: &Ctx, title_key: &str) -> Base {
    let mut b = ctx.base(state, "error.title");
    b.title = Ct(ctx.lang).t(title_key);
    b
}

/// The `Set-Cookie` of the console's session: SameSite=Strict, unlike the customer pages.
fn admin_cookie(value: &str, max_age: i64) -> String {
    format!(
        "{ADMIN_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        max_age.max(0)
    )
}

/// The operator signed in on the console, if any.
pub async fn operator(state: &AppState, ctx: &Ctx) -> Result<Option<OperatorSession>, Error> {
    match ctx.cookie(ADMIN_COOKIE) {
        None => Ok(None),
        Some(t) => operators::session_for_token(state, t)
            .await
            .map_err(|e| e.error),
    }
}

/// A `Shown` from a console text.
fn shown_text(ctx: &Ctx, key: &str) -> Shown {
    Shown {
        message: Ct(ctx.lang).t(key).to_owned(),
        code: "",
    }
}

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage {
    base: Base,
    c: Ct,
    name: String,
    notice: Option<&'static str>,
    error: Option<Shown>,
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage {
    base: Base,
    c: Ct,
    name: String,
    role: &'static str,
}

#[derive(Template)]
#[template(path = "admin_setup_password.html")]
struct SetupPasswordPage {
    base: Base,
    c: Ct,
    token: String,
    error: Option<Shown>,
}

#[derive(Template)]
#[template(path = "admin_setup_totp.html")]
struct SetupTotpPage {
    base: Base,
    c: Ct,
    token: String,
    name: String,
    qr_data_uri: Option<String>,
    secret: String,
    error: Option<Shown>,
}

#[derive(Template)]
#[template(path = "admin_setup_done.html")]
struct SetupDonePage {
    base: Base,
    c: Ct,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    match operator(&state, &ctx).await {
        Err(e) => error_page(&state, ctx, &e),
        Ok(None) => ctx.redirect("/admin/login"),
        Ok(Some(s)) => {
            let c = Ct(ctx.lang);
            let page = HomePage {
                base: base(&state, &ctx, "title.home"),
                c,
                role: if s.role == "admin" {
                    c.t("role.admin")
                } else {
                    c.t("role.support")
                },
                name: s.name,
            };
            ctx.render(StatusCode::OK, &page)
        }
    }
}

async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let notice = super::query_param(&ctx.query, "done").map(|_| Ct(ctx.lang).t("logged_out"));
    let page = LoginPage {
        base: base(&state, &ctx, "title.login"),
        c: Ct(ctx.lang),
        name: String::new(),
        notice,
        error: None,
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    name: String,
    password: String,
    otp: String,
}

async fn login_submit(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |f| Some(f.name.clone())) {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let r = if f.password.len() > 1024 || f.otp.len() > 32 {
        Err(Error::InvalidCredentials)
    } else {
        operators::login(
            &state,
            &ctx.client,
            f.name.trim(),
            &f.password,
            f.otp.trim(),
        )
        .await
        .map_err(|e| e.error)
    };
    match r {
        Ok(l) => {
            let age = l.session.expires_at.0 - state.clock.now().0;
            ctx.set_cookie(admin_cookie(&l.token, age));
            ctx.redirect("/admin")
        }
        Err(e) => {
            let status = super::status_of(&e);
            let page = LoginPage {
                base: base(&state, &ctx, "title.login"),
                c: Ct(ctx.lang),
                name: f.name,
                notice: None,
                error: Some(Shown::new(&e, ctx.lang)),
            };
            ctx.render(status, &page)
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(e) = accept(&state, &ctx, form, |f| &f.csrf, |_| None) {
        return error_page(&state, ctx, &e);
    }
    match operator(&state, &ctx).await {
        Err(e) => return error_page(&state, ctx, &e),
        Ok(Some(s)) => {
            if let Err(e) = operators::logout(&state, &ctx.client, &s).await {
                return error_page(&state, ctx, &e.error);
            }
        }
        Ok(None) => {}
    }
    ctx.set_cookie(admin_cookie("", 0));
    ctx.redirect("/admin/login?done=1")
}

async fn setup_page(State(state): State<AppState>, ctx: Ctx, Path(tok): Path<String>) -> Response {
    let page = SetupPasswordPage {
        base: base(&state, &ctx, "title.setup"),
        c: Ct(ctx.lang),
        token: tok,
        error: None,
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    new_password: String,
    confirm_password: String,
}

async fn setup_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| None) {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let err = |ctx: Ctx, status: StatusCode, shown: Shown| {
        let page = SetupPasswordPage {
            base: base(&state, &ctx, "title.setup"),
            c: Ct(ctx.lang),
            token: tok.clone(),
            error: Some(shown),
        };
        ctx.render(status, &page)
    };
    if f.new_password != f.confirm_password {
        let s = shown_text(&ctx, "mismatch");
        return err(ctx, StatusCode::BAD_REQUEST, s);
    }
    if f.new_password.len() > 1024 {
        let e = Error::InvalidRequest("password too long".into());
        let s = Shown::new(&e, ctx.lang);
        return err(ctx, StatusCode::BAD_REQUEST, s);
    }
    match operators::setup_password(&state, &tok, &f.new_password).await {
        Err(e) if matches!(e.error, Error::OperatorSetupInvalid) => {
            error_page(&state, ctx, &e.error)
        }
        Err(e) => {
            let s = Shown::new(&e.error, ctx.lang);
            err(ctx, super::status_of(&e.error), s)
        }
        Ok(en) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(en.qr_svg.as_bytes());
            let page = SetupTotpPage {
                base: base(&state, &ctx, "title.setup_totp"),
                c: Ct(ctx.lang),
                token: tok.clone(),
                name: en.name,
                qr_data_uri: Some(format!("data:image/svg+xml;base64,{b64}")),
                secret: en.secret,
                error: None,
            };
            ctx.render(StatusCode::OK, &page)
        }
    }
}

#[derive(Deserialize)]
struct OtpForm {
    csrf: String,
    otp: String,
}

async fn setup_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tok): Path<String>,
    form: Result<Form<OtpForm>, FormRejection>,
) -> Response {
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| None) {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    match operators::setup_confirm(&state, &ctx.client, &tok, f.otp.trim()).await {
        Ok(_) => {
            let page = SetupDonePage {
                base: base(&state, &ctx, "title.setup_done"),
                c: Ct(ctx.lang),
            };
            ctx.render(StatusCode::OK, &page)
        }
        Err(e) if matches!(e.error, Error::SecondFactorInvalid) => {
            // The key was shown on the previous page; the code can be tried again.
            let page = SetupTotpPage {
                base: base(&state, &ctx, "title.setup_totp"),
                c: Ct(ctx.lang),
                token: tok.clone(),
                name: String::new(),
                qr_data_uri: None,
                secret: String::new(),
                error: Some(Shown::new(&e.error, ctx.lang)),
            };
            ctx.render(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => error_page(&state, ctx, &e.error),
    }
}
