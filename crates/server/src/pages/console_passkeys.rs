//! The console's view of a login's passkeys and recovery codes (issues 7 and 8): each passkey
//! with its counter and backup flags, a red flag when its signature counter went backwards
//! (a cloned authenticator is possible; the passkey is suspended), and its removal, which calls
//! the application's use case (`passkey::operator_remove`: admins only, audited, the
//! customer notified).

use super::console::{staff_form, Ct};
use super::console_logins::outcome;
use super::Ctx;
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::AdminCaller;
use crate::passkey;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use sekisho_core::login::Login;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/admin/logins/{login_id}/passkeys/{id}/remove",
        post(remove),
    )
}

/// One passkey as the console lists it.
pub struct PasskeyRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub sign_count: i64,
    pub backup_eligible: &'static str,
    pub backup_state: &'static str,
    /// When the counter went backwards (the passkey is suspended since).
    pub regressed: Option<String>,
}

/// The login's passkeys (the admin API's list) and its recovery codes' state in words.
pub(super) async fn section(
    state: &AppState,
    c: Ct,
    login: &Login,
) -> Result<(Vec<PasskeyRow>, String), ApiError> {
    let yes_no = |b: bool| c.t(if b { "opk.yes" } else { "opk.no" });
    let zone = &state.settings.zone;
    let rows = passkey::list(state, login.id)
        .await?
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            created: zone.minutes(p.created_at),
            last_used: p.last_used_at.map(|t| zone.minutes(t)).unwrap_or_default(),
            sign_count: p.sign_count,
            backup_eligible: yes_no(p.backup_eligible),
            backup_state: yes_no(p.backup_state),
            regressed: p.counter_regressed_at.map(|t| zone.minutes(t)),
        })
        .collect();
    let recovery = match crate::recovery::status(state, login.id).await? {
        None => c.t("opk.recovery_none").to_owned(),
        Some(s) if s.locked_at.is_some() => {
            format!("{} ({})", c.t("opk.recovery_locked"), s.remaining)
        }
        Some(s) => format!("{} {}", c.t("opk.recovery_left"), s.remaining),
    };
    Ok((rows, recovery))
}

#[derive(Deserialize)]
struct RemoveForm {
    csrf: String,
}

async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((login_id, id)): Path<(String, i64)>,
    form: Result<Form<RemoveForm>, FormRejection>,
) -> Response {
    let (ctx, op, _) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op);
    let r = passkey::operator_remove(&state, &caller.staff(), &ctx.client, &login_id, id)
        .await
        .map_err(ApiError::from);
    outcome(
        &state,
        ctx,
        caller.is_admin(),
        &login_id,
        r,
        "passkey_removed",
    )
    .await
}
