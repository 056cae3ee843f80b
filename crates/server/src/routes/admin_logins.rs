//! Admin API for logins: create, read, search, change, delete, set password, unlock, sessions.

use super::views;
use crate::auth;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, AdminCaller, Client, Json, Path, Query, Staff};
use crate::mail::notices::Notice;
use crate::notify;
use crate::trading;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use sekisho_core::audit::{ClientInfo, EventType};
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::validate::{display_name, EmailAddress, LoginId};
use sekisho_core::{Error, Lang};
use sekisho_store::{LoginPatch, LoginQuery, NewLogin, StoreError};
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

fn parse_lang(s: &str) -> Result<Lang, ApiError> {
    Lang::parse(s)
        .ok_or_else(|| Error::InvalidRequest("lang must be \"ja\" or \"en\"".into()).into())
}

fn parse_factor(s: &str) -> Result<SecondFactor, ApiError> {
    SecondFactor::parse(s).ok_or_else(|| {
        Error::InvalidRequest(
            "second_factor must be one of none, email, totp, token, passkey, any".into(),
        )
        .into()
    })
}

/// The login named in an admin path, or `login_not_found`.
pub(crate) async fn load(state: &AppState, login_id: &str) -> Result<Login, ApiError> {
    let id = LoginId::parse(login_id).map_err(|_| Error::LoginNotFound)?;
    Ok(state
        .store
        .get_login(id.as_str())
        .await?
        .ok_or(Error::LoginNotFound)?)
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
pub(crate) struct CreateBody {
    pub login_id: String,
    pub email: String,
    pub display_name: String,
    pub lang: Option<String>,
    pub second_factor: Option<String>,
    pub mfa_required: Option<bool>,
    /// An initial password; temporary (change at first login) unless `temporary` is false.
    pub password: Option<String>,
    pub temporary: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let login = create_login(&state, &caller, &client, body).await?;
    Ok((StatusCode::CREATED, render(&state, &login)))
}

/// Refuses a support operator what only admins may do (the API's `Admin` extractor, for
/// callers that arrive another way, the console).
pub(crate) fn require_admin(caller: &AdminCaller) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(Error::AdminRoleRequired.into())
    }
}

/// Creates a login (admin only), with its initial password if given.
pub(crate) async fn create_login(
    state: &AppState,
    caller: &AdminCaller,
    client: &ClientInfo,
    body: CreateBody,
) -> Result<Login, ApiError> {
    require_admin(caller)?;
    let login_id = LoginId::parse(&body.login_id)?;
    let email = EmailAddress::parse(&body.email)?;
    let name = display_name(&body.display_name)?;
    let lang = body
        .lang
        .as_deref()
        .map(parse_lang)
        .transpose()?
        .unwrap_or_default();
    let factor = body
        .second_factor
        .as_deref()
        .map(parse_factor)
        .transpose()?
        .unwrap_or_default();
    let now = state.clock.now();
    let new = NewLogin {
        login_id: login_id.as_str().to_owned(),
        display_name: name,
        email: email.as_str().to_owned(),
        lang,
        second_factor: factor,
        mfa_required: body.mfa_required.unwrap_or(false),
        notify_login: Some(state.settings.notify_login_default),
        now,
    };
    // Check the password before anything is written, so a refused password creates nothing.
    let probe = Login {
        id: 0,
        login_id: new.login_id.clone(),
        display_name: new.display_name.clone(),
        email: new.email.clone(),
        code_email: None,
        notify_login: new.notify_login,
        lang,
        second_factor: factor,
        mfa_required: new.mfa_required,
        disabled: false,
        failed_logins: 0,
        locked_at: None,
        password_hash: None,
        password_changed_at: None,
        password_temporary: false,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    let hash = match &body.password {
        Some(p) => Some(auth::new_password_hash(state, &probe, p).await?),
        None => None,
    };
    let ev = state.event(
        EventType::LoginCreated,
        Some(login_id.as_str()),
        caller.actor(),
        client,
        format!(
            "second_factor={}, mfa_required={}",
            factor.as_str(),
            new.mfa_required
        ),
    );
    let mut login = match state.store.create_login(&new, &ev).await {
        Ok(l) => l,
        Err(StoreError::Conflict) => return Err(Error::LoginExists.into()),
        Err(e) => return Err(e.into()),
    };
    if let Some(hash) = hash {
        let temporary = body.temporary.unwrap_or(true);
        let ev = state.event(
            EventType::PasswordSet,
            Some(login_id.as_str()),
            caller.actor(),
            client,
            if temporary {
                "initial temporary password set"
            } else {
                "initial password set"
            },
        );
        state
            .store
            .set_password(login.id, &hash, temporary, now, None, &ev)
            .await?;
        login = load(state, login_id.as_str()).await?;
    }
    Ok(login)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    pub q: Option<String>,
    pub locked: Option<bool>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let (rows, next) = search(&state, p).await?;
    Ok(axum::Json(json!({
        "logins": rows,
        "next_after": next,
    })))
}

/// The flags of these logins, in their order (factors, locks, setup links).
async fn flags_of(state: &AppState, logins: &[Login]) -> Result<Vec<Value>, ApiError> {
    let now = state.clock.now();
    let policy = &state.settings.password_policy;
    let pks: Vec<i64> = logins.iter().map(|l| l.id).collect();
    let summaries = state.store.factor_summaries(&pks).await?;
    let links = state.store.latest_setup_links(&pks).await?;
    Ok(logins
        .iter()
        .map(|l| {
            let f = summaries
                .iter()
                .find(|s| s.login_pk == l.id)
                .cloned()
                .unwrap_or_default();
            let link = links.iter().find(|s| s.login_pk == l.id);
            views::login_flags(l, &f, link, policy, &state.settings.mfa, now)
        })
        .collect())
}

/// One page of the logins search, each with its flags, and where the next page starts.
pub(crate) async fn search(
    state: &AppState,
    p: ListParams,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let logins = state
        .store
        .list_logins(&LoginQuery {
            q: p.q.map(|q| q.chars().take(100).collect()),
            locked: p.locked,
            after: p.after,
            limit,
        })
        .await?;
    let next = (logins.len() == limit as usize)
        .then(|| logins.last().map(|l| l.login_id.clone()))
        .flatten();
    let now = state.clock.now();
    let policy = &state.settings.password_policy;
    let flags = flags_of(state, &logins).await?;
    let rows: Vec<Value> = logins
        .iter()
        .zip(flags)
        .map(|(l, f)| {
            let mut v = views::login(l, policy, now);
            v["flags"] = f;
            v
        })
        .collect();
    Ok((rows, next))
}

async fn read(
    State(state): State<AppState>,
    _staff: Staff,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(read_login(&state, &login_id).await?.1))
}

/// A login and its view with flags (the API's `GET /logins/{login_id}`).
pub(crate) async fn read_login(
    state: &AppState,
    login_id: &str,
) -> Result<(Login, Value), ApiError> {
    let login = load(state, login_id).await?;
    let mut v = views::login(&login, &state.settings.password_policy, state.clock.now());
    v["flags"] = flags_of(state, std::slice::from_ref(&login))
        .await?
        .pop()
        .unwrap_or_default();
    Ok((login, v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EraseBody {
    pub password: bool,
    pub second_factor: bool,
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
    Ok(axum::Json(
        erase(&state, &caller, &client, &login_id, body).await?,
    ))
}

/// Erases credentials (admin only); answers what was removed.
pub(crate) async fn erase(
    state: &AppState,
    caller: &AdminCaller,
    client: &ClientInfo,
    login_id: &str,
    body: EraseBody,
) -> Result<Value, ApiError> {
    require_admin(caller)?;
    if !body.password && !body.second_factor {
        return Err(
            Error::InvalidRequest("choose password and/or second_factor to erase".into()).into(),
        );
    }
    let login = load(state, login_id).await?;
    let what: Vec<&str> = [
        (body.password, "password"),
        (body.second_factor, "second factor"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, w)| *w)
    .collect();
    let ev = state.event(
        EventType::CredentialsErased,
        Some(&login.login_id),
        caller.actor(),
        client,
        format!("erased: {}", what.join(", ")),
    );
    let out = state
        .store
        .erase_credentials(
            login.id,
            body.password,
            body.second_factor,
            state.clock.now(),
            &ev,
        )
        .await?;
    Ok(json!({
        "login_id": login.login_id,
        "password_erased": out.password,
        "factors_removed": out.factors,
        "tokens_unassigned": out.tokens,
        "recovery_codes_removed": out.recovery_codes,
        "passkeys_removed": out.passkeys,
        "sessions_revoked": out.sessions,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchBody {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub lang: Option<String>,
    pub second_factor: Option<String>,
    pub mfa_required: Option<bool>,
    pub disabled: Option<bool>,
    pub notify_login: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(body): Json<PatchBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = patch_login(&state, &caller, &client, &login_id, body).await?;
    Ok(render(&state, &login))
}

/// Changes a login (admin only): the authentication system (`second_factor`,
/// `mfa_required`) and the rest; answers the login after the change.
pub(crate) async fn patch_login(
    state: &AppState,
    caller: &AdminCaller,
    client: &ClientInfo,
    login_id: &str,
    body: PatchBody,
) -> Result<Login, ApiError> {
    require_admin(caller)?;
    let login = load(state, login_id).await?;
    let patch = LoginPatch {
        display_name: body.display_name.as_deref().map(display_name).transpose()?,
        email: body
            .email
            .as_deref()
            .map(|e| EmailAddress::parse(e).map(|e| e.as_str().to_owned()))
            .transpose()?,
        lang: body.lang.as_deref().map(parse_lang).transpose()?,
        second_factor: body
            .second_factor
            .as_deref()
            .map(parse_factor)
            .transpose()?,
        mfa_required: body.mfa_required,
        disabled: body.disabled,
        notify_login: body.notify_login,
    };
    let mut changes = Vec::new();
    if let Some(v) = &patch.display_name {
        changes.push(format!("display_name={v}"));
    }
    if let Some(v) = &patch.email {
        changes.push(format!("email={v}"));
    }
    if let Some(v) = patch.lang {
        changes.push(format!("lang={}", v.as_str()));
    }
    if let Some(v) = patch.second_factor {
        changes.push(format!("second_factor={}", v.as_str()));
    }
    if let Some(v) = patch.mfa_required {
        changes.push(format!("mfa_required={v}"));
    }
    if let Some(v) = patch.notify_login {
        changes.push(format!("notify_login={v}"));
    }
    if let Some(v) = patch.disabled {
        changes.push(format!(
            "disabled={v}{}",
            if v { " (sessions revoked)" } else { "" }
        ));
    }
    if changes.is_empty() {
        return Ok(login);
    }
    let ev = state.event(
        EventType::LoginUpdated,
        Some(&login.login_id),
        caller.actor(),
        client,
        changes.join(", "),
    );
    Ok(state
        .store
        .update_login(&login.login_id, &patch, state.clock.now(), &ev)
        .await?
        .ok_or(Error::LoginNotFound)?)
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
    Ok(axum::Json(
        unlock_login(&state, &caller, &client, &login_id).await?,
    ))
}

/// Unlocks every lock of a login and resets its failure counts (support may); the answer
/// names the locks cleared.
pub(crate) async fn unlock_login(
    state: &AppState,
    caller: &AdminCaller,
    client: &ClientInfo,
    login_id: &str,
) -> Result<Value, ApiError> {
    let login = load(state, login_id).await?;
    let cleared = crate::factor_guard::unlock_login(state, &login, caller.actor(), client)
        .await?
        .ok_or(Error::LoginNotFound)?;
    Ok(json!({
        "login_id": login.login_id,
        "was_locked": cleared != Default::default(),
        "cleared": cleared.names(),
    }))
}

async fn sessions(
    State(state): State<AppState>,
    _staff: Staff,
    Path(login_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let login = load(&state, &login_id).await?;
    let now = state.clock.now();
    let policy = &state.settings.session;
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
    let n = revoke_all_sessions(&state, &caller, &client, &login_id).await?;
    Ok(axum::Json(json!({ "revoked": n })))
}

/// Revokes every session of a login (support may); answers how many.
pub(crate) async fn revoke_all_sessions(
    state: &AppState,
    caller: &AdminCaller,
    client: &ClientInfo,
    login_id: &str,
) -> Result<u64, ApiError> {
    let login = load(state, login_id).await?;
    let ev = state.event(
        EventType::SessionRevoked,
        Some(&login.login_id),
        caller.actor(),
        client,
        "all sessions revoked by operator",
    );
    Ok(state
        .store
        .revoke_login_sessions(login.id, state.clock.now(), &ev)
        .await?)
}
