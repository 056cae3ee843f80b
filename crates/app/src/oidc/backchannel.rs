//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a Sekisho session ends,
//! the store queues one logout per client the session signed in to (see
//! `sekisho_store::OidcSessionStore`); this sender, on whichever instance gets there first,
//! signs a `logout_token` for each and POSTs it to the client's `backchannel_logout_uri`,
//! retrying with exponential backoff like the mail outbox until the attempts run out. Each
//! delivery and each final failure is an audit record naming the client.

use super::clients::{self, Client};
use super::{grants, issuer};
use crate::keys;
use crate::mail::backoff_secs;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::{token, Error};
use sekisho_store::{OutboxLogout, StoreError};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The `events` member of a logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a logout token is valid (its `exp` after `iat`).
pub const LOGOUT_TOKEN_SECS: i64 = 120;

/// The claims of a logout token (§2.4): never a `nonce`.
#[derive(Debug, Serialize)]
struct LogoutClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    sub: String,
    sid: &'a str,
    events: serde_json::Value,
}

/// How the sender reaches a client: one HTTP POST of a form, answering the response's status
/// or why there was none. The door crate supplies it (an HTTP client with the TLS roots of
/// `oidc.backchannel_ca_file`, no redirects followed, `oidc.backchannel_timeout_secs`), so
/// this layer holds no HTTP types; tests may supply their own.
#[async_trait::async_trait]
pub trait LogoutPoster: Send + Sync {
    /// POSTs `form` as `application/x-www-form-urlencoded` to `uri`.
    async fn post_form(&self, uri: &str, form: &[(&str, &str)]) -> Result<u16, String>;
}

/// Starts the sender on the current runtime; it ends when `stop`'s sender is dropped or sends.
/// A logout that keeps failing stays in the outbox for the next start or another instance.
pub fn spawn_sender(
    state: App,
    http: Arc<dyn LogoutPoster>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut purged_at: Option<sekisho_core::Timestamp> = None;
        loop {
            let now = state.clock.now();
            if purged_at.is_none_or(|t| now.0 - t.0 >= PURGE_EVERY_SECS) {
                purged_at = Some(now);
                if let Err(e) = purge_delivered(&state).await {
                    tracing::warn!(error = %e, "back-channel logout outbox: cannot purge");
                }
                // The same worker forgets sessions that ended long ago (and, with them, the
                // clients they signed in to, which the outbox no longer needs).
                if let Err(e) = crate::sessions::purge_ended(&state).await {
                    tracing::warn!(error = %e, "sessions: cannot purge ended ones");
                }
            }
            loop {
                match send_next(&state, http.as_ref()).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "back-channel logout sender: storage failure");
                        break;
                    }
                }
            }
            let every = Duration::from_millis(state.settings.oidc.backchannel_poll_interval_ms);
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                r = stop.changed() => if r.is_err() || *stop.borrow() { return },
            }
        }
    })
}

/// How often the sender forgets old delivered logouts and old ended sessions.
const PURGE_EVERY_SECS: i64 = 60;
/// Logouts forgotten at most per purge (the next purge goes on).
const PURGE_BATCH: u32 = 1_000;

/// Deletes logouts delivered or given up more than `oidc.logout_retain_days` ago (their audit
/// records stay); pending ones are kept. Answers how many went.
pub async fn purge_delivered(state: &App) -> Result<u64, StoreError> {
    let days = state.settings.oidc.logout_retain_days;
    let before = state.clock.now().plus_secs(-days.saturating_mul(86_400));
    state.store.purge_logouts(before, PURGE_BATCH).await
}

/// The signed logout token for one queued logout.
async fn logout_token(state: &App, c: &Client, l: &OutboxLogout) -> Result<String, Error> {
    let now = state.clock.now();
    let iss = issuer(state);
    let claims = LogoutClaims {
        iss: &iss,
        aud: &c.client_id,
        iat: now.0,
        exp: now.0 + LOGOUT_TOKEN_SECS,
        jti: token::generate("sklt", state.rng.as_ref()),
        sub: grants::subject(state, c, l.login_pk),
        sid: &l.sid,
        events: serde_json::json!({ LOGOUT_EVENT: {} }),
    };
    let alg = c.metadata.id_token_signed_response_alg;
    keys::sign(state, &ClientInfo::default(), alg, "logout+jwt", &claims)
        .await
        .map_err(|e| e.error)
}

/// One attempt: the error, and whether retrying cannot help.
async fn attempt(
    state: &App,
    http: &dyn LogoutPoster,
    l: &OutboxLogout,
) -> Result<(), (String, bool)> {
    let c = match clients::get(state, &l.client_id).await {
        Ok(c) => c,
        Err(e) if e.error == Error::OidcClientNotFound => {
            return Err(("the client no longer exists".into(), true))
        }
        Err(e) => return Err((format!("client: {}", e.error), false)),
    };
    if c.disabled {
        return Err(("the client is disabled".into(), true));
    }
    let Some(uri) = c.metadata.backchannel_logout_uri.clone() else {
        return Err(("the client has no backchannel_logout_uri".into(), true));
    };
    let jwt = logout_token(state, &c, l)
        .await
        .map_err(|e| (format!("signing: {e}"), false))?;
    let status = http
        .post_form(&uri, &[("logout_token", &jwt)])
        .await
        .map_err(|e| (format!("{uri}: {e}"), false))?;
    // §2.8: 200 (or any success) is a delivery; anything else may be retried.
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err((format!("{uri} answered {status}"), false))
    }
}

/// Takes one due logout and tries it; false when nothing was due.
pub async fn send_next(state: &App, http: &dyn LogoutPoster) -> Result<bool, StoreError> {
    let s = &state.settings.oidc;
    let now = state.clock.now();
    let lease = i64::try_from(s.backchannel_timeout_secs)
        .unwrap_or(60)
        .saturating_add(60);
    let Some(l) = state.store.claim_logout(now, now.plus_secs(lease)).await? else {
        return Ok(false);
    };
    let outcome = attempt(state, http, &l).await;
    let now = state.clock.now();
    let event = |ty, what: String| {
        state.event(
            ty,
            Some(&l.login_id),
            Actor::System,
            &ClientInfo::default(),
            format!("client {}: {what}", l.client_id),
        )
    };
    match outcome {
        Ok(()) => {
            tracing::info!(client = %l.client_id, "back-channel logout delivered");
            let ev = event(
                EventType::OidcBackchannelDelivered,
                format!("back-channel logout delivered (attempt {})", l.attempts),
            );
            state.store.logout_sent(l.id, now, &ev).await?;
        }
        Err((error, permanent))
            if permanent || l.attempts >= i64::from(s.backchannel_max_attempts) =>
        {
            tracing::warn!(client = %l.client_id, attempts = l.attempts, %error, "back-channel logout given up");
            let ev = event(
                EventType::OidcBackchannelFailed,
                format!(
                    "back-channel logout not delivered after {} attempt(s): {error}",
                    l.attempts
                ),
            );
            state.store.logout_failed(l.id, &error, now, &ev).await?;
        }
        Err((error, _)) => {
            let wait = backoff_secs(
                s.backchannel_retry_base_secs,
                s.backchannel_retry_max_secs,
                l.attempts,
            );
            tracing::warn!(client = %l.client_id, attempts = l.attempts, retry_in_secs = wait, %error, "back-channel logout failed; will retry");
            state
                .store
                .logout_retry(l.id, &error, now.plus_secs(wait))
                .await?;
        }
    }
    Ok(true)
}
