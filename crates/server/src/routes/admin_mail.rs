//! Admin API for mail: the outbox as operators see it (failed deliveries above all) and a test
//! mail to check the delivery settings.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Admin, Json, Query, Staff};
use crate::mail::{self, templates};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use sekisho_core::validate::EmailAddress;
use sekisho_core::{Error, Lang};
use sekisho_store::{MailState, OutboxMail};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail", get(list))
        .route("/mail/test", post(test))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    state: Option<String>,
    limit: Option<u32>,
}

/// A mail as operators see it: never its body, which may hold a code.
fn view(m: &OutboxMail) -> Value {
    json!({
        "id": m.uid,
        "login_id": m.login_id,
        "recipient": m.recipient,
        "kind": m.kind,
        "subject": m.subject,
        "state": m.state.as_str(),
        "attempts": m.attempts,
        "last_error": m.last_error,
        "created_at": m.created_at.to_rfc3339(),
        "next_attempt_at": (m.state == MailState::Pending).then(|| m.next_attempt_at.to_rfc3339()),
        "sent_at": m.sent_at.map(|t| t.to_rfc3339()),
        "failed_at": m.failed_at.map(|t| t.to_rfc3339()),
    })
}

async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let filter = p
        .state
        .as_deref()
        .map(|s| {
            MailState::parse(s).ok_or_else(|| {
                ApiError::from(Error::InvalidRequest(
                    "state must be pending, sent or failed".into(),
                ))
            })
        })
        .transpose()?;
    let mails = state
        .store
        .list_mail(filter, p.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(
        json!({ "mails": mails.iter().map(view).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    to: String,
    lang: Option<String>,
}

async fn test(
    State(state): State<AppState>,
    _admin: Admin,
    Json(body): Json<TestBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let to = EmailAddress::parse(&body.to)?;
    let lang = match body.lang.as_deref() {
        None => Lang::Ja,
        Some(l) => Lang::parse(l)
            .ok_or_else(|| Error::InvalidRequest("lang must be \"ja\" or \"en\"".into()))?,
    };
    let rendered = templates::test_mail(
        lang,
        &state.settings.zone,
        &state.settings.mail.firm_name,
        state.clock.now(),
    );
    let m = mail::seal(&state, None, to.as_str(), rendered)?;
    mail::enqueue(&state, &m).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "id": m.uid, "state": "pending" })),
    ))
}
