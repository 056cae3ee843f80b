//! Consent for clients that are not first party (a partner's app): after the login, the
//! customer is shown the client and the data it asks for, once per login and client (again when
//! it asks for more, or with `prompt=consent`); the grant is remembered, listed in the
//! customer's security settings and the operator console, and revocable there. Giving,
//! refusing and revoking are audit records naming the client.

use super::clients::{self, Client};
use super::grants::{self, hash, refused, to_client, AuthzRefusal, Next};
use super::issuer;
use super::request::{AuthRequest, OAuthError};
use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::login::Login;
use sekisho_core::session::Session;
use sekisho_core::{Error, Timestamp};
use sekisho_store::{Consent, RequestKind};

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPrompt {
    /// The pending request's handle (the page's form sends it back).
    pub handle: String,
    /// The client.
    pub client_id: String,
    /// Its registered name.
    pub client_name: String,
    /// The scopes it asks for (`openid` first), each a kind of data the page names.
    pub scopes: Vec<String>,
}

/// A consent as the settings page and the console list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentView {
    /// The client.
    pub client_id: String,
    /// Its registered name (the ID if the client was deleted).
    pub client_name: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// When it was (last) given.
    pub granted_at: Timestamp,
}

/// Whether every scope of `requested` is in `granted`.
pub fn covers(granted: &str, requested: &str) -> bool {
    let g: Vec<&str> = granted.split_whitespace().collect();
    requested.split_whitespace().all(|s| g.contains(&s))
}

/// Whether the customer must consent before `c` gets a code for `r`.
pub async fn needed(
    state: &App,
    c: &Client,
    r: &AuthRequest,
    login_pk: i64,
) -> Result<bool, AppError> {
    if c.metadata.first_party {
        return Ok(false);
    }
    if r.prompt_consent {
        return Ok(true);
    }
    let granted = state.store.get_consent(login_pk, &c.client_id).await?;
    Ok(!granted.is_some_and(|g| covers(&g.scope, &r.scope)))
}

/// The consent page's content for a request.
pub fn prompt(c: &Client, r: &AuthRequest, handle: &str) -> ConsentPrompt {
    ConsentPrompt {
        handle: handle.to_owned(),
        client_id: c.client_id.clone(),
        client_name: c.metadata.client_name.clone(),
        scopes: r.scope.split_whitespace().map(str::to_owned).collect(),
    }
}

/// The customer's answer on the consent page. Allowed: the consent is remembered (widened to
/// the requested scope) and the request continues to the client with a code. Refused: the
/// request is used up and the client gets `access_denied`.
pub async fn answer(
    state: &App,
    handle: &str,
    session: Option<&Session>,
    allow: bool,
    client: &ClientInfo,
) -> Result<Result<Next, AuthzRefusal>, AppError> {
    let now = state.clock.now();
    let stored = state
        .store
        .get_oidc_request(&hash(handle), RequestKind::Pending)
        .await?;
    let Some(stored) = stored.filter(|s| s.used_at.is_none() && now < s.request.expires_at) else {
        return Ok(Err(AuthzRefusal::Page(Error::OidcRequestUnusable)));
    };
    let r: AuthRequest =
        serde_json::from_str(&stored.request.params).map_err(|_| Error::Internal)?;
    let Some(s) = session.filter(|s| s.revoked_at.is_none() && now < s.expires_at) else {
        // Logged out meanwhile: the login pages first, then the question again.
        return grants::resume(state, handle, None, client).await;
    };
    if !allow {
        if state
            .store
            .take_oidc_request(&hash(handle), RequestKind::Pending, now)
            .await?
            .is_none()
        {
            return Ok(Err(AuthzRefusal::Page(Error::OidcRequestUnusable)));
        }
        let e = OAuthError::new("access_denied", "the customer did not consent");
        refused(
            state,
            &r.client_id,
            Some(&s.login_id),
            client,
            "consent",
            &e,
        )
        .await?;
        return Ok(Ok(Next::Redirect(to_client(&r, &e, issuer(state)))));
    }
    let mut scope: Vec<String> = r.scope.split_whitespace().map(str::to_owned).collect();
    if let Some(before) = state.store.get_consent(s.login_pk, &r.client_id).await? {
        for x in before.scope.split_whitespace() {
            if !scope.iter().any(|y| y == x) {
                scope.push(x.to_owned());
            }
        }
    }
    let scope = scope.join(" ");
    let ev = state.event(
        EventType::OidcConsentGiven,
        Some(&s.login_id),
        Actor::SelfService,
        client,
        format!("client {}: consent given (scope {scope})", r.client_id),
    );
    let consent = Consent {
        login_pk: s.login_pk,
        client_id: r.client_id.clone(),
        scope,
        granted_at: now,
    };
    state.store.give_consent(&consent, &ev).await?;
    grants::resume_with(state, handle, Some(s), client, true).await
}

/// A login's consents, by client.
pub async fn list(state: &App, login_pk: i64) -> Result<Vec<ConsentView>, AppError> {
    let mut out = Vec::new();
    for c in state.store.list_consents(login_pk).await? {
        let client_name = match clients::get(state, &c.client_id).await {
            Ok(k) => k.metadata.client_name,
            Err(e) if e.error == Error::OidcClientNotFound => c.client_id.clone(),
            Err(e) => return Err(e),
        };
        out.push(ConsentView {
            client_id: c.client_id,
            client_name,
            scopes: c.scope.split_whitespace().map(str::to_owned).collect(),
            granted_at: c.granted_at,
        });
    }
    Ok(out)
}

/// Ends a client's grant for a login: the consent goes (the next authorization asks again) and
/// so does everything the client holds on it. The customer in the security settings and an
/// operator in the console both come here.
pub async fn revoke(
    state: &App,
    login: &Login,
    client_id: &str,
    actor: Actor,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let ev = state.event(
        EventType::OidcConsentRevoked,
        Some(&login.login_id),
        actor,
        client,
        format!("client {client_id}: consent revoked"),
    );
    if !state.store.revoke_consent(login.id, client_id, &ev).await? {
        return Err(Error::OidcConsentNotFound.into());
    }
    // What the client holds on the consent (its grants: refresh tokens and, through them,
    // access tokens) ends with it.
    super::grants::revoke_grants_for_client(state, login.id, client_id, client).await?;
    Ok(())
}
