//! Admin API for the back-channel logout outbox (admin role only): the logouts queued for
//! clients when sessions ended, with where each is in its delivery, newest first and paged.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, Query};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use sekisho_app::oidc::outbox::{self, OutboxParams};
use sekisho_store::{LogoutState, OutboxLogout};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/oidc/logouts", get(list))
}

/// A logout as operators see it (the `sid` too: a client's support desk can match it).
fn view(l: &OutboxLogout) -> Value {
    json!({
        "id": l.id,
        "client_id": l.client_id,
        "login_id": l.login_id,
        "sid": l.sid,
        "state": l.state.as_str(),
        "attempts": l.attempts,
        "last_error": l.last_error,
        "created_at": l.created_at.to_rfc3339(),
        "next_attempt_at": (l.state == LogoutState::Pending).then(|| l.next_attempt_at.to_rfc3339()),
        "sent_at": l.sent_at.map(|t| t.to_rfc3339()),
        "failed_at": l.failed_at.map(|t| t.to_rfc3339()),
    })
}

async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(p): Query<OutboxParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let (logouts, next) = outbox::page(&state, &caller.staff(), &p).await?;
    Ok(axum::Json(json!({
        "logouts": logouts.iter().map(view).collect::<Vec<_>>(),
        "next_before": next,
    })))
}
