//! Setup links (issue 6): an operator makes a single-use, expiring link to the hosted setup
//! wizard, where the newcomer sets a password and registers the authenticator app.

use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::{Client, Json, Path, Staff};
use crate::web::setup_link_url;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use sekisho_app::setup_links::{self, IssuedSetupLink, SetupLinkRequest};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/logins/{login_id}/setup-link", post(create))
}

/// What a setup link is for (the API's body).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Body {
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

async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Client(client): Client,
    Path(login_id): Path<String>,
    Json(body): Json<Body>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let req = SetupLinkRequest {
        password: body.password,
        second_factor: body.second_factor,
        expires_in_secs: body.expires_in_secs,
        send_email: body.send_email,
    };
    let link = setup_links::issue(&state, &caller.staff(), &client, &login_id, req).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(link_json(&state.settings.public_url, &link)),
    ))
}

/// The API's answer for a link just made.
pub(crate) fn link_json(public_url: &str, link: &IssuedSetupLink) -> Value {
    json!({
        "login_id": link.login_id,
        // Only an admin is shown the URL; support's link went to the registered address.
        "url": link.token.as_deref().map(|t| setup_link_url(public_url, t)),
        "password": link.password,
        "second_factor": link.second_factor,
        "expires_at": link.expires_at.to_rfc3339(),
        "email_sent_to": link.email_sent_to,
    })
}
