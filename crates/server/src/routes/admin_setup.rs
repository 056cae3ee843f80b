//! Setup links (issue 6): an operator makes a single-use, expiring link to the hosted setup
//! wizard, where the newcomer sets a password and registers the authenticator app.

use super::admin_logins::load;
use crate::auth::event;
use crate::error::ApiError;
use crate::extract::{Client, Json, Path, Staff};
use crate::mail::{self, templates};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::{token, Error};
use sekisho_store::NewSetupLink;
use serde::Deserialize;
use serde_json::{json, Value};

/// Default lifetime of a setup link (7 days) and the longest allowed (30 days).
const DEFAULT_SECS: i64 = 7 * 86_400;
const MAX_SECS: i64 = 30 * 86_400;

pub fn router() -> Router<AppState> {
    Router::new().route("/logins/{login_id}/setup-link", post(create))
}

/// What a setup link is for (the API's body; also the CLI's `login setup-link`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    #[serde(default = "yes")]
    pub password: bool,
    #[serde(default = "yes")]
    pub second_factor: bool,
    pub expires_in_secs: Option<i64>,
    /// Also send the welcome mail with the link to the login's registered address.
    #[serde(default)]
    pub send_email: bool,
}

fn yes() -> bool {
    true
}

/// The keyed hash a setup link's token is kept as.
pub(crate) fn link_hash(state: &AppState, tok: &str) -> String {
    state.secrets.code_hash("sekisho-setup-link", tok)
}

async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(body): Json<Body>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let v = issue(&state, caller.actor(), &client, &login_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// Makes a setup link (support may) and, when asked, records the welcome mail carrying it in
/// the outbox; answers the link (shown only now) and whether a mail was queued.
pub async fn issue(
    state: &AppState,
    actor: Actor,
    client: &ClientInfo,
    login_id: &str,
    body: Body,
) -> Result<Value, ApiError> {
    let login = load(state, login_id).await?;
    if !body.password && !body.second_factor {
        return Err(Error::InvalidRequest("password or second_factor must be true".into()).into());
    }
    let secs = body.expires_in_secs.unwrap_or(DEFAULT_SECS);
    if !(60..=MAX_SECS).contains(&secs) {
        return Err(
            Error::InvalidRequest(format!("expires_in_secs must be 60 to {MAX_SECS}")).into(),
        );
    }
    let now = state.clock.now();
    let tok = token::generate("skst", state.rng.as_ref());
    let new = NewSetupLink {
        token_hash: link_hash(state, &tok),
        login_pk: login.id,
        set_password: body.password,
        set_second_factor: body.second_factor,
        created_by: {
            let (kind, id) = actor.parts();
            format!("{kind}:{id}")
        },
        now,
        expires_at: now.plus_secs(secs),
    };
    let what = format!(
        "setup link created (password: {}, second factor: {}; older unused links revoked)",
        body.password, body.second_factor
    );
    let ev = event(
        state,
        EventType::SetupLinkCreated,
        Some(&login.login_id),
        actor,
        client,
        what,
    );
    let link = state.store.create_setup_link(&new, &ev).await?;
    let base = state.settings.public_url.trim_end_matches('/');
    let url = format!("{base}/setup/{tok}");
    if body.send_email {
        // Recorded right after the link; if this fails the operator is told and a new link
        // (which replaces this one) can be sent.
        let rendered = templates::setup_link(
            login.lang,
            &state.settings.mail.firm_name,
            &state.settings.mail.support_contact,
            &login.display_name,
            &url,
            link.expires_at,
        );
        let mail = mail::seal(state, Some(&login.login_id), &login.email, rendered)?;
        mail::enqueue(state, &mail).await?;
    }
    Ok(json!({
        "login_id": login.login_id,
        "url": url,
        "password": link.set_password,
        "second_factor": link.set_second_factor,
        "expires_at": link.expires_at.to_rfc3339(),
        "email_sent_to": body.send_email.then_some(login.email.as_str()),
    }))
}
