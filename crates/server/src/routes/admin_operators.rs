//! Admin API for operators: their setup (by the one-time link), login and logout, and their
//! administration (admin role only).

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, AdminCaller, Client, Json, Path, Staff};
use crate::operators;
use crate::web::operator_setup_url;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use sekisho_app::throttle::{self, Subject};
use sekisho_core::audit::EventType;
use sekisho_core::{Error, Timestamp};
use sekisho_store::Operator;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/operator-setup/{token}", post(setup_password))
        .route("/operator-setup/{token}/confirm", post(setup_confirm))
        .route("/session", post(login).get(whoami).delete(logout))
        .route("/operators", get(list).post(create))
        .route("/operators/{name}", get(read).patch(update).delete(remove))
        .route("/operators/{name}/unlock", post(unlock))
        .route("/operators/{name}/setup-link", post(setup_link))
}

fn view(o: &Operator, now: Timestamp) -> Value {
    let pending = o.setup_expires_at.is_some_and(|e| now < e);
    json!({
        "name": o.name,
        "role": o.role,
        "disabled": o.disabled,
        "locked": o.locked_at.is_some(),
        "locked_at": o.locked_at.map(|t| t.to_rfc3339()),
        "failed_logins": o.failed_logins,
        "failed_codes": o.failed_codes,
        "setup_pending": pending,
        "setup_expired": o.setup_expires_at.is_some() && !pending,
        "setup_expires_at": o.setup_expires_at.map(|t| t.to_rfc3339()),
        "created_at": o.created_at.to_rfc3339(),
        "last_login_at": o.last_login_at.map(|t| t.to_rfc3339()),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

async fn setup_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Json(body): Json<PasswordBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let e = operators::setup_password(&state, &token, &body.password).await?;
    Ok(axum::Json(json!({
        "name": e.name,
        "otpauth_uri": e.otpauth_uri,
        "qr_svg": e.qr_svg,
        "secret": e.secret,
        "type": "totp",
        "digits": 6,
        "period": 30,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OtpBody {
    otp: String,
}

async fn setup_confirm(
    State(state): State<AppState>,
    Client(client): Client,
    Path(token): Path<String>,
    Json(body): Json<OtpBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = operators::setup_confirm(&state, &client, &token, &body.otp).await?;
    Ok(axum::Json(
        json!({ "name": op.name, "role": op.role, "state": "active" }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
    otp: String,
}

async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    Json(body): Json<LoginBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    if body.password.len() > 1024 || body.otp.len() > 32 {
        return Err(Error::InvalidRequest("password or otp too long".into()).into());
    }
    throttle::attempt(&state, &client, Subject::Operator(&body.name)).await?;
    let l = operators::login(&state, &client, &body.name, &body.password, &body.otp).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "token": l.token,
            "name": l.session.name,
            "role": l.session.role,
            "expires_at": l.session.expires_at.to_rfc3339(),
        })),
    ))
}

async fn whoami(Staff(caller): Staff) -> Result<axum::Json<Value>, ApiError> {
    match caller {
        AdminCaller::Operator(s) => Ok(axum::Json(json!({
            "kind": "operator",
            "name": s.name,
            "role": s.role,
            "expires_at": s.expires_at.to_rfc3339(),
        }))),
        AdminCaller::Token(t) => Ok(axum::Json(json!({
            "kind": "api_token",
            "name": t.name,
            "role": "admin",
            "expires_at": null,
        }))),
    }
}

async fn logout(
    State(state): State<AppState>,
    Client(client): Client,
    Staff(caller): Staff,
) -> Result<StatusCode, ApiError> {
    let AdminCaller::Operator(s) = &caller else {
        // An API token is no session: it has nothing to log out of (revoke it instead).
        return Err(Error::InsufficientScope.into());
    };
    operators::logout(&state, &client, s).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(State(state): State<AppState>, _admin: Admin) -> Result<axum::Json<Value>, ApiError> {
    let now = state.clock.now();
    let ops = state.store.list_operators().await?;
    Ok(axum::Json(json!({
        "operators": ops.iter().map(|o| view(o, now)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    role: String,
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let now = state.clock.now();
    let c = operators::create_operator(
        state.store.as_ref(),
        &state.secrets,
        state.rng.as_ref(),
        now,
        &body.name,
        &body.role,
        caller.actor(),
        &client,
    )
    .await?;
    let mut v = view(&c.operator, now);
    v["setup_url"] = Value::String(operator_setup_url(
        &state.settings.public_url,
        &c.setup_token,
    ));
    Ok((StatusCode::CREATED, axum::Json(v)))
}

async fn load(state: &AppState, name: &str) -> Result<Operator, ApiError> {
    Ok(state
        .store
        .get_operator(name)
        .await?
        .ok_or(Error::OperatorNotFound)?)
}

async fn read(
    State(state): State<AppState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let o = load(&state, &name).await?;
    Ok(axum::Json(view(&o, state.clock.now())))
}

/// Refuses a change that would leave no active administrator.
async fn keep_an_admin(state: &AppState, target: &Operator) -> Result<(), ApiError> {
    if target.role != sekisho_core::operator::OperatorRole::Admin || target.disabled {
        return Ok(());
    }
    let others = state
        .store
        .list_operators()
        .await?
        .iter()
        .filter(|o| {
            o.id != target.id
                && o.role == sekisho_core::operator::OperatorRole::Admin
                && !o.disabled
        })
        .count();
    if others == 0 {
        return Err(Error::LastAdmin.into());
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    role: Option<String>,
    disabled: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(name): Path<String>,
    Json(body): Json<UpdateBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let role = body
        .role
        .as_deref()
        .map(operators::check_role)
        .transpose()?;
    let o = load(&state, &name).await?;
    if body.role.as_deref().is_some_and(|r| r != "admin") || body.disabled == Some(true) {
        keep_an_admin(&state, &o).await?;
    }
    let mut what = Vec::new();
    if let Some(r) = &body.role {
        what.push(format!("role {r}"));
    }
    if let Some(d) = body.disabled {
        what.push(if d {
            "disabled".into()
        } else {
            "enabled".into()
        });
    }
    let ev = state.event(
        EventType::OperatorUpdated,
        None,
        caller.actor(),
        &client,
        format!("operator {}: {}", o.name, what.join(", ")),
    );
    let now = state.clock.now();
    state
        .store
        .update_operator(o.id, role, body.disabled, now, &ev)
        .await?;
    let o = load(&state, &name).await?;
    Ok(axum::Json(view(&o, now)))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let o = load(&state, &name).await?;
    keep_an_admin(&state, &o).await?;
    let ev = state.event(
        EventType::OperatorDeleted,
        None,
        caller.actor(),
        &client,
        format!("operator {} deleted", o.name),
    );
    if !state.store.delete_operator(o.id, &ev).await? {
        return Err(Error::OperatorNotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn unlock(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let o = load(&state, &name).await?;
    let ev = state.event(
        EventType::OperatorUnlocked,
        None,
        caller.actor(),
        &client,
        format!("operator {} unlocked", o.name),
    );
    let was_locked = state
        .store
        .unlock_operator(o.id, state.clock.now(), &ev)
        .await?;
    Ok(axum::Json(
        json!({ "name": o.name, "was_locked": was_locked }),
    ))
}

async fn setup_link(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Client(client): Client,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let o = load(&state, &name).await?;
    let (token, expires_at) = operators::reissue_setup(&state, &o, caller.actor(), &client).await?;
    Ok(axum::Json(json!({
        "name": o.name,
        "setup_url": operator_setup_url(&state.settings.public_url, &token),
        "setup_expires_at": expires_at.to_rfc3339(),
    })))
}
