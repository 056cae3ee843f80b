//! Admin API for logins: create, read, search, change, delete, set password, unlock, sessions.

use super::views;
use crate::auth;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, Client, Json, Path, Query, Staff};
use crate::mail::notices::Notice;
use crate::notify;
use crate::trading;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use sekisho_app::login_admin::{self, EraseRequest, LoginChange, LoginSearch, NewLoginRequest};
use sekisho_app::staff::named_login;
use sekisho_core::audit::EventType;
use sekisho_core::login::Login;
use sekisho_core::Error;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/logins", post(create).get(list))
        .route("/logins/{login_id}", get(read).patch(update).delete(remove))
        .route("/logins/{login_id}/password", put(set_password))
        .route(
            "/logins/{login_id}/trading-password",
            put(set_trading_password),
        )
        .route("/logins/{login_id}/unlock", post(unlock))
        .route(
            "/logins/{login_id}/erase-credentials",
            post(erase_credentials),
        )
        .route(
            "/logins/{login_id}/sessions",
            get(sessions).delete(revoke_sessions),
        )
}

/// The login named in an admin path, or `login_not_found`.
pub(crate) async fn load(state: &AppState, login_id: &str) -> Result<Login, ApiError> {
    Ok(named_login(state, login_id).await?)
}

fn render(state: &AppState, login: &Login) -> axum::Json<Value> {
    axum::Json(views::login(
        login,
        &state.settings.password_policy,
        state.clock.now(),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    login_id: String,
    email: String,
    display_name: String,
    lang: Option<String>,
    second_factor: Option<String>,
    mfa_required: Option<bool>,
    /// An initial password; temporary (change at first login) unless `temporary` is false.
    password: Option<String>,
    temporary: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Json(b): Json<CreateBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let req = NewLoginRequest {
        login_id: b.login_id,
        email: b.email,
        display_name: b.display_name,
        lang: b.lang,
        second_factor: b.second_factor,
        mfa_required: b.mfa_required,
        password: b.password,
        temporary: b.temporary,
    };
    let login = login_admin::create_login(&state, &caller.staff(), &client, req).await?;
    Ok((StatusCode::CREATED, render(&state, &login)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListParams {
    q: Option<String>,
    locked: Option<bool>,
    after: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let search = LoginSearch {
        q: p.q,
        locked: p.locked,
        after: p.after,
        limit: p.limit,
    };
    let page = login_admin::search(&state, search).await?;
    let policy = &state.settings.password_policy;
    let now = state.clock.now();
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|o| views::login_overview(o, policy, now))
        .collect();
    Ok(axum::Json(json!({
        "logins": rows,
        "next_after": page.next_after,
    })))
}

async fn read(
    State(state): State<AppState>,
    _staff: Staff,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let o = login_admin::read_login(&state, &login_id).await?;
    Ok(axum::Json(views::login_overview(
        &o,
        &state.settings.password_policy,
        state.clock.now(),
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    password: bool,
    second_factor: bool,
}

/// Erases the password and/or the second factors of a login (the Change Credentials dialog's
/// "erase credentials"): the customer then needs a new password or a new factor.
async fn erase_credentials(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(body): Json<EraseBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let req = EraseRequest {
        password: body.password,
        second_factor: body.second_factor,
    };
    let out = login_admin::erase(&state, &caller.staff(), &client, &login_id, req).await?;
    let r = out.removed;
    Ok(axum::Json(json!({
        "login_id": out.login_id,
        "password_erased": r.password,
        "factors_removed": r.factors,
        "tokens_unassigned": r.tokens,
        "recovery_codes_removed": r.recovery_codes,
        "passkeys_removed": r.passkeys,
        "sessions_revoked": r.sessions,
    })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    display_name: Option<String>,
    email: Option<String>,
    lang: Option<String>,
    second_factor: Option<String>,
    mfa_required: Option<bool>,
    disabled: Option<bool>,
    notify_login: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(b): Json<PatchBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let change = LoginChange {
        display_name: b.display_name,
        email: b.email,
        lang: b.lang,
        second_factor: b.second_factor,
        mfa_required: b.mfa_required,
        disabled: b.disabled,
        notify_login: b.notify_login,
    };
    let login =
        login_admin::patch_login(&state, &caller.staff(), &client, &login_id, change).await?;
    Ok(render(&state, &login))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(login_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let login = load(&state, &login_id).await?;
    let ev = state.event(
        EventType::LoginDeleted,
        Some(&login.login_id),
        caller.actor(),
        &client,
        "login deleted with its sessions and password history",
    );
    if !state.store.delete_login(&login.login_id, &ev).await? {
        return Err(Error::LoginNotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
    temporary: bool,
}

async fn set_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(body): Json<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    if body.password.len() > 1024 {
        return Err(Error::InvalidRequest("password too long".into()).into());
    }
    let login = load(&state, &login_id).await?;
    let hash = auth::new_password_hash(&state, &login, &body.password).await?;
    let what = if body.temporary {
        "temporary password set by operator (change at next login); sessions revoked"
    } else {
        "password set by operator; sessions revoked"
    };
    let ev = state.event(
        EventType::PasswordSet,
        Some(&login.login_id),
        caller.actor(),
        &client,
        what,
    );
    state
        .store
        .set_password(
            login.id,
            &hash,
            body.temporary,
            state.clock.now(),
            None,
            &ev,
        )
        .await?;
    let what = Notice::PasswordChanged { by_operator: true };
    notify::send(&state, &login, &what).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TradingPasswordBody {
    trading_password: String,
}

/// Sets or resets a login's trading password (the firm's counter, or a reset by post).
async fn set_trading_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(body): Json<TradingPasswordBody>,
) -> Result<StatusCode, ApiError> {
    let login = load(&state, &login_id).await?;
    trading::set(
        &state,
        &client,
        &login,
        &body.trading_password,
        caller.actor(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unlock(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let u = login_admin::unlock_login(&state, &caller.staff(), &client, &login_id).await?;
    Ok(axum::Json(json!({
        "login_id": u.login_id,
        "was_locked": u.was_locked(),
        "cleared": u.cleared.names(),
    })))
}

async fn sessions(
    State(state): State<AppState>,
    _staff: Staff,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = load(&state, &login_id).await?;
    let now = state.clock.now();
    let policy = &state.settings.session.policy();
    let list = state.store.list_sessions(login.id, now).await?;
    Ok(axum::Json(json!({
        "sessions": list
            .iter()
            .filter(|s| s.is_active(policy, now))
            .map(|s| views::session(s, policy))
            .collect::<Vec<_>>(),
    })))
}

async fn revoke_sessions(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let n = login_admin::revoke_all_sessions(&state, &caller.staff(), &client, &login_id).await?;
    Ok(axum::Json(json!({ "revoked": n })))
}
