//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a client sends the customer to
//! the end-session endpoint with its `id_token_hint` (one of ours, expired or not), its
//! `client_id`, a registered `post_logout_redirect_uri` and `state`. The Sekisho session ends
//! (and with it, through the store, every client it signed in to is told on the back channel);
//! the browser goes back to the client, or sees a "logged out" page. A hint that is not ours
//! or names another client, and a redirect URI the client did not register, get a page with a
//! code: nothing is redirected and the session is kept.

use super::clients::{self, Client};
use super::grants::ClientRedirect;
use super::issuer;
use super::request::{single, Params};
use crate::error::AppError;
use crate::keys;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::session::Session;
use sekisho_core::Error;
use serde::Deserialize;

/// Where the browser goes after a logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// Back to the client (`post_logout_redirect_uri` with `state`), or `None`: the "logged
    /// out" page.
    pub redirect: Option<ClientRedirect>,
    /// The client's name, for the page.
    pub client_name: Option<String>,
    /// The page's language (`ui_locales`: `ja` or `en`).
    pub ui_locale: Option<String>,
    /// Whether a session ended (false: there was none to end).
    pub ended: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct HintClaims {
    iss: String,
    aud: Aud,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    sid: Option<String>,
}

/// The client an ID token was issued to: its `aud` (one value, or `azp` among several).
fn audience(c: &HintClaims) -> Option<String> {
    match &c.aud {
        Aud::One(a) => Some(a.clone()),
        Aud::Many(v) if v.len() == 1 => v.first().cloned(),
        Aud::Many(v) => c.azp.clone().filter(|a| v.contains(a)),
    }
}

fn first_locale(v: Option<&str>) -> Option<String> {
    v?.split_whitespace()
        .map(|l| l.split('-').next().unwrap_or(l))
        .find(|l| *l == "ja" || *l == "en")
        .map(str::to_owned)
}

/// The end-session endpoint: checks the request, ends the Sekisho session (the one the hint's
/// `sid` names and the browser's own, if it is the same login's), audits the logout naming the
/// clients the session had signed in to, and says where the browser goes. `Err(Error)`: the
/// page with that code (nothing ended).
pub async fn end_session(
    state: &App,
    params: &Params,
    browser: Option<&Session>,
    client: &ClientInfo,
) -> Result<Result<Ended, Error>, AppError> {
    let get = |k: &str| single(params, k).ok().flatten().filter(|v| !v.is_empty());
    let (Ok(_), Ok(_), Ok(_), Ok(_)) = (
        single(params, "id_token_hint"),
        single(params, "client_id"),
        single(params, "post_logout_redirect_uri"),
        single(params, "state"),
    ) else {
        return Ok(Err(Error::OidcLogoutHintInvalid));
    };
    let ui_locale = first_locale(get("ui_locales"));
    // The hint: one of our ID tokens (its expiry does not matter), for `client_id` if named.
    let mut hint = None;
    if let Some(jwt) = get("id_token_hint") {
        let claims: Option<HintClaims> = keys::verify_own(state, jwt, "JWT").await?;
        let Some(claims) = claims.filter(|c| c.iss == issuer(state)) else {
            return Ok(Err(Error::OidcLogoutHintInvalid));
        };
        let Some(aud) = audience(&claims) else {
            return Ok(Err(Error::OidcLogoutHintInvalid));
        };
        if get("client_id").is_some_and(|c| c != aud) {
            return Ok(Err(Error::OidcLogoutHintInvalid));
        }
        hint = Some((aud, claims.sid));
    }
    let client_id = hint
        .as_ref()
        .map(|(a, _)| a.as_str())
        .or_else(|| get("client_id"));
    let rp: Option<Client> = match client_id {
        None => None,
        Some(id) => match clients::get(state, id).await {
            Ok(c) if !c.disabled => Some(c),
            Ok(_) => None,
            Err(e) if e.error == Error::OidcClientNotFound => None,
            Err(e) => return Err(e),
        },
    };
    let redirect = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            // Exact match against the client's registered list; no client, no redirect.
            let registered = rp.as_ref().is_some_and(|c| {
                c.metadata
                    .post_logout_redirect_uris
                    .iter()
                    .any(|u| u == uri)
            });
            if !registered {
                return Ok(Err(Error::OidcLogoutRedirectUnregistered));
            }
            let mut params = Vec::new();
            if let Some(st) = get("state") {
                params.push(("state", st.to_owned()));
            }
            Some(ClientRedirect {
                redirect_uri: uri.to_owned(),
                params,
            })
        }
    };
    // The sessions to end: the hint's (by its `sid`), and the browser's own unless the hint
    // names another login's session.
    let mut sessions: Vec<(i64, String)> = Vec::new();
    let hinted = match hint
        .as_ref()
        .and_then(|(aud, sid)| sid.clone().map(|s| (aud, s)))
    {
        Some((aud, s)) => state.store.sign_in_by_sid(&s, Some(aud)).await?,
        None => None,
    };
    if let Some(h) = &hinted {
        let login = state.store.login_by_pk(h.login_pk).await?;
        if let Some(l) = login {
            sessions.push((h.session_id, l.login_id));
        }
    }
    if let Some(b) = browser.filter(|b| b.revoked_at.is_none()) {
        let same_login = hinted.as_ref().is_none_or(|h| h.login_pk == b.login_pk);
        if same_login && !sessions.iter().any(|(id, _)| *id == b.id) {
            sessions.push((b.id, b.login_id.clone()));
        }
    }
    let via = rp
        .as_ref()
        .map(|c| format!("client {}", c.client_id))
        .unwrap_or_else(|| "no client named".into());
    let now = state.clock.now();
    let mut ended = false;
    for (id, login_id) in &sessions {
        let signed_in: Vec<String> = state
            .store
            .session_sign_ins(*id)
            .await?
            .into_iter()
            .map(|s| s.client_id)
            .collect();
        let ev = state.event(
            EventType::OidcLogout,
            Some(login_id),
            Actor::SelfService,
            client,
            format!(
                "RP-initiated logout ({via}); the session had signed in to: {}",
                if signed_in.is_empty() {
                    "no client".to_owned()
                } else {
                    signed_in.join(", ")
                }
            ),
        );
        ended |= state.store.revoke_session(*id, now, &ev).await?;
    }
    Ok(Ok(Ended {
        redirect,
        client_name: rp.map(|c| c.metadata.client_name),
        ui_locale,
        ended,
    }))
}
