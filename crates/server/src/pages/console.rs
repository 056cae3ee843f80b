//! The operator console (issue 7), server-rendered under `/admin` in Japanese and English with
//! the customer pages' framework (layout, form tokens, rate limits, strict headers). Served only
//! where the admin API is (see `router::Part`). Every action calls the same domain functions as
//! the admin API (`operators::setup_password`, `setup_confirm`, `login`, `logout`).
//!
//! The operator session lives in its own cookie, [`ADMIN_COOKIE`] (host-only, Secure, HttpOnly,
//! SameSite=Strict).

use super::login::accept;
use super::policy::PolicyView;
use super::{error_page, Base, Ctx, Shown};
use crate::door::AppState;
use crate::operators;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use sekisho_core::password::Rule;
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
        .merge(super::console_logins::router())
        .merge(super::console_passkeys::router())
        .merge(super::console_history::router())
        .merge(super::console_logouts::router())
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
        // The operator's own setup (the customers' wizard has keys of the same names).
        "op.setup.steps" => (
            "1. パスワードの設定 → 2. 認証アプリの登録 → 3. 完了",
            "1. Password → 2. Authenticator app → 3. Done",
        ),
        "op.rule.not_name" => (
            "オペレーター名を含まない(大文字・小文字の違いは問いません)",
            "Does not contain your operator name (capital or small letters alike)",
        ),
        "op.setup.step1" => ("1. パスワードの設定", "1. Set your password"),
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
        "op.setup.done" => (
            "初期設定が完了しました。ログインしてください。",
            "Setup is complete. Please log in.",
        ),
        "to_login" => ("ログイン画面へ", "To the login page"),
        "signed_in_as" => ("ログイン中のオペレーター", "Signed in as"),
        "role" => ("権限", "Role"),
        "role.admin" => ("管理者", "Administrator"),
        "role.support" => ("サポート", "Support"),
        "nav.logins" => ("ログイン一覧", "Logins"),
        "nav.new" => ("ログインの作成", "Create a login"),
        "nav.history" => ("変更履歴", "Change Activity History"),
        "nav.home" => ("コンソール", "Console"),
        "title.logins" => ("ログイン一覧", "Logins"),
        "title.login_new" => ("ログインの作成", "Create a login"),
        "title.login_detail" => ("ログイン詳細", "Login"),
        "title.history" => ("変更履歴", "Change Activity History"),
        "search" => ("検索", "Search"),
        "search.q" => (
            "ログインID・氏名・メールアドレス",
            "Login ID, name or e-mail",
        ),
        "next_page" => ("次のページ", "Next page"),
        "none_found" => ("該当するログインはありません。", "No login matches."),
        "col.login_id" => ("ログインID", "Login ID"),
        "col.name" => ("氏名", "Name"),
        "col.email" => ("メールアドレス", "E-mail"),
        "col.second_factor" => ("認証方式", "Authentication system"),
        "col.flags" => ("状態", "Flags"),
        "col.lang" => ("言語", "Language"),
        "flag.second_factor_not_registered" => (
            "二段階認証キー未登録",
            "Two-step authentication key has not been registered",
        ),
        "flag.locked_password" => ("パスワードロック中", "Locked (password)"),
        "flag.locked_second_factor" => ("認証アプリロック中", "Locked (authenticator app)"),
        "flag.locked_token" => ("トークンロック中", "Locked (token)"),
        "flag.password_expired" => ("パスワード期限切れ", "Password expired"),
        "flag.password_erased" => ("パスワード未設定", "No password"),
        "flag.setup_link_pending" => ("設定用リンク未使用", "Setup link pending"),
        "flag.setup_link_expired" => ("設定用リンク期限切れ", "Setup link expired"),
        "flag.mfa_deadline_near" => ("二段階認証の期限間近", "MFA deadline near"),
        "flag.passkey_counter_regressed" => (
            "パスキーの署名カウンター逆行(複製の疑い)",
            "Passkey counter went backwards (possible clone)",
        ),
        "factor.none" => ("パスワードのみ", "Password only"),
        "factor.email" => ("メール認証コード", "E-mail code"),
        "factor.totp" => ("認証アプリ(TOTP)", "Authenticator app (TOTP)"),
        "factor.token" => ("ハードウェアトークン", "Hardware token"),
        "factor.passkey" => ("パスキー", "Passkey"),
        "factor.any" => ("登録済みのいずれか", "Any registered"),
        "mfa_required" => ("二段階認証を必須にする", "Require the second factor"),
        "display_name" => ("氏名", "Name"),
        "email" => ("メールアドレス", "E-mail"),
        "lang.ja" => ("日本語", "Japanese"),
        "lang.en" => ("英語", "English"),
        "create" => ("作成する", "Create"),
        "admin_only" => ("(管理者のみ)", "(administrators only)"),
        "state" => ("状態", "State"),
        "failed_logins" => ("連続失敗回数", "Consecutive failures"),
        "last_login" => ("最終ログイン", "Last login"),
        "auth.title" => ("認証方式の設定", "Authentication system"),
        "save" => ("保存する", "Save"),
        "unlock" => ("ロックを解除する", "Unlock"),
        "unlock.help" => (
            "パスワード・認証アプリ・トークン・リカバリーコードのロックを解除し、失敗回数をリセットします。",
            "Clears the password, authenticator app, token and recovery code locks and the failure counts.",
        ),
        "sessions" => ("ログイン中のセッション", "Sessions"),
        "sessions.revoke" => ("すべてのセッションを無効にする", "Revoke all sessions"),
        "apps" => ("連携中のアプリ(同意済み)", "Connected apps (consents)"),
        "apps.revoke" => ("同意を取り消す", "Revoke consent"),
        "devices" => ("信頼済みブラウザ", "Trusted browsers"),
        "devices.revoke" => (
            "すべての信頼済みブラウザを解除する",
            "Revoke all trusted browsers",
        ),
        "tokens" => ("トークン", "Token"),
        "token_id" => ("トークンID", "Token ID"),
        "token.locked" => ("ロック中", "locked"),
        "token.assigned" => ("割当済み", "assigned"),
        "token.in_stock" => ("在庫", "in stock"),
        "token.revoked" => ("失効", "revoked"),
        "token.assign" => ("トークンを割り当てる", "Assign the token"),
        "token.unassign" => ("割り当てを解除する", "Revoke the token"),
        "nothing" => ("なし", "None"),
        "opk.yes" => ("あり", "yes"),
        "opk.no" => ("なし", "no"),
        "opk.title" => ("パスキー", "Passkeys"),
        "opk.name" => ("名前", "Name"),
        "opk.created" => ("登録日時", "Created"),
        "opk.last_used" => ("最終利用", "Last used"),
        "opk.sign_count" => ("署名カウンター", "Sign counter"),
        "opk.backup_eligible" => ("バックアップ可", "Backup eligible"),
        "opk.backup_state" => ("バックアップ済み", "Backed up"),
        "opk.regressed" => (
            "署名カウンターが逆行しました(複製の疑い)。このパスキーは停止中です",
            "The signature counter went backwards (possible clone); this passkey is suspended",
        ),
        "opk.remove" => ("削除する", "Remove"),
        "opk.recovery" => ("リカバリーコード", "Recovery codes"),
        "opk.recovery_none" => ("未発行", "Not generated"),
        "opk.recovery_left" => ("残り", "Left:"),
        "opk.recovery_locked" => ("ロック中(残り)", "Locked (left)"),
        "cred.title" => ("認証情報の変更", "Change Credentials"),
        "cred.what" => ("操作", "Action"),
        "cred.generate" => (
            "設定用リンクを発行して画面に表示する",
            "Issue a setup link and show it here",
        ),
        "cred.email" => (
            "設定用リンクを発行してお客様にメールで送る",
            "Issue a setup link and e-mail it to the customer",
        ),
        "cred.erase" => (
            "認証情報を消去する(リンクは発行しない)",
            "Erase the credentials (no link)",
        ),
        "cred.select" => ("対象", "Credentials"),
        "cred.password" => ("パスワード", "Password"),
        "cred.second_factor" => ("二段階認証キー", "Two-factor authentication key"),
        "cred.erase_current" => (
            "リンクの発行前に、現在の認証情報を消去する",
            "Erase the current credentials before issuing the link",
        ),
        "cred.confirm_note" => (
            "消去を伴う操作は、次の画面で消去される内容を確認してから実行します。消去は管理者のみ行えます。",
            "Anything that erases is shown for confirmation on the next screen first. Only administrators can erase.",
        ),
        "cred.submit" => ("次へ", "Next"),
        "cred.choose" => (
            "パスワードと二段階認証キーの少なくとも一方を選んでください。",
            "Choose the password and/or the two-factor authentication key.",
        ),
        "cred.choose_action" => ("操作を選んでください。", "Choose an action."),
        "cred.confirm_title" => ("認証情報の消去の確認", "Confirm erasing credentials"),
        "cred.confirm_intro" => (
            "次の認証情報を消去します。よろしいですか。",
            "The following credentials will be erased. Do you want to continue?",
        ),
        "cred.item_app" => ("二段階認証キー(認証アプリ)", "Two-factor key (authenticator app)"),
        "cred.item_token" => ("トークン(在庫に戻ります)", "Token (returned to stock)"),
        "cred.item_passkeys" => ("パスキー(件数)", "Passkeys (count)"),
        "cred.item_recovery" => ("リカバリーコード(残り)", "Recovery codes (left)"),
        "cred.item_none" => (
            "二段階認証キー(登録されているものはありません)",
            "Two-factor key (none registered)",
        ),
        "cred.item_sessions" => (
            "ログイン中のセッションはすべて終了します",
            "Every active session of the customer ends",
        ),
        "cred.then_generate" => (
            "消去のあと、設定用リンクを発行して画面に表示します。",
            "Then a setup link is issued and shown here.",
        ),
        "cred.then_email" => (
            "消去のあと、設定用リンクを発行してお客様にメールで送ります。",
            "Then a setup link is issued and e-mailed to the customer.",
        ),
        "cred.confirm_warn" => (
            "消去した認証情報は元に戻せません。お客様は設定用リンクから登録し直す必要があります。",
            "Erased credentials cannot be restored; the customer must set them up again with a setup link.",
        ),
        "cred.confirm_do" => ("消去する", "Erase"),
        "cred.cancel" => ("キャンセル", "Cancel"),
        "link.title" => ("設定用リンク", "Setup link"),
        "link.once" => (
            "このリンクは今だけ表示されます。コピーしてお客さまにお伝えください。",
            "The link is shown only now: copy it for the customer.",
        ),
        "link.expires" => ("有効期限", "Expires"),
        "link.emailed" => ("メールを送信しました", "E-mailed to"),
        "link.mail_only" => (
            "リンクはお客さまの登録メールアドレスにのみ送信されます(URLの表示は管理者のみ)。",
            "The link is only e-mailed to the customer's registered address (admins only see the URL).",
        ),
        "copy" => ("コピー", "Copy"),
        "copied" => ("コピーしました", "Copied"),
        "done.created" => ("ログインを作成しました。", "The login was created."),
        "done.auth" => (
            "認証方式を保存しました。",
            "The authentication system was saved.",
        ),
        "done.unlocked" => ("ロックを解除しました。", "The login was unlocked."),
        "done.unlocked_what" => ("解除したロック：", "Locks cleared:"),
        "lock.password" => ("パスワード", "password"),
        "lock.totp" => ("認証アプリ", "authenticator app"),
        "lock.token" => ("トークン", "token"),
        "lock.recovery_codes" => ("リカバリーコード", "recovery codes"),
        "done.sessions" => ("セッションを無効にしました。", "The sessions were revoked."),
        "done.app" => (
            "アプリへの同意を取り消しました。",
            "The consent to the app was revoked.",
        ),
        "done.devices" => (
            "信頼済みブラウザを解除しました。",
            "The trusted browsers were revoked.",
        ),
        "done.token_assigned" => ("トークンを割り当てました。", "The token was assigned."),
        "done.token_unassigned" => (
            "トークンの割り当てを解除しました。",
            "The token was revoked.",
        ),
        "done.erased" => ("認証情報を消去しました。", "The credentials were erased."),
        "done.passkey_removed" => ("パスキーを削除しました。", "The passkey was removed."),
        "h.event_id" => ("イベントID", "Event ID"),
        "h.time" => ("日時", "Event time"),
        "h.login" => ("ログイン", "Login name"),
        "h.group" => ("イベントグループ", "Event group"),
        "h.type" => ("イベント種別", "Event type"),
        "h.description" => ("内容", "Event description"),
        "h.actor" => ("実行者", "Actor"),
        "h.ip" => ("IPアドレス", "IP"),
        "h.operator" => ("オペレーター名", "Operator"),
        "h.since" => ("開始日時", "From"),
        "h.until" => ("終了日時", "Until"),
        "h.all_types" => ("すべて", "All"),
        "h.filter" => ("絞り込む", "Filter"),
        "h.csv" => ("CSVでダウンロード", "Export CSV"),
        "h.empty" => ("該当する記録はありません。", "No record matches."),
        _ => super::console_logouts::text(key),
    }
}

/// The layout's parts with a console title.
pub(super) fn base(state: &AppState, ctx: &Ctx, title_key: &str) -> Base {
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

/// The operator signed in on the console, or the answer that turns the request away (to the
/// console's login page).
pub(super) async fn signed_in(
    state: &AppState,
    ctx: Ctx,
) -> Result<(Ctx, OperatorSession), Response> {
    match operator(state, &ctx).await {
        Ok(Some(s)) => Ok((ctx, s)),
        Ok(None) => Err(ctx.redirect("/admin/login")),
        Err(e) => Err(error_page(state, ctx, &e)),
    }
}

/// The signed-in operator and their checked form (form token, rate limit), or the answer that
/// turns the request away. What the operator's role allows is checked by the action itself.
pub(super) async fn staff_form<T>(
    state: &AppState,
    ctx: Ctx,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> &str,
) -> Result<(Ctx, OperatorSession, T), Response> {
    let (ctx, op) = signed_in(state, ctx).await?;
    match accept(state, &ctx, form, csrf, |_| None).await {
        Ok(f) => Ok((ctx, op, f)),
        Err(e) => Err(error_page(state, ctx, &e)),
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
    /// The rules the server checks, before the operator types (operators always have a
    /// second factor; the password may not contain the operator's name).
    policy: PolicyView,
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
                role: if s.role == sekisho_core::operator::OperatorRole::Admin {
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
    // The address is counted with the form; the operator name in its own bucket (as at
    // `POST /api/admin/v1/session`), apart from customers' login IDs.
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| None).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    if let Err(e) = sekisho_app::throttle::attempt_operator_only(&state, &f.name).await {
        return error_page(&state, ctx, e);
    }
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
    if let Err(e) = accept(&state, &ctx, form, |f| &f.csrf, |_| None).await {
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

/// The rules box of an operator's first password: the policy's rules for a login with a second
/// factor, naming the operator name; a first password has no history to check.
fn operator_rules(
    state: &AppState,
    name: &str,
    lang: sekisho_core::Lang,
    refused: Option<&Shown>,
) -> PolicyView {
    let mut rules = state.settings.password_policy.rules(true);
    rules.retain(|r| !matches!(r, Rule::NotRecent { .. }));
    PolicyView::of("policy", rules, name, lang, refused)
        .not_containing(Ct(lang).t("op.rule.not_name"))
}

async fn setup_page(State(state): State<AppState>, ctx: Ctx, Path(tok): Path<String>) -> Response {
    let name = match operators::setup_name(&state, &tok).await {
        Ok(n) => n,
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let page = SetupPasswordPage {
        base: base(&state, &ctx, "title.setup"),
        c: Ct(ctx.lang),
        token: tok,
        policy: operator_rules(&state, &name, ctx.lang, None),
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
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| None).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, ctx, &e),
    };
    let name = match operators::setup_name(&state, &tok).await {
        Ok(n) => n,
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let err = |ctx: Ctx, status: StatusCode, shown: Shown| {
        let page = SetupPasswordPage {
            base: base(&state, &ctx, "title.setup"),
            c: Ct(ctx.lang),
            token: tok.clone(),
            policy: operator_rules(&state, &name, ctx.lang, Some(&shown)),
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
    let f = match accept(&state, &ctx, form, |f| &f.csrf, |_| None).await {
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
